/**
 * Anomalies in a per-second series by EWMA z-score: an exponentially weighted mean and variance follow the
 * series; a point more than `threshold` standard deviations from the mean — and also far from it in absolute
 * and relative terms, so a flat series with tiny variance does not cry wolf — is flagged. Flagged points
 * still update the mean (a lasting level shift stops being anomalous after a few seconds, which is what an
 * operator wants flagged: the change, not the new normal). Consecutive flags merge into one window. Pure.
 */

export interface AnomalyOptions {
  /** EWMA weight of the newest point (0.3 ≈ a 5-second memory). */
  alpha: number;
  /** |z| at or above this is anomalous. */
  threshold: number;
  /** Points seen before anything may be flagged. */
  warmup: number;
  /** The deviation must also be at least this… */
  minAbsolute: number;
  /** …and this fraction of the expected value. */
  minRelative: number;
}

export const DEFAULT_ANOMALY: AnomalyOptions = {
  alpha: 0.3,
  threshold: 3,
  warmup: 5,
  minAbsolute: 0,
  minRelative: 0.25,
};

export interface AnomalyPoint {
  index: number;
  value: number;
  expected: number;
  z: number;
}

export function ewmaAnomalies(
  values: readonly (number | null)[],
  opts: Partial<AnomalyOptions> = {},
): AnomalyPoint[] {
  const o = { ...DEFAULT_ANOMALY, ...opts };
  const out: AnomalyPoint[] = [];
  let mean = 0;
  let variance = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x === null || x === undefined || !Number.isFinite(x)) continue;
    if (n === 0) {
      mean = x;
      n = 1;
      continue;
    }
    const diff = x - mean;
    if (n >= o.warmup) {
      // A floor on the deviation unit: with a perfectly flat history any change would be infinitely many σ.
      const sd = Math.sqrt(variance) || Math.max(o.minAbsolute, Math.abs(mean) * o.minRelative, 1e-9);
      const z = diff / sd;
      if (
        Math.abs(z) >= o.threshold &&
        Math.abs(diff) >= Math.max(o.minAbsolute, Math.abs(mean) * o.minRelative)
      ) {
        out.push({ index: i, value: x, expected: mean, z });
      }
    }
    const incr = o.alpha * diff;
    mean += incr;
    variance = (1 - o.alpha) * (variance + diff * incr);
    n++;
  }
  return out;
}

export interface AnomalyWindow {
  series: string;
  /** Run seconds (inclusive). */
  from_s: number;
  to_s: number;
  direction: 'up' | 'down';
  /** Most extreme value in the window, the mean expected before it, and its z. */
  peak: number;
  expected: number;
  z: number;
}

/** Merges flags on consecutive indexes (same direction) into windows; `t` maps index → run second. */
export function anomalyWindows(
  series: string,
  points: AnomalyPoint[],
  t: readonly number[],
): AnomalyWindow[] {
  const out: AnomalyWindow[] = [];
  let cur: AnomalyWindow | undefined;
  let lastIndex = -2;
  for (const p of points) {
    const direction = p.z > 0 ? 'up' : 'down';
    const sec = t[p.index] ?? p.index;
    if (cur && p.index <= lastIndex + 2 && cur.direction === direction) {
      cur.to_s = sec;
      if (Math.abs(p.z) > Math.abs(cur.z)) {
        cur.z = p.z;
        cur.peak = p.value;
      }
    } else {
      cur = { series, from_s: sec, to_s: sec, direction, peak: p.value, expected: p.expected, z: p.z };
      out.push(cur);
    }
    lastIndex = p.index;
  }
  for (const w of out) {
    w.peak = Math.round(w.peak * 1000) / 1000;
    w.expected = Math.round(w.expected * 1000) / 1000;
    w.z = Math.round(w.z * 10) / 10;
  }
  return out;
}
