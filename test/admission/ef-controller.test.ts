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
  it('scales ef by target / p99 when p99 is over the target', () => {
    const c = new EfController(O);
    expect(c.update({ p99Ms: 60, count: 100 })).toBe(166); // ⌊200 × 50/60⌋
    expect(c.update({ p99Ms: 100, count: 100 })).toBe(83);
  });
  it('at most halves per window, never below the floor', () => {
    const c = new EfController(O);
    expect(c.update({ p99Ms: 1000, count: 100 })).toBe(100);
    expect(c.update({ p99Ms: 1000, count: 100 })).toBe(64);
    expect(c.update({ p99Ms: 1000, count: 100 })).toBe(64);
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
    expect(new EfController(O).update({ p99Ms: 500, count: 19 })).toBe(200);
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
