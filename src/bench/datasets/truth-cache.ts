/**
 * Exact ground truth computed once per (dataset, base size, queries, k, filter) and kept under
 * `.cache/bench-truth/`: a base of 100k × 100-D against 1,000 queries is 10¹⁰ multiply-adds (≈ 5 s on two
 * threads), a 1536-D synthetic base thirty times that, so no run should pay it twice.
 */
import { join } from 'node:path';
import {
  bytesOf,
  datasetCacheDir,
  readInt32File,
  readJsonFile,
  withFileLock,
  writeFileAtomic,
} from './cache.js';

interface TruthMeta {
  key: string;
  ints: number;
  createdAt: string;
  computeMs: number;
}

export function truthDir(): string {
  return datasetCacheDir('bench-truth');
}

/** Returns the cached array for `key`, computing and storing it first when absent or incomplete. */
export async function cachedTruth(
  key: string,
  compute: () => Promise<Int32Array>,
  log: (line: string) => void = () => {},
): Promise<Int32Array> {
  if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new Error(`bad truth cache key ${key}`);
  const dir = truthDir();
  const data = join(dir, `${key}.i32`);
  const meta = join(dir, `${key}.json`);
  const read = async (): Promise<Int32Array | undefined> => {
    try {
      const m = await readJsonFile<TruthMeta>(meta);
      const a = await readInt32File(data);
      return m.key === key && m.ints === a.length ? a : undefined;
    } catch {
      return undefined;
    }
  };
  const hit = await read();
  if (hit) return hit;
  return withFileLock(join(dir, `${key}.lock`), async () => {
    const again = await read();
    if (again) return again;
    log(`computing exact ground truth ${key} (once; cached in ${dir})`);
    const t0 = performance.now();
    const truth = await compute();
    const computeMs = Math.round(performance.now() - t0);
    await writeFileAtomic(data, bytesOf(truth));
    const m: TruthMeta = { key, ints: truth.length, createdAt: new Date().toISOString(), computeMs };
    await writeFileAtomic(meta, `${JSON.stringify(m)}\n`);
    log(`ground truth ${key} in ${(computeMs / 1000).toFixed(1)} s`);
    return truth;
  });
}
