/**
 * The last events of a top-k subscription, bounded. Top-k state cannot be recomputed from the WAL (a
 * refill needs the collection as it was), so a reconnecting client resumes from here, or gets a `reset`
 * with the full current top-k when its position is older than what the ring holds.
 */
import type { SeqEvent } from './types.js';

export class EventHistory {
  private ring: (SeqEvent | undefined)[];
  private start = 0;
  private count = 0;
  /** Every event with seq > completeAfter is held. */
  private completeAfter: number;

  constructor(
    private readonly max: number,
    from: number,
  ) {
    this.ring = new Array(Math.max(1, max));
    this.completeAfter = from;
  }

  /** Starts over after `seq` (a refresh that does not follow from the events held, or a restart). */
  restart(seq: number): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.completeAfter = seq;
  }

  push(e: SeqEvent): void {
    if (this.max === 0) {
      this.completeAfter = e.seq;
      return;
    }
    if (this.count === this.max) {
      this.completeAfter = this.ring[this.start]!.seq;
      this.ring[this.start] = e;
      this.start = (this.start + 1) % this.max;
      return;
    }
    this.ring[(this.start + this.count) % this.max] = e;
    this.count++;
  }

  /** Events with seq > after, oldest first; undefined when some of them are no longer held. */
  since(after: number): SeqEvent[] | undefined {
    if (after < this.completeAfter) return undefined;
    const out: SeqEvent[] = [];
    for (let i = 0; i < this.count; i++) {
      const e = this.ring[(this.start + i) % this.max]!;
      if (e.seq > after) out.push(e);
    }
    return out;
  }
}
