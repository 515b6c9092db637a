/**
 * The built-in scenarios: values of the scenario schema, each runnable in minutes on a 2-core machine (the
 * duration is a default: `--duration` shortens or stretches any of them; soak is meant to be run for hours).
 * docs/BENCH.md describes what each one shows. The default data is GloVe-100 with 100k points.
 */
import type { ScenarioInput } from './schema.js';

const RECALL = { sample: 0.1 };

export const BUILTIN_SCENARIOS: readonly ScenarioInput[] = [
  {
    name: 'baseline',
    description:
      'Steady Poisson arrivals at 200/s, searches only: the reference every other scenario is compared with.',
    arrival: { kind: 'poisson', rate: 200 },
    duration_s: 60,
    recall: RECALL,
  },
  {
    name: 'capacity',
    description:
      'Ramp from 50/s to 3000/s over 120 s; stops once p99 stays over the SLO for 3 s. Reports the max sustainable QPS under the SLO.',
    arrival: { kind: 'ramp', from: 50, to: 3000 },
    duration_s: 120,
    transport: { connections: 32 },
    capacity: { stop_after_s: 3 },
    recall: RECALL,
  },
  ...[10, 25, 50].map(
    (m): ScenarioInput => ({
      name: `burst-${m}x`,
      description: `50/s, then a ×${m} spike (2 s rise, 15 s hold, 2 s fall) at 20 s: latency through the burst and the time to recover.`,
      arrival: { kind: 'spike', rate: 50, multiplier: m, at_s: 20, rise_s: 2, hold_s: 15, fall_s: 2 },
      duration_s: 60,
      transport: { connections: 32 },
      recall: RECALL,
    }),
  ),
  {
    name: 'read-heavy',
    description: '95% searches, 5% upserts of 10 points, Poisson 300/s.',
    arrival: { kind: 'poisson', rate: 300 },
    duration_s: 60,
    mix: { read: 95, write: 5 },
    recall: RECALL,
  },
  {
    name: 'write-heavy',
    description:
      '20% searches, 80% upserts of 10 points (fsynced), Poisson 200/s: search latency under write pressure.',
    arrival: { kind: 'poisson', rate: 200 },
    duration_s: 60,
    mix: { read: 20, write: 80 },
    recall: RECALL,
  },
  {
    name: 'streaming-ingest',
    description:
      '30k points preloaded; 20k more arrive on one NDJSON stream at 1000 points/s while searches run at 100/s. Insert→visible latency from the change feed; recall once the stream is in.',
    dataset: { name: 'glove', base: 50_000 },
    arrival: { kind: 'poisson', rate: 100 },
    duration_s: 45,
    load: { mode: 'always' },
    ingest: { points: 20_000, rate: 1000, at_s: 0 },
    recall: { sample: 0.2 },
  },
  {
    name: 'filtered',
    description:
      'Every search filtered on a payload field matching 10% of the points, Poisson 200/s; recall against exact filtered truth.',
    arrival: { kind: 'poisson', rate: 200 },
    duration_s: 60,
    filter: { fraction: 1, field: 'c10' },
    recall: { sample: 0.2, filtered_pool: 100 },
  },
  {
    name: 'hot-keys',
    description:
      'Query vectors drawn Zipf(1.1): a few queries take most of the traffic (what caches see), Poisson 300/s.',
    arrival: { kind: 'poisson', rate: 300 },
    duration_s: 60,
    query: { choice: { kind: 'zipf', s: 1.1 } },
    recall: RECALL,
  },
  {
    name: 'many-connections',
    description:
      '2000 idle WebSockets and 1000 idle change-feed (SSE) streams held open while searches run at 200/s.',
    arrival: { kind: 'poisson', rate: 200 },
    duration_s: 60,
    idle_connections: { websocket: 2000, sse: 1000, open_concurrency: 100 },
    recall: RECALL,
  },
  {
    name: 'cold-start',
    description:
      'The bench starts its own server, restarts it (SIGTERM, start), times restart-to-ready and the first 20 queries, then runs 100/s for 30 s.',
    server: { managed: true },
    arrival: { kind: 'poisson', rate: 100 },
    duration_s: 30,
    cold_start: { first_queries: 20 },
    recall: RECALL,
  },
  {
    name: 'failover',
    description:
      'The bench starts its own server, runs 100/s, kill -9s it at 10 s and restarts it at once: errors while it is down and the time until requests succeed again.',
    server: { managed: true },
    arrival: { kind: 'poisson', rate: 100 },
    duration_s: 40,
    limits: { timeout_ms: 5000 },
    failover: { kill_at_s: 10, restart_after_s: 0 },
    recall: RECALL,
  },
  {
    name: 'soak',
    description:
      'A compressed day: diurnal sine around 150/s (±50%), 90% searches / 10% upserts, 5 minutes by default — run it for hours with --duration. Watch RSS and the anomaly list.',
    arrival: { kind: 'diurnal', rate: 150, amplitude: 0.5 },
    duration_s: 300,
    mix: { read: 90, write: 10 },
    recall: { sample: 0.05 },
  },
  {
    name: 'flash-crowd',
    description:
      'Trace replay: the synthetic flash-crowd hour compressed 30× into 2 minutes (20× step, 10-min hold, decay), peak scaled to 600/s.',
    arrival: { kind: 'trace', file: 'flash-crowd', compress: 30, peak_rate: 600 },
    duration_s: 120,
    transport: { connections: 32 },
    recall: RECALL,
  },
  {
    name: 'azure-code',
    description:
      'Trace replay: a real hour of Azure LLM "code" requests (CC-BY 4.0) compressed 30× into 2 minutes, peak scaled to 600/s: bursty, peak/mean 26.',
    arrival: { kind: 'trace', file: 'azure-code', compress: 30, peak_rate: 600 },
    duration_s: 114,
    transport: { connections: 32 },
    recall: RECALL,
  },
];

export function builtinScenario(name: string): ScenarioInput | undefined {
  return BUILTIN_SCENARIOS.find((s) => s.name === name);
}
