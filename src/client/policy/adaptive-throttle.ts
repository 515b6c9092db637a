/**
 * Client-side adaptive throttling (Google SRE book, "Handling Overload"): each client keeps, over a sliding
 * window, the requests it attempted and the ones the backend accepted, and rejects new requests locally
 * with probability max(0, (requests − K·accepts) / (requests + 1)). While the backend accepts everything
 * nothing is rejected; when it refuses most requests, the client stops sending them instead of making the
 * backend spend effort refusing. Locally rejected requests count as requests, so the probability keeps
 * climbing while the backend refuses; it never reaches 1, so some requests still probe for recovery.
 *
 * A sent request counts once its outcome is known, not when it leaves: counted on the way out, a burst of
 * concurrent requests would look refused until the first answers came back (2 in flight, 0 accepted:
 * p = 2/3) and the client would reject its own burst.
 */
import type { Clock, Random } from '../clock.js';
import { SlidingCount } from './sliding-window.js';

export interface AdaptiveThrottleOptions {
  /** The SRE book's K: 2 lets the backend see up to twice the load it accepts. Lower = more aggressive. */
  k: number;
  /** The SRE book suggests two minutes. */
  windowMs: number;
}

export const defaultAdaptiveThrottle: AdaptiveThrottleOptions = { k: 2, windowMs: 120_000 };

export class AdaptiveThrottle {
  private readonly requests: SlidingCount;
  private readonly accepts: SlidingCount;

  constructor(
    private readonly options: AdaptiveThrottleOptions,
    clock: Clock,
    private readonly random: Random,
  ) {
    this.requests = new SlidingCount(options.windowMs, clock);
    this.accepts = new SlidingCount(options.windowMs, clock);
  }

  rejectProbability(): number {
    const requests = this.requests.sum();
    return Math.max(0, (requests - this.options.k * this.accepts.sum()) / (requests + 1));
  }

  /** False means "reject it locally" (and counts it); an admitted request counts at `onOutcome`. */
  admit(): boolean {
    const p = this.rejectProbability();
    if (p > 0 && this.random() < p) {
      this.requests.add();
      return false;
    }
    return true;
  }

  /**
   * The outcome of an admitted request: accepted when the backend served it (even with a 4xx) rather than
   * shedding it (429, 503) or failing to answer. A request cancelled by its caller has no outcome.
   */
  onOutcome(accepted: boolean): void {
    this.requests.add();
    if (accepted) this.accepts.add();
  }
}
