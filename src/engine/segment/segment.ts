/**
 * A segment owns a fixed range of slots [base, base + capacity): their vectors (our own Float32Array copy:
 * retrieval, exact scans, rebuilds), point keys, payloads, versions and tombstones, plus one HNSW graph.
 * Appendable: takes writes; offsets past `indexed` are not in the graph yet and are scanned exactly, so a
 * write is searchable as soon as it is applied. Sealed: full and fully indexed; only deletes and payload
 * changes touch it after that.
 */
import { NativeHnswIndex } from '../index/native-hnsw-index.js';
import type { IndexSpace, VectorIndex } from '../index/vector-index.js';
import type { Payload, SegmentInfo, SegmentState } from '../types.js';

export interface SegmentParams {
  id: number;
  dim: number;
  capacity: number;
  space: IndexSpace;
  m: number;
  efConstruction: number;
}

export class Segment {
  readonly base: number;
  state: SegmentState = 'appendable';
  /** Used offsets: [0, count). */
  count = 0;
  /** Offsets [0, indexed) are in the graph. */
  indexed = 0;
  live = 0;
  vectors: Float32Array;
  readonly keys: string[] = [];
  readonly payloads: (Payload | undefined)[] = [];
  versions: Float64Array;
  alive: Uint8Array;
  index: VectorIndex;

  constructor(
    readonly params: SegmentParams,
    index?: VectorIndex,
  ) {
    this.base = params.id * params.capacity;
    const initial = Math.min(params.capacity, 1024);
    this.vectors = new Float32Array(initial * params.dim);
    this.versions = new Float64Array(initial);
    this.alive = new Uint8Array(initial);
    this.index =
      index ??
      NativeHnswIndex.create(params.dim, params.space, {
        m: params.m,
        efConstruction: params.efConstruction,
        capacity: initial,
        seed: 100 + params.id,
      });
  }

  get id(): number {
    return this.params.id;
  }

  get full(): boolean {
    return this.count >= this.params.capacity;
  }

  get deleted(): number {
    return this.count - this.live;
  }

  /** Appends one point (vector already validated/normalised in `src` at row `row`); returns its slot. */
  append(key: string, src: Float32Array, row: number, payload: Payload | undefined, version: number): number {
    const off = this.count;
    this.ensureCapacity(off + 1);
    const dim = this.params.dim;
    this.vectors.set(src.subarray(row * dim, (row + 1) * dim), off * dim);
    this.keys[off] = key;
    this.payloads[off] = payload;
    this.versions[off] = version;
    this.alive[off] = 1;
    this.count++;
    this.live++;
    return this.base + off;
  }

  /** Tombstones a slot; the graph forgets it too so traversal skips it without a callback. */
  kill(slot: number): void {
    const off = slot - this.base;
    if (this.alive[off] !== 1) return;
    this.alive[off] = 0;
    this.live--;
    this.payloads[off] = undefined;
    // Also when its batch is still being added: if the core has it already, it goes now (removing an absent
    // slot is a no-op), and indexSome removes whatever the add completes after this.
    this.index.remove(slot);
  }

  isAlive(slot: number): boolean {
    return this.alive[slot - this.base] === 1;
  }

  /**
   * Adds up to `max` not-yet-indexed offsets to the graph (dead ones are skipped); returns how many. The add
   * runs off the engine thread, so points may die meanwhile: they are removed from the graph once it is
   * done. Until then searches also scan [indexed, count) exactly (and drop the duplicates).
   */
  async indexSome(max: number): Promise<number> {
    const start = this.indexed;
    const end = Math.min(this.count, start + max);
    if (end <= start) return 0;
    const dim = this.params.dim;
    const slots: number[] = [];
    const rows: number[] = [];
    for (let off = start; off < end; off++) {
      if (this.alive[off] === 1) {
        slots.push(this.base + off);
        rows.push(off);
      }
    }
    if (slots.length > 0) {
      const buf = new Float32Array(slots.length * dim);
      for (let i = 0; i < rows.length; i++) {
        buf.set(this.vectors.subarray(rows[i]! * dim, (rows[i]! + 1) * dim), i * dim);
      }
      await this.index.add(slots, buf);
      for (let i = 0; i < rows.length; i++) if (this.alive[rows[i]!] !== 1) this.index.remove(slots[i]!);
    }
    this.indexed = end;
    if (this.full && this.indexed === this.count) this.state = 'sealed';
    return end - start;
  }

  info(): SegmentInfo {
    return {
      id: this.id,
      state: this.state,
      points: this.live,
      deleted: this.deleted,
      indexed: this.index.size(),
    };
  }

  memoryBytes(): number {
    return (
      this.vectors.byteLength + this.versions.byteLength + this.alive.byteLength + this.index.memoryBytes()
    );
  }

  private ensureCapacity(n: number): void {
    if (n <= this.alive.length) return;
    const cap = Math.min(this.params.capacity, Math.max(n, this.alive.length * 2));
    const vectors = new Float32Array(cap * this.params.dim);
    vectors.set(this.vectors);
    this.vectors = vectors;
    const versions = new Float64Array(cap);
    versions.set(this.versions);
    this.versions = versions;
    const alive = new Uint8Array(cap);
    alive.set(this.alive);
    this.alive = alive;
  }
}
