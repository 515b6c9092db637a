/**
 * The one interface every nearest-neighbour index implements (our native core, the exact reference, and
 * hnswlib-node's stock binding kept as a benchmark baseline). Indexes know slots (u32 numbers the collection
 * hands out), never point ids: slots keep index files independent of id formats and make a filter one bitset.
 */

/** 'ip': distance = 1 - dot (vectors of Cosine collections are normalised on write). 'l2': squared L2. */
export type IndexSpace = 'ip' | 'l2';

export interface IndexSearchOptions {
  /** Search effort (size of the candidate list). Exact indexes ignore it. */
  ef: number;
  /**
   * Only these slots may be returned. Applied during graph traversal, so a selective filter still finds k
   * matches; a bitset (not a callback) because the native core runs off the JS thread.
   */
  allow?: SlotSet | undefined;
  /** Brute force over the (allowed) points instead of walking the graph; default: the index decides. */
  exact?: boolean | undefined;
}

/** A set of slots as a bitset: bit `i & 7` of byte `i >> 3` stands for slot `base + i`. */
export interface SlotSet {
  base: number;
  bits: Uint8Array;
  /** Number of set bits. */
  size: number;
}

/** An empty set for slots in [base, base + span). */
export function slotSet(base: number, span: number): SlotSet {
  return { base, bits: new Uint8Array((span + 7) >>> 3), size: 0 };
}

export function slotSetAdd(set: SlotSet, slot: number): void {
  const i = slot - set.base;
  const mask = 1 << (i & 7);
  const byte = set.bits[i >>> 3]!;
  if ((byte & mask) === 0) {
    set.bits[i >>> 3] = byte | mask;
    set.size++;
  }
}

export function slotSetHas(set: SlotSet, slot: number): boolean {
  const i = slot - set.base;
  return i >= 0 && ((set.bits[i >>> 3] ?? 0) & (1 << (i & 7))) !== 0;
}

export interface IndexHits {
  slots: Uint32Array;
  distances: Float32Array;
}

export interface VectorIndex {
  readonly kind: 'exact' | 'hnsw' | 'native-hnsw';
  readonly dim: number;
  readonly space: IndexSpace;
  /** Live (not removed) elements. */
  size(): number;
  has(slot: number): boolean;
  /**
   * Adds (or replaces) `slots.length` vectors laid out row-major in `vectors`. Asynchronous: the native core
   * builds on the libuv pool with several threads while searches go on.
   */
  add(slots: ArrayLike<number>, vectors: Float32Array): Promise<void>;
  /** Removing an absent slot is a no-op. */
  remove(slot: number): void;
  search(query: Float32Array, k: number, options: IndexSearchOptions): Promise<IndexHits>;
  /**
   * Writes the whole index to one file (atomicity is the caller's: write to a temp name, then rename).
   * Searches may go on meanwhile; the caller adds nothing until it resolves.
   */
  save(file: string): Promise<void>;
  /** Approximate bytes held by the index. */
  memoryBytes(): number;
}

export const EMPTY_HITS: IndexHits = Object.freeze({
  slots: new Uint32Array(0),
  distances: new Float32Array(0),
});
