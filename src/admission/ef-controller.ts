/**
 * SLO-adaptive search effort: the HNSW `ef` used when a caller does not choose one. Search latency grows
 * roughly in proportion to ef, so while p99 stays above the target ef is scaled by target / p99 (at most
 * halved per window) — only after `hotWindows` windows in a row, so one noisy window (a GC pause, a
 * neighbour's CPU burst) does not cost recall. As soon as p99 is back at or under the target, ef returns
 * towards its configured value fast (half the gap per window, at least `step`), so recall is lowered only
 * while the SLO is actually breached; windows with too few searches to judge count as calm for that
 * return. Above the configured value spare latency buys recall additively (up to the ceiling), and only
 * with ample headroom. At ladder level ≥ 1 the floor is used outright.
 */

export interface EfOptions {
  floor: number;
  ceiling: number;
  /** The configured ef (engine.hnsw.ef): where the controller starts and returns to. */
  initial: number;
  targetP99Ms: number;
  /** Climb above `initial` only while p99 is below this × target. */
  raiseBelowRatio: number;
  step: number;
  /** A window with fewer searches says too little to lower ef on. */
  minSamples: number;
  /** Consecutive windows over the target before ef is lowered (default 2). */
  hotWindows?: number;
}

export interface EfSample {
  p99Ms: number;
  count: number;
}

export class EfController {
  ef: number;
  private readonly home: number;
  private hot = 0;

  constructor(private readonly o: Readonly<EfOptions>) {
    this.home = clamp(o.initial, o.floor, o.ceiling);
    this.ef = this.home;
  }

  /** One window's search latency. Returns the new ef. */
  update(s: EfSample): number {
    const o = this.o;
    const judged = s.count >= o.minSamples;
    if (judged && s.p99Ms > o.targetP99Ms) {
      if (++this.hot >= (o.hotWindows ?? 2)) {
        this.ef = Math.max(o.floor, Math.floor(this.ef * Math.max(0.5, o.targetP99Ms / s.p99Ms)));
      }
      return this.ef;
    }
    this.hot = 0;
    if (this.ef < this.home) {
      this.ef = Math.min(this.home, this.ef + Math.max(o.step, Math.ceil((this.home - this.ef) / 2)));
    } else if (judged && s.p99Ms < o.targetP99Ms * o.raiseBelowRatio) {
      this.ef = Math.min(o.ceiling, this.ef + o.step);
    }
    return this.ef;
  }

  /**
   * While the ladder holds searches at the floor (level ≥ 1) the windows measure the floor, not this ef, so
   * the server stops feeding them in; when it hands control back, ef starts from no higher than its home.
   */
  resume(): void {
    this.ef = Math.min(this.ef, this.home);
    this.hot = 0;
  }

  /** The ef a search without an explicit one gets at this degradation level. */
  effective(level: number): number {
    return level >= 1 ? this.o.floor : this.ef;
  }

  /** The ef for a caller's explicit choice: honoured when `trusted` (premium), else capped at ours. */
  forExplicit(requested: number, trusted: boolean, level: number): number {
    return trusted ? requested : Math.min(requested, this.effective(level));
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, x));
}
