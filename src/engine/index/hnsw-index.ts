/**
 * HNSW through the stock hnswlib-node binding: the engine's first core, kept as the baseline our native core
 * (native-hnsw-index.ts) is measured against in one run (bench/native-core.ts). Its limits shaped this adapter: calls are synchronous (so the engine runs in a worker thread), vectors
 * cross as plain arrays, labels are 32-bit (we pass slots), capacity is fixed up front (we grow by doubling)
 * and ef is index-wide state (set right before every search; safe because one thread owns the index).
 */
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { HierarchicalNSW as HnswType } from 'hnswlib-node';
import { SurgeError } from '../../protocol/errors.js';
import type { IndexHits, IndexSearchOptions, IndexSpace, VectorIndex } from './vector-index.js';
import { EMPTY_HITS, slotSetHas } from './vector-index.js';

// hnswlib-node is CommonJS with a native addon; createRequire keeps ESM happy.
const require = createRequire(import.meta.url);
const { HierarchicalNSW } = require('hnswlib-node') as typeof import('hnswlib-node');

export interface HnswParams {
  m: number;
  efConstruction: number;
  /** Initial capacity; grows by doubling. */
  capacity?: number;
  seed?: number;
}

export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw';
  private readonly live = new Set<number>();
  private readonly row: number[];

  private constructor(
    readonly dim: number,
    readonly space: IndexSpace,
    private readonly index: HnswType,
    private readonly params: HnswParams,
  ) {
    this.row = new Array<number>(dim).fill(0);
  }

  static create(dim: number, space: IndexSpace, params: HnswParams): HnswIndex {
    const index = new HierarchicalNSW(space, dim);
    index.initIndex({
      maxElements: Math.max(16, params.capacity ?? 1024),
      m: params.m,
      efConstruction: params.efConstruction,
      randomSeed: params.seed ?? 100,
      allowReplaceDeleted: false,
    });
    return new HnswIndex(dim, space, index, params);
  }

  /** Loads a file written by save(); `live` are the slots still alive (deletes after the save are re-applied). */
  static load(
    file: string,
    dim: number,
    space: IndexSpace,
    params: HnswParams,
    live?: Iterable<number>,
  ): HnswIndex {
    const index = new HierarchicalNSW(space, dim);
    try {
      index.readIndexSync(file, false);
    } catch (e) {
      throw new SurgeError('SNAPSHOT_CORRUPTED', `cannot read HNSW index ${file}: ${(e as Error).message}`, {
        file,
      });
    }
    const h = new HnswIndex(dim, space, index, params);
    const stored = index.getIdsList();
    const keep = live === undefined ? undefined : new Set(live);
    for (const slot of stored) {
      if (keep === undefined || keep.has(slot)) h.live.add(slot);
      else markDeleted(index, slot);
    }
    return h;
  }

  size(): number {
    return this.live.size;
  }

  has(slot: number): boolean {
    return this.live.has(slot);
  }

  async add(slots: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    const { dim, row, index } = this;
    const needed = index.getCurrentCount() + slots.length;
    if (needed > index.getMaxElements()) index.resizeIndex(Math.max(needed, index.getMaxElements() * 2));
    for (let i = 0; i < slots.length; i++) {
      for (let j = 0; j < dim; j++) row[j] = vectors[i * dim + j]!;
      const slot = slots[i]!;
      // hnswlib un-deletes and updates a label it already holds, so re-adding a removed slot is safe.
      index.addPoint(row, slot, false);
      this.live.add(slot);
    }
  }

  remove(slot: number): void {
    if (!this.live.delete(slot)) return;
    this.index.markDelete(slot);
  }

  async search(query: Float32Array, k: number, options: IndexSearchOptions): Promise<IndexHits> {
    const n = this.live.size;
    if (n === 0 || k <= 0) return EMPTY_HITS;
    const kk = Math.min(k, this.index.getMaxElements());
    this.index.setEf(Math.max(options.ef, kk));
    const q = this.row;
    for (let j = 0; j < this.dim; j++) q[j] = query[j]!;
    const allow = options.allow;
    const r = this.index.searchKnn(q, kk, allow ? (slot: number) => slotSetHas(allow, slot) : undefined);
    return { slots: Uint32Array.from(r.neighbors), distances: Float32Array.from(r.distances) };
  }

  async save(file: string): Promise<void> {
    await writeFile(file, ''); // hnswlib-node does not report an unwritable path
    await this.index.writeIndex(file);
  }

  memoryBytes(): number {
    // hnswlib: per element the vector, level-0 links (2M u32 + count), label and list overhead.
    const perElement = this.dim * 4 + (2 * this.params.m + 1) * 4 + 8 + 16;
    return this.index.getMaxElements() * perElement + this.live.size * 16;
  }
}

/** The file may already carry the delete (it was saved after it): hnswlib then throws, which is fine. */
function markDeleted(index: HnswType, slot: number): void {
  try {
    index.markDelete(slot);
  } catch (e) {
    if (!/already deleted/.test((e as Error).message)) throw e;
  }
}
