/** Gradient2 math with exact numbers (style.md §6's example among them) and the windowing around it. */
import { describe, expect, it } from 'vitest';
import { ExpAverage, GRADIENT_DEFAULTS, GradientLimit, gradientStep } from '../../src/admission/index.js';

const O = GRADIENT_DEFAULTS;

describe('gradientStep', () => {
  it('limit 100 with long RTT 10 and short RTT 20 goes to 95.8', () => {
    expect(gradientStep(100, 10, 20, O)).toBeCloseTo(95.8, 12);
  });
  it('the gradient never falls below 0.5: short RTT 100 → 90.8', () => {
    expect(gradientStep(100, 10, 100, O)).toBeCloseTo(90.8, 12);
  });
  it('no queueing (short ≤ 1.5 × long) is gradient 1 and the limit probes up by the headroom: 100.8', () => {
    expect(gradientStep(100, 10, 10, O)).toBeCloseTo(100.8, 12);
  });
  it('is clamped to [min, max]', () => {
    expect(gradientStep(8, 10, 100, O)).toBe(8);
    expect(gradientStep(1024, 10, 10, O)).toBe(1024);
  });
});

describe('ExpAverage', () => {
  it('is a plain mean during warm-up, then an EMA with factor 2 / (window + 1)', () => {
    const a = new ExpAverage(3, 2);
    expect([a.add(10), a.add(20), a.add(30), a.add(30)]).toEqual([10, 15, 22.5, 26.25]);
  });
});

describe('GradientLimit', () => {
  const opts = { ...O, initial: 100, windowMs: 100, windowSamples: 2 };

  it('steps once per closed window from its average RTT', () => {
    const g = new GradientLimit(opts);
    expect(g.update({ rttMs: 10, inflight: 100 }, 0)).toBe(100);
    // Window [0, 100] closes: average 10, long 10 → 100.8.
    expect(g.update({ rttMs: 10, inflight: 100 }, 100)).toBe(100);
    expect(g.lastRtt).toBe(10);
    // Next window: average 50, long mean(10, 50) = 30 → gradient 0.9 → 0.8 × 100.8 + 0.2 × 94.72 = 99.584.
    expect(g.update({ rttMs: 50, inflight: 90 }, 150)).toBe(100);
    expect(g.update({ rttMs: 50, inflight: 100 }, 200)).toBe(99);
    expect(g.longRttMs).toBe(30);
  });

  it('a window is not closed before it has both its age and its samples', () => {
    const g = new GradientLimit(opts);
    g.update({ rttMs: 500, inflight: 100 }, 0);
    g.update({ rttMs: 500, inflight: 100 }, 50); // 2 samples, 50 ms old: open
    expect(g.lastRtt).toBe(0);
    g.update({ rttMs: 500, inflight: 100 }, 100);
    expect(g.lastRtt).toBe(500);
  });

  it('does not move when app-limited (in flight below half the limit)', () => {
    const g = new GradientLimit(opts);
    g.update({ rttMs: 10, inflight: 49 }, 0);
    g.update({ rttMs: 1000, inflight: 49 }, 100);
    expect(g.limit).toBe(100);
  });

  it('decays an inflated long RTT when latency returns to normal', () => {
    const g = new GradientLimit(opts);
    g.update({ rttMs: 100, inflight: 10 }, 0);
    g.update({ rttMs: 100, inflight: 10 }, 100); // long 100
    g.update({ rttMs: 10, inflight: 10 }, 150);
    g.update({ rttMs: 10, inflight: 10 }, 200); // long mean(100, 10) = 55; 55 / 10 > 2 → × 0.95
    expect(g.longRttMs).toBeCloseTo(52.25, 12);
  });
});
