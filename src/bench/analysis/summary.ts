/**
 * Folds what the recorder and scraper collected into the run file's summary. Definitions (docs/BENCH.md):
 * offered = scheduled / elapsed; throughput = completed / span of completions; goodput = successes within the
 * SLO's p99 latency; error rate = (errors + dropped + unsent) / scheduled — an arrival the target never
 * served counts against it, whatever the reason; cost per million requests = cores × $/core-hour × elapsed /
 * successful requests.
 */
import { percentiles } from '../generator/histogram.js';
import type { Breakdown, Recorded } from '../generator/recorder.js';
import type { RunSummary, ServerSeriesRecord } from '../report/run-file.js';
import type { Scenario } from '../scenarios/schema.js';

const r3 = (x: number) => Math.round(x * 1000) / 1000;

function stats(values: readonly (number | null)[]): { mean: number | null; max: number | null } {
  let sum = 0;
  let n = 0;
  let max: number | null = null;
  for (const v of values) {
    if (v === null) continue;
    sum += v;
    n++;
    max = max === null ? v : Math.max(max, v);
  }
  return { mean: n ? r3(sum / n) : null, max };
}

function firstLast(values: readonly (number | null)[]): { first: number | null; last: number | null } {
  const present = values.filter((v): v is number => v !== null);
  return { first: present[0] ?? null, last: present.at(-1) ?? null };
}

export interface SummaryInput {
  scenario: Scenario;
  recorded: Recorded;
  elapsedMs: number;
  eventLoopUtilization: number;
  server: ServerSeriesRecord | null;
}

export function summarize(i: SummaryInput): RunSummary {
  const { recorded: r, scenario: sc } = i;
  const c = r.counts;
  const elapsedS = Math.max(i.elapsedMs / 1000, 1e-3);
  const spanS = Math.max((r.lastDone - Math.min(r.firstDone, r.lastDone)) / 1000, 1e-3);
  const activeS = Math.max(elapsedS, spanS);
  let server: RunSummary['server'] = null;
  let cost: RunSummary['cost'] = null;
  if (i.server && i.server.t.length > 0) {
    const cpu = stats(i.server.cpu_cores);
    const rss = stats(i.server.rss_mb);
    const { first, last } = firstLast(i.server.rss_mb);
    server = {
      cpu_cores_mean: cpu.mean,
      cpu_cores_max: cpu.max,
      rss_mb_start: first,
      rss_mb_max: rss.max,
      rss_mb_end: last,
    };
    const cores = sc.cost.cores ?? cpu.mean;
    if (cores !== null && c.ok > 0) {
      const usd = (cores * sc.cost.usd_per_core_hour * elapsedS) / 3600;
      cost = {
        usd_per_core_hour: sc.cost.usd_per_core_hour,
        cores: r3(cores),
        usd_per_million_requests: Math.round((usd / c.ok) * 1e6 * 1e4) / 1e4,
      };
    }
  } else if (sc.cost.cores !== undefined && c.ok > 0) {
    const usd = (sc.cost.cores * sc.cost.usd_per_core_hour * elapsedS) / 3600;
    cost = {
      usd_per_core_hour: sc.cost.usd_per_core_hour,
      cores: sc.cost.cores,
      usd_per_million_requests: Math.round((usd / c.ok) * 1e6 * 1e4) / 1e4,
    };
  }
  const byOp: RunSummary['by_op'] = {};
  for (const [op, b] of Object.entries(r.byOp)) byOp[op] = breakdownOf(b);
  return {
    elapsed_s: r3(elapsedS),
    requests: {
      scheduled: c.scheduled,
      sent: c.sent,
      completed: c.completed,
      ok: c.ok,
      errors: c.errors,
      dropped: c.dropped,
      unsent: c.unsent,
      late_starts: c.late,
    },
    rates: {
      offered_rps: r3(c.scheduled / elapsedS),
      throughput_rps: r3(c.completed / activeS),
      ok_rps: r3(c.ok / activeS),
      goodput_rps: r3(c.goodput / activeS),
      goodput_ratio: c.scheduled ? r3(c.goodput / c.scheduled) : 0,
    },
    error_rate: c.scheduled ? Math.round(((c.errors + c.dropped + c.unsent) / c.scheduled) * 1e6) / 1e6 : 0,
    latency_ms: percentiles(r.latency),
    service_ms: percentiles(r.service),
    timer_lag_ms: percentiles(r.timerLag),
    errors: { by_status: r.byStatus, by_code: r.byCode },
    retry_after: {
      count: r.retryAfter.count,
      mean_s: r.retryAfter.count ? r3(r.retryAfter.sumS / r.retryAfter.count) : 0,
      max_s: r3(r.retryAfter.maxS),
    },
    recall:
      r.recall.count > 0
        ? {
            k: sc.query.k,
            samples: r.recall.count,
            mean: r3(r.recall.sum / r.recall.count),
            min: r3(r.recall.min),
          }
        : null,
    server,
    cost,
    generator: { event_loop_utilization: r3(i.eventLoopUtilization), late_ms: sc.limits.late_ms },
    by_op: byOp,
    by_tenant: r.byTenant.map((b, idx) => ({
      name: sc.tenants[idx]?.name ?? String(idx),
      ...breakdownOf(b),
    })),
    refusals: {
      latency_ms: percentiles(r.refusals.latency),
      service_ms: percentiles(r.refusals.service),
      server_ms: percentiles(r.refusals.server),
    },
  };
}

function breakdownOf(b: Breakdown): RunSummary['by_op'][string] {
  return {
    count: b.count,
    ok: b.ok,
    errors: b.errors,
    latency_ms: percentiles(b.latency),
    success_ratio: b.count + b.dropped ? Math.round((b.ok / (b.count + b.dropped)) * 1e6) / 1e6 : 0,
    goodput: b.goodput,
    dropped: b.dropped,
    refusal_ms: percentiles(b.refusals),
  };
}
