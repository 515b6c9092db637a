/**
 * The degradation ladder: degrade before shedding, shed the cheap tiers before the paying ones.
 *   0 normal
 *   1 search effort to the floor (ef), smaller search batches
 *   2 + free tier shed (its writes deferred), hot queries answered from the result cache
 *   3 premium and critical only
 * One level at a time, with hysteresis twice over: the thresholds to climb and to descend differ (p99 above
 * the target vs well below it), and each step needs its condition to hold for a while (escalateMs up,
 * the longer recoverMs down), so the ladder does not flap at a boundary. docs/OPERATIONS.md lists the
 * entry and exit conditions. Memory is not a signal here: shedding reads frees no memory, so the memory
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
}

export interface LadderOptions {
  targetP99Ms: number;
  /** Calm needs p99 ≤ this × target. */
  calmP99Ratio: number;
  /** Calm needs the level to shed at most this fraction … */
  calmShedFraction: number;
  /** … or the server to be at most this busy (then the shed traffic would likely fit). */
  calmUtilisation: number;
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
  escalateMs: 300,
  recoverMs: 2000,
  maxLevel: 3,
};

export type Pressure = 'hot' | 'steady' | 'calm';

export function pressure(s: LadderSignal, o: Readonly<LadderOptions>): Pressure {
  if (s.p99Ms > o.targetP99Ms || s.queueOverloaded) return 'hot';
  if (
    s.p99Ms <= o.targetP99Ms * o.calmP99Ratio &&
    !s.queueOverloaded &&
    (s.shedFraction <= o.calmShedFraction || s.utilisation <= o.calmUtilisation)
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
    if (s.level < o.maxLevel && now - hotSince >= o.escalateMs) {
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
