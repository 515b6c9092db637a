/**
 * A count over the last `windowMs`, kept in `buckets` slots so memory is constant whatever the rate. Counts
 * leave the window a whole bucket at a time: the window covers between `windowMs - bucketMs` and `windowMs`
 * of history, which is all the retry budget and the adaptive throttle need.
 */
import type { Clock } from '../clock.js';

export class SlidingCount {
  private readonly counts: Float64Array;
  /** Bucket number (time / bucketMs) each slot currently holds. */
  private readonly epochs: Float64Array;
  private readonly bucketMs: number;

  constructor(
    windowMs: number,
    private readonly clock: Clock,
    buckets = 10,
  ) {
    if (!(windowMs > 0) || !Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError('SlidingCount needs windowMs > 0 and an integer number of buckets >= 1');
    }
    this.bucketMs = windowMs / buckets;
    this.counts = new Float64Array(buckets);
    this.epochs = new Float64Array(buckets).fill(Number.NEGATIVE_INFINITY);
  }

  add(n = 1): void {
    const epoch = Math.floor(this.clock.now() / this.bucketMs);
    const i = epoch % this.counts.length;
    if (this.epochs[i] !== epoch) {
      this.epochs[i] = epoch;
      this.counts[i] = 0;
    }
    this.counts[i]! += n;
  }

  sum(): number {
    const epoch = Math.floor(this.clock.now() / this.bucketMs);
    const oldest = epoch - this.counts.length + 1;
    let s = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const e = this.epochs[i]!;
      if (e >= oldest && e <= epoch) s += this.counts[i]!;
    }
    return s;
  }
}
