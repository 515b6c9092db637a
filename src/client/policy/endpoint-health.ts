/**
 * Picks which endpoint serves the next call, and takes failing ones out of rotation for a while.
 *
 * Selection is "power of two choices" over a cost (Mitzenmacher; Finagle's and Linkerd's P2C + peak EWMA):
 * pick two endpoints at random, send to the cheaper. Cost = (latency ms + 1) · (in-flight + 1) · (1 +
 * penalty · error rate). Latency is a peak EWMA: a slower sample replaces it at once, faster ones pull it
 * down with weight decaying over `latencyDecayMs`. The error rate is an EWMA of outcomes. Both decay while
 * nothing is measured, so an endpoint passed over is tried again later. The +1 ms keeps errors counting for
 * an endpoint that fails fast (its latency is never sampled from failures, so it would look free). Two
 * random choices avoid the herd that "always the best" sends to one endpoint.
 *
 * Outlier ejection (Envoy's outlier detection): an endpoint with `consecutiveFailures` failures in a row, or
 * an error rate above `errorRateThreshold` over enough samples, is ejected for `baseEjectionMs` times the
 * number of times it has been ejected (capped), then re-admitted with a clean error record. Never more than
 * `maxEjectedPercent` of the endpoints — and never the last one — are out at once: with one endpoint left,
 * its circuit breaker, not ejection, decides.
 */
import type { Clock, Random } from '../clock.js';

export interface EndpointHealthOptions {
  latencyDecayMs: number;
  /** Time constant with which the error rate fades while an endpoint gets no calls. */
  errorDecayMs: number;
  /** Weight of each new outcome in the error rate (an EWMA). */
  errorAlpha: number;
  errorPenalty: number;
  consecutiveFailures: number;
  errorRateThreshold: number;
  /** Outcomes needed before the error rate may eject. */
  minSamples: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectedPercent: number;
}

export const defaultEndpointHealth: EndpointHealthOptions = {
  latencyDecayMs: 10_000,
  errorDecayMs: 30_000,
  errorAlpha: 0.1,
  errorPenalty: 10,
  consecutiveFailures: 5,
  errorRateThreshold: 0.5,
  minSamples: 20,
  baseEjectionMs: 10_000,
  maxEjectionMs: 120_000,
  maxEjectedPercent: 50,
};

export type HealthEvent =
  | { type: 'eject'; endpoint: number; reason: 'consecutive_failures' | 'error_rate'; forMs: number }
  | { type: 'readmit'; endpoint: number };

interface Stats {
  latency: number;
  stamp: number;
  errorRate: number;
  errorStamp: number;
  samples: number;
  consecutive: number;
  inFlight: number;
  /** 0 while in rotation; the time it comes back otherwise. */
  ejectedUntil: number;
  ejections: number;
}

export class EndpointHealth {
  private readonly stats: Stats[];

  constructor(
    count: number,
    private readonly options: EndpointHealthOptions,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly onEvent: (e: HealthEvent) => void = () => {},
  ) {
    this.stats = Array.from({ length: count }, () => ({
      latency: 0,
      stamp: clock.now(),
      errorRate: 0,
      errorStamp: clock.now(),
      samples: 0,
      consecutive: 0,
      inFlight: 0,
      ejectedUntil: 0,
      ejections: 0,
    }));
  }

  /** Latency estimate now: the peak EWMA decayed for the time since its last sample. */
  latency(i: number): number {
    const s = this.stats[i]!;
    return s.latency * Math.exp(-(this.clock.now() - s.stamp) / this.options.latencyDecayMs);
  }

  cost(i: number): number {
    const s = this.stats[i]!;
    return (this.latency(i) + 1) * (s.inFlight + 1) * (1 + this.options.errorPenalty * this.errorRate(i));
  }

  errorRate(i: number): number {
    const s = this.stats[i]!;
    return s.errorRate * Math.exp(-(this.clock.now() - s.errorStamp) / this.options.errorDecayMs);
  }

