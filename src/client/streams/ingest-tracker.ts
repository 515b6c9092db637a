/**
 * Which lines of an NDJSON ingest are settled, from the server's answer lines alone — the heart of resuming
 * an ingest after a lost connection without losing or re-applying acknowledged work.
 *
 * The server numbers the lines it reads (1-based, per request), reports a refused line as `{line, error}`
 * as soon as it reads it (or, for a line the engine refused, just before its batch's ack), and acks
 * batches in order with the count of points stored. Batches are consecutive runs of the lines that were not
 * refused on reading, so after the ack of batch n every refusal of a line up to the end of batch n has
 * arrived. Walking the sent lines in order, skipping refused ones and counting off stored points, therefore
 * reaches exactly the end of the acked batches: everything before that point is settled (durable or
 * refused), everything after is not known and is sent again on the next connection. Points carry explicit
 * ids, so a line stored but not acked before the connection broke is simply written again, with the same
 * result.
 */

export interface SentLine {
  /** Position in the caller's source (0-based), across connections. */
  readonly index: number;
  readonly text: string;
  /** Line number on the current connection (1-based), as the server counts. */
  line: number;
  refused: boolean;
}

export class IngestTracker {
  /** Sent lines not yet settled, oldest first, from `head`; line numbers are consecutive. */
  private pending: SentLine[] = [];
  private head = 0;
  /** Points acked on this connection not yet matched to lines. */
  private stored = 0;
  private lastLine = 0;

  /** Sent lines not yet settled (what the window counts). */
  get unsettled(): number {
    return this.pending.length - this.head;
  }

  /** Source position of the first line not settled, or undefined when all sent lines are. */
  get firstUnsettled(): number | undefined {
    return this.pending[this.head]?.index;
  }

  /** Registers a new line sent on the current connection. */
  send(index: number, text: string): SentLine {
    const e: SentLine = { index, text, line: ++this.lastLine, refused: false };
    this.pending.push(e);
    return e;
  }

  /**
   * Starts a new connection: the unsettled lines that were not refused are numbered again from 1 and
   * returned, to be sent first and in this order.
   */
  restart(): SentLine[] {
    const again: SentLine[] = [];
    for (let i = this.head; i < this.pending.length; i++) {
      const e = this.pending[i]!;
      if (!e.refused) again.push(e);
    }
    this.pending = again;
    this.head = 0;
    this.stored = 0;
    this.lastLine = 0;
    for (const e of again) e.line = ++this.lastLine;
    return again;
  }

  /** `{line, error}` from the server: the refused line, or undefined when the number is not one we sent. */
  refuse(line: number): SentLine | undefined {
    const first = this.pending[this.head];
    if (!first) return undefined;
    const e = this.pending[this.head + (line - first.line)];
    if (!e || e.line !== line || e.refused) return undefined;
    e.refused = true;
    this.advance();
    return e;
  }

  /** A batch ack storing `points` points. Returns false when the ack names more points than are unsettled. */
  ack(points: number): boolean {
    this.stored += points;
    this.advance();
    return this.stored === 0;
  }

  private advance(): void {
    while (this.head < this.pending.length) {
      const e = this.pending[this.head]!;
      if (e.refused) this.head++;
      else if (this.stored > 0) {
        this.stored--;
        this.head++;
      } else break;
    }
    // Settled lines are dropped in slabs, not one shift() at a time.
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }
}
