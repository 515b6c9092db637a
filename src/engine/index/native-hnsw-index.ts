/**
 * The engine's HNSW: our own N-API binding over hnswlib's C++ core (native/hnsw_addon.cc; why this core:
 * docs/decisions/0006-native-search-core.md). Searches and adds run on the libuv pool, so the engine thread
 * stays free; one index serves concurrent searches on every core; ef is per call; filters are a bitset
 * applied during traversal, or an exact SIMD scan of the allowed points when that is cheaper.
 */
import { availableParallelism } from 'node:os';
import { SurgeError } from '../../protocol/errors.js';
import { loadAddon, type NativeHnsw, type NativeSearchResult } from './native/addon.js';
import type { IndexHits, IndexSearchOptions, IndexSpace, SlotSet, VectorIndex } from './vector-index.js';
import { EMPTY_HITS } from './vector-index.js';

export interface NativeHnswParams {
  m: number;
  efConstruction: number;
  /** Initial capacity; the core grows by doubling. */
  capacity?: number;
  seed?: number;
  /** Threads one add() builds with; default all cores (the build runs off the JS thread either way). */
  buildThreads?: number;
  /** Nice value of the build threads (0 = the caller's priority); default BUILD_NICE. */
  buildNice?: number;
}

/**
 * Distance computations a graph search costs per unit of ef, measured on GloVe-100 (bench/native-core.ts):
 * a filtered walk costs about ef·VISITS_PER_EF / selectivity, an exact scan one per allowed point, so the scan
 * wins while allowed² < ef·VISITS_PER_EF·size.
 */
export const VISITS_PER_EF = 32;

/**
 * Native search calls in flight on the libuv pool per process: one more than the cores, so a core whose call
 * just finished has the next one ready while the JS thread settles the finished one's promises (measured on
 * 2 cores, 32 searches in flight: 3,220–3,600 QPS against 2,740–2,770 with one call per core). The pool
 * also runs fs work — the WAL's writes and fsyncs — so searches always leave it one thread
 * (`surgevec serve` sizes the pool to cores + 2; UV_THREADPOOL_SIZE, default 4, otherwise).
 */
const POOL_THREADS = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const MAX_IN_FLIGHT = Math.max(1, Math.min(availableParallelism() + 1, POOL_THREADS - 1));
/**
 * Most queries one call answers. Queries that wait for a pool slot leave together in one call (one thread
 * hop and one promise for all of them instead of one each, ≈60–90 µs per hop here); the cap bounds how long
 * the last of them waits behind the others.
 */
const MAX_COALESCED = 8;
/** Build threads' nice value: indexing is background work, it yields the cores to searches and writes. */
const BUILD_NICE = 10;

let inFlight = 0;
const counters = { calls: 0, queries: 0 };
/** Native search calls made and queries they answered, process-wide (how much coalescing happens). */
export function nativeSearchCounters(): Readonly<typeof counters> {
  return counters;
}
/** Indexes with searches queued while every slot was taken, in the order they started waiting. */
const starved: (() => void)[] = [];

function releaseSlot(): void {
  inFlight--;
  while (inFlight < MAX_IN_FLIGHT && starved.length > 0) starved.shift()!();
}

/** One slot, no coalescing: explicit batches (searchBatch), which bring their own queries and threads. */
async function withSlot<T>(run: () => Promise<T>): Promise<T> {
  while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => starved.push(resolve));
  inFlight++;
  try {
    return await run();
  } finally {
    releaseSlot();
  }
}

interface Waiting {
  query: Float32Array;
  k: number;
  ef: number;
  allow: SlotSet | undefined;
  exact: boolean;
  resolve: (hits: IndexHits) => void;
  reject: (e: unknown) => void;
}

export class NativeHnswIndex implements VectorIndex {
  readonly kind = 'native-hnsw';
  private readonly one = new Uint32Array(1);
  /** Searches waiting for a pool slot. */
  private readonly queue: Waiting[] = [];
  private starving = false;

  private constructor(
    readonly dim: number,
    readonly space: IndexSpace,
    private readonly core: NativeHnsw,
    private readonly buildThreads: number,
    private readonly buildNice: number,
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
    return new NativeHnswIndex(
      dim,
      space,
      core,
      params.buildThreads ?? availableParallelism(),
      params.buildNice ?? BUILD_NICE,
    );
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
    const index = new NativeHnswIndex(
      dim,
      space,
      core,
      params.buildThreads ?? availableParallelism(),
      params.buildNice ?? BUILD_NICE,
    );
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
    await nativeAsync(() =>
      this.core.addBatch(keys, vectors, Math.min(this.buildThreads, keys.length), this.buildNice),
    );
  }

  remove(slot: number): void {
    this.one[0] = slot;
    this.core.remove(this.one);
  }

