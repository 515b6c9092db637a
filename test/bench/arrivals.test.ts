/**
 * Arrival-process math with a seeded RNG: counts and rates of every shape against their integrals, spacing
 * (uniform is exact, Poisson has exponential gaps), trace replay with compression and scaling, `--rate`.
 */
import { describe, expect, it } from 'vitest';
import { expectedArrivals, rateCurve } from '../../src/bench/arrivals/rate.js';
import { ArrivalSchedule } from '../../src/bench/arrivals/schedule.js';
import {
  type ArrivalSpec,
  arrivalSchema,
  type OpenArrivalSpec,
  withRate,
} from '../../src/bench/arrivals/spec.js';
import { loadTrace, parseTraceCsv } from '../../src/bench/arrivals/trace.js';
import { chooser, zipfCdf } from '../../src/bench/workload/choice.js';
import { rng } from '../../src/platform/random.js';
import { SurgeError } from '../../src/protocol/errors.js';

function spec(input: unknown): OpenArrivalSpec {
  return arrivalSchema.parse(input) as OpenArrivalSpec;
}

function arrivals(
  s: OpenArrivalSpec,
  durationS: number,
  seed = 1,
  spacing?: 'poisson' | 'uniform',
): number[] {
  const sp = spacing ?? (s.kind === 'poisson' ? 'poisson' : s.spacing);
  const sched = new ArrivalSchedule(rateCurve(s, durationS), sp, rng(seed), durationS);
  const out: number[] = [];
  for (let t = sched.next(); t !== undefined; t = sched.next()) out.push(t);
  return out;
}

function countIn(ts: number[], from: number, to: number): number {
  return ts.filter((t) => t >= from && t < to).length;
}

