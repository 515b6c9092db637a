/** The degradation ladder: pressure classification and one test per edge of the level state machine. */
import { describe, expect, it } from 'vitest';
import {
  initialLadder,
  LADDER_DEFAULTS,
  type LadderSignal,
  type LadderState,
  ladderStep,
  pressure,
  projectedUtilisation,
} from '../../src/admission/index.js';

// Escalation after 500 ms of hot (the default is 300), recovery after 2 s of calm.
const O = { ...LADDER_DEFAULTS, escalateMs: 500, recoverMs: 2000 };
const CALM: LadderSignal = { p99Ms: 10, queueOverloaded: false, shedFraction: 0, utilisation: 0.9 };
const HOT: LadderSignal = { ...CALM, p99Ms: 80 };
const STEADY: LadderSignal = { ...CALM, p99Ms: 40 };

describe('pressure', () => {
  it('hot: p99 above the target, or a standing queue', () => {
    expect(pressure({ ...CALM, p99Ms: 50.1 }, O)).toBe('hot');
    expect(pressure({ ...CALM, queueOverloaded: true }, O)).toBe('hot');
  });
  it('calm: p99 ≤ 30 ms, and little shed by the level or room to take it back', () => {
    expect(pressure({ ...CALM, p99Ms: 30 }, O)).toBe('calm');
    expect(pressure({ ...CALM, shedFraction: 0.5, utilisation: 0.9 }, O)).toBe('steady');
    // Shedding half at 25% busy projects 50% with the shed traffic back in: it would fit.
    expect(pressure({ ...CALM, shedFraction: 0.5, utilisation: 0.25 }, O)).toBe('calm');
    expect(pressure({ ...CALM, shedFraction: 0.5, utilisation: 0.26 }, O)).toBe('steady');
    // A 10× burst shed at level 3: 90% refused, premium alone 30% busy — 300% projected, not calm.
    expect(pressure({ ...CALM, shedFraction: 0.9, utilisation: 0.3 }, O)).toBe('steady');
    expect(projectedUtilisation({ ...CALM, shedFraction: 0.9, utilisation: 0.3 })).toBeCloseTo(3, 10);
    expect(projectedUtilisation({ ...CALM, shedFraction: 1, utilisation: 0 })).toBe(Number.POSITIVE_INFINITY);
  });
  it('steady: between the two thresholds (the hysteresis band)', () => {
    expect(pressure({ ...CALM, p99Ms: 30.1 }, O)).toBe('steady');
    expect(pressure({ ...CALM, p99Ms: 50 }, O)).toBe('steady');
  });
});

/** Runs `signal` at times `ts`, returning the levels seen. */
function run(s: LadderState, signal: LadderSignal, ts: number[]): [LadderState, number[]] {
  const levels: number[] = [];
  for (const t of ts) {
    s = ladderStep(s, signal, t, O);
    levels.push(s.level);
  }
  return [s, levels];
}

describe('ladderStep edges', () => {
  it('0 → 1 once hot has held for 500 ms', () => {
    const [s, levels] = run(initialLadder(0), HOT, [1000, 1400, 1499, 1500]);
    expect(levels).toEqual([0, 0, 0, 1]);
    expect(s).toEqual({ level: 1, hotSince: 1500, calmSince: null, changedAt: 1500 });
  });

  it('1 → 2 and 2 → 3: each further step needs another 500 ms of hot', () => {
    const start: LadderState = { level: 1, hotSince: 1500, calmSince: null, changedAt: 1500 };
    const [s, levels] = run(start, HOT, [1600, 1999, 2000, 2400, 2500]);
    expect(levels).toEqual([1, 1, 2, 2, 3]);
    expect(s.changedAt).toBe(2500);
  });

  it('slow but not saturated (no standing queue, limit < 75% busy) degrades to 1 and sheds nobody', () => {
    const slow: LadderSignal = { ...HOT, utilisation: 0.74 };
    const [s, levels] = run(initialLadder(0), slow, [0, 500, 1000, 5000, 60_000]);
    expect(levels).toEqual([0, 1, 1, 1, 1]);
    // The same latency with a standing queue, or with 75% of the limit busy, goes on to shed.
    expect(ladderStep(s, { ...slow, queueOverloaded: true }, 60_500, O).level).toBe(2);
    expect(ladderStep(s, { ...slow, utilisation: 0.75 }, 60_500, O).level).toBe(2);
    // … or with the gate refusing requests (free traffic held at its ceiling and turned away).
    expect(ladderStep(s, { ...slow, refusing: true }, 60_500, O).level).toBe(2);
  });

  it('3 stays 3 however long it is hot', () => {
    const [, levels] = run({ level: 3, hotSince: 0, calmSince: null, changedAt: 0 }, HOT, [500, 5000]);
    expect(levels).toEqual([3, 3]);
  });

  it('maxLevel caps the climb (open mode: 2)', () => {
    let s: LadderState = { level: 2, hotSince: 0, calmSince: null, changedAt: 0 };
    s = ladderStep(s, HOT, 5000, { ...O, maxLevel: 2 });
    expect(s.level).toBe(2);
  });

  it('3 → 2 → 1 → 0: one step per 2 s of calm', () => {
    const start: LadderState = { level: 3, hotSince: 0, calmSince: null, changedAt: 0 };
    const [s, levels] = run(start, CALM, [10_000, 11_999, 12_000, 13_999, 14_000, 16_000, 30_000]);
    expect(levels).toEqual([3, 3, 2, 2, 1, 0, 0]);
    expect(s).toEqual({ level: 0, hotSince: null, calmSince: null, changedAt: 16_000 });
  });

  it('a steady window breaks a hot streak: the 500 ms start over', () => {
    let s = initialLadder(0);
    s = ladderStep(s, HOT, 0, O);
    s = ladderStep(s, STEADY, 400, O);
    expect(s.hotSince).toBe(null);
    s = ladderStep(s, HOT, 450, O);
    s = ladderStep(s, HOT, 900, O);
    expect(s.level).toBe(0);
    s = ladderStep(s, HOT, 950, O);
    expect(s.level).toBe(1);
  });

  it('a hot window breaks a calm streak', () => {
    let s: LadderState = { level: 2, hotSince: null, calmSince: 0, changedAt: 0 };
    s = ladderStep(s, HOT, 1900, O);
    expect([s.level, s.calmSince, s.hotSince]).toEqual([2, null, 1900]);
    s = ladderStep(s, CALM, 2000, O);
    s = ladderStep(s, CALM, 3999, O);
    expect(s.level).toBe(2);
    s = ladderStep(s, CALM, 4000, O);
    expect(s.level).toBe(1);
  });

  it('steady holds any level', () => {
    const [, levels] = run({ level: 2, hotSince: null, calmSince: null, changedAt: 0 }, STEADY, [1e4, 1e5]);
    expect(levels).toEqual([2, 2]);
  });
});
