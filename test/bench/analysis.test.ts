/**
 * The pure analysis: EWMA z-score anomalies, SLA verdicts, capacity (max sustainable rate), burst recovery,
 * and each documented recommendation rule firing on its condition and staying quiet otherwise.
 */
import { describe, expect, it } from 'vitest';
import { anomalyWindows, ewmaAnomalies } from '../../src/bench/analysis/anomaly.js';
import { analyzeBurst } from '../../src/bench/analysis/burst.js';
import { breachedFor, capacity } from '../../src/bench/analysis/capacity.js';
import { RULES, type RuleContext, recommend } from '../../src/bench/analysis/recommend.js';
import { passes, verdicts } from '../../src/bench/analysis/sla.js';
import { ERROR_CLASSES, type Series } from '../../src/bench/generator/recorder.js';
import type { RunSummary } from '../../src/bench/report/run-file.js';
import { sloSchema } from '../../src/bench/scenarios/schema.js';
import { gaussian, rng } from '../../src/platform/random.js';

const slo = sloSchema.parse({});

function series(n: number, f: (i: number) => Partial<Record<keyof Series, number | null>>): Series {
  const s: Series = {
    t: [],
    offered: [],
    dropped: [],
    late: [],
    lat_p50: [],
    lat_p90: [],
    lat_p99: [],
    lat_max: [],
    svc_p99: [],
    completed: [],
    ok: [],
    goodput: [],
    errors: [],
    errors_by_class: Object.fromEntries(
      ERROR_CLASSES.map((c) => [c, [] as number[]]),
    ) as Series['errors_by_class'],
    recall: [],
    in_flight: [],
  };
  for (let i = 0; i < n; i++) {
    const v = f(i);
    s.t.push(i);
    s.offered.push((v.offered as number) ?? 100);
    s.dropped.push((v.dropped as number) ?? 0);
    s.late.push(0);
    s.lat_p50.push(v.lat_p50 ?? 2);
    s.lat_p90.push(v.lat_p90 ?? 4);
    s.lat_p99.push(v.lat_p99 ?? 8);
    s.lat_max.push(v.lat_max ?? 12);
    s.svc_p99.push(v.svc_p99 ?? 8);
    s.completed.push((v.completed as number) ?? (v.ok as number) ?? 100);
    s.ok.push((v.ok as number) ?? 100);
    s.goodput.push((v.ok as number) ?? 100);
    s.errors.push((v.errors as number) ?? 0);
    for (const c of ERROR_CLASSES) s.errors_by_class[c].push(0);
    s.recall.push(null);
    s.in_flight.push(null);
  }
  return s;
}

function summary(o: Partial<RunSummary> = {}): RunSummary {
  const p = (p50: number, p99: number) => ({
    count: 1000,
    mean: p50,
    p50,
    p90: p99,
    p95: p99,
    p99,
    p999: p99,
    max: p99,
  });
  return {
    elapsed_s: 60,
    requests: {
      scheduled: 1000,
      sent: 1000,
      completed: 1000,
      ok: 1000,
      errors: 0,
      dropped: 0,
      unsent: 0,
      late_starts: 0,
    },
    rates: { offered_rps: 100, throughput_rps: 100, ok_rps: 100, goodput_rps: 100, goodput_ratio: 1 },
    error_rate: 0,
    latency_ms: p(3, 20),
    service_ms: p(3, 18),
    timer_lag_ms: p(0.5, 1),
    errors: { by_status: {}, by_code: {} },
    retry_after: { count: 0, mean_s: 0, max_s: 0 },
    recall: { k: 10, samples: 100, mean: 0.97, min: 0.8 },
    server: { cpu_cores_mean: 1, cpu_cores_max: 1.2, rss_mb_start: 200, rss_mb_max: 210, rss_mb_end: 205 },
    cost: null,
    generator: { event_loop_utilization: 0.2, late_ms: 10 },
    by_op: {},
    by_tenant: [],
    ...o,
  };
}

