/**
 * SLO-adaptive search effort: the HNSW `ef` used when a caller does not choose one. Search latency grows
 * roughly in proportion to ef, so when p99 is above the target ef is scaled by target / p99 (at most halved
 * per window); with ample headroom it climbs back additively — multiplicative decrease, additive increase,
 * the pattern that converges instead of oscillating. Spare latency budget buys recall (up to the ceiling);
 * a burst spends recall to keep latency (down to the floor). At ladder level ≥ 1 the floor is used outright.
 */

export interface EfOptions {
  floor: number;
  ceiling: number;
  initial: number;
  targetP99Ms: number;
  /** Climb only while p99 is below this × target. */
  raiseBelowRatio: number;
  step: number;
  /** A window with fewer searches says too little to act on. */
  minSamples: number;
}

export interface EfSample {
  p99Ms: number;
  count: number;
}

export class EfController {
  ef: number;

  constructor(private readonly o: Readonly<EfOptions>) {
    this.ef = clamp(o.initial, o.floor, o.ceiling);
  }

  /** One window's search latency. Returns the new ef. */
  update(s: EfSample): number {
    const o = this.o;
    if (s.count < o.minSamples) return this.ef;
    if (s.p99Ms > o.targetP99Ms) {
      this.ef = Math.max(o.floor, Math.floor(this.ef * Math.max(0.5, o.targetP99Ms / s.p99Ms)));
    } else if (s.p99Ms < o.targetP99Ms * o.raiseBelowRatio) {
      this.ef = Math.min(o.ceiling, this.ef + o.step);
    }
    return this.ef;
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
