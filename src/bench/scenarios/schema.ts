/**
 * The scenario file: one JSON object saying what data, what load, for how long and what counts as good. The
 * built-in scenarios are values of this same schema, so `bench run --scenario my.json` and
 * `--scenario baseline` go through one validation. Errors name the JSON path and what was expected.
 */
import { z } from 'zod';
import { SurgeError } from '../../protocol/errors.js';
import { arrivalSchema } from '../arrivals/spec.js';
import { datasetSchema } from '../datasets/bench-dataset.js';
import { choiceSchema } from '../workload/choice.js';

const collectionName = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'letters, digits, "_" and "-" only');
const seconds = z
  .number()
  .gt(0)
  .max(7 * 86_400);

export const sloSchema = z.strictObject({
  p50_ms: z.number().gt(0).default(10),
  p99_ms: z.number().gt(0).default(50),
  /** (errors + dropped) / scheduled. */
  error_rate: z.number().min(0).max(1).default(0.001),
  recall: z.number().min(0).max(1).default(0.95),
});
export type Slo = z.output<typeof sloSchema>;

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" and "-"'),
    description: z.string().default(''),
    dataset: datasetSchema.prefault({ name: 'glove' }),
    /** Default: bench_<dataset id>. */
    collection: collectionName.optional(),
    load: z
      .strictObject({
        /** if-missing: load unless the collection already holds the base; always: drop and reload. */
        mode: z.enum(['if-missing', 'always', 'never']).default('if-missing'),
        /** ndjson: surgevec's streaming ingest; batch: Qdrant's PUT /points (any Qdrant-compatible target). */
        via: z.enum(['auto', 'ndjson', 'batch']).default('auto'),
        batch: z.int().min(1).max(100_000).default(1000),
        wait_indexed: z.boolean().default(true),
        index_timeout_s: seconds.default(1800),
        hnsw: z
          .strictObject({ m: z.int().min(4).max(128), ef_construct: z.int().min(8).max(4096) })
          .optional(),
      })
      .prefault({}),
    server: z
      .strictObject({
        /** The bench starts `surgevec serve` itself (needed by cold-start and failover). */
        managed: z.boolean().default(false),
        /** Server config file contents (see src/config/schema.ts) for a managed server. */
        config: z.record(z.string(), z.unknown()).optional(),
      })
      .prefault({}),
    transport: z
      .strictObject({
        kind: z.enum(['http1', 'http2', 'websocket']).default('http1'),
        /** HTTP connections, HTTP/2 sessions, or WebSockets (per tenant key). */
        connections: z.int().min(1).max(4096).default(16),
        /** Requests in flight per connection: HTTP/1.1 pipelining depth, HTTP/2 streams, WebSocket frames. */
        pipelining: z.int().min(1).max(1000).default(1),
      })
      .prefault({}),
    arrival: arrivalSchema,
    duration_s: seconds,
    limits: z
      .strictObject({
        /** Hard cap on scheduled requests, whatever the arrival process says. */
        max_requests: z.int().min(1).max(1_000_000_000).default(10_000_000),
        /** Requests waiting for a connection or in flight; beyond it an arrival is dropped (and counted). */
        max_in_flight: z.int().min(1).max(1_000_000).default(2048),
        timeout_ms: z.int().min(1).max(600_000).default(10_000),
        /** A start this late behind its intended time means the generator fell behind. */
        late_ms: z.number().gt(0).default(10),
      })
      .prefault({}),
    mix: z
      .strictObject({ read: z.number().min(0).default(1), write: z.number().min(0).default(0) })
      .prefault({}),
    query: z
      .strictObject({
        k: z.int().min(1).max(100).default(10),
        /** params.hnsw_ef; default: the server's. */
        ef: z.int().min(1).max(65_536).optional(),
        choice: choiceSchema.default({ kind: 'uniform' }),
        /** Queries per search request: 1 = /points/search, more = /points/search/batch. */
        batch: z
          .array(z.strictObject({ size: z.int().min(1).max(1000), weight: z.number().gt(0) }))
          .min(1)
          .default([{ size: 1, weight: 1 }]),
        with_payload: z.boolean().default(false),
      })
      .prefault({}),
    filter: z
      .strictObject({
        /** Share of searches that carry a filter. */
        fraction: z.number().min(0).max(1).default(0),
        /** c10: 10% of points match; c100: 1%. */
        field: z.enum(['c10', 'c100']).default('c10'),
      })
      .prefault({}),
    write: z
      .strictObject({
        points: z.int().min(1).max(10_000).default(10),
        wait: z.boolean().default(false),
      })
      .prefault({}),
    tenants: z
      .array(
        z.strictObject({ name: z.string().min(1), api_key: z.string().min(1), weight: z.number().gt(0) }),
      )
      .default([]),
    recall: z
      .strictObject({
        /** Share of single searches whose answers are checked against the exact truth. */
        sample: z.number().min(0).max(1).default(0.1),
        /** Queries with exact filtered truth (filtered searches outside it are not scored). */
        filtered_pool: z.int().min(1).max(1000).default(100),
      })
      .prefault({}),
    slo: sloSchema.prefault({}),
    cost: z
      .strictObject({
        usd_per_core_hour: z.number().min(0).default(0.04),
        /** Cores billed; default: the server's measured CPU use. */
        cores: z.number().gt(0).optional(),
      })
      .prefault({}),
    scrape: z
      .strictObject({ enabled: z.boolean().default(true), interval_s: z.number().min(0.2).default(1) })
      .prefault({}),
    seed: z.int().min(0).default(1),
    capacity: z
      .strictObject({
        /** Stop once the p99 of this many consecutive seconds is over the SLO. */
        stop_after_s: z.int().min(1).default(3),
      })
      .optional(),
    ingest: z
      .strictObject({
        /** The last `points` rows of the base arrive as an NDJSON stream during the run. */
        points: z.int().min(1),
        /** Points per second sent on the stream. */
        rate: z.number().gt(0),
        /** When the stream starts, in run seconds. */
        at_s: z.number().min(0).default(0),
      })
      .optional(),
    idle_connections: z
      .strictObject({
        websocket: z.int().min(0).max(100_000).default(0),
        sse: z.int().min(0).max(100_000).default(0),
        /** Opens in flight while connecting. */
        open_concurrency: z.int().min(1).max(10_000).default(100),
      })
      .optional(),
    cold_start: z
      .strictObject({
        /** Sequential queries timed right after the restart. */
        first_queries: z.int().min(1).max(10_000).default(20),
      })
      .optional(),
    failover: z
      .strictObject({
        kill_at_s: z.number().min(0),
        /** Wait between the kill and the restart. */
        restart_after_s: z.number().min(0).default(0),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (s.mix.read + s.mix.write <= 0) issue(['mix'], 'read + write must be > 0');
    if ((s.cold_start || s.failover) && !s.server.managed)
      issue(
        ['server', 'managed'],
        'cold_start and failover need server.managed = true (the bench restarts it)',
      );
    if (s.transport.kind === 'websocket' && s.query.batch.some((b) => b.size > 1))
      issue(
        ['query', 'batch'],
        'the WebSocket API has no batch search: use batch size 1 or an HTTP transport',
      );
    if (s.arrival.kind === 'trace' && s.arrival.rate_scale !== undefined && s.arrival.peak_rate !== undefined)
      issue(['arrival'], 'give rate_scale or peak_rate, not both');
    if (s.failover && s.failover.kill_at_s >= s.duration_s)
      issue(['failover', 'kill_at_s'], `must fall inside the run (duration_s ${s.duration_s})`);
    if (s.ingest && s.dataset.base !== undefined && s.ingest.points >= s.dataset.base)
      issue(['ingest', 'points'], `must be fewer than dataset.base (${s.dataset.base})`);
    const keys = new Set<string>();
    s.tenants.forEach((t, i) => {
      if (keys.has(t.api_key)) issue(['tenants', i, 'api_key'], 'api keys must be unique');
      keys.add(t.api_key);
    });
  });

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 8)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Validates `value` (parsed JSON or a built-in) or throws INVALID_SCENARIO naming `source` and each bad path. */
export function parseScenario(value: unknown, source: string): Scenario {
  const r = scenarioSchema.safeParse(value);
  if (!r.success) throw new SurgeError('INVALID_SCENARIO', `${source}: ${describeIssues(r.error)}`);
  return r.data;
}

/** The JSON Schema of a scenario file (for editors; `surgevec bench list --schema`). */
export function scenarioJsonSchema(): unknown {
  return z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' });
}
