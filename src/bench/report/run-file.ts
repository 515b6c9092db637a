/**
 * The run file: everything one `bench run` measured, in one versioned JSON document. The console summary,
 * Markdown, HTML and `bench compare` are views of it and nothing else (style.md §9). `schema` + `version`
 * identify the layout; a reader refuses versions it does not know instead of guessing.
 *
 * Version 1. Times are run seconds from the first intended start; latencies in ms; rates per second.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SurgeError } from '../../protocol/errors.js';

export const RUN_SCHEMA = 'surgevec.bench.run';
export const RUN_VERSION = 1;

const num = z.number();
const nullableNums = z.array(num.nullable());
const nums = z.array(num);

export const percentilesSchema = z.object({
  count: num,
  mean: num,
  p50: num,
  p90: num,
  p95: num,
  p99: num,
  p999: num,
  max: num,
});

const breakdownSchema = z.object({
  count: num,
  ok: num,
  errors: num,
  latency_ms: percentilesSchema,
  /** ok / (count + dropped) (absent in files written before it existed). */
  success_ratio: num.optional(),
  /** Arrivals of this slice the generator never sent (max_in_flight, or still queued at the end). */
  dropped: num.optional(),
  /** Successes within the SLO p99. */
  goodput: num.optional(),
  /** Latency of this slice's 429/503 answers. */
  refusal_ms: percentilesSchema.optional(),
});

export const verdictSchema = z.object({
  name: z.enum(['p50', 'p99', 'error_rate', 'recall']),
  /** e.g. "p99 < 50 ms". */
  rule: z.string(),
  threshold: num,
  actual: num.nullable(),
  /** null: not measured (e.g. no recall samples), which neither passes nor fails. */
  pass: z.boolean().nullable(),
});

export const anomalySchema = z.object({
  series: z.string(),
  from_s: num,
  to_s: num,
  direction: z.enum(['up', 'down']),
  peak: num,
  expected: num,
  z: num,
});

export const recommendationSchema = z.object({
  rule: z.string(),
  severity: z.enum(['info', 'warn', 'critical']),
  message: z.string(),
});

export const summarySchema = z.object({
  elapsed_s: num,
  requests: z.object({
    scheduled: num,
    sent: num,
    completed: num,
    ok: num,
    errors: num,
    dropped: num,
    unsent: num,
    late_starts: num,
  }),
  rates: z.object({
    offered_rps: num,
    throughput_rps: num,
    ok_rps: num,
    goodput_rps: num,
    goodput_ratio: num,
  }),
  error_rate: num,
  latency_ms: percentilesSchema,
  service_ms: percentilesSchema,
  timer_lag_ms: percentilesSchema,
  errors: z.object({ by_status: z.record(z.string(), num), by_code: z.record(z.string(), num) }),
  retry_after: z.object({ count: num, mean_s: num, max_s: num }),
  recall: z.object({ k: num, samples: num, mean: num, min: num }).nullable(),
  server: z
    .object({
      cpu_cores_mean: num.nullable(),
      cpu_cores_max: num.nullable(),
      rss_mb_start: num.nullable(),
      rss_mb_max: num.nullable(),
      rss_mb_end: num.nullable(),
    })
    .nullable(),
  cost: z.object({ usd_per_core_hour: num, cores: num, usd_per_million_requests: num }).nullable(),
  generator: z.object({ event_loop_utilization: num, late_ms: num }),
  by_op: z.record(z.string(), breakdownSchema),
  by_tenant: z.array(breakdownSchema.extend({ name: z.string() })),
  /**
   * Every 429/503 answer: latency from the intended start, service time from dispatch, and the server's own
   * time from the answer's envelope (`time`: the decision, without waiting to be read).
   */
  refusals: z
    .object({
      latency_ms: percentilesSchema,
      service_ms: percentilesSchema,
      server_ms: percentilesSchema.optional(),
    })
    .optional(),
});

