/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter", 2015):
 * sleep = random(0, min(cap, base · 2^attempt)). Full jitter spreads retries of many clients evenly over
 * the window, where equal or "decorrelated" delays bunch them into waves that hit a recovering server
 * together.
 */
import type { Random } from '../clock.js';

export interface BackoffPolicy {
  /** Window of the first retry (attempt 0), in ms. */
  baseMs: number;
  /** Largest window, in ms. */
  capMs: number;
}

export function fullJitter(attempt: number, p: BackoffPolicy, random: Random): number {
  // 2 ** attempt overflows to Infinity past 1023; min() with the cap keeps it finite.
  return random() * Math.min(p.capMs, p.baseMs * 2 ** attempt);
}

/**
 * The delay before retry number `attempt` (0-based). A server's Retry-After is a floor — never sooner than
 * asked — and jitter is added on top, so clients told the same Retry-After do not all return at once.
 */
export function retryDelay(
  attempt: number,
  p: BackoffPolicy,
  random: Random,
  retryAfterMs: number | undefined,
): number {
  return (retryAfterMs ?? 0) + fullJitter(attempt, p, random);
}
