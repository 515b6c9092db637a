/**
 * Client metrics on a prom-client registry the application passes in (no global registry is touched):
 * a view of `client.events`, like any other listener. Several clients may share one registry; they share
 * its series (tell them apart by the `endpoint` label or by `prefix`).
 */
import type { EventEmitter } from 'node:events';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ClientEventMap } from './events.js';
import type { BreakerState } from './policy/circuit-breaker.js';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function recordClientMetrics(
  events: EventEmitter<ClientEventMap>,
  registry: Registry,
  prefix = 'surgevec_client_',
  endpoints: readonly string[] = [],
): void {
  const registers = [registry];
  const requests = metric(
    registry,
    `${prefix}requests_total`,
    () =>
      new Counter({
        name: `${prefix}requests_total`,
        help: 'Attempts sent, by endpoint, route and outcome (ok, error, transport, cancelled)',
        labelNames: ['endpoint', 'method', 'route', 'outcome', 'status'] as const,
        registers,
      }),
  );
  const duration = metric(
    registry,
    `${prefix}request_duration_seconds`,
    () =>
      new Histogram({
        name: `${prefix}request_duration_seconds`,
        help: 'Time from sending an attempt to its answer (or failure)',
        labelNames: ['route', 'outcome'] as const,
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
  );
  const retries = metric(
    registry,
    `${prefix}retries_total`,
    () =>
      new Counter({
        name: `${prefix}retries_total`,
        help: 'Retries made, by route and the error code retried',
        labelNames: ['route', 'code'] as const,
        registers,
      }),
  );
  const budget = metric(
    registry,
    `${prefix}retry_budget_exhausted_total`,
    () =>
      new Counter({
        name: `${prefix}retry_budget_exhausted_total`,
        help: 'Retries not made because the retry budget was spent',
        labelNames: ['route'] as const,
        registers,
      }),
  );
  const throttled = metric(
    registry,
    `${prefix}throttled_total`,
    () =>
      new Counter({
        name: `${prefix}throttled_total`,
        help: 'Calls rejected locally by adaptive throttling, per endpoint (then offered to the others)',
        labelNames: ['endpoint', 'route'] as const,
        registers,
      }),
  );
  const breaker = metric(
    registry,
    `${prefix}breaker_state`,
    () =>
      new Gauge({
        name: `${prefix}breaker_state`,
        help: 'Circuit breaker state per endpoint: 0 closed, 1 half_open, 2 open',
        labelNames: ['endpoint'] as const,
        registers,
      }),
  );
  const ejections = metric(
    registry,
    `${prefix}ejections_total`,
    () =>
      new Counter({
        name: `${prefix}ejections_total`,
        help: 'Endpoints taken out of rotation by outlier ejection',
        labelNames: ['endpoint', 'reason'] as const,
        registers,
      }),
  );
  const cache = metric(
    registry,
    `${prefix}cache_lookups_total`,
    () =>
      new Counter({
        name: `${prefix}cache_lookups_total`,
        help: 'Query cache lookups, by result (hit, miss)',
        labelNames: ['route', 'result'] as const,
        registers,
      }),
  );

  for (const endpoint of endpoints) breaker.set({ endpoint }, BREAKER_VALUE.closed);
  events.on('request', (e) => {
    requests.inc({
      endpoint: e.endpoint,
      method: e.method,
      route: e.route,
      outcome: e.outcome,
      status: e.status === undefined ? '' : String(e.status),
    });
    duration.observe({ route: e.route, outcome: e.outcome }, e.durationMs / 1000);
  });
  events.on('retry', (e) => retries.inc({ route: e.route, code: e.code }));
  events.on('retry_budget_exhausted', (e) => budget.inc({ route: e.route }));
  events.on('throttled', (e) => throttled.inc({ endpoint: e.endpoint, route: e.route }));
  events.on('breaker', (e) => breaker.set({ endpoint: e.endpoint }, BREAKER_VALUE[e.to]));
  events.on('health', (e) => {
    if (e.type === 'eject') ejections.inc({ endpoint: e.endpoint, reason: e.reason });
  });
  events.on('cache', (e) => cache.inc({ route: e.route, result: e.hit ? 'hit' : 'miss' }));
}
