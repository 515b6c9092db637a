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

  /**
   * Milliseconds until `backlog` requests have drained at `rate` (default: the measured one), within
   * [minMs, maxMs]; minMs before any data.
   */
  retryAfterMs(backlog: number, rate = this.rate): number {
    if (rate === undefined) return this.o.minMs;
    if (rate <= 0) return this.o.maxMs;
    return Math.min(this.o.maxMs, Math.max(this.o.minMs, Math.ceil(backlog / rate)));
  }
}

/**
 * The completions per ms a saturated server can sustain: the measured drain rate, or — when that only
 * reflects light traffic (a server completes what it is offered, not what it could) — the concurrency limit
 * over the recent request time (Little's law). Without this, the first second of a burst would be judged
 * by the quiet second before it, and every newcomer refused as if the server could not serve it in time.
 */
export function sustainableRate(
  measured: number | undefined,
  limit: number,
  rttMs: number,
): number | undefined {
  const capacity = rttMs > 0 ? limit / rttMs : undefined;
  if (capacity === undefined) return measured;
  return measured === undefined ? capacity : Math.max(measured, capacity);
}