describe('EWMA z-score anomalies', () => {
  it('flags a spike in a noisy series, once, and nothing in noise alone', () => {
    const r = rng(3);
    const noise = Array.from({ length: 120 }, () => 10 + gaussian(r) * 0.5);
    expect(ewmaAnomalies(noise, { minAbsolute: 1 })).toEqual([]);
    const spiked = [...noise];
    spiked[60] = 40;
    spiked[61] = 38;
    const found = ewmaAnomalies(spiked, { minAbsolute: 1 });
    expect(found.map((p) => p.index)).toContain(60);
    const windows = anomalyWindows(
      'p99',
      found,
      spiked.map((_, i) => i),
    );
    expect(windows[0]).toMatchObject({ series: 'p99', from_s: 60, direction: 'up' });
    expect(windows[0]!.z).toBeGreaterThan(3);
  });

  it('flags the start of a level shift, then adapts; skips nulls; ignores tiny absolute changes', () => {
    const shift = Array.from({ length: 60 }, (_, i) => (i < 30 ? 5 : 50));
    const found = ewmaAnomalies(shift, { minAbsolute: 1 });
    expect(found[0]!.index).toBe(30);
    expect(found.at(-1)!.index).toBeLessThan(40);
    expect(
      ewmaAnomalies([1, null, 1, 1, 1, 1, null, 1, 9, 1], { minAbsolute: 1 }).map((p) => p.index),
    ).toEqual([8]);
    expect(ewmaAnomalies([1, 1, 1, 1, 1, 1, 1.2], { minAbsolute: 1 })).toEqual([]);
  });
});

describe('SLA verdicts', () => {
  it('passes within thresholds, fails each breach, and leaves what was not measured open', () => {
    expect(passes(verdicts(summary(), slo))).toBe(true);
    const bad = verdicts(
      summary({ latency_ms: { ...summary().latency_ms, p99: 80 }, error_rate: 0.002 }),
      slo,
    );
    expect(bad.filter((v) => v.pass === false).map((v) => v.name)).toEqual(['p99', 'error_rate']);
    expect(passes(bad)).toBe(false);
    const noRecall = verdicts(summary({ recall: null }), slo);
    expect(noRecall.find((v) => v.name === 'recall')).toMatchObject({ actual: null, pass: null });
    expect(passes(noRecall)).toBe(true);
    expect(verdicts(summary({ recall: { k: 10, samples: 5, mean: 0.94, min: 0.9 } }), slo)[3]!.pass).toBe(
      false,
    );
  });
});

describe('capacity and bursts', () => {
  it('max sustainable rate = best ok/s over a 3 s window that kept p99 and errors under the SLO', () => {
    // The rate ramps by 100/s each second; p99 breaks the SLO from second 8 (at 800/s offered).
    const s = series(12, (i) => ({ offered: 100 * (i + 1), ok: 100 * (i + 1), lat_p99: i < 7 ? 10 : 200 }));
    expect(capacity(s, slo)).toEqual({
      max_sustainable_rps: 600,
      at_offered_rps: 600,
      knee_s: 5,
      offered_at_knee_rps: 700,
    });
    expect(breachedFor(s, 12, slo.p99_ms, 3)).toBe(true);
    expect(breachedFor(s, 8, slo.p99_ms, 3)).toBe(false);
    const errors = series(6, () => ({ errors: 1 }));
    expect(capacity(errors, slo).max_sustainable_rps).toBe(0);
  });

  it('burst recovery = seconds from the end of the spike until p99 holds under the SLO for 3 s', () => {
    const s = series(40, (i) => ({
      lat_p99: i < 10 ? 8 : i < 25 ? 300 : 8,
      dropped: i >= 12 && i < 14 ? 5 : 0,
    }));
    const b = analyzeBurst(s, { at_s: 10, rise_s: 1, hold_s: 8, fall_s: 1, multiplier: 25 }, slo.p99_ms);
    expect(b).toMatchObject({
      start_s: 10,
      end_s: 20,
      recovery_s: 5,
      p99_during_max_ms: 300,
      p99_before_ms: 8,
      dropped_during: 10,
    });
    const never = series(25, (i) => ({ lat_p99: i < 10 ? 8 : 300 }));
    expect(
      analyzeBurst(never, { at_s: 10, rise_s: 1, hold_s: 5, fall_s: 1, multiplier: 10 }, 50).recovery_s,
    ).toBeNull();
  });

  it("with surgevec's scraped level: the highest, the first return to 0 after the spike, and any climb after it", () => {
    const s = series(40, () => ({ lat_p99: 8 }));
    const window = { at_s: 10, rise_s: 1, hold_s: 8, fall_s: 1, multiplier: 10 };
    const t = Array.from({ length: 40 }, (_, i) => i + 0.1);
    const level = t.map((x) => (x < 11 ? 0 : x < 24 ? 3 : x < 30 ? 0 : x < 32 ? 1 : 0));
    expect(analyzeBurst(s, window, 50, { t, level })).toMatchObject({
      level_max: 3,
      level_zero_after_s: 4.1, // end 20, first 0 at 24.1
      level_max_after_zero: 1,
    });
    // A target without the level (another server): no level fields at all.
    const plain = analyzeBurst(s, window, 50, { t, level: t.map(() => null) });
    expect('level_max' in plain).toBe(false);
  });
});

