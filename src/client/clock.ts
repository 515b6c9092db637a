/**
 * Time and chance, passed in (style.md §6): the policies never read a global clock or Math.random, so
 * tests drive them with a fake clock and a scripted random source and check exact numbers.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock (only differences matter). */
  now(): number;
}

/** Uniform in [0, 1). */
export type Random = () => number;

export const systemClock: Clock = { now: () => performance.now() };
export const systemRandom: Random = Math.random;

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
