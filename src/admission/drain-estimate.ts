/**
 * Retry-After for a saturated server (503): how long the work ahead of the caller takes to drain at the
 * rate the server has been completing requests. Completions are counted per interval and smoothed
 * (EWMA), so one slow interval does not send every client away for long.
 */

export interface DrainOptions {
  /** Weight of the newest interval's rate. */
  alpha: number;
  minMs: number;
  maxMs: number;
}

export class DrainEstimate {
  /** Completions per millisecond, smoothed; undefined until the first interval closes. */
  rate: number | undefined;
  private last = Number.NaN;

  constructor(private readonly o: Readonly<DrainOptions>) {}

  /**
   * `completed` requests finished since the previous call. An idle interval (nothing completed, nothing in
   * flight) says nothing about capacity and is skipped, so a burst after a quiet spell is not told "never".
   */
  update(completed: number, now: number, busy: boolean): void {
    if (Number.isNaN(this.last)) {
      this.last = now;
      return;
    }
    const dt = now - this.last;
    if (dt <= 0) return;
    this.last = now;
    if (completed === 0 && !busy) return;
    const r = completed / dt;
    this.rate = this.rate === undefined ? r : this.rate + this.o.alpha * (r - this.rate);
  }

  /** Milliseconds until `backlog` requests have drained, within [minMs, maxMs]; minMs before any data. */
  retryAfterMs(backlog: number): number {
    if (this.rate === undefined) return this.o.minMs;
    if (this.rate <= 0) return this.o.maxMs;
    return Math.min(this.o.maxMs, Math.max(this.o.minMs, Math.ceil(backlog / this.rate)));
  }
}