  isEjected(i: number): boolean {
    this.readmitExpired();
    return this.stats[i]!.ejectedUntil !== 0;
  }

  /** The endpoint for the next call among those `eligible` admits (e.g. circuit not open), or undefined. */
  pick(eligible: (i: number) => boolean = () => true): number | undefined {
    this.readmitExpired();
    const candidates: number[] = [];
    for (let i = 0; i < this.stats.length; i++) {
      if (this.stats[i]!.ejectedUntil === 0 && eligible(i)) candidates.push(i);
    }
    if (candidates.length <= 1) return candidates[0];
    const a = Math.floor(this.random() * candidates.length);
    let b = Math.floor(this.random() * (candidates.length - 1));
    if (b >= a) b++;
    const ia = candidates[a]!;
    const ib = candidates[b]!;
    return this.cost(ib) < this.cost(ia) ? ib : ia;
  }

  start(i: number): void {
    this.stats[i]!.inFlight++;
  }

  /** A call ended without a verdict on the endpoint (cancelled by the caller). */
  release(i: number): void {
    const s = this.stats[i]!;
    s.inFlight = Math.max(0, s.inFlight - 1);
  }

  success(i: number, latencyMs: number): void {
    const s = this.stats[i]!;
    this.release(i);
    this.sample(s, latencyMs);
    s.consecutive = 0;
    this.outcome(s, 0);
  }

  /**
   * A call given up on after `waitedMs` (its deadline passed): the endpoint was at least that slow. It
   * counts as latency, not as an error — the deadline was the caller's choice.
   */
  slow(i: number, waitedMs: number): void {
    this.release(i);
    this.sample(this.stats[i]!, waitedMs);
  }

  private sample(s: Stats, latencyMs: number): void {
    const now = this.clock.now();
    const w = Math.exp(-(now - s.stamp) / this.options.latencyDecayMs);
    s.latency = latencyMs > s.latency ? latencyMs : s.latency * w + latencyMs * (1 - w);
    s.stamp = now;
  }

  /** A failed call: its latency is not sampled (a fast refusal must not make an endpoint look fast). */
  failure(i: number): void {
    const s = this.stats[i]!;
    this.release(i);
    s.consecutive++;
    this.outcome(s, 1);
    if (s.ejectedUntil !== 0) return;
    if (s.consecutive >= this.options.consecutiveFailures) this.eject(i, 'consecutive_failures');
    else if (s.samples >= this.options.minSamples && s.errorRate >= this.options.errorRateThreshold) {
      this.eject(i, 'error_rate');
    }
  }

  private outcome(s: Stats, error: 0 | 1): void {
    const now = this.clock.now();
    const rate = s.errorRate * Math.exp(-(now - s.errorStamp) / this.options.errorDecayMs);
    s.samples++;
    s.errorRate = rate + this.options.errorAlpha * (error - rate);
    s.errorStamp = now;
  }

  private eject(i: number, reason: 'consecutive_failures' | 'error_rate'): void {
    const n = this.stats.length;
    const out = this.stats.filter((s) => s.ejectedUntil !== 0).length;
    const cap = Math.max(1, Math.floor((n * this.options.maxEjectedPercent) / 100));
    if (out + 1 > cap || out + 1 >= n) return;
    const s = this.stats[i]!;
    s.ejections++;
    const forMs = Math.min(this.options.maxEjectionMs, this.options.baseEjectionMs * s.ejections);
    s.ejectedUntil = this.clock.now() + forMs;
    this.onEvent({ type: 'eject', endpoint: i, reason, forMs });
  }

  private readmitExpired(): void {
    const now = this.clock.now();
    for (let i = 0; i < this.stats.length; i++) {
      const s = this.stats[i]!;
      if (s.ejectedUntil !== 0 && now >= s.ejectedUntil) {
        s.ejectedUntil = 0;
        s.consecutive = 0;
        s.errorRate = 0;
        s.samples = 0;
        this.onEvent({ type: 'readmit', endpoint: i });
      }
    }
  }
}
