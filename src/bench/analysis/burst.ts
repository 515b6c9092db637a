/**
 * What a spike did: p99 before, during and after it, and how long after the offered rate fell back the p99
 * took to return under the SLO and stay there for 3 seconds (recovery). Pure.
 */
import type { Series } from '../generator/recorder.js';

export interface BurstWindow {
  at_s: number;
  rise_s: number;
  hold_s: number;
  fall_s: number;
  multiplier: number;
}

export interface BurstResult {
  multiplier: number;
  start_s: number;
  end_s: number;
  p99_before_ms: number | null;
  p99_during_max_ms: number | null;
  p99_after_ms: number | null;
  dropped_during: number;
  errors_during: number;
  /** Seconds from the end of the spike until p99 ≤ SLO for 3 s in a row; null if it never recovered in the run. */
  recovery_s: number | null;
  /**
   * surgevec's degradation level (scraped once a second): the highest seen, seconds from the spike's end until
   * it first read 0 again, and the highest level seen after that (0: it stayed down).
   */
  level_max?: number | null;
  level_zero_after_s?: number | null;
  level_max_after_zero?: number | null;
}

/** The level samples of a server series (run seconds, level), when the target exposes one. */
export interface LevelSamples {
  t: readonly number[];
  level?: readonly (number | null)[] | undefined;
}

function maxOf(v: readonly (number | null)[], from: number, to: number): number | null {
  let m: number | null = null;
  for (let i = Math.max(0, from); i < Math.min(v.length, to); i++) {
    const x = v[i];
    if (x !== null && x !== undefined) m = m === null ? x : Math.max(m, x);
  }
  return m;
}

function median(v: readonly (number | null)[], from: number, to: number): number | null {
  const xs: number[] = [];
  for (let i = Math.max(0, from); i < Math.min(v.length, to); i++) {
    const x = v[i];
    if (x !== null && x !== undefined) xs.push(x);
  }
  if (xs.length === 0) return null;
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

export function analyzeBurst(
  series: Readonly<Series>,
  b: BurstWindow,
  sloP99: number,
  server?: LevelSamples | null,
): BurstResult {
  const start = Math.floor(b.at_s);
  const end = Math.ceil(b.at_s + b.rise_s + b.hold_s + b.fall_s);
  let dropped = 0;
  let errors = 0;
  for (let s = start; s < Math.min(end, series.t.length); s++) {
    dropped += series.dropped[s] ?? 0;
    errors += series.errors[s] ?? 0;
  }
  let recovery: number | null = null;
  for (let s = end; s + 3 <= series.t.length; s++) {
    let ok = true;
    for (let j = s; j < s + 3; j++) {
      const p = series.lat_p99[j];
      if (p !== null && p !== undefined && p > sloP99) ok = false;
    }
    if (ok) {
      recovery = s - end;
      break;
    }
  }
  const levels = server?.level?.some((l) => l !== null) ? server : undefined;
  let levelMax: number | null = null;
  let levelZero: number | null = null;
  let afterZero: number | null = null;
  if (levels?.level) {
    for (let i = 0; i < levels.t.length; i++) {
      const l = levels.level[i];
      if (l === null || l === undefined) continue;
      levelMax = Math.max(levelMax ?? 0, l);
      if (levels.t[i]! < end) continue;
      if (levelZero !== null) afterZero = Math.max(afterZero ?? 0, l);
      else if (l === 0) {
        levelZero = levels.t[i]! - end;
        afterZero = 0;
      }
    }
  }
  return {
    ...(levels
      ? {
          level_max: levelMax,
          level_zero_after_s: levelZero === null ? null : Math.round(levelZero * 10) / 10,
          level_max_after_zero: afterZero,
        }
      : {}),
    multiplier: b.multiplier,
    start_s: start,
    end_s: end,
    p99_before_ms: median(series.lat_p99, 0, start),
    p99_during_max_ms: maxOf(series.lat_p99, start, end),
    p99_after_ms: median(series.lat_p99, end + (recovery ?? 0), series.t.length),
    dropped_during: dropped,
    errors_during: errors,
    recovery_s: recovery,
  };
}
