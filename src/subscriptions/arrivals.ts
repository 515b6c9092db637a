/**
 * When each recent change event reached the matcher, so a delivery can time "ack → sent to the client"
 * without carrying a timestamp on the wire event. A fixed ring of (seq, time): live seqs only increase, so
 * a lookup is a binary search; a seq older than the ring (a long catch-up) simply has no time.
 */
const SIZE = 8192;

export class Arrivals {
  private readonly seqs = new Float64Array(SIZE);
  private readonly times = new Float64Array(SIZE);
  /** Entries ever written; the ring holds the last min(written, SIZE). */
  private written = 0;

  record(seq: number, at: number): void {
    if (this.written > 0 && seq <= this.seqs[(this.written - 1) % SIZE]!) return;
    const i = this.written % SIZE;
    this.seqs[i] = seq;
    this.times[i] = at;
    this.written++;
  }

  /** When `seq` arrived, if it is still in the ring. */
  at(seq: number): number | undefined {
    let lo = Math.max(0, this.written - SIZE);
    let hi = this.written - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.seqs[mid % SIZE]!;
      if (s === seq) return this.times[mid % SIZE];
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}