export const seriesSchema = z.object({
  t: nums,
  offered: nums,
  dropped: nums,
  late: nums,
  lat_p50: nullableNums,
  lat_p90: nullableNums,
  lat_p99: nullableNums,
  lat_max: nullableNums,
  svc_p99: nullableNums,
  completed: nums,
  ok: nums,
  goodput: nums,
  errors: nums,
  errors_by_class: z.record(z.string(), nums),
  recall: nullableNums,
  in_flight: nullableNums,
  /** λ(t) of the arrival process at each second (what was asked for; `offered` is what was scheduled). */
  rate: nullableNums,
});

export const serverSeriesSchema = z.object({
  t: nums,
  cpu_cores: nullableNums,
  rss_mb: nullableNums,
  /** surgevec's degradation level (`surgevec_admission_level`), when the target exposes it. */
  level: nullableNums.optional(),
});

export const runFileSchema = z.object({
  schema: z.literal(RUN_SCHEMA),
  version: z.literal(RUN_VERSION),
  id: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  tool: z.object({ name: z.string(), version: z.string(), node: z.string() }),
  host: z.object({
    platform: z.string(),
    cpus: num,
    cpu_model: z.string(),
    memory_gb: num,
    loadavg_start: nums,
    note: z.string(),
  }),
  target: z.object({
    url: z.string(),
    managed: z.boolean(),
    server: z.object({ title: z.string().optional(), version: z.string().optional() }).nullable(),
    collection: z.string(),
  }),
  dataset: z.object({ id: z.string(), about: z.string(), base: num, queries: num, dim: num }),
  scenario: z.record(z.string(), z.unknown()).and(z.object({ name: z.string(), duration_s: num })),
  stopped_early: z.boolean(),
  summary: summarySchema,
  slo: z.object({ p50_ms: num, p99_ms: num, error_rate: num, recall: num }),
  verdicts: z.array(verdictSchema),
  pass: z.boolean(),
  histograms: z.object({
    latency_curve: z.array(z.tuple([num, num])),
    service_curve: z.array(z.tuple([num, num])),
    /** HdrHistogram compressed base64 (µs), for re-analysis with any HdrHistogram library. */
    latency_hdr: z.string(),
    service_hdr: z.string(),
  }),
  series: seriesSchema,
  server_series: serverSeriesSchema.nullable(),
  anomalies: z.array(anomalySchema),
  recommendations: z.array(recommendationSchema),
  /** Scenario-specific measurements (capacity, burst, ingest, connections, cold start, failover). */
  extras: z.record(z.string(), z.unknown()),
  notes: z.array(z.string()),
});

export type RunFile = z.infer<typeof runFileSchema>;
export type RunSummary = z.infer<typeof summarySchema>;
export type Verdict = z.infer<typeof verdictSchema>;
export type Recommendation = z.infer<typeof recommendationSchema>;
export type AnomalyRecord = z.infer<typeof anomalySchema>;
export type RunSeries = z.infer<typeof seriesSchema>;
export type ServerSeriesRecord = z.infer<typeof serverSeriesSchema>;

export function parseRunFile(value: unknown, source: string): RunFile {
  const v = value as { schema?: unknown; version?: unknown } | null;
  if (v?.schema !== RUN_SCHEMA) {
    throw new SurgeError(
      'INVALID_RUN_FILE',
      `${source}: not a surgevec bench run file (schema ${JSON.stringify(v?.schema)})`,
    );
  }
  if (v.version !== RUN_VERSION) {
    throw new SurgeError(
      'INVALID_RUN_FILE',
      `${source}: run file version ${JSON.stringify(v.version)}; this surgevec reads version ${RUN_VERSION}`,
    );
  }
  const r = runFileSchema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new SurgeError('INVALID_RUN_FILE', `${source}: ${first}`);
  }
  return r.data;
}

export async function readRunFile(path: string): Promise<RunFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SurgeError('INVALID_RUN_FILE', `cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SurgeError('INVALID_RUN_FILE', `${path} is not JSON: ${(e as Error).message}`);
  }
  return parseRunFile(json, path);
}
