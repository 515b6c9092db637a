/**
 * Loads surgevec's native HNSW addon (hnsw_addon.cc, built by node-gyp into build/Release during `npm ci`)
 * and types what it exports. The path is the same from src/ (tsx) and dist/ (compiled): both sit three
 * levels below the package root.
 */
import { createRequire } from 'node:module';
import { SurgeError } from '../../../protocol/errors.js';

export type NativeKeys = Uint32Array | BigUint64Array;

export interface NativeSearchOptions {
  ef?: number;
  /** One ef per query, overriding `ef` (searches of different callers answered in one call). */
  efs?: Uint32Array;
  /** Bitset: bit `i & 7` of byte `i >> 3` allows key `filterBase + i`; other keys are never returned. */
  filter?: Uint8Array;
  filterBase?: number;
  /** Key allowlist (combined with `filter` when both are given). */
  allow?: NativeKeys;
  /** Brute force over the allowed (or all) points instead of the graph. */
  exact?: boolean;
  /** Threads one call spreads its queries over (1 for a single query). */
  threads?: number;
}

/** Query q's hits are keys/distances[q·k, q·k + counts[q]), best (smallest distance) first. */
export interface NativeSearchResult {
  keys: BigUint64Array;
  distances: Float32Array;
  counts: Uint32Array;
  k: number;
}

export interface NativeHnsw {
  readonly dim: number;
  /** `nice` 1..19 builds on threads of that lower OS priority (Linux; elsewhere ignored). */
  addBatch(keys: NativeKeys, vectors: Float32Array, threads?: number, nice?: number): Promise<void>;
  /** Returns how many were removed (absent or already removed keys are skipped). */
  remove(keys: NativeKeys): number;
  /** Rows of absent keys are NaN and `found` is 0 for them. */
  get(keys: NativeKeys): { vectors: Float32Array; found: Uint8Array };
  search(queries: Float32Array, k: number, options?: NativeSearchOptions): Promise<NativeSearchResult>;
  keys(): BigUint64Array;
  /** Written on the pool beside searches; adds wait until it is done. */
  save(file: string): Promise<void>;
  size(): number;
  capacity(): number;
  memoryUsage(): number;
}

export type NativeHnswOptions =
  | { space: 'ip' | 'l2'; dim: number; m: number; efConstruction: number; capacity?: number; seed?: number }
  | { space: 'ip' | 'l2'; dim: number; file: string; extraCapacity?: number };

export interface NativeAddon {
  NativeHnsw: new (options: NativeHnswOptions) => NativeHnsw;
  /** SIMD level hnswlib's distance kernels were compiled for: 'avx512' | 'avx' | 'sse' | 'none'. */
  simd: string;
}

let addon: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    addon = require('../../../../build/Release/surgevec_hnsw.node') as NativeAddon;
  } catch (e) {
    throw new SurgeError(
      'INTERNAL',
      `the native search core is not built (${(e as Error).message.split('\n')[0]}): run \`npm rebuild\` or \`npm run build:native\` (needs python3, make and g++)`,
    );
  }
  return addon;
}
