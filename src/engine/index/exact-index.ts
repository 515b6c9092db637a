/**
 * Brute-force index: the reference every ANN result is checked against, and the right tool for small or
 * heavily filtered sets. Rows are packed (swap-remove on delete) so a scan touches only live vectors.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { SurgeError } from '../../protocol/errors.js';
import { distanceFn } from './distance.js';
import { TopK } from './top-k.js';
import type { IndexHits, IndexSearchOptions, IndexSpace, VectorIndex } from './vector-index.js';
import { slotSetHas } from './vector-index.js';

const MAGIC = 0x53565845; // "SVXE"

export class ExactIndex implements VectorIndex {
  readonly kind = 'exact';
  private data: Float32Array;
  private rowSlot: Uint32Array;
  private readonly rowOf = new Map<number, number>();
  private readonly distance;

  constructor(
    readonly dim: number,
    readonly space: IndexSpace,
    initialCapacity = 1024,
  ) {
    this.data = new Float32Array(initialCapacity * dim);
    this.rowSlot = new Uint32Array(initialCapacity);
    this.distance = distanceFn(space);
  }

  size(): number {
    return this.rowOf.size;
  }

  has(slot: number): boolean {
    return this.rowOf.has(slot);
  }

  async add(slots: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    this.addNow(slots, vectors);
  }

  private addNow(slots: ArrayLike<number>, vectors: Float32Array): void {
    const dim = this.dim;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      let row = this.rowOf.get(slot);
      if (row === undefined) {
        row = this.rowOf.size;
        this.ensureCapacity(row + 1);
        this.rowOf.set(slot, row);
        this.rowSlot[row] = slot;
      }
      this.data.set(vectors.subarray(i * dim, (i + 1) * dim), row * dim);
    }
  }

  remove(slot: number): void {
    const row = this.rowOf.get(slot);
    if (row === undefined) return;
    const last = this.rowOf.size - 1;
    if (row !== last) {
      const moved = this.rowSlot[last]!;
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.rowSlot[row] = moved;
      this.rowOf.set(moved, row);
    }
    this.rowOf.delete(slot);
  }

  async search(query: Float32Array, k: number, options: IndexSearchOptions): Promise<IndexHits> {
    const top = new TopK(k);
    const { dim, data, rowSlot, distance } = this;
    const allow = options.allow;
    const n = this.rowOf.size;
    for (let row = 0; row < n; row++) {
      const slot = rowSlot[row]!;
      if (allow !== undefined && !slotSetHas(allow, slot)) continue;
      top.push(slot, distance(query, 0, data, row * dim, dim));
    }
    return top.result();
  }

  async save(file: string): Promise<void> {
    const n = this.rowOf.size;
    const header = new Uint32Array([MAGIC, this.dim, this.space === 'ip' ? 0 : 1, n]);
    const buf = Buffer.concat([
      Buffer.from(header.buffer),
      Buffer.from(this.rowSlot.buffer, 0, n * 4),
      Buffer.from(this.data.buffer, 0, n * this.dim * 4),
    ]);
    await writeFile(file, buf);
  }

  /** Loads a file written by save(); `live` are the slots still alive (deletes after the save are re-applied). */
  static load(file: string, live?: Iterable<number>): ExactIndex {
    const buf = readFileSync(file);
    const u32 = new Uint32Array(buf.buffer, buf.byteOffset, 4);
    if (buf.length < 16 || u32[0] !== MAGIC) {
      throw new SurgeError('SNAPSHOT_CORRUPTED', `${file} is not an exact index file`, { file });
    }
    const dim = u32[1]!;
    const n = u32[3]!;
    if (buf.length !== 16 + n * 4 + n * dim * 4) {
      throw new SurgeError('SNAPSHOT_CORRUPTED', `${file} has a wrong length for ${n} vectors`, { file });
    }
    const index = new ExactIndex(dim, u32[2] === 0 ? 'ip' : 'l2', Math.max(1, n));
    const slots = new Uint32Array(buf.buffer.slice(buf.byteOffset + 16, buf.byteOffset + 16 + n * 4));
    const vectors = new Float32Array(
      buf.buffer.slice(buf.byteOffset + 16 + n * 4, buf.byteOffset + buf.length),
    );
    index.addNow(slots, vectors);
    if (live !== undefined) {
      const keep = new Set(live);
      for (const slot of slots) if (!keep.has(slot)) index.remove(slot);
    }
    return index;
  }

  memoryBytes(): number {
    return this.data.byteLength + this.rowSlot.byteLength + this.rowOf.size * 40;
  }

  private ensureCapacity(rows: number): void {
    if (rows <= this.rowSlot.length) return;
    const cap = Math.max(rows, this.rowSlot.length * 2);
    const data = new Float32Array(cap * this.dim);
    data.set(this.data);
    this.data = data;
    const rowSlot = new Uint32Array(cap);
    rowSlot.set(this.rowSlot);
    this.rowSlot = rowSlot;
  }
}