describe('recommendation rules', () => {
  const ctx = (s: RunSummary, o: Partial<RuleContext> = {}): RuleContext => ({
    s,
    slo,
    cores: 2,
    connections: 16,
    pipelining: 1,
    server: null,
    ...o,
  });
  const fired = (c: RuleContext) => recommend(c).map((r) => r.rule);

  it('a healthy run with idle CPU gets only the headroom note', () => {
    expect(fired(ctx(summary({ server: { ...summary().server!, cpu_cores_mean: 0.3 } })))).toEqual([
      'headroom',
    ]);
  });

  it('each rule fires on its documented condition', () => {
    const base = summary();
    const slow = { ...base.latency_ms, p50: 3, p99: 400 };
    const cases: Array<[string, RuleContext]> = [
      ['generator-behind', ctx(summary({ requests: { ...base.requests, late_starts: 50 } }))],
      ['dropped-arrivals', ctx(summary({ requests: { ...base.requests, dropped: 3 } }))],
      ['client-queueing', ctx(summary({ latency_ms: slow, service_ms: { ...base.service_ms, p99: 30 } }))],
      [
        'server-cpu-saturated',
        ctx(summary({ latency_ms: slow, server: { ...base.server!, cpu_cores_max: 1.95 } })),
      ],
      ['recall-below-target', ctx(summary({ recall: { k: 10, samples: 10, mean: 0.9, min: 0.5 } }))],
      [
        'recall-headroom',
        ctx(
          summary({
            latency_ms: slow,
            service_ms: slow,
            recall: { k: 10, samples: 10, mean: 0.995, min: 0.9 },
          }),
        ),
      ],
      ['throttled', ctx(summary({ errors: { by_status: { '429': 4 }, by_code: { OVER_QUOTA: 4 } } }))],
      ['shed-503', ctx(summary({ errors: { by_status: { '503': 4 }, by_code: { OVERLOADED: 4 } } }))],
      ['slow-burst-recovery', ctx(base, { burstRecoveryS: 25 })],
      [
        'memory-growth',
        ctx(
          summary({
            elapsed_s: 180,
            server: { ...base.server!, rss_mb_start: 200, rss_mb_end: 380, rss_mb_max: 380 },
          }),
          {
            server: {
              t: Array.from({ length: 180 }, (_, i) => i),
              cpu_cores: Array.from({ length: 180 }, () => 1),
              rss_mb: Array.from({ length: 180 }, (_, i) => 200 + i),
            },
          },
        ),
      ],
      ['tail-latency', ctx(summary({ latency_ms: slow, service_ms: slow }))],
      ['network-errors', ctx(summary({ errors: { by_status: { '0': 7 }, by_code: { ECONNREFUSED: 7 } } }))],
      ['host-contended', ctx(base, { hostLoad: 7.5 })],
    ];
    expect(cases.map((c) => c[0]).sort()).toEqual(
      RULES.map((r) => r.id)
        .filter((id) => id !== 'headroom')
        .sort(),
    );
    for (const [rule, c] of cases) expect(fired(c), rule).toContain(rule);
    expect(fired(ctx(base, { burstRecoveryS: 4 }))).not.toContain('slow-burst-recovery');
  });
});
