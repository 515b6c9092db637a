/** Benchmark datasets: cached on disk with exact ground truth, so recall is measured, never guessed. */
import { ensureGlove, type GlovePaths } from './glove.js';

export { datasetCacheDir, findRepoRoot } from './cache.js';
export {
  exactKnn,
  exactKnnParallel,
  type KnnMetric,
  type ParallelKnnOptions,
  recallAtK,
} from './exact-knn.js';
export {
  drawQueryIds,
  type EnsureGloveOptions,
  ensureGlove,
  GLOVE_DIM,
  GLOVE_GT_K,
  GLOVE_QUERY_COUNT,
  GLOVE_SPLIT_SEED,
  type GloveData,
  type GloveMeta,
  type GlovePaths,
  type GloveSplit,
  type LoadGloveOptions,
  loadGlove,
  type ParsedEmbeddings,
  parseWinkEmbeddings,
} from './glove.js';

export type DatasetName = 'glove';

/** `surgevec dataset glove`: builds the cache if needed, then prints one summary line on stdout. */
export async function datasetCommand(name: DatasetName, opts: { quiet?: boolean } = {}): Promise<GlovePaths> {
  if (name !== 'glove') throw new Error(`unknown dataset "${String(name)}" (known: glove)`);
  const paths = await ensureGlove({ quiet: opts.quiet ?? false });
  const m = paths.info;
  const how = paths.status === 'built' ? `built in ${(m.timingMs.total / 1000).toFixed(1)} s` : 'cached';
  process.stdout.write(
    `glove100: ${m.rows} vectors × ${m.dim} (${m.baseCount} base, ${m.queryCount} queries, ` +
      `exact ${m.groundTruth.metric} top-${m.groundTruth.k}) in ${paths.dir} — ${how}\n`,
  );
  return paths;
}
