/**
 * Keeps the k smallest distances seen: a binary max-heap on parallel typed arrays, so an exact scan of a
 * million rows allocates nothing per row.
 */
import type { IndexHits } from './vector-index.js';

export class TopK {
  private readonly dist: Float64Array;
  private readonly slot: Uint32Array;
  private n = 0;

  constructor(readonly k: number) {
    this.dist = new Float64Array(Math.max(1, k));
    this.slot = new Uint32Array(Math.max(1, k));
  }

  get size(): number {
    return this.n;
  }

  /** Distance a candidate must beat to enter (Infinity until full). */
  get bound(): number {
    return this.n < this.k ? Number.POSITIVE_INFINITY : this.dist[0]!;
  }

  push(slot: number, distance: number): void {
    if (this.k === 0) return;
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (this.dist[p]! >= distance) break;
        this.dist[i] = this.dist[p]!;
        this.slot[i] = this.slot[p]!;
        i = p;
      }
      this.dist[i] = distance;
      this.slot[i] = slot;
      return;
    }
    if (distance >= this.dist[0]!) return;
    this.siftDown(slot, distance);
  }

  private siftDown(slot: number, distance: number): void {
    let i = 0;
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.dist[r]! > this.dist[l]! ? r : l;
      if (this.dist[c]! <= distance) break;
      this.dist[i] = this.dist[c]!;
      this.slot[i] = this.slot[c]!;
      i = c;
    }
    this.dist[i] = distance;
    this.slot[i] = slot;
  }

  /** Drains the heap into ascending order; ties broken by slot for a stable answer. */
  result(): IndexHits {
    const n = this.n;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => this.dist[a]! - this.dist[b]! || this.slot[a]! - this.slot[b]!);
    const slots = new Uint32Array(n);
    const distances = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      slots[i] = this.slot[order[i]!]!;
      distances[i] = this.dist[order[i]!]!;
    }
    return { slots, distances };
  }
}
