/**
 * The scoring kernel: every (point, subscription) pair whose exact score passes the bar is reported, and
 * no other — for the three metrics, the SIMD kernels (float32 and int16 lanes) and the scalar one, across
 * slot reuse and growth,
 * at the exact boundary (a score equal to the threshold passes, as in a search's score_threshold), and with
 * large norms where float32 rounding is large in absolute terms.
 */
import { describe, expect, it } from 'vitest';
import type { Distance } from '../../src/engine/index.js';
import { gaussian, rng } from '../../src/platform/random.js';
import { ScoreMatrix } from '../../src/subscriptions/score-matrix.js';

function brute(
  m: ScoreMatrix,
  subs: Map<number, [Float32Array, number | undefined]>,
  pts: Float32Array,
  n: number,
) {
  const out: string[] = [];
  for (let p = 0; p < n; p++) {
    for (const [slot, [q, bar]] of [...subs].sort((a, b) => a[0] - b[0])) {
      const s = m.metric.score(q, pts, p);
      if (m.metric.passes(s, bar)) out.push(`${p}:${slot}`);
    }
  }
  return out;
}

function reported(m: ScoreMatrix, pts: Float32Array, n: number) {
  const c = m.score(pts, n);
  const out: string[] = [];
  for (let i = 0; i < c.length; i++) out.push(`${c.point[i]}:${c.slot[i]}`);
  return out;
}

const configs = [
  { name: 'SIMD, int16 lanes where the metric allows', simd: true, lanes: 'i16' as const },
  { name: 'SIMD, f32 lanes', simd: true, lanes: 'f32' as const },
  { name: 'scalar', simd: false, lanes: 'f32' as const },
];

describe.each(configs)('ScoreMatrix ($name)', ({ simd, lanes }) => {
  it.each(['Cosine', 'Dot', 'Euclid'] as Distance[])(
    '%s: reports exactly the passing pairs, point-major',
    (distance) => {
      const r = rng(distance.length * 7 + (simd ? 1 : 0));
      const dim = 13;
      const m = new ScoreMatrix(distance, dim, { simd, lanes });
      if (simd) expect(m.simd).toBe(true);
      expect(m.lanes).toBe(simd && lanes === 'i16' && distance !== 'Euclid' ? 'i16' : 'f32');
      const subs = new Map<number, [Float32Array, number | undefined]>();
      const vec = () => {
        const v = Float32Array.from({ length: dim }, () => gaussian(r) * (distance === 'Dot' ? 30 : 1));
        if (distance === 'Cosine') {
          const n = Math.hypot(...v);
          for (let i = 0; i < dim; i++) v[i]! /= n;
        }
        return v;
      };
      const bar = () => {
        if (r() < 0.1) return undefined;
        return distance === 'Euclid' ? 4 + r() * 2 : distance === 'Dot' ? 100 + r() * 300 : 0.2 + r() * 0.4;
      };
      for (let round = 0; round < 4; round++) {
        // Slots come and go, including reuse of freed ones and growth past the initial capacity.
        for (let i = 0; i < 90; i++) {
          const slot = Math.floor(r() * 150);
          if (subs.has(slot) && r() < 0.3) {
            m.remove(slot);
            subs.delete(slot);
          } else {
            const v = vec();
            const b = bar();
            m.set(slot, v, b);
            subs.set(slot, [v, b]);
          }
        }
        const changed = [...subs.keys()].slice(0, 10);
        for (const slot of changed) {
          const b = bar();
          m.setBar(slot, b);
          subs.get(slot)![1] = b;
        }
        expect(m.size).toBe(subs.size);
        const n = 1 + Math.floor(r() * 37);
        const pts = new Float32Array(n * dim);
        for (let p = 0; p < n; p++) pts.set(vec(), p * dim);
        const want = brute(m, subs, pts, n);
        expect(want.length).toBeGreaterThan(0);
        expect(reported(m, pts, n)).toEqual(want);
      }
    },
  );

  it('a score equal to the bar passes; scores just beyond it do not', () => {
    const m = new ScoreMatrix('Dot', 4, { simd, lanes });
    m.set(0, Float32Array.of(1, 0, 0, 0), 0.5);
    m.set(1, Float32Array.of(0, 1, 0, 0), 0.5);
    const e = new ScoreMatrix('Euclid', 4, { simd, lanes });
    e.set(0, Float32Array.of(0, 0, 0, 0), 2);
    const pts = Float32Array.of(0.5, Math.fround(0.5 - 2 ** -25), 0, 0);
    expect(reported(m, pts, 1)).toEqual(['0:0']);
    expect(reported(e, Float32Array.of(2, 0, 0, 0, 2, Math.fround(1e-3), 0, 0), 2)).toEqual(['0:0']);
  });

  it('large norms: no pair lost to float32 rounding', () => {
    const r = rng(5);
    const dim = 64;
    const m = new ScoreMatrix('Dot', dim, { simd, lanes });
    const q = Float32Array.from({ length: dim }, () => gaussian(r) * 1000);
    const x = Float32Array.from({ length: dim }, () => gaussian(r) * 1000);
    const exact = m.metric.score(q, x, 0);
    // Bars a hair below and above the exact score (1 ulp of float64 at this magnitude is ~1e-9).
    m.set(0, q, exact - 1e-6);
    m.set(1, q, exact);
    m.set(2, q, exact + 1e-6);
    expect(reported(m, x, 1)).toEqual(['0:0', '0:1']);
  });
});
