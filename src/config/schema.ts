/**
 * The configuration schema: one source of truth for defaults, validation and types. Options (user-facing,
 * partial) and Config (resolved, complete, frozen) are distinct types (style.md §5).
 */
import { z } from 'zod';

const hnsw = z.strictObject({
  m: z.int().min(4).max(128).default(16),
  ef_construct: z.int().min(8).max(4096).default(200),
  // Chosen by measurement (docs/BENCHMARKS.md): GloVe-100 with held-out query words reaches recall@10 0.951
  // at ef 128 on 20k points but less on one 340k graph; 200 keeps >= 0.95 at both sizes.
  ef: z.int().min(1).max(65536).default(200),
  full_scan_threshold: z.int().min(0).default(10_000),
});

const tierName = z.enum(['free', 'standard', 'premium']);

/** Per-second rates with bursts; an absent rate is unlimited, an absent burst is one second's worth. */
const quotas = z.strictObject({
  reads_per_s: z.number().positive().optional(),
  reads_burst: z.number().positive().optional(),
  points_per_s: z.number().positive().optional(),
  points_burst: z.number().positive().optional(),
});

const tenant = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  tier: tierName,
  // Short keys are guessable; generated ones (POST /admin/tenants) are 43 characters.
  keys: z.array(z.string().min(16)).default([]),
  quotas: quotas.prefault({}),
  // Read access to collections owned by other tenants, as Qdrant's JWT `access` claim.
  access: z.array(z.strictObject({ collection: z.string().min(1), access: z.literal('r') })).default([]),
});

