/**
 * A retry budget (Finagle's RetryBudget, gRPC's retry throttling): over a sliding window, retries may be at
 * most `ratio` of first attempts, so in an outage — when every request fails — retries add at most 10% to
 * the load instead of multiplying it by the attempt count. `minRetries` per window lets a quiet client
 * still retry the odd failure (at 3 requests a window, 10% would allow none).
 */
import type { Clock } from '../clock.js';
import { SlidingCount } from './sliding-window.js';

export interface RetryBudgetOptions {
  /** Retries allowed per first attempt over the window (0.1 = 10%). */
  ratio: number;
  windowMs: number;
  /** Retries allowed per window whatever the traffic. */
  minRetries: number;
}

export const defaultRetryBudget: RetryBudgetOptions = { ratio: 0.1, windowMs: 10_000, minRetries: 10 };

export class RetryBudget {
  private readonly requests: SlidingCount;
  private readonly retries: SlidingCount;

  constructor(
    private readonly options: RetryBudgetOptions,
    clock: Clock,
  ) {
    this.requests = new SlidingCount(options.windowMs, clock);
    this.retries = new SlidingCount(options.windowMs, clock);
  }

  /** A first attempt was made. */
  onRequest(): void {
    this.requests.add();
  }

  /** Retries the window still allows. */
  available(): number {
    const allowed = Math.max(this.options.minRetries, this.options.ratio * this.requests.sum());
    return Math.max(0, Math.floor(allowed - this.retries.sum()));
  }

  /** Spends one retry if the budget has one; false means "give up, do not retry". */
  tryRetry(): boolean {
    if (this.available() < 1) return false;
    this.retries.add();
    return true;
  }
}
