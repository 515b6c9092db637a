/**
 * The degradation ladder: degrade before shedding, shed the cheap tiers before the paying ones.
 *   0 normal
 *   1 search effort to the floor (ef), smaller search batches
 *   2 + free tier shed (its writes deferred), hot queries answered from the result cache
 *   3 premium and critical only
 * One level at a time, with hysteresis twice over: the thresholds to climb and to descend differ (p99 above
 * the target vs well below it), and each step needs its condition to hold for a while (escalateMs up,
 * the longer recoverMs down), so the ladder does not flap at a boundary. docs/OPERATIONS.md lists the
 * entry and exit conditions. Shedding levels also need the server to be saturated (a standing queue or a busy
 * limit), not only slow. Memory is not a signal here: shedding reads frees no memory, so the memory
 * budget acts on writes only (IngestBudget).
 */

export type Level = 0 | 1 | 2 | 3;

export interface LadderSignal {
  /** Search p99 over the last window, ms (0 without searches). */
  p99Ms: number;
  /** Some priority has a standing queue (CoDel overload). */
  queueOverloaded: boolean;
  /** Of the requests offered in the last window, the fraction refused by the level itself. */
  shedFraction: number;
  /** Limited requests in flight / concurrency limit. */
  utilisation: number;
  /** The concurrency gate refused requests in the window (its queue full, or a wait past its bound). */
  refusing?: boolean;
}

export interface LadderOptions {
  targetP99Ms: number;
  /** Calm needs p99 ≤ this × target. */
  calmP99Ratio: number;
  /** Calm needs the level to shed at most this fraction … */
  calmShedFraction: number;
  /** … or the limit, with the shed traffic let back in, to be at most this busy (it would likely fit). */
  calmUtilisation: number;
  /**
   * Shedding (levels 2 and 3) needs evidence that the server is saturated — a standing queue, the gate
   * refusing requests, or at least this much of the limit in use — besides a slow p99: a server made slow by something else (a noisy neighbour
   * taking its CPU, a GC pause) is not helped by refusing requests, only by cheaper searches (level 1).
   */
  shedUtilisation: number;
  escalateMs: number;
  recoverMs: number;
  /** The highest level (2 in open mode: with one tier, level 3 would shed everyone). */
  maxLevel: Level;
}

export const LADDER_DEFAULTS: Readonly<LadderOptions> = {
  targetP99Ms: 50,
  calmP99Ratio: 0.6,
  calmShedFraction: 0.05,
  calmUtilisation: 0.5,
  shedUtilisation: 0.75,
  escalateMs: 300,
  recoverMs: 2000,
  maxLevel: 3,
};

export type Pressure = 'hot' | 'steady' | 'calm';

/**
 * How busy the limit would be with the shed traffic let back in, if it costs what the admitted traffic does:
 * utilisation / (1 − shed fraction). Shedding 90% of a 10× burst at 30% utilisation projects 300% — not
 * calm, however quiet the admitted premium traffic looks; shedding 20% at 30% projects 37.5%.
 */
export function projectedUtilisation(s: LadderSignal): number {
  return s.shedFraction >= 1 ? Number.POSITIVE_INFINITY : s.utilisation / (1 - s.shedFraction);
}

export function pressure(s: LadderSignal, o: Readonly<LadderOptions>): Pressure {
  if (s.p99Ms > o.targetP99Ms || s.queueOverloaded) return 'hot';
  if (
    s.p99Ms <= o.targetP99Ms * o.calmP99Ratio &&
    !s.queueOverloaded &&
    (s.shedFraction <= o.calmShedFraction || projectedUtilisation(s) <= o.calmUtilisation)
  ) {
    return 'calm';
  }
  return 'steady';
}

export interface LadderState {
  level: Level;
  /** Start of the current unbroken run of hot (or calm) windows; null when there is none. */
  hotSince: number | null;
  calmSince: number | null;
  changedAt: number;
}

export function initialLadder(now: number): LadderState {
  return { level: 0, hotSince: null, calmSince: null, changedAt: now };
}

/** The one transition function. A step resets its streak, so the next step needs a full period again. */
export function ladderStep(
  s: LadderState,
  signal: LadderSignal,
  now: number,
  o: Readonly<LadderOptions>,
): LadderState {
  const p = pressure(signal, o);
  if (p === 'steady') return { ...s, hotSince: null, calmSince: null };
  if (p === 'hot') {
    const hotSince = s.hotSince ?? now;
    const saturated =
      signal.queueOverloaded || signal.refusing === true || signal.utilisation >= o.shedUtilisation;
    if (s.level < o.maxLevel && now - hotSince >= o.escalateMs && (s.level === 0 || saturated)) {
      return { level: (s.level + 1) as Level, hotSince: now, calmSince: null, changedAt: now };
    }
    return { ...s, hotSince, calmSince: null };
  }
  if (s.level === 0) return { ...s, hotSince: null, calmSince: null };
  const calmSince = s.calmSince ?? now;
  if (now - calmSince >= o.recoverMs) {
    return { level: (s.level - 1) as Level, hotSince: null, calmSince: now, changedAt: now };
  }
  return { ...s, hotSince: null, calmSince };
}
