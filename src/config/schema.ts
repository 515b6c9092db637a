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
      // Points indexed per time slice of the background indexer: bounds how long a search can wait behind it.
      index_slice_points: z.int().min(1).default(32),
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
