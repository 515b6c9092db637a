/**
 * One collection's distance as the matcher needs it. Every metric becomes "augmented dot product ≥ bar", so
 * one kernel serves all three:
 *
 * - Cosine / Dot: score = x·q, a point passes threshold t when x·q ≥ t.
 * - Euclid: score = ‖x − q‖, smaller is better; ‖x − q‖ ≤ t ⟺ x·q − ‖x‖²/2 ≥ (‖q‖² − t²)/2, so the kernel row
 *   of a point gets one more column −‖x‖²/2, a subscription's gets 1, and the bar is (‖q‖² − t²)/2.
 *
 * Rows are padded to a multiple of 4 floats (one SIMD lane group). Scores reported to clients are computed
 * exactly (float64 over the stored float32 values), as Qdrant reports them: similarity or distance.
 */
import type { Distance } from '../engine/index.js';

export class Metric {
  /** Floats per kernel row: dim (+1 for Euclid), rounded up to a multiple of 4. */
  readonly width: number;
  readonly lowerIsBetter: boolean;

  constructor(
    readonly distance: Distance,
    readonly dim: number,
  ) {
    this.lowerIsBetter = distance === 'Euclid';
    this.width = (Math.ceil((dim + (this.lowerIsBetter ? 1 : 0)) / 4) * 4) | 0;
  }

  /** Writes a subscription's kernel row. */
  subscriptionRow(q: Float32Array, out: Float32Array, off: number): void {
    out.fill(0, off, off + this.width);
    out.set(q.subarray(0, this.dim), off);
    if (this.lowerIsBetter) out[off + this.dim] = 1;
  }

  /** Writes the kernel row of the point at row `row` of `src` (dim floats per row). */
  pointRow(src: Float32Array, row: number, out: Float32Array, off: number): void {
    const d = this.dim;
    const from = row * d;
    out.fill(0, off, off + this.width);
    out.set(src.subarray(from, from + d), off);
    if (this.lowerIsBetter) out[off + d] = -normSq(src, from, d) / 2;
  }

  /**
   * The kernel bar of "passes `bar`" for a subscription with ‖q‖² = `qNormSq`: a score bar (threshold or
   * the k-th best score) mapped to augmented-dot space. `undefined` = every point passes.
   */
  kernelBar(bar: number | undefined, qNormSq: number): number {
    if (bar === undefined) return Number.NEGATIVE_INFINITY;
    if (!this.lowerIsBetter) return bar;
    return (qNormSq - bar * bar) / 2;
  }

  /** Exact score of point row `row` of `src` against q. */
  score(q: Float32Array, src: Float32Array, row: number): number {
    const d = this.dim;
    const off = row * d;
    let s = 0;
    if (this.lowerIsBetter) {
      for (let i = 0; i < d; i++) {
        const t = src[off + i]! - q[i]!;
        s += t * t;
      }
      return Math.sqrt(s);
    }
    for (let i = 0; i < d; i++) s += src[off + i]! * q[i]!;
    return s;
  }

  /** Does `score` pass `bar` (undefined: no bar)? */
  passes(score: number, bar: number | undefined): boolean {
    if (bar === undefined) return true;
    return this.lowerIsBetter ? score <= bar : score >= bar;
  }

  /** Negative when `a` ranks before `b` (better score); ties fall to the caller. */
  compare(a: number, b: number): number {
    return this.lowerIsBetter ? a - b : b - a;
  }
}

export function normSq(v: Float32Array, off = 0, dim = v.length): number {
  let s = 0;
  for (let i = 0; i < dim; i++) s += v[off + i]! * v[off + i]!;
  return s;
}
