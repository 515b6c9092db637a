/**
 * A circuit breaker per endpoint (Nygard, "Release It!"; Hystrix, resilience4j): after `failureThreshold`
 * consecutive failures the circuit opens and calls fail at once without touching the endpoint; after a
 * cooldown it half-opens and lets `halfOpenProbes` calls through; one success closes it, one failure opens
 * it again with the cooldown doubled (up to `maxCooldownMs`), so a long outage is probed ever more rarely.
 *
 * The states are one string union and change only through `transition` (style.md §7).
 */
import type { Clock } from '../clock.js';

export type BreakerState = 'closed' | 'open' | 'half_open';
export type BreakerEvent = 'trip' | 'cooldown_elapsed' | 'probe_succeeded' | 'probe_failed';

/** The whole state machine. Events that do not apply to a state leave it unchanged. */
export function transition(state: BreakerState, event: BreakerEvent): BreakerState {
  switch (state) {
    case 'closed':
      return event === 'trip' ? 'open' : 'closed';
    case 'open':
      return event === 'cooldown_elapsed' ? 'half_open' : 'open';
    case 'half_open':
      if (event === 'probe_succeeded') return 'closed';
      if (event === 'probe_failed') return 'open';
      return 'half_open';
  }
}

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
  halfOpenProbes: number;
}

export const defaultCircuitBreaker: CircuitBreakerOptions = {
  failureThreshold: 5,
  cooldownMs: 5_000,
  maxCooldownMs: 60_000,
  halfOpenProbes: 1,
};

export type BreakerListener = (from: BreakerState, to: BreakerState, event: BreakerEvent) => void;

/** What a finished call tells the breaker; `ignored` releases a probe slot without a verdict (cancelled). */
export type BreakerOutcome = 'success' | 'failure' | 'ignored';

/**
 * A call let through, stamped with the state it was let through in: a call started while closed that ends
 * after the circuit opened and half-opened must not count as the probe's verdict.
 */
export interface BreakerTicket {
  readonly generation: number;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  /** Consecutive openings without a close: the cooldown doubles with each. */
  private openings = 0;
  private probes = 0;
  /** Bumped on every state change; tickets of older generations carry no verdict. */
  private generation = 0;

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly clock: Clock,
    private readonly onChange: BreakerListener = () => {},
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** The cooldown of the current (or next) opening. */
  cooldownMs(): number {
    const n = Math.max(0, this.openings - 1);
    return Math.min(this.options.maxCooldownMs, this.options.cooldownMs * 2 ** n);
  }

  /** Time until a call may be tried; 0 when one may be tried now. */
  retryAfterMs(): number {
    if (this.current === 'closed') return 0;
    if (this.current === 'half_open') return this.probes < this.options.halfOpenProbes ? 0 : 1;
    return Math.max(0, this.openedAt + this.cooldownMs() - this.clock.now());
  }

  /** Whether a call could be let through now, without taking a probe slot. */
  canAttempt(): boolean {
    return this.retryAfterMs() === 0;
  }

  /** Lets a call through (taking a probe slot when half-open), or refuses it (null). */
  allow(): BreakerTicket | null {
    if (this.current === 'open' && this.clock.now() >= this.openedAt + this.cooldownMs()) {
      this.fire('cooldown_elapsed');
    }
    switch (this.current) {
      case 'closed':
        return { generation: this.generation };
      case 'open':
        return null;
      case 'half_open':
        if (this.probes >= this.options.halfOpenProbes) return null;
        this.probes++;
        return { generation: this.generation };
    }
  }

  /** Reports a call that `allow()` let through. */
  record(ticket: BreakerTicket, outcome: BreakerOutcome): void {
    if (ticket.generation !== this.generation) return;
    if (this.current === 'half_open') {
      this.probes = Math.max(0, this.probes - 1);
      if (outcome === 'success') this.fire('probe_succeeded');
      else if (outcome === 'failure') this.fire('probe_failed');
      return;
    }
    if (this.current !== 'closed' || outcome === 'ignored') return;
    if (outcome === 'success') {
      this.failures = 0;
      return;
    }
    if (++this.failures >= this.options.failureThreshold) this.fire('trip');
  }

  private fire(event: BreakerEvent): void {
    const from = this.current;
    const to = transition(from, event);
    if (to === from) return;
    this.current = to;
    this.generation++;
    if (to === 'open') {
      this.openings++;
      this.openedAt = this.clock.now();
    }
    if (to === 'closed') {
      this.openings = 0;
      this.failures = 0;
    }
    if (to !== 'half_open') this.probes = 0;
    this.onChange(from, to, event);
  }
}
