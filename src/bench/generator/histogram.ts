/**
 * Latency histograms (hdr-histogram-js): values in microseconds, 3 significant digits (0.1% resolution) from
 * 1 µs up, auto-resizing, so one histogram holds a 50 µs search and a 30 s stall alike in ≈ 100 KB.
 */
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export type { Histogram };

export function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records milliseconds (fractional) as whole microseconds, at least 1. */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Milliseconds; all zero for an empty histogram. */
export function percentiles(h: Histogram): Percentiles {
  const n = h.totalCount;
  if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  const at = (p: number) => round3(h.getValueAtPercentile(p) / 1000);
  return {
    count: n,
    mean: round3(h.mean / 1000),
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: round3(h.maxValue / 1000),
  };
}

/**
 * The percentile curve as [percentile, ms] points spaced evenly in "nines" (0, 50, 68, 80, 90, … 99.999, 100):
 * what the report plots, with the tail as readable as the median.
 */
export function percentileCurve(h: Histogram): Array<[number, number]> {
  if (h.totalCount === 0) return [];
  const out: Array<[number, number]> = [];
  for (let i = 0; i <= 50; i++) {
    const p = 100 * (1 - 10 ** (-i / 10));
    out.push([Math.round(p * 10_000) / 10_000, round3(h.getValueAtPercentile(p) / 1000)]);
  }
  out.push([100, round3(h.maxValue / 1000)]);
  return out;
}

/** Compressed base64 (HdrHistogram's interchange form): the run file keeps the full distribution. */
export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}
