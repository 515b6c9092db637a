/**
 * Capacity search: the arrival rate ramps up; the run stops once the p99 of `stopAfterS` consecutive seconds
 * is over the SLO; the answer is the highest throughput sustained over a 3-second window whose every second
 * kept p99 under the SLO and whose unserved share (errors + drops) stayed under the SLO's error rate.
 * Pure functions of the per-second series.
 */
import type { Series } from '../generator/recorder.js';
import type { Slo } from '../scenarios/schema.js';

const WINDOW = 3;

/** True once the last `stopAfterS` closed seconds all had p99 over the SLO (or nothing completed at all). */
export function breachedFor(
  series: Readonly<Series>,
  closedSeconds: number,
  sloP99: number,
  stopAfterS: number,
): boolean {
  if (closedSeconds < stopAfterS + 1) return false;
  for (let s = closedSeconds - stopAfterS; s < closedSeconds; s++) {
    const p99 = series.lat_p99[s];
    if (p99 === null || p99 === undefined) {
      if ((series.offered[s] ?? 0) === 0) return false;
      continue; // offered but nothing finished yet: as bad as a breach
    }
    if (p99 <= sloP99) return false;
  }
  return true;
}

export interface CapacityResult {
  /** Highest ok/s over a compliant 3-second window; 0 when no window complied. */
  max_sustainable_rps: number;
  /** Offered rate over that window. */
  at_offered_rps: number;
  /** Start of the first non-compliant window after the best one (where it broke), or null. */
  knee_s: number | null;
  offered_at_knee_rps: number | null;
}

export function capacity(series: Readonly<Series>, slo: Slo): CapacityResult {
  let best = 0;
  let bestOffered = 0;
  let bestAt = -1;
  const windows: { s: number; compliant: boolean; offered: number }[] = [];
  const n = series.t.length;
  for (let s = 0; s + WINDOW <= n; s++) {
    let ok = 0;
    let offered = 0;
    let unserved = 0;
    let compliant = true;
    for (let j = s; j < s + WINDOW; j++) {
      ok += series.ok[j] ?? 0;
      offered += series.offered[j] ?? 0;
      unserved += (series.errors[j] ?? 0) + (series.dropped[j] ?? 0);
      const p99 = series.lat_p99[j];
      if ((series.offered[j] ?? 0) > 0 && (p99 === null || p99 === undefined || p99 > slo.p99_ms))
        compliant = false;
    }
    if (offered === 0) continue;
    if (unserved / offered >= slo.error_rate) compliant = false;
    windows.push({ s, compliant, offered: offered / WINDOW });
    if (compliant && ok / WINDOW > best) {
      best = ok / WINDOW;
      bestOffered = offered / WINDOW;
      bestAt = s;
    }
  }
  // Early seconds can miss the SLO while connections open; the knee is the break *after* the best window.
  const knee = windows.find((w) => w.s > bestAt && !w.compliant);
  return {
    max_sustainable_rps: Math.round(best * 10) / 10,
    at_offered_rps: Math.round(bestOffered * 10) / 10,
    knee_s: knee ? knee.s : null,
    offered_at_knee_rps: knee ? Math.round(knee.offered * 10) / 10 : null,
  };
}
