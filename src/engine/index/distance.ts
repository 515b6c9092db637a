/**
 * Distance kernels over rows of Float32Arrays. Hot path of every exact scan: plain indexed loops, four
 * accumulators (lets V8 pipeline the adds), no allocation. bench/distance.ts measures them.
 */
import type { IndexSpace } from './vector-index.js';

export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += a[aOff + i]! * b[bOff + i]!;
    s1 += a[aOff + i + 1]! * b[bOff + i + 1]!;
    s2 += a[aOff + i + 2]! * b[bOff + i + 2]!;
    s3 += a[aOff + i + 3]! * b[bOff + i + 3]!;
  }
  for (; i < dim; i++) s0 += a[aOff + i]! * b[bOff + i]!;
  return s0 + s1 + s2 + s3;
}

export function l2sq(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= dim; i += 4) {
    const d0 = a[aOff + i]! - b[bOff + i]!;
    const d1 = a[aOff + i + 1]! - b[bOff + i + 1]!;
    const d2 = a[aOff + i + 2]! - b[bOff + i + 2]!;
    const d3 = a[aOff + i + 3]! - b[bOff + i + 3]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < dim; i++) {
    const d = a[aOff + i]! - b[bOff + i]!;
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

export type DistanceFn = (
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  dim: number,
) => number;

/** Distance in the index's convention (lower is better): 1 - dot for 'ip', squared L2 for 'l2'. */
export function distanceFn(space: IndexSpace): DistanceFn {
  return space === 'ip' ? (a, ao, b, bo, d) => 1 - dot(a, ao, b, bo, d) : l2sq;
}

/** Scales `v` (in place) to unit length; a zero vector stays zero (Qdrant does the same). */
export function normalizeInPlace(v: Float32Array, off = 0, dim = v.length): void {
  let n = 0;
  for (let i = 0; i < dim; i++) n += v[off + i]! * v[off + i]!;
  if (n === 0) return;
  const inv = 1 / Math.sqrt(n);
  for (let i = 0; i < dim; i++) v[off + i]! *= inv;
}