/** Admission control (docs/OPERATIONS.md, "Admission control"). */
const admission = z.strictObject({
  // false: no authentication, quotas, limits, degradation or cache at all (the server as before them).
  enabled: z.boolean().default(true),
  // Protects /admin; the admin key also reaches every collection, at critical priority.
  admin_key: z.string().min(16).optional(),
  // The tier everyone gets while no API key is configured (open mode).
  open_tier: tierName.default('standard'),
  tick_ms: z.int().min(10).max(10_000).default(100),
  tiers: z
    .strictObject({
      free: quotas.prefault({ reads_per_s: 50, reads_burst: 100, points_per_s: 5000, points_burst: 10_000 }),
      standard: quotas.prefault({
        reads_per_s: 500,
        reads_burst: 1000,
        points_per_s: 50_000,
        points_burst: 100_000,
      }),
      premium: quotas.prefault({}),
    })
    .prefault({}),
  // Gradient2 (Netflix concurrency-limits) on read requests; names as there.
  limit: z
    .strictObject({
      // Low to start: a burst in the first seconds must not find the engine wide open (2 cores run ~16
      // searches at once through the batcher), yet a client's 24 concurrent searches all fit; Gradient2
      // raises it while latency holds.
      initial: z.int().min(1).default(32),
      min: z.int().min(1).default(8),
      max: z.int().min(1).default(1024),
      tolerance: z.number().min(1).default(1.5),
      smoothing: z.number().gt(0).max(1).default(0.2),
      queue_size: z.number().min(0).default(4),
      long_window: z.int().min(1).default(600),
      warmup: z.int().min(0).default(10),
      window_ms: z.int().min(1).default(100),
      window_samples: z.int().min(1).default(10),
    })
    .prefault({}),
  // Guaranteed shares of the limit by priority (premium → high, standard → normal, free → low).
  shares: z
    .strictObject({
      high: z.number().min(0).max(1).default(0.6),
      normal: z.number().min(0).max(1).default(0.3),
      low: z.number().min(0).max(1).default(0.1),
    })
    .prefault({}),
  // The most of the limit a priority may hold, borrowed idle share included: free never fills the engine.
  ceilings: z
    .strictObject({
      high: z.number().gt(0).max(1).default(1),
      normal: z.number().gt(0).max(1).default(0.8),
      low: z.number().gt(0).max(1).default(0.5),
    })
    .prefault({}),
  // A priority's share is borrowable by others once it has taken no slot for this long.
  idle_share_ms: z.int().min(0).default(1000),
  queue: z
    .strictObject({
      capacity: z.int().min(0).default(256),
      // CoDel's numbers: a standing queue lets nobody wait longer than target_ms.
      target_ms: z.number().positive().default(5),
      // Premium's own target: it has a 50 ms SLO to spend, and refusing it costs more than a short wait.
      high_target_ms: z.number().positive().default(20),
      // How long standard and free requests may wait while a queue absorbs a burst (premium: interval_ms).
      // Short: a wait that ends in a refusal is a slow refusal; at the door it costs microseconds.
      burst_wait_ms: z.number().positive().default(2),
      interval_ms: z.number().positive().default(100),
      default_timeout_ms: z.int().min(1).default(2000),
      max_timeout_ms: z.int().min(1).default(60_000),
    })
    .prefault({}),
  retry_after: z
    .strictObject({ min_ms: z.int().min(0).default(100), max_ms: z.int().min(1).default(30_000) })
    .prefault({}),
  ef: z
    .strictObject({
      floor: z.int().min(1).default(64),
      ceiling: z.int().min(1).default(512),
      target_p99_ms: z.number().positive().default(50),
      raise_below: z.number().gt(0).max(1).default(0.5),
      step: z.int().min(1).default(16),
      // The p99 window the ef controller and the ladder act on: short, so a burst is seen within 250 ms.
      window_ms: z.int().min(10).default(250),
      min_samples: z.int().min(1).default(20),
    })
    .prefault({}),
  ladder: z
    .strictObject({
      escalate_ms: z.int().min(0).default(300),
      recover_ms: z.int().min(0).default(2000),
      calm_p99_ratio: z.number().gt(0).max(1).default(0.6),
      calm_shed_fraction: z.number().min(0).max(1).default(0.05),
      calm_utilisation: z.number().min(0).max(1).default(0.5),
      // Levels 2–3 shed only a saturated server: a standing queue, or at least this share of the limit busy.
      shed_utilisation: z.number().min(0).max(1).default(0.75),
      // Level 1: searches leave the batcher in batches of at most this many (shorter waits behind a batch).
      level1_batch_max: z.int().min(1).default(16),
    })
    .prefault({}),
  cache: z
    .strictObject({
      enabled: z.boolean().default(true),
      max_entries: z.int().min(1).default(10_000),
      ttl_ms: z.int().min(1).default(30_000),
      // Answers come from the cache from this degradation level up (0: always).
      from_level: z.int().min(0).max(3).default(2),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      max_bytes: z
        .int()
        .min(1)
        .default(64 << 20),
      max_ops: z.int().min(1).default(64),
      // A chunked body (no Content-Length) is reserved at this size; bodies stay capped by body_limit_bytes.
      unknown_length_bytes: z
        .int()
        .min(1)
        .default(1 << 20),
      // Writes stop when RSS reaches memory_high × memory_budget_bytes and resume below memory_low ×.
      memory_high: z.number().gt(0).max(1).default(0.8),
      memory_low: z.number().gt(0).max(1).default(0.7),
      // Resident memory a write holds per byte of its body while it runs (text, parsed points, engine copy,
      // garbage not yet collected): measured ~9 for 1.3 MB upserts of 64-d points (docs/OPERATIONS.md).
      memory_factor: z.number().min(0).default(8),
    })
    .prefault({}),
  // Resident memory the process should stay under (0 = none): see ingest.memory_high.
  memory_budget_bytes: z.int().min(0).default(0),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.int().min(0).max(65535).default(6333),
      body_limit_bytes: z
        .int()
        .min(1024)
        .default(32 << 20),
      request_timeout_ms: z.int().min(0).default(60_000),
      keep_alive_timeout_ms: z.int().min(0).default(72_000),
      // Responses larger than this many bytes are compressed when the client accepts it.
      compress_threshold_bytes: z.int().min(0).default(4096),
      shutdown_timeout_ms: z.int().min(0).default(10_000),
      http2: z.boolean().default(false),
      tls_cert: z.string().optional(),
      tls_key: z.string().optional(),
      // Concurrent searches are coalesced into one engine batch of at most this many.
      search_batch_max: z.int().min(1).default(100),
      ws_max_in_flight: z.int().min(1).default(64),
      stream_batch_points: z.int().min(1).default(1000),
    })
    .prefault({}),
  storage: z
    .strictObject({
      data_dir: z.string().min(1).default('./data'),
      wal_segment_bytes: z
        .int()
        .min(1 << 16)
        .default(64 << 20),
      // false only for benchmarks of the CPU path: acknowledged writes are then NOT crash-safe.
      fsync: z.boolean().default(true),
      snapshot_interval_ops: z.int().min(1).default(200_000),
      snapshot_interval_ms: z.int().min(1000).default(300_000),
    })
    .prefault({}),
  engine: z
    .strictObject({
      segment_max_points: z
        .int()
        .min(16)
        .default(1 << 20),
      hnsw: hnsw.prefault({}),
      // Points per batch of the background indexer. The batch is built off the engine thread by all cores
      // (searches go on meanwhile); larger batches amortise the thread start, smaller ones make fresh points
      // reach the graph sooner (until then they are scanned exactly).
      index_slice_points: z.int().min(1).default(1024),
      vacuum_deleted_ratio: z.number().min(0.01).max(1).default(0.2),
      max_payload_bytes: z
        .int()
        .min(64)
        .default(1 << 20),
      max_payload_depth: z.int().min(1).max(256).default(32),
      max_search_limit: z.int().min(1).default(10_000),
      max_batch: z.int().min(1).default(100_000),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  admission: admission.prefault({}),
  // API keys, tiers and quotas; more can be added at run time through /admin/tenants.
  tenants: z.array(tenant).default([]),
  // Standing queries (docs/API.md, "Standing queries"): limits and the bounds of every buffer.
  subscriptions: z
    .strictObject({
      max_per_tenant: z.int().min(0).default(100_000),
      max_top_k: z.int().min(1).default(1000),
      // Spare entries a top-k subscription keeps beyond k, so a member leaving rarely needs a search.
      topk_reserve: z.int().min(0).default(32),
      // Events a top-k subscription keeps for clients that reconnect (threshold mode resumes from the WAL).
      history_events: z.int().min(0).default(1000),
      // Events a delivery holds for a client that is not reading before it is told `lagged`.
      buffer_events: z.int().min(1).default(1000),
      // Overflows before a client that never catches up is disconnected (reason `too_slow`).
      max_lags: z.int().min(0).default(3),
      // A client whose connection takes nothing for this long is disconnected (reason `too_slow`); 0: never.
      stall_timeout_ms: z.int().min(0).default(60_000),
      // Points a collection's matcher may have queued before it drops them and reads the WAL instead.
      matcher_queue_points: z.int().min(1).default(200_000),
      // Points scored together (one matrix product against every subscription of the collection).
      batch_points: z.int().min(1).default(1024),
      // 'worker': score on a thread of its own (never on the HTTP event loop); 'main': in-thread (tests).
      scorer: z.enum(['worker', 'main']).default('worker'),
      // Scoring threads ('worker'), each holding every n-th subscription; 0: one per core but one, at most 4.
      scorer_threads: z.int().min(0).max(64).default(0),
      heartbeat_ms: z.int().min(100).default(15_000),
    })
    .prefault({}),
  // OpenTelemetry tracing: off (nothing loaded) unless an OTLP/HTTP endpoint is given.
  otel: z
    .strictObject({
      // Base URL of an OTLP/HTTP collector (env OTEL_EXPORTER_OTLP_ENDPOINT); spans go to <endpoint>/v1/traces.
      endpoint: z.url().optional(),
      service_name: z.string().min(1).default('surgevec'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type EngineConfig = Config['engine'] & { storage: Config['storage'] };
export type ConfigOptions = z.input<typeof configSchema>;
export type AdmissionConfig = Config['admission'];
export type TenantConfig = Config['tenants'][number];
