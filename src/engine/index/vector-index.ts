/**
 * The one interface every nearest-neighbour index implements (exact reference, hnswlib-node, later our own
 * native core). Indexes know slots (u32 numbers the collection hands out), never point ids: hnswlib-node
 * truncates labels to 32 bits, and slots keep index files independent of id formats.
 */

/** 'ip': distance = 1 - dot (vectors of Cosine collections are normalised on write). 'l2': squared L2. */
export type IndexSpace = 'ip' | 'l2';

export interface IndexSearchOptions {
  /** Search effort (size of the candidate list). Exact indexes ignore it. */
  ef: number;
  /** Only slots for which this returns true may be returned (applied during traversal where the index can). */
  filter?: ((slot: number) => boolean) | undefined;
}

/** Results best first: ascending distance. */
export interface IndexHits {
  slots: Uint32Array;
  distances: Float32Array;
}

export interface VectorIndex {
  readonly kind: 'exact' | 'hnsw';
  readonly dim: number;
  readonly space: IndexSpace;
  /** Live (not removed) elements. */
  size(): number;
  has(slot: number): boolean;
  /** Adds (or replaces) `slots.length` vectors laid out row-major in `vectors`. */
  add(slots: ArrayLike<number>, vectors: Float32Array): void;
  /** Removing an absent slot is a no-op. */
  remove(slot: number): void;
  search(query: Float32Array, k: number, options: IndexSearchOptions): Promise<IndexHits>;
  /** Writes the whole index to one file (atomicity is the caller's: write to a temp name, then rename). */
  save(file: string): void;
  /** Approximate bytes held by the index. */
  memoryBytes(): number;
}

export const EMPTY_HITS: IndexHits = Object.freeze({
  slots: new Uint32Array(0),
  distances: new Float32Array(0),
});
