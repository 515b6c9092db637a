/** SLO-adaptive ef with exact steps. */
import { describe, expect, it } from 'vitest';
import { EfController } from '../../src/admission/index.js';

const O = {
  floor: 64,
  ceiling: 512,
  initial: 200,
  targetP99Ms: 50,
  raiseBelowRatio: 0.5,
  step: 16,
  minSamples: 20,
};

describe('EfController', () => {
  it('scales ef by target / p99 from the second window in a row over the target', () => {
    const c = new EfController(O);
    expect(c.update({ p99Ms: 60, count: 100 })).toBe(200); // one window: could be noise
    expect(c.update({ p99Ms: 60, count: 100 })).toBe(166); // ⌊200 × 50/60⌋
    expect(c.update({ p99Ms: 100, count: 100 })).toBe(83);
  });
  it('a single hot window between calm ones never lowers ef', () => {
    const c = new EfController(O);
    for (let i = 0; i < 5; i++) {
      expect(c.update({ p99Ms: 400, count: 100 })).toBe(200);
      expect(c.update({ p99Ms: 40, count: 100 })).toBe(200);
    }
  });
  it('at most halves per window, never below the floor', () => {
    const c = new EfController({ ...O, hotWindows: 1 });
    expect(c.update({ p99Ms: 1000, count: 100 })).toBe(100);
    expect(c.update({ p99Ms: 1000, count: 100 })).toBe(64);
    expect(c.update({ p99Ms: 1000, count: 100 })).toBe(64);
  });
  it('returns to the configured ef within a few windows once p99 is at or under the target', () => {
    const c = new EfController({ ...O, hotWindows: 1 });
    c.update({ p99Ms: 1000, count: 100 });
    c.update({ p99Ms: 1000, count: 100 });
    expect(c.ef).toBe(64);
    // Half the gap (at least the step) per window: 64 → 132 → 166 → 183 → 199 → 200 (p99 45 ms: no climb above).
    expect([45, 45, 45, 45, 45].map((p) => c.update({ p99Ms: p, count: 100 }))).toEqual([
      132, 166, 183, 199, 200,
    ]);
    // Quiet windows (too few searches to judge) count as calm for the return, never for a climb above it.
    const q = new EfController({ ...O, hotWindows: 1 });
    q.update({ p99Ms: 100, count: 100 });
    expect(q.ef).toBe(100);
    expect([0, 0, 0, 0].map((n) => q.update({ p99Ms: 0, count: n }))).toEqual([150, 175, 191, 200]);
  });
  it('climbs by the step below half the target, up to the ceiling; holds in between', () => {
    const c = new EfController({ ...O, initial: 500 });
    expect(c.update({ p99Ms: 24.9, count: 100 })).toBe(512);
    expect(c.update({ p99Ms: 1, count: 100 })).toBe(512);
    const d = new EfController(O);
    expect(d.update({ p99Ms: 25, count: 100 })).toBe(200);
    expect(d.update({ p99Ms: 50, count: 100 })).toBe(200);
  });
  it('ignores windows with too few searches', () => {
    const c = new EfController(O);
    expect(c.update({ p99Ms: 500, count: 19 })).toBe(200);
    expect(c.update({ p99Ms: 500, count: 19 })).toBe(200);
  });
  it('resume() hands control back from no higher than the configured ef', () => {
    const c = new EfController({ ...O, initial: 200 });
    for (let i = 0; i < 10; i++) c.update({ p99Ms: 5, count: 100 });
    expect(c.ef).toBe(360);
    c.resume();
    expect(c.ef).toBe(200);
    const d = new EfController({ ...O, hotWindows: 1 });
    d.update({ p99Ms: 100, count: 100 });
    d.resume();
    expect(d.ef).toBe(100); // below its home it stays, and returns as usual
  });
  it('uses the floor at ladder level ≥ 1', () => {
    const c = new EfController(O);
    expect([c.effective(0), c.effective(1), c.effective(3)]).toEqual([200, 64, 64]);
  });
  it("honours a trusted caller's explicit ef and caps an untrusted one at the effective ef", () => {
    const c = new EfController(O);
    expect(c.forExplicit(1000, true, 2)).toBe(1000);
    expect(c.forExplicit(1000, false, 0)).toBe(200);
    expect(c.forExplicit(32, false, 1)).toBe(32);
    expect(c.forExplicit(128, false, 1)).toBe(64);
  });
  it('clamps the initial ef into [floor, ceiling]', () => {
    expect(new EfController({ ...O, initial: 1000 }).ef).toBe(512);
  });
});
