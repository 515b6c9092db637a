/**
 * The write path's bound: bytes and operations admitted but not yet finished. What a write holds in memory
 * (its body, the parsed points, the copy sent to the engine thread) is proportional to its bytes, so
 * bounding them bounds the memory that concurrent upserts can pin — the failure behind Qdrant's "upsert
 * OOM" reports, where many fast clients each park a large batch. Near a memory budget the bytes in flight
 * must also fit the memory left: a write of n bytes is counted as n × `memoryFactor` of resident memory
 * while it runs (the body text, the parsed points, the copy sent to the engine thread), so the writes
 * admitted cannot carry the process past its mark however many arrive at once. `closed` is set from
 * outside when the process has reached the mark: then nothing new is admitted.
 */

export interface IngestOptions {
  maxBytes: number;
  maxOps: number;
  memoryFactor: number;
}

export type IngestRefusal = 'ingest_bytes' | 'ingest_ops' | 'memory';

export class IngestBudget {
  bytes = 0;
  ops = 0;
  closed = false;

  constructor(private readonly o: Readonly<IngestOptions>) {}

  /**
   * Takes `bytes` and one operation, or says why not. A write larger than the whole byte budget passes
   * alone (an idle budget), so it is slowed, never refused forever. `headroom`: resident memory left
   * below the memory mark (Infinity without a budget).
   */
  tryAcquire(bytes: number, headroom = Number.POSITIVE_INFINITY): IngestRefusal | null {
    if (this.closed) return 'memory';
    if (this.ops >= this.o.maxOps) return 'ingest_ops';
    if (this.bytes > 0 && this.bytes + bytes > this.o.maxBytes) return 'ingest_bytes';
    if ((this.bytes + bytes) * this.o.memoryFactor > headroom) return 'memory';
    this.bytes += bytes;
    this.ops++;
    return null;
  }

  release(bytes: number): void {
    this.bytes = Math.max(0, this.bytes - bytes);
    this.ops = Math.max(0, this.ops - 1);
  }
}