  search(query: Float32Array, k: number, options: IndexSearchOptions): Promise<IndexHits> {
    const size = this.core.size();
    if (size === 0 || k <= 0) return Promise.resolve(EMPTY_HITS);
    // Checked before queueing: a query that shares a call must not be able to fail the others.
    if (query.length !== this.dim)
      return Promise.reject(
        new SurgeError('DIMENSION_MISMATCH', `query has ${query.length} dimensions, the index ${this.dim}`),
      );
    if (!Number.isInteger(options.ef) || options.ef < 1)
      return Promise.reject(
        new SurgeError('INVALID_REQUEST', `ef must be a positive integer, got ${options.ef}`),
      );
    const allow = options.allow;
    const exact = options.exact ?? (allow !== undefined && this.scanIsCheaper(allow.size, options.ef));
    return new Promise((resolve, reject) => {
      this.queue.push({
        query,
        k: Math.min(k, size),
        ef: Math.max(options.ef, k),
        allow,
        exact,
        resolve,
        reject,
      });
      this.pump();
    });
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
    const allow = options.allow;
    const exact = options.exact ?? (allow !== undefined && this.scanIsCheaper(allow.size, options.ef));
    counters.calls++;
    counters.queries += nq;
    const r = await withSlot(() =>
      nativeAsync(() =>
        this.core.search(queries, Math.min(k, size), {
          ef: Math.max(options.ef, k),
          ...(allow ? { filter: allow.bits, filterBase: allow.base } : {}),
          exact,
          threads,
        }),
      ),
    );
    return Array.from({ length: nq }, (_, q) => hitsOf(r, q, r.k));
  }

  /**
   * Sends queued searches while pool slots are free. With f slots free and n queued, a call takes about n/f
   * of them (at most MAX_COALESCED) so every free core gets a share; when none is free the index waits for
   * one, and what queued meanwhile leaves together.
   */
  private readonly pump = (): void => {
    this.starving = false;
    while (this.queue.length > 0) {
      if (inFlight >= MAX_IN_FLIGHT) {
        if (!this.starving) {
          this.starving = true;
          starved.push(this.pump);
        }
        return;
      }
      const share = Math.ceil(this.queue.length / (MAX_IN_FLIGHT - inFlight));
      const batch = this.takeBatch(Math.min(share, MAX_COALESCED));
      inFlight++;
      this.answer(batch).finally(releaseSlot);
    }
  };

  /** The oldest search and up to max − 1 later ones it can share a call with (same filter, same path). */
  private takeBatch(max: number): Waiting[] {
    const first = this.queue[0]!;
    const batch: Waiting[] = [];
    let kept = 0;
    for (let i = 0; i < this.queue.length; i++) {
      const w = this.queue[i]!;
      if (batch.length < max && w.allow === first.allow && w.exact === first.exact) batch.push(w);
      else this.queue[kept++] = w;
    }
    this.queue.length = kept;
    return batch;
  }

  private async answer(batch: Waiting[]): Promise<void> {
    const first = batch[0]!;
    counters.calls++;
    counters.queries += batch.length;
    const filter = first.allow ? { filter: first.allow.bits, filterBase: first.allow.base } : {};
    let r: NativeSearchResult;
    try {
      if (batch.length === 1) {
        r = await nativeAsync(() =>
          this.core.search(first.query, first.k, { ef: first.ef, ...filter, exact: first.exact }),
        );
      } else {
        const queries = new Float32Array(batch.length * this.dim);
        const efs = new Uint32Array(batch.length);
        let k = 0;
        batch.forEach((w, i) => {
          queries.set(w.query, i * this.dim);
          efs[i] = w.ef;
          k = Math.max(k, w.k);
        });
        r = await nativeAsync(() =>
          this.core.search(queries, k, { ef: first.ef, efs, ...filter, exact: first.exact }),
        );
      }
    } catch (e) {
      if (batch.length === 1) {
        first.reject(e);
        return;
      }
      // One caller's bad query must not fail the others it happened to share a call with.
      for (const w of batch) {
        const alone = [w];
        await this.answer(alone);
      }
      return;
    }
    batch.forEach((w, i) => {
      w.resolve(hitsOf(r, i, w.k));
    });
  }

  save(file: string): Promise<void> {
    return nativeAsync(() => this.core.save(file));
  }

  memoryBytes(): number {
    return this.core.memoryUsage();
  }

  private scanIsCheaper(allowed: number, ef: number): boolean {
    return allowed * allowed < ef * VISITS_PER_EF * this.core.size();
  }
}

/** Query q's hits, at most k of them (a coalesced call asks for the largest k among its queries). */
function hitsOf(r: NativeSearchResult, q: number, k: number): IndexHits {
  const n = Math.min(r.counts[q]!, k);
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
