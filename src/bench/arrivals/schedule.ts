/**
 * Intended start times from a rate curve: the n-th arrival is where the integrated rate Λ(t) = ∫λ crosses the
 * n-th target. Poisson spacing draws each increment from Exp(1) (a non-homogeneous Poisson process by time
 * change); uniform spacing uses increments of exactly 1, the first at ½ (so r·T arrivals fall in T seconds).
 * λ is taken as constant on a 1 ms grid (value at the cell's middle): exact for the piecewise shapes up to
 * 1 ms, and a trace bucket compressed to a few ms is still several cells.
 *
 * Pure apart from the seeded RNG: the same seed gives the same schedule, so runs are comparable.
 */
import type { Rng } from '../../platform/random.js';
import type { RateCurve } from './rate.js';
import type { Spacing } from './spec.js';

const GRID_S = 0.001;

export class ArrivalSchedule {
  private t = 0;
  private first = true;

  constructor(
    private readonly curve: RateCurve,
    private readonly spacing: Spacing,
    private readonly rng: Rng,
    readonly durationS: number,
  ) {}

  /** Seconds from the start of the run of the next arrival, or undefined when the run's time is up. */
  next(): number | undefined {
    let need: number;
    if (this.spacing === 'poisson') need = -Math.log(1 - this.rng());
    else need = this.first ? 0.5 : 1;
    this.first = false;
    let t = this.t;
    while (need > 0) {
      if (t >= this.durationS) return undefined;
      let cell = Math.floor(t / GRID_S);
      // Rounding can leave t a hair below a boundary it already reached: never walk a zero-width cell.
      if ((cell + 1) * GRID_S <= t) cell++;
      const cellEnd = Math.min(this.durationS, (cell + 1) * GRID_S);
      const lambda = this.curve((cell + 0.5) * GRID_S);
      const mass = lambda * (cellEnd - t);
      if (lambda > 0 && mass >= need) {
        t += need / lambda;
        need = 0;
      } else {
        need -= mass;
        t = cellEnd;
      }
    }
    if (t >= this.durationS) return undefined;
    this.t = t;
    return t;
  }
}
