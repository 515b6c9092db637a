/**
 * Prometheus metrics from ONE prom-client Registry per app (style.md §9: the dashboard and every other view
 * read this registry, never a second set of counters). Per app, not prom-client's global default, so tests
 * and embedders can build several apps in one process.
 *
 * Request-path metrics are observed as requests finish; engine-side values (points, WAL, queue depths) are
 * read from `engine.stats()` only when Prometheus scrapes, so an unscraped server pays nothing for them.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import type { CollectionStats, EngineApi } from '../../engine/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServerMetrics;
  }
}

/** How a search reached the engine: one query through the batcher, or a client's explicit batch. */
export type SearchKind = 'single' | 'batch';

export interface ServerMetrics {
  readonly registry: Registry;
  /** Engine search latency as the server sees it (queueing in the batcher included). */
  observeSearch(kind: SearchKind, seconds: number): void;
}

/** 0.5 ms … 10 s: a cached vector search is sub-millisecond, a big batch or a stalled disk is seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/** Requests that matched no route share one label value: raw URLs would make the label set unbounded. */
const UNMATCHED = 'unmatched';

/** One sample line as prom-client's registry formats it (`metricName` overrides the family name). */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

interface EngineView {
  stats: Record<string, CollectionStats>;
  points: Map<string, number>;
}

/**
 * One engine read per scrape: prom-client calls every collect() in the same tick, so they share the promise
 * in flight instead of crossing to the engine thread once per metric.
 */