describe('arrival schedules', () => {
  it('constant, uniform: exactly rate × duration, evenly spaced, inside the run', () => {
    const ts = arrivals(spec({ kind: 'constant', rate: 100 }), 10);
    expect(ts.length).toBe(1000);
    expect(ts[0]).toBeCloseTo(0.005, 9);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBeCloseTo(0.01, 9);
    expect(ts.at(-1)!).toBeLessThan(10);
  });

  it('Poisson: count within 4 sd of rate × duration, exponential gaps (CV ≈ 1), reproducible by seed', () => {
    const ts = arrivals(spec({ kind: 'poisson', rate: 200 }), 20, 7);
    expect(Math.abs(ts.length - 4000)).toBeLessThan(4 * Math.sqrt(4000));
    const gaps = ts.slice(1).map((t, i) => t - ts[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeCloseTo(0.005, 3);
    expect(sd / mean).toBeGreaterThan(0.93);
    expect(sd / mean).toBeLessThan(1.07);
    // Memoryless: a quarter of the gaps are shorter than ln(4/3)/λ.
    const short = gaps.filter((g) => g < Math.log(4 / 3) / 200).length / gaps.length;
    expect(short).toBeGreaterThan(0.23);
    expect(short).toBeLessThan(0.27);
    expect(arrivals(spec({ kind: 'poisson', rate: 200 }), 20, 7)).toEqual(ts);
    expect(arrivals(spec({ kind: 'poisson', rate: 200 }), 20, 8)).not.toEqual(ts);
  });

  it('ramp: Λ(t) = from·t + (to − from)·t²/(2T), so the first half carries a quarter from 0', () => {
    const s = spec({ kind: 'ramp', from: 0, to: 100, over_s: 10, spacing: 'uniform' });
    const ts = arrivals(s, 10);
    expect(ts.length).toBe(500);
    expect(countIn(ts, 0, 5)).toBe(125);
    const p = arrivals(spec({ kind: 'ramp', from: 0, to: 100, over_s: 10 }), 10, 3);
    expect(Math.abs(p.length - 500)).toBeLessThan(4 * Math.sqrt(500));
    // After the ramp the rate holds at `to`.
    expect(rateCurve(s, 20)(15)).toBe(100);
  });

  it('step: each step holds its rate from at_s', () => {
    const ts = arrivals(
      spec({ kind: 'step', rate: 10, steps: [{ at_s: 5, rate: 100 }], spacing: 'uniform' }),
      10,
    );
    expect(countIn(ts, 0, 5)).toBe(50);
    expect(countIn(ts, 5, 10)).toBe(500);
  });

  it('spike: base, linear rise to ×m, hold, linear fall — the integral, second by second', () => {
    const s = spec({
      kind: 'spike',
      rate: 10,
      multiplier: 10,
      at_s: 2,
      rise_s: 1,
      hold_s: 2,
      fall_s: 1,
      spacing: 'uniform',
    });
    const ts = arrivals(s, 8);
    // 10/s for 8 s, plus (100 − 10) × (½ + 2 + ½) extra.
    expect(ts.length).toBe(80 + 270);
    expect(countIn(ts, 0, 2)).toBe(20);
    expect(countIn(ts, 3, 5)).toBe(200);
    expect(countIn(ts, 6, 8)).toBe(20);
    const c = rateCurve(s, 8);
    expect([c(1), c(2.5), c(4), c(5.5), c(7)]).toEqual([10, 55, 100, 55, 10]);
    const spike = s as Extract<OpenArrivalSpec, { kind: 'spike' }>;
    for (const m of [10, 25, 50]) expect(rateCurve({ ...spike, multiplier: m }, 8)(4)).toBe(10 * m);
  });

  it('diurnal: mean rate over a period, trough at phase 0, peak half a period later', () => {
    const s = spec({ kind: 'diurnal', rate: 50, amplitude: 0.5, period_s: 10, spacing: 'uniform' });
    const ts = arrivals(s, 10);
    expect(Math.abs(ts.length - 500)).toBeLessThanOrEqual(1);
    const c = rateCurve(s, 10);
    expect(c(0)).toBeCloseTo(25, 9);
    expect(c(5)).toBeCloseTo(75, 9);
    // ∫ over [0, 1) = 50 − 25·(10/2π)·sin(π/5) = 26.6; over [4.5, 5.5) = 74.6.
    expect(Math.abs(countIn(ts, 0, 1) - 26.6)).toBeLessThanOrEqual(1);
    expect(Math.abs(countIn(ts, 4.5, 5.5) - 74.6)).toBeLessThanOrEqual(1);
  });

  it('expectedArrivals agrees with the schedule', () => {
    const s = spec({
      kind: 'spike',
      rate: 20,
      multiplier: 25,
      at_s: 1,
      rise_s: 0.5,
      hold_s: 1,
      spacing: 'uniform',
    });
    expect(Math.abs(arrivals(s, 5).length - expectedArrivals(rateCurve(s, 5), 5))).toBeLessThanOrEqual(1);
  });

  it('--rate scales a shape without changing it', () => {
    const s = arrivalSchema.parse({ kind: 'step', rate: 10, steps: [{ at_s: 5, rate: 40 }] });
    const scaled = withRate(s, 20) as Extract<ArrivalSpec, { kind: 'step' }>;
    expect(scaled.rate).toBe(20);
    expect(scaled.steps[0]!.rate).toBe(80);
    const ramp = withRate(arrivalSchema.parse({ kind: 'ramp', from: 50, to: 200 }), 400);
    expect(ramp).toMatchObject({ from: 100, to: 400 });
  });
});

describe('trace replay', () => {
  const csv = 'time_s,requests\n0,10\n1,30\n2,0\n3,20\n';

  it('keeps each bucket’s rate, shortens buckets by the compression, scales to a peak', () => {
    const trace = parseTraceCsv(csv, 'inline');
    expect(trace).toMatchObject({ bucketS: 1, peakRate: 30, meanRate: 15 });
    const s = spec({ kind: 'trace', file: 'inline', compress: 2, spacing: 'uniform' });
    const c = rateCurve(s, 2, trace);
    // Run second 0.25 = trace second 0.5 (bucket 0); 0.75 → bucket 1; 1.25 → bucket 2 (zero).
    expect([c(0.25), c(0.75), c(1.25), c(1.75), c(2.5)]).toEqual([10, 30, 0, 20, 0]);
    const sched = new ArrivalSchedule(c, 'uniform', rng(1), 2);
    let n = 0;
    while (sched.next() !== undefined) n++;
    // Compression 2 halves each bucket's time at the same rate: half the arrivals.
    expect(n).toBe(30);
    const peak = rateCurve(spec({ kind: 'trace', file: 'inline', peak_rate: 300, offset_s: 1 }), 3, trace);
    expect([peak(0.5), peak(2.5)]).toEqual([300, 200]);
  });

  it('reads the built-in traces from the repo and refuses malformed ones with INVALID_SCENARIO', () => {
    const fc = loadTrace('flash-crowd');
    expect(fc.bucketS).toBe(1);
    expect(fc.counts.length).toBe(3600);
    expect(fc.peakRate / fc.meanRate).toBeGreaterThan(3.5);
    expect(loadTrace('azure-code').counts.length).toBeGreaterThan(3000);
    expect(() => parseTraceCsv('t,n\n0,1\n', 'bad.csv')).toThrow(SurgeError);
    expect(() => parseTraceCsv('time_s,requests\n0,1\n1,x\n', 'bad.csv')).toThrow(/bad\.csv:3/);
    expect(() => loadTrace('no-such-trace')).toThrow(/neither a built-in trace/);
  });
});

describe('query choice', () => {
  it('Zipf(s) puts rank-1 mass 1/H(n,s); hotspot puts `traffic` on `keys`', () => {
    const cdf = zipfCdf(1000, 1.1);
    let h = 0;
    for (let k = 1; k <= 1000; k++) h += 1 / k ** 1.1;
    expect(cdf[0]).toBeCloseTo(1 / h, 9);
    const r = rng(5);
    const pick = chooser({ kind: 'zipf', s: 1.1 }, 1000, rng(6));
    const counts = new Map<number, number>();
    for (let i = 0; i < 50_000; i++) {
      const q = pick(r);
      counts.set(q, (counts.get(q) ?? 0) + 1);
    }
    const top = Math.max(...counts.values()) / 50_000;
    expect(top).toBeGreaterThan(0.95 / h);
    expect(top).toBeLessThan(1.05 / h);
    const hot = chooser({ kind: 'hotspot', traffic: 0.9, keys: 0.1 }, 1000, rng(6));
    const seen = new Map<number, number>();
    for (let i = 0; i < 50_000; i++) {
      const q = hot(r);
      seen.set(q, (seen.get(q) ?? 0) + 1);
    }
    const sorted = [...seen.values()].sort((a, b) => b - a);
    const share = sorted.slice(0, 100).reduce((a, b) => a + b, 0) / 50_000;
    expect(share).toBeGreaterThan(0.88);
    expect(share).toBeLessThan(0.92);
  });
});
