/**
 * The engine's HNSW: our own N-API binding over hnswlib's C++ core (native/hnsw_addon.cc; why this core:
 * docs/decisions/0006-native-search-core.md). Searches and adds run on the libuv pool, so the engine thread
 * stays free; one index serves concurrent searches on every core; ef is per call; filters are a bitset
 * applied during traversal, or an exact SIMD scan of the allowed points when that is cheaper.
 */
import { availableParallelism } from 'node:os';
import { SurgeError } from '../../protocol/errors.js';
import { loadAddon, type NativeHnsw, type NativeSearchResult } from './native/addon.js';
import type { IndexHits, IndexSearchOptions, IndexSpace, VectorIndex } from './vector-index.js';
import { EMPTY_HITS } from './vector-index.js';

export interface NativeHnswParams {
  m: number;
  efConstruction: number;
  /** Initial capacity; the core grows by doubling. */
  capacity?: number;
  seed?: number;
  /** Threads one add() builds with; default all cores (the build runs off the JS thread either way). */
  buildThreads?: number;
}

/**
 * Distance computations a graph search costs per unit of ef, measured on GloVe-100 (bench/native-core.ts):
 * a filtered walk costs about ef·VISITS_PER_EF / selectivity, an exact scan one per allowed point, so the scan
 * wins while allowed² < ef·VISITS_PER_EF·size.
 */
export const VISITS_PER_EF = 32;

/**
 * Searches in flight on the libuv pool per process. The pool (4 threads by default) also runs fs work —
 * the WAL's writes and fsyncs — so searches may occupy at most one thread per core and queue beyond that.
 */
const MAX_IN_FLIGHT = Math.max(1, availableParallelism());
let inFlight = 0;
const waiting: (() => void)[] = [];

async function throttled<T>(run: () => Promise<T>): Promise<T> {
  if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight++;
  try {
    return await run();
  } finally {
    inFlight--;
    waiting.shift()?.();
  }
}

export class NativeHnswIndex implements VectorIndex {
  readonly kind = 'native-hnsw';
  private readonly one = new Uint32Array(1);

  private constructor(
    readonly dim: number,
    readonly space: IndexSpace,
    private readonly core: NativeHnsw,
    private readonly buildThreads: number,
  ) {}

  static create(dim: number, space: IndexSpace, params: NativeHnswParams): NativeHnswIndex {
    const { NativeHnsw } = loadAddon();
    const core = native(
      () =>
        new NativeHnsw({
          space,
          dim,
          m: params.m,
          efConstruction: params.efConstruction,
          capacity: Math.max(16, params.capacity ?? 1024),
          seed: params.seed ?? 100,
        }),
    );
    return new NativeHnswIndex(dim, space, core, params.buildThreads ?? availableParallelism());
  }

  /** Loads a file written by save(); `live` are the slots still alive (deletes after the save are re-applied). */
  static load(
    file: string,
    dim: number,
    space: IndexSpace,
    params: NativeHnswParams,
    live?: Iterable<number>,
  ): NativeHnswIndex {
    const { NativeHnsw } = loadAddon();
    let core: NativeHnsw;
    try {
      core = new NativeHnsw({ space, dim, file, extraCapacity: 0 });
    } catch (e) {
      throw new SurgeError('SNAPSHOT_CORRUPTED', `cannot read HNSW index ${file}: ${(e as Error).message}`, {
        file,
      });
    }
    const index = new NativeHnswIndex(dim, space, core, params.buildThreads ?? availableParallelism());
    if (live !== undefined) {
      // The file holds the slots indexed when it was written; drop those deleted since.
      const keep = new Set(live);
      const gone = [...core.keys()].map(Number).filter((slot) => !keep.has(slot));
      if (gone.length > 0) core.remove(Uint32Array.from(gone));
    }
    return index;
  }

  size(): number {
    return this.core.size();
  }

  has(slot: number): boolean {
    this.one[0] = slot;
    return this.core.get(this.one).found[0] === 1;
  }

  async add(slots: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    if (slots.length === 0) return;
    const keys = slots instanceof Uint32Array ? slots : Uint32Array.from(slots);
    await nativeAsync(() => this.core.addBatch(keys, vectors, Math.min(this.buildThreads, keys.length)));
  }

  remove(slot: number): void {
    this.one[0] = slot;
    this.core.remove(this.one);
  }

  async search(query: Float32Array, k: number, options: IndexSearchOptions): Promise<IndexHits> {
    const size = this.core.size();
    if (size === 0 || k <= 0) return EMPTY_HITS;
    const r = await this.searchMany(query, Math.min(k, size), options, 1);
    return hitsOf(r, 0);
  }

  /** Many queries in one call, spread over `threads` threads of the pool (batch endpoints, benchmarks). */
  async searchBatch(
    queries: Float32Array,
    k: number,
    options: IndexSearchOptions,
    threads = availableParallelism(),
  ): Promise<IndexHits[]> {
    const nq = queries.length / this.dim;
    const size = this.core.size();
    if (size === 0 || k <= 0) return Array.from({ length: nq }, () => EMPTY_HITS);
    const r = await this.searchMany(queries, Math.min(k, size), options, threads);
    return Array.from({ length: nq }, (_, q) => hitsOf(r, q));
  }

  save(file: string): void {
    native(() => this.core.save(file));
  }

  memoryBytes(): number {
    return this.core.memoryUsage();
  }

  private searchMany(
    queries: Float32Array,
    k: number,
    options: IndexSearchOptions,
    threads: number,
  ): Promise<NativeSearchResult> {
    const allow = options.allow;
    const exact = options.exact ?? (allow !== undefined && this.scanIsCheaper(allow.size, options.ef));
    return throttled(() =>
      nativeAsync(() =>
        this.core.search(queries, k, {
          ef: Math.max(options.ef, k),
          ...(allow ? { filter: allow.bits, filterBase: allow.base } : {}),
          exact,
          threads,
        }),
      ),
    );
  }

  private scanIsCheaper(allowed: number, ef: number): boolean {
    return allowed * allowed < ef * VISITS_PER_EF * this.core.size();
  }
}

function hitsOf(r: NativeSearchResult, q: number): IndexHits {
  const n = r.counts[q]!;
  const slots = new Uint32Array(n);
  const from = q * r.k;
  for (let i = 0; i < n; i++) slots[i] = Number(r.keys[from + i]!);
  return { slots, distances: r.distances.slice(from, from + n) };
}

/** Native errors carry a `code` (hnsw_addon.cc); this maps them into the catalogue. */
function toSurgeError(e: unknown): unknown {
  if (!(e instanceof Error) || !('code' in e) || typeof e.code !== 'string' || !e.code.startsWith('SV_'))
    return e;
  switch (e.code) {
    case 'SV_DIMENSION':
      return new SurgeError('DIMENSION_MISMATCH', e.message);
    case 'SV_NOT_FINITE':
      return new SurgeError('INVALID_VECTOR', e.message);
    case 'SV_INVALID_ARGUMENT':
      return new SurgeError('INVALID_REQUEST', e.message);
    case 'SV_CORRUPT':
      return new SurgeError('SNAPSHOT_CORRUPTED', e.message);
    default:
      return new SurgeError('INTERNAL', `native index: ${e.message}`, { native: e.code });
  }
}

function native<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    throw toSurgeError(e);
  }
}

async function nativeAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw toSurgeError(e);
  }
}