function engineView(engine: EngineApi): () => Promise<EngineView> {
  let pending: Promise<EngineView> | undefined;
  const load = async (): Promise<EngineView> => {
    const stats = await engine.stats();
    const points = new Map<string, number>();
    await Promise.all(
      Object.keys(stats).map(async (name) => {
        try {
          points.set(name, (await engine.collectionInfo(name)).points_count);
        } catch {
          // Dropped between stats() and now: it simply has no sample in this scrape.
        }
      }),
    );
    return { stats, points };
  };
  return () => {
    pending ??= load().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/**
 * The WAL counts fsync latencies in fixed buckets inside the engine (cumulative since open); this exposes
 * them as a Prometheus histogram without re-observing anything. prom-client's Histogram cannot be set from
 * counts, so this is a minimal custom metric in the shape the registry formats.
 */
function walFsyncHistogram(view: () => Promise<EngineView>): Metric {
  const name = 'surgevec_wal_fsync_duration_seconds';
  const help = 'WAL fdatasync latency (group commit: one fsync covers many appends)';
  const get = async () => {
    const values: Sample[] = [];
    for (const [collection, s] of Object.entries((await view()).stats)) {
      const h = s.wal.fsyncLatency;
      let cumulative = 0;
      h.boundsMs.forEach((bound, i) => {
        cumulative += h.counts[i] ?? 0;
        values.push({
          metricName: `${name}_bucket`,
          labels: { collection, le: bound / 1000 },
          value: cumulative,
        });
      });
      cumulative += h.counts[h.boundsMs.length] ?? 0;
      values.push({ metricName: `${name}_bucket`, labels: { collection, le: '+Inf' }, value: cumulative });
      values.push({ metricName: `${name}_sum`, labels: { collection }, value: h.sumMs / 1000 });
      values.push({ metricName: `${name}_count`, labels: { collection }, value: cumulative });
    }
    return { name, help, type: 'histogram', values, aggregator: 'sum' };
  };
  return { name, help, type: 'histogram', get, reset: () => undefined } as unknown as Metric;
}

/** Installs /metrics and the request hooks on `app` (the root instance: hooks must see every route). */
export function installMetrics(app: FastifyInstance): ServerMetrics {
  const registry = new Registry();
  const { engine, batcher } = app.surge;
  const view = engineView(engine);
  const registers = [registry];

  // Process and runtime: CPU, memory, fds, GC, and nodejs_eventloop_lag_* (event-loop delay).
  collectDefaultMetrics({ register: registry });

  const http = new Histogram({
    name: 'surgevec_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const search = new Histogram({
    name: 'surgevec_search_duration_seconds',
    help: 'Engine search latency as seen by the server (batcher queueing included)',
    labelNames: ['kind'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const batchSize = new Histogram({
    name: 'surgevec_search_batch_size',
    help: 'Searches coalesced into one engine batch by the search batcher',
    buckets: BATCH_BUCKETS,
    registers,
  });
  batcher.onBatch = (size) => batchSize.observe(size);

  new Gauge({
    name: 'surgevec_search_queue_depth',
    help: 'Searches waiting in the batcher for the batch in flight to return',
    registers,
    collect() {
      this.set(batcher.depth());
    },
  });

  /** A gauge or counter whose per-collection values are read from engine stats at scrape time. */
  const perCollection = (
    kind: 'gauge' | 'counter',
    name: string,
    help: string,
    pick: (s: CollectionStats, points: number | undefined, name: string) => number | undefined,
  ) => {
    const config = {
      name,
      help,
      labelNames: ['collection'] as const,
      registers,
      async collect(this: Gauge<'collection'> | Counter<'collection'>) {
        const { stats, points } = await view();
        this.reset();
        for (const [collection, s] of Object.entries(stats)) {
          const v = pick(s, points.get(collection), collection);
          if (v === undefined) continue;
          if (this instanceof Gauge) this.set({ collection }, v);
          else this.inc({ collection }, v);
        }
      },
    };
    return kind === 'gauge' ? new Gauge(config) : new Counter(config);
  };

  perCollection('gauge', 'surgevec_points', 'Points in the collection', (_s, points) => points);
  perCollection(
    'gauge',
    'surgevec_unindexed_points',
    'Applied points not yet in an HNSW graph (searched exactly meanwhile)',
    (s) => s.unindexed,
  );
  perCollection(
    'gauge',
    'surgevec_write_queue_depth',
    'Writes sequenced but not yet durable and applied',
    (s) => s.pendingWrites,
  );
  perCollection(
    'counter',
    'surgevec_wal_appends_total',
    'Records made durable in the WAL',
    (s) => s.wal.appends,
  );
  perCollection(
    'counter',
    'surgevec_wal_fsyncs_total',
    'WAL fdatasync calls (fewer than appends: group commit)',
    (s) => s.wal.fsyncs,
  );
  perCollection('counter', 'surgevec_wal_bytes_total', 'Bytes written to the WAL', (s) => s.wal.bytes);
  perCollection(
    'gauge',
    'surgevec_wal_last_fsync_seconds',
    'Duration of the most recent WAL fdatasync',
    (s) => s.wal.lastFsyncMs / 1000,
  );
  perCollection('counter', 'surgevec_snapshots_total', 'Snapshots written since start', (s) => s.snapshots);
  perCollection(
    'counter',
    'surgevec_snapshot_failures_total',
    'Snapshots that failed since start (the WAL grows until one succeeds)',
    (s) => s.snapshotFailures,
  );
  perCollection(
    'gauge',
    'surgevec_collection_memory_bytes',
    'Estimated memory held by the collection',
    (s) => s.memoryBytes,
  );
  registry.registerMetric(walFsyncHistogram(view));

  new Counter({
    name: 'surgevec_searches_total',
    help: 'Searches answered, by planner path: exact scan or HNSW graph',
    labelNames: ['collection', 'path'] as const,
    registers,
    async collect() {
      const { stats } = await view();
      this.reset();
      for (const [collection, s] of Object.entries(stats)) {
        this.inc({ collection, path: 'exact' }, s.searches.exact);
        this.inc({ collection, path: 'graph' }, s.searches.graph);
      }
    },
  });

  app.addHook('onResponse', async (req, reply) => {
    http.observe(
      { method: req.method, route: req.routeOptions.url ?? UNMATCHED, status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });

  const metrics: ServerMetrics = {
    registry,
    observeSearch: (kind, seconds) => search.observe({ kind }, seconds),
  };
  app.decorate('metrics', metrics);
  return metrics;
}
