/**
 * `GET /collections/:name/changes`: the collection's change feed as Server-Sent Events — one event per
 * applied op (`id: <seq>`, `event: <op>`, `data: <ChangeEvent>`).
 *
 * Resume (`Last-Event-ID`, or `?from_seq=`) = subscribe first, replay the WAL in pages while live events
 * queue up, then hand over to live, dropping every event at or below the last one sent: no gap, no
 * duplicate. A plain connection does the same from the collection's current seq, which closes the window
 * between looking the collection up and subscribing.
 *
 * A slow reader never slows a writer: events wait in a bounded per-connection queue; when it overflows the
 * reader gets `event: lagged` with the last seq it was sent (where to resume) and the stream ends.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChangeEvent, EngineApi } from '../../../engine/index.js';
import { SurgeError } from '../../../protocol/errors.js';
import { toSurgeError } from '../../errors.js';
import { stringifyJson } from '../../json.js';
import { collectionParam } from '../qdrant/params.js';
import { errorObject } from './ndjson.js';

export interface ChangesOptions {
  /** Events a connection may have waiting before it is cut off as lagged (default 10,000). */
  maxBuffer?: number;
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
}

const PAGE = 1000;
const DEFAULT_MAX_BUFFER = 10_000;
const DEFAULT_HEARTBEAT_MS = 15_000;
/** After `lagged`, a reader that still does not read is disconnected after this long. */
const LAGGED_GRACE_MS = 30_000;

type FeedState = 'catching_up' | 'live' | 'closed';

function sseEvent(e: ChangeEvent): string {
  return `id: ${e.seq}\nevent: ${e.op}\ndata: ${stringifyJson(e)}\n\n`;
}

class ChangeFeed {
  private state: FeedState = 'catching_up';
  /** Live events not yet written: during catch-up, or while the reader is behind. `head` = next to send. */
  private queue: ChangeEvent[] = [];
  private head = 0;
  /** Seq of the last event written (or declared lost by a gap event). */
  private lastSeq = 0;
  private blocked = false;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly engine: EngineApi,
    private readonly collection: string,
    private readonly out: PassThrough,
    private readonly maxBuffer: number,
    private readonly heartbeatMs: number,
    private readonly onClosed: () => void,
  ) {}

  start(afterSeq: number): void {
    this.lastSeq = afterSeq;
    this.unsubscribe = this.engine.onChange((e) => this.onEvent(e));
    this.out.on('close', () => this.close());
    this.heartbeat = setInterval(() => {
      if (!this.blocked) this.write(': heartbeat\n\n');
    }, this.heartbeatMs);
    this.heartbeat.unref();
    // A first line sends the headers now, so the client knows it is subscribed.
    this.write(': surgevec change feed\n\n');
    void this.catchUp();
  }

  private onEvent(e: ChangeEvent): void {
    if (e.collection !== this.collection || this.state === 'closed') return;
    if (this.state === 'live' && !this.blocked && this.head === this.queue.length) {
      this.deliver(e);
      return;
    }
    this.queue.push(e);
    if (this.queue.length - this.head > this.maxBuffer) this.lagged();
  }

  private async catchUp(): Promise<void> {
    try {
      for (;;) {
        const cursor = this.lastSeq;
        const page = await this.engine.readChanges(this.collection, cursor, PAGE);
        if (this.isClosed()) return;
        if (cursor + 1 < page.oldestSeq) {
          const gap = { from_seq: cursor + 1, oldest_seq: page.oldestSeq };
          this.write(`event: gap\ndata: ${JSON.stringify(gap)}\n\n`);
          this.lastSeq = page.oldestSeq - 1;
        }
        for (const e of page.events) {
          if (!this.deliver(e)) await this.drained();
          if (this.isClosed()) return;
        }
        // Done when the WAL has nothing newer, or the live queue already continues where it stops.
        const next = this.queue[this.head];
        if (page.events.length < PAGE || (next !== undefined && next.seq <= this.lastSeq + 1)) break;
      }
      this.state = 'live';
      this.flush();
    } catch (e) {
      if (this.isClosed()) return;
      this.write(`event: error\ndata: ${stringifyJson(errorObject(toSurgeError(e)))}\n\n`);
      this.close();
      this.out.end();
    }
  }

  /** Writes one event unless already sent; false when the reader is behind (wait for drain). */
  private deliver(e: ChangeEvent): boolean {
    if (e.seq <= this.lastSeq) return true;
    this.lastSeq = e.seq;
    if (this.write(sseEvent(e))) return true;
    if (!this.blocked) {
      this.blocked = true;
      this.out.once('drain', () => {
        this.blocked = false;
        if (this.state === 'live') this.flush();
      });
    }
    return false;
  }

  /** A method, not a field test: TypeScript would keep its narrowing across the awaits that change it. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private write(text: string): boolean {
    if (this.out.destroyed || this.out.writableEnded) return true;
    return this.out.write(text);
  }

  private flush(): void {
    while (this.head < this.queue.length && !this.blocked && this.state === 'live') {
      this.deliver(this.queue[this.head++]!);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('close', done);
    });
  }

  private lagged(): void {
    this.write(`event: lagged\ndata: ${JSON.stringify({ last_seq: this.lastSeq })}\n\n`);
    this.close();
    this.out.end();
    setTimeout(() => this.out.destroy(), LAGGED_GRACE_MS).unref();
  }

  /** Ends the stream for a server shutdown: the client reconnects elsewhere with Last-Event-ID. */
  end(): void {
    this.close();
    this.out.end();
  }

  close(): void {
    if (this.isClosed()) return;
    this.state = 'closed';
    this.unsubscribe?.();
    clearInterval(this.heartbeat);
    this.queue = [];
    this.head = 0;
    this.onClosed();
  }
}

/** A non-negative integer from a header or query string, or INVALID_REQUEST naming it. */
export function integer(v: string, what: string): number {
  const n = /^\s*\d{1,15}\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new SurgeError('INVALID_REQUEST', `${what} must be an integer >= 0`);
  return n;
}

/** The seq to resume after: Last-Event-ID (the last event the client has) wins over from_seq (the first it wants). */
export function resumeAfter(req: FastifyRequest): number | undefined {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string' && header.trim() !== '') return integer(header, 'Last-Event-ID');
  const from = (req.query as { from_seq?: string }).from_seq;
  if (from !== undefined) return Math.max(0, integer(from, 'from_seq') - 1);
  return undefined;
}

export async function changesRoutes(app: FastifyInstance, opts: ChangesOptions): Promise<void> {
  const { engine } = app.surge;
  const maxBuffer = opts.maxBuffer ?? DEFAULT_MAX_BUFFER;
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const feeds = new Set<ChangeFeed>();
  // Open feeds would hold app.close() until the shutdown deadline.
  app.addHook('preClose', async () => {
    for (const f of feeds) f.end();
  });

  app.get('/collections/:name/changes', { compress: false }, async (req, reply) => {
    const after = resumeAfter(req);
    const asked = (req.query as { max_buffer?: string }).max_buffer;
    const buffer = asked === undefined ? maxBuffer : integer(asked, 'max_buffer');
    if (buffer < 1 || buffer > maxBuffer) {
      throw new SurgeError('INVALID_REQUEST', `max_buffer must be between 1 and ${maxBuffer}`);
    }
    const info = await engine.collectionInfo(collectionParam(req));
    const out = new PassThrough();
    const feed = new ChangeFeed(engine, info.name, out, buffer, heartbeatMs, () => feeds.delete(feed));
    feeds.add(feed);
    feed.start(after ?? info.seq);
    return reply
      .type('text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(out);
  });
}
