/**
 * Subscriptions split across several scorers (worker threads): slot s lives in shard s mod n, so each
 * scores 1/n of the matrix against every batch, in parallel. One thread scoring 10,000 subscriptions needs
 * ~0.5 core at 5,000 points/s (bench/subscriptions.ts); when it gets less — other work on the machine —
 * points queue and delivery waits for them. Two threads share that work across cores: on this 2-core box,
 * back to back, delivery p50 1.16 s → 0.50 s and p99 1.70 s → 1.26 s (docs/API.md, "Matching at scale").
 */
import type { Distance } from '../engine/index.js';
import type { Candidates } from './score-matrix.js';
import type { Scorer } from './scorer.js';

export class ShardedScorer implements Scorer {
  private readonly n: number;

  constructor(private readonly shards: Scorer[]) {
    this.n = shards.length;
  }

  open(space: number, distance: Distance, dim: number): void {
    for (const s of this.shards) s.open(space, distance, dim);
  }
  set(space: number, slot: number, vector: Float32Array, bar: number | undefined): void {
    this.shards[slot % this.n]!.set(space, Math.floor(slot / this.n), vector, bar);
  }
  setBar(space: number, slot: number, bar: number | undefined): void {
    this.shards[slot % this.n]!.setBar(space, Math.floor(slot / this.n), bar);
  }
  remove(space: number, slot: number): void {
    this.shards[slot % this.n]!.remove(space, Math.floor(slot / this.n));
  }
  drop(space: number): void {
    for (const s of this.shards) s.drop(space);
  }

  async score(space: number, points: Float32Array, n: number): Promise<Candidates> {
    // Each shard takes (transfers) its own copy; the last one takes the caller's.
    const parts = await Promise.all(
      this.shards.map((s, i) => s.score(space, i === this.n - 1 ? points : points.slice(), n)),
    );
    return merge(parts, this.n);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }
}

/** The shards' candidates in one list, point-major then by (global) slot, as one scorer gives them. */
function merge(parts: Candidates[], n: number): Candidates {
  let length = 0;
  for (const p of parts) length += p.length;
  const out: Candidates = {
    length,
    point: new Int32Array(length),
    slot: new Int32Array(length),
    score: new Float64Array(length),
  };
  const at = new Array<number>(parts.length).fill(0);
  for (let o = 0; o < length; o++) {
    let best = -1;
    let bestPoint = 0;
    let bestSlot = 0;
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      const i = at[k]!;
      if (i >= p.length) continue;
      const point = p.point[i]!;
      const slot = p.slot[i]! * n + k;
      if (best === -1 || point < bestPoint || (point === bestPoint && slot < bestSlot)) {
        best = k;
        bestPoint = point;
        bestSlot = slot;
      }
    }
    const p = parts[best]!;
    out.point[o] = bestPoint;
    out.slot[o] = bestSlot;
    out.score[o] = p.score[at[best]!]!;
    at[best]!++;
  }
  return out;
}
