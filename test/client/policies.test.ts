/**
 * The client's pure policies, driven by a fake clock and scripted randomness, checked against numbers
 * worked out by hand: backoff, Retry-After, deadlines, retry budget, adaptive throttle, circuit breaker
 * (every edge of its state machine) and endpoint health (P2C choice, peak EWMA, ejection, re-admission).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/client/clock.js';
import { AdaptiveThrottle } from '../../src/client/policy/adaptive-throttle.js';
import { fullJitter, retryDelay } from '../../src/client/policy/backoff.js';
import {
  type BreakerEvent,
  type BreakerState,
  CircuitBreaker,
  transition,
} from '../../src/client/policy/circuit-breaker.js';
import { timeoutSeconds } from '../../src/client/policy/deadline.js';
import { EndpointHealth, type HealthEvent } from '../../src/client/policy/endpoint-health.js';
import { parseRetryAfter, retryAfterFromHeaders } from '../../src/client/policy/retry-after.js';
import { RetryBudget } from '../../src/client/policy/retry-budget.js';
import { SlidingCount } from '../../src/client/policy/sliding-window.js';

/** Returns the given values in turn (then repeats the last). */
function scripted(...values: number[]) {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

describe('backoff with full jitter', () => {
  const p = { baseMs: 100, capMs: 5_000 };
  it('draws uniformly below min(cap, base·2^attempt)', () => {
    expect(fullJitter(0, p, () => 0.5)).toBe(50);
    expect(fullJitter(3, p, () => 0.5)).toBe(400);
    expect(fullJitter(6, p, () => 0.5)).toBe(2_500); // 6,400 capped at 5,000
    expect(fullJitter(3, p, () => 0)).toBe(0);
    expect(fullJitter(3, p, () => 0.999)).toBeCloseTo(799.2, 10);
    // No overflow to Infinity/NaN however many attempts.
    expect(fullJitter(5_000, p, () => 0.5)).toBe(2_500);
  });

  it('waits at least Retry-After, and spreads clients after it', () => {
    expect(retryDelay(0, p, () => 0.25, 1_000)).toBe(1_025);
    expect(retryDelay(2, p, () => 0.5, undefined)).toBe(200);
    expect(retryDelay(2, p, () => 0, 3_000)).toBe(3_000);
  });
});

describe('Retry-After and deadlines', () => {
  it('reads delay-seconds, HTTP dates and surgevec’s Retry-After-Ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1_500);
    expect(parseRetryAfter(['2', '9'], now)).toBe(2_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:02 GMT', now)).toBe(2_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(retryAfterFromHeaders({ 'retry-after': '3', 'retry-after-ms': '250' }, now)).toBe(250);
    expect(retryAfterFromHeaders({ 'retry-after': '3', 'retry-after-ms': 'x' }, now)).toBe(3_000);
  });

  it('sends the remaining time as whole seconds, rounded up, at least 1', () => {
    expect(timeoutSeconds(300)).toBe(1);
    expect(timeoutSeconds(1_000)).toBe(1);
    expect(timeoutSeconds(1_001)).toBe(2);
    expect(timeoutSeconds(29_999.5)).toBe(30);
    expect(timeoutSeconds(0)).toBe(1);
    expect(timeoutSeconds(-5)).toBe(1);
    expect(timeoutSeconds(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('sliding count', () => {
  it('forgets a bucket at a time once it leaves the window', () => {
    const clock = new ManualClock();
    const c = new SlidingCount(10_000, clock, 10);
    c.add(50);
    clock.advance(5_000);
    c.add(30);
    expect(c.sum()).toBe(80);
    clock.advance(4_999); // t = 9,999: bucket 0 still in
    expect(c.sum()).toBe(80);
    clock.advance(1); // t = 10,000: bucket 0 (t 0–999) out
    expect(c.sum()).toBe(30);
    clock.advance(5_000); // t = 15,000: bucket 5 out
    expect(c.sum()).toBe(0);
    // A slot reused after a full turn starts from zero.
    c.add(2);
    expect(c.sum()).toBe(2);
  });
});

describe('retry budget', () => {
  it('allows retries up to 10% of requests over the window, with a floor for quiet clients', () => {
    const clock = new ManualClock();
    const b = new RetryBudget({ ratio: 0.1, windowMs: 10_000, minRetries: 3 }, clock);
    // Quiet: 5 requests, 10% is 0.5, the floor gives 3.
    for (let i = 0; i < 5; i++) b.onRequest();
    expect(b.available()).toBe(3);
    expect([b.tryRetry(), b.tryRetry(), b.tryRetry(), b.tryRetry()]).toEqual([true, true, true, false]);
    // Busy: 200 requests in the window → 20 retries, 3 already spent.
    for (let i = 0; i < 195; i++) b.onRequest();
    expect(b.available()).toBe(17);
    let granted = 0;
    while (b.tryRetry()) granted++;
    expect(granted).toBe(17);
    // A window later requests and retries have aged out: back to the floor.
    clock.advance(10_000);
    expect(b.available()).toBe(3);
  });

  it('in an outage every request fails, yet retries stay at 10% of them', () => {
    const clock = new ManualClock();
    const b = new RetryBudget({ ratio: 0.1, windowMs: 10_000, minRetries: 10 }, clock);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < 5_000; i++) {
      clock.advance(2); // 500 requests/s for 10 s
      b.onRequest();
      requests++;
      // Each failed request wants 3 retries.
      for (let r = 0; r < 3 && b.tryRetry(); r++) retries++;
    }
    expect(requests).toBe(5_000);
    expect(retries).toBeLessThanOrEqual(0.1 * requests + 10);
    expect(retries).toBeGreaterThanOrEqual(0.09 * requests);
  });
});

describe('adaptive throttle (SRE client-side throttling)', () => {
  const clock = new ManualClock();
  it('rejects with probability max(0, (requests − 2·accepts) / (requests + 1))', () => {
    const t = new AdaptiveThrottle({ k: 2, windowMs: 120_000 }, clock, scripted(0.999));
    expect(t.rejectProbability()).toBe(0);
    // 100 requests in flight at once: not counted until answered, so none is rejected.
    for (let i = 0; i < 100; i++) expect(t.admit()).toBe(true);
    expect(t.rejectProbability()).toBe(0);
    for (let i = 0; i < 100; i++) t.onOutcome(i < 40);
    expect(t.rejectProbability()).toBe(20 / 101);
  });

  it('rejects when the draw falls below the probability, and counts the rejected request too', () => {
    let draw = 0.999;
    const t = new AdaptiveThrottle({ k: 2, windowMs: 120_000 }, clock, () => draw);
    for (let i = 0; i < 100; i++) t.onOutcome(i < 40);
    draw = 0.19;
    expect(t.admit()).toBe(false); // 0.19 < 20/101 = 0.198
    expect(t.rejectProbability()).toBe(21 / 102);
    draw = 0.2;
    expect(t.admit()).toBe(false); // 0.2 < 21/102 = 0.2059
    expect(t.rejectProbability()).toBe(22 / 103);
    draw = 0.22;
    expect(t.admit()).toBe(true); // 0.22 >= 22/103 = 0.2136
  });

  it('never rejects while the backend accepts everything, and approaches (not reaches) 1 when it accepts nothing', () => {
    const ok = new AdaptiveThrottle({ k: 2, windowMs: 120_000 }, clock, () => 0);
    for (let i = 0; i < 1_000; i++) {
      expect(ok.admit()).toBe(true);
      ok.onOutcome(true);
    }
    const down = new AdaptiveThrottle({ k: 2, windowMs: 120_000 }, clock, () => 0.9999);
    for (let i = 0; i < 99; i++) {
      expect(down.admit()).toBe(true);
      down.onOutcome(false);
    }
    expect(down.rejectProbability()).toBe(99 / 100);
  });

  it('forgets refusals once they leave the window', () => {
    const c = new ManualClock();
    const t = new AdaptiveThrottle({ k: 2, windowMs: 1_000 }, c, () => 0.9999);
    for (let i = 0; i < 50; i++) t.onOutcome(false);
    expect(t.rejectProbability()).toBe(50 / 51);
    c.advance(1_000);
    expect(t.rejectProbability()).toBe(0);
  });
});

describe('circuit breaker', () => {
  it('has one transition per (state, event), every other pair leaving the state alone', () => {
    const table: [BreakerState, BreakerEvent, BreakerState][] = [
      ['closed', 'trip', 'open'],
      ['closed', 'cooldown_elapsed', 'closed'],
      ['closed', 'probe_succeeded', 'closed'],
      ['closed', 'probe_failed', 'closed'],
      ['open', 'trip', 'open'],
      ['open', 'cooldown_elapsed', 'half_open'],
      ['open', 'probe_succeeded', 'open'],
      ['open', 'probe_failed', 'open'],
      ['half_open', 'trip', 'half_open'],
      ['half_open', 'cooldown_elapsed', 'half_open'],
      ['half_open', 'probe_succeeded', 'closed'],
      ['half_open', 'probe_failed', 'open'],
    ];
    for (const [from, event, to] of table)
      expect([from, event, transition(from, event)]).toEqual([from, event, to]);
  });

  function breaker() {
    const clock = new ManualClock();
    const changes: string[] = [];
    const b = new CircuitBreaker(
      { failureThreshold: 3, cooldownMs: 1_000, maxCooldownMs: 4_000, halfOpenProbes: 1 },
      clock,
      (from, to, event) => changes.push(`${from}>${to}:${event}`),
    );
    const call = (outcome: 'success' | 'failure') => {
      const t = b.allow();
      if (!t) return false;
      b.record(t, outcome);
      return true;
    };
    return { clock, b, changes, call };
  }

  it('trips after consecutive failures only, fails fast while open, probes after the cooldown', () => {
    const { clock, b, changes, call } = breaker();
    call('failure');
    call('failure');
    call('success'); // resets the run
    call('failure');
    call('failure');
    expect(b.state).toBe('closed');
    call('failure');
    expect(b.state).toBe('open');
    expect(changes).toEqual(['closed>open:trip']);
    expect(b.allow()).toBeNull();
    expect(b.retryAfterMs()).toBe(1_000);
    clock.advance(999);
    expect(b.retryAfterMs()).toBe(1);
    expect(b.canAttempt()).toBe(false);
    expect(b.allow()).toBeNull();
    clock.advance(1);
    expect(b.canAttempt()).toBe(true);
    const probe = b.allow();
    expect(probe).not.toBeNull();
    expect(b.state).toBe('half_open');
    // One probe at a time.
    expect(b.allow()).toBeNull();
    b.record(probe!, 'success');
    expect(b.state).toBe('closed');
    expect(changes).toEqual([
      'closed>open:trip',
      'open>half_open:cooldown_elapsed',
      'half_open>closed:probe_succeeded',
    ]);
  });

  it('doubles the cooldown on each failed probe up to the cap, and resets it on close', () => {
    const { clock, b, call } = breaker();
    for (let i = 0; i < 3; i++) call('failure');
    const cooldowns: number[] = [];
    for (let i = 0; i < 4; i++) {
      cooldowns.push(b.retryAfterMs());
      clock.advance(b.retryAfterMs());
      expect(call('failure')).toBe(true); // the probe, failing
    }
    expect(cooldowns).toEqual([1_000, 2_000, 4_000, 4_000]);
    clock.advance(b.retryAfterMs());
    call('success');
    expect(b.state).toBe('closed');
    for (let i = 0; i < 3; i++) call('failure');
    expect(b.retryAfterMs()).toBe(1_000);
  });

  it('ignores verdicts of calls let through in an earlier state; a cancelled probe frees its slot', () => {
    const { clock, b, call } = breaker();
    const early = b.allow()!; // let through while closed, answers late
    for (let i = 0; i < 3; i++) call('failure');
    clock.advance(1_000);
    const probe = b.allow()!;
    expect(b.state).toBe('half_open');
    b.record(early, 'success'); // not the probe's verdict
    expect(b.state).toBe('half_open');
    b.record(probe, 'ignored');
    expect(b.state).toBe('half_open');
    const again = b.allow();
    expect(again).not.toBeNull();
    b.record(again!, 'failure');
    expect(b.state).toBe('open');
  });
});

describe('endpoint health', () => {
  const options = {
    latencyDecayMs: 10_000,
    errorDecayMs: 30_000,
    errorAlpha: 0.1,
    errorPenalty: 10,
    consecutiveFailures: 5,
    errorRateThreshold: 0.5,
    minSamples: 20,
    baseEjectionMs: 10_000,
    maxEjectionMs: 25_000,
    maxEjectedPercent: 50,
  };

  it('keeps a peak EWMA of latency that decays while idle', () => {
    const clock = new ManualClock();
    const h = new EndpointHealth(1, options, clock, () => 0);
    h.start(0);
    h.success(0, 100); // above the estimate: taken at once
    expect(h.latency(0)).toBe(100);
    clock.advance(1_000);
    h.start(0);
    h.success(0, 50); // 100·e^-0.1 + 50·(1 − e^-0.1)
    expect(h.latency(0)).toBeCloseTo(95.24187090179797, 10);
    clock.advance(10_000);
    expect(h.latency(0)).toBeCloseTo(35.03752624347609, 10);
    h.start(0);
    h.slow(0, 400); // a missed deadline is a latency floor
    expect(h.latency(0)).toBe(400);
  });

  it('picks the cheaper of two random endpoints: cost = (latency + 1) · (in-flight + 1) · (1 + 10 · error rate)', () => {
    const clock = new ManualClock();
    const draws = [0, 0]; // a = 0, b = 0 → bumped to 1
    let d = 0;
    const h = new EndpointHealth(3, options, clock, () => draws[d++ % draws.length]!);
    h.start(0);
    h.success(0, 20);
    h.start(1);
    h.success(1, 10);
    expect(h.pick()).toBe(1);
    expect([h.cost(0), h.cost(1), h.cost(2)]).toEqual([21, 11, 1]);
    h.start(1); // in flight: 11 · 2 = 22, dearer than 21
    expect(h.cost(1)).toBe(22);
    expect(h.pick()).toBe(0);
    h.release(1);
    h.start(1);
    h.failure(1); // error rate 0.1 → 11 · 1 · 2 = 22
    expect(h.errorRate(1)).toBeCloseTo(0.1, 12);
    expect(h.cost(1)).toBeCloseTo(22, 10);
    expect(h.pick()).toBe(0);
    // A failing endpoint that answers at once is not free: 0 ms latency still costs 1 · (1 + 10 · rate).
    h.start(2);
    h.failure(2);
    expect(h.cost(2)).toBeCloseTo(2, 10);
    // Errors fade while an endpoint is passed over: e^-1 of the rate after 30 s.
    clock.advance(30_000);
    expect(h.errorRate(1)).toBeCloseTo(0.036787944117144235, 12);
    // Only eligible endpoints are candidates.
    expect(h.pick((i) => i === 2)).toBe(2);
    expect(h.pick(() => false)).toBeUndefined();
  });

  it('ejects after consecutive failures for base × ejections (capped), then re-admits with a clean record', () => {
    const clock = new ManualClock();
    const events: HealthEvent[] = [];
    const h = new EndpointHealth(
      2,
      options,
      clock,
      () => 0.99,
      (e) => events.push(e),
    );
    const fail = (n: number) => {
      for (let i = 0; i < n; i++) {
        h.start(1);
        h.failure(1);
      }
    };
    fail(5);
    expect(events).toEqual([{ type: 'eject', endpoint: 1, reason: 'consecutive_failures', forMs: 10_000 }]);
    expect(h.isEjected(1)).toBe(true);
    for (let i = 0; i < 20; i++) expect(h.pick()).toBe(0);
    clock.advance(9_999);
    expect(h.isEjected(1)).toBe(true);
    clock.advance(1);
    expect(h.isEjected(1)).toBe(false);
    expect(events.at(-1)).toEqual({ type: 'readmit', endpoint: 1 });
    expect(h.errorRate(1)).toBe(0);
    fail(5);
    expect(events.at(-1)).toMatchObject({ type: 'eject', forMs: 20_000 });
    clock.advance(20_000);
    h.isEjected(1);
    fail(5);
    expect(events.at(-1)).toMatchObject({ type: 'eject', forMs: 25_000 }); // 30 s capped
  });

  it('ejects on error rate after enough samples', () => {
    const clock = new ManualClock();
    const events: HealthEvent[] = [];
    const h = new EndpointHealth(
      2,
      { ...options, minSamples: 4, errorRateThreshold: 0.25, consecutiveFailures: 100 },
      clock,
      () => 0,
      (e) => events.push(e),
    );
    for (const ok of [false, false, true]) {
      h.start(0);
      if (ok) h.success(0, 1);
      else h.failure(0);
    }
    expect(h.errorRate(0)).toBeCloseTo(0.171, 12);
    expect(events).toEqual([]);
    h.start(0);
    h.failure(0); // 4 samples, rate 0.2539
    expect(h.errorRate(0)).toBeCloseTo(0.2539, 12);
    expect(events).toEqual([{ type: 'eject', endpoint: 0, reason: 'error_rate', forMs: 10_000 }]);
  });

  it('never ejects more than maxEjectedPercent, nor the last endpoint', () => {
    const clock = new ManualClock();
    const events: HealthEvent[] = [];
    const three = new EndpointHealth(
      3,
      options,
      clock,
      () => 0,
      (e) => events.push(e),
    );
    for (const i of [0, 1]) {
      for (let k = 0; k < 5; k++) {
        three.start(i);
        three.failure(i);
      }
    }
    expect(events.filter((e) => e.type === 'eject').map((e) => e.endpoint)).toEqual([0]); // cap: 1 of 3
    const one = new EndpointHealth(
      1,
      options,
      clock,
      () => 0,
      (e) => events.push(e),
    );
    for (let k = 0; k < 10; k++) {
      one.start(0);
      one.failure(0);
    }
    expect(one.isEjected(0)).toBe(false);
    expect(one.pick()).toBe(0);
  });
});
