/**
 * Which query vector a search sends. Uniform spreads load over all queries; Zipf(s) and hotspot concentrate
 * it, which is what caches and hot graph regions see in production. Ranks map to queries through a seeded
 * permutation, so the hot queries are not simply the first rows of the file.
 */
import { z } from 'zod';
import type { Rng } from '../../platform/random.js';

export const choiceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('uniform') }),
  z.strictObject({ kind: z.literal('zipf'), s: z.number().min(0).max(10).default(1.1) }),
  z.strictObject({
    kind: z.literal('hotspot'),
    /** Share of traffic on the hot set. */
    traffic: z.number().min(0).max(1).default(0.9),
    /** Share of queries in the hot set. */
    keys: z.number().gt(0).max(1).default(0.1),
  }),
]);
export type ChoiceSpec = z.output<typeof choiceSchema>;

export type Chooser = (r: Rng) => number;

function permutation(n: number, r: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Zipf over ranks 1..n by inverse CDF (binary search in the cumulative weights 1/k^s). */
export function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** s;
    cdf[k - 1] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i] = cdf[i]! / sum;
  return cdf;
}

function searchCdf(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A sampler of query indexes in [0, n); `seed` fixes which queries are hot. */
export function chooser(spec: ChoiceSpec, n: number, permRng: Rng): Chooser {
  if (n <= 0) throw new RangeError('no queries to choose from');
  switch (spec.kind) {
    case 'uniform':
      return (r) => Math.floor(r() * n);
    case 'zipf': {
      const cdf = zipfCdf(n, spec.s);
      const perm = permutation(n, permRng);
      return (r) => perm[searchCdf(cdf, r())]!;
    }
    case 'hotspot': {
      const perm = permutation(n, permRng);
      const hot = Math.max(1, Math.min(n, Math.round(n * spec.keys)));
      const cold = n - hot;
      return (r) => {
        if (cold === 0 || r() < spec.traffic) return perm[Math.floor(r() * hot)]!;
        return perm[hot + Math.floor(r() * cold)]!;
      };
    }
  }
}
