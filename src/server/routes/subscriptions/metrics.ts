/**
 * Standing queries in `/metrics` (docs/API.md, "Standing queries", Metrics), on the server's one prom-client
 * registry: counters and histograms fed by the service's observer as events happen, levels read from the
 * service when Prometheus scrapes.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SubscriptionObserver, SubscriptionService } from '../../../subscriptions/index.js';

/** 0.1 ms … 10 s: in-process delivery is sub-millisecond; a backlogged scorer is seconds. */
const SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

/** Creates the metrics; the observer feeds them, `service()` is read at scrape time (none yet: no samples). */
export function subscriptionMetrics(
  registry: Registry,
  service: () => SubscriptionService | undefined,
): SubscriptionObserver {
  const registers = [registry];
  new Gauge({
    name: 'surgevec_subscriptions_active',
    help: 'Standing queries registered, by mode',
    labelNames: ['mode'] as const,
    registers,
    collect() {
      const g = service()?.gauges();
      if (!g) return;
      this.set({ mode: 'threshold' }, g.subscriptions.threshold);
      this.set({ mode: 'top_k' }, g.subscriptions.top_k);
    },
  });
  new Gauge({
    name: 'surgevec_subscription_subscribers',
    help: 'Subscriptions attached to a client connection, by transport',
    labelNames: ['transport'] as const,
    registers,
    collect() {
      const g = service()?.gauges();
      if (!g) return;
      this.set({ transport: 'sse' }, g.subscribers.sse);
      this.set({ transport: 'ws' }, g.subscribers.ws);
    },
  });
  const backlog = (name: string, help: string, pick: (b: { points: number; seqs: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['collection'] as const,
      registers,
      collect() {
        const g = service()?.gauges();
        this.reset();
        if (!g) return;
        for (const [collection, b] of Object.entries(g.backlog)) this.set({ collection }, pick(b));
      },
    });
  backlog(
    'surgevec_subscription_scorer_backlog_points',
    'Points received from the change feed and not yet matched against the subscriptions',
    (b) => b.points,
  );
  backlog(
    'surgevec_subscription_scorer_backlog_seqs',
    'Seqs the matcher is behind the change feed (its WAL catch-up included)',
    (b) => b.seqs,
  );

  const delivered = new Counter({
    name: 'surgevec_subscription_events_delivered_total',
    help: 'Seq events (match, topk, reset) written to clients, by transport',
    labelNames: ['transport'] as const,
    registers,
  });
  const lagged = new Counter({
    name: 'surgevec_subscription_lagged_total',
    help: 'Clients told `lagged`: their queue overflowed and they catch up from the WAL or history',
    labelNames: ['transport'] as const,
    registers,
  });
  const dropped = new Counter({
    name: 'surgevec_subscription_events_dropped_total',
    help: "Queued events discarded when a client's queue overflowed (sent again by its catch-up)",
    labelNames: ['transport'] as const,
    registers,
  });
  const catchUps = new Counter({
    name: 'surgevec_subscription_catchups_total',
    help: 'Catch-ups: a delivery from the WAL (wal), the top-k history (history) or a reset; a matcher from the WAL after its queue overflowed (matcher_wal)',
    labelNames: ['kind'] as const,
    registers,
  });
  const ended = new Counter({
    name: 'surgevec_subscription_closes_total',
    help: 'Deliveries ended, by reason (disconnected: the client went away)',
    labelNames: ['transport', 'reason'] as const,
    registers,
  });
  const matchSeconds = new Histogram({
    name: 'surgevec_subscription_match_seconds',
    help: 'Matching one ingest batch against every subscription of the collection (scorer queue included)',
    buckets: SECONDS,
    registers,
  });
  const matchPoints = new Counter({
    name: 'surgevec_subscription_matched_points_total',
    help: 'Points matched against the subscriptions',
    registers,
  });
  const latency = new Histogram({
    name: 'surgevec_subscription_delivery_seconds',
    help: "From a write's change event reaching the matcher (its ack) to its event written to the client",
    labelNames: ['transport'] as const,
    buckets: SECONDS,
    registers,
  });
  // Label children resolved once: these run per event.
  const byTransport = <T>(make: (t: 'sse' | 'ws') => T) => ({ sse: make('sse'), ws: make('ws') });
  const deliveredBy = byTransport((t) => delivered.labels({ transport: t }));
  const latencyBy = byTransport((t) => latency.labels({ transport: t }));
  return {
    delivered: (t) => deliveredBy[t].inc(),
    deliveryLatency: (t, s) => latencyBy[t].observe(s),
    lagged: (t, n) => {
      lagged.inc({ transport: t });
      dropped.inc({ transport: t }, n);
    },
    catchUp: (kind) => catchUps.inc({ kind }),
    ended: (t, reason) => ended.inc({ transport: t, reason }),
    matched: (s, n) => {
      matchSeconds.observe(s);
      matchPoints.inc(n);
    },
  };
}
