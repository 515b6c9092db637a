/**
 * The change feed (`GET /collections/{name}/changes`) as an async iterator of changes and gaps. It resumes
 * from the last seq it handed out after any disconnect (server restart, network, a `lagged` cut-off), so a
 * consumer sees each change once, in seq order. When the server no longer has the events to replay (its WAL
 * was truncated by a snapshot) the feed yields a `gap`: reload what you derive from the collection (e.g. by
 * scrolling it), then carry on.
 */
import { parseJson } from '../../protocol/json.js';
import {
  CHANGE_OPS,
  type ChangeEvent,
  type ChangeGap,
  type ChangeLagged,
  type ChangeOp,
  type StreamError,
} from '../../protocol/wire.js';
import { apiErrorFromStream, ProtocolError } from '../errors.js';
import type { BackoffPolicy } from '../policy/backoff.js';
import { type ResumableSseOptions, resumableSse, type SseStep } from './resumable-sse.js';
import type { SseMessage } from './sse.js';

export type ChangeFeedItem = { type: 'change'; event: ChangeEvent } | { type: 'gap'; gap: ChangeGap };

export interface ChangeFeedOptions {
  /** Start after this seq (what you have already seen). Without it nor `fromSeq`: the collection's current seq. */
  afterSeq?: number;
  /** Start at this seq (1 = everything the server's WAL still holds). */
  fromSeq?: number;
  /** Ask the server to cut the connection off sooner when this reader lags (`?max_buffer=`). */
  maxBuffer?: number;
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** Failed reconnections in a row before the iterator throws. Default 20. */
  maxConsecutiveFailures?: number;
  backoff?: BackoffPolicy;
  /** No bytes for this long (the server sends a heartbeat every 15 s) = a dead connection. Default 45 s. */
  idleTimeoutMs?: number;
}

const OPS = new Set<string>(CHANGE_OPS);

export type ChangeFeedDeps = Omit<
  ResumableSseOptions<ChangeFeedItem>,
  'path' | 'interpret' | 'lastEventId' | 'backoff' | 'maxConsecutiveFailures' | 'idleTimeoutMs' | 'signal'
>;

export class ChangeFeed implements AsyncIterable<ChangeFeedItem> {
  private last: number | undefined;
  private started = false;

  constructor(
    private readonly deps: ChangeFeedDeps,
    private readonly collection: string,
    /** Resolves the seq to start after when neither afterSeq nor fromSeq is given. */
    private readonly currentSeq: () => Promise<number>,
    private readonly options: ChangeFeedOptions = {},
  ) {
    if (options.afterSeq !== undefined) this.last = options.afterSeq;
    else if (options.fromSeq !== undefined) this.last = Math.max(0, options.fromSeq - 1);
  }

  /** The seq of the last change handed out (or the start point): where a reconnection resumes. */
  get lastSeq(): number | undefined {
    return this.last;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ChangeFeedItem, void, undefined> {
    if (this.started) throw new RangeError('a ChangeFeed can be iterated once; open another one');
    this.started = true;
    // Pinning the start seq first makes even the first reconnection exact: without it, a drop before the
    // first event would resume at the server's then-current seq and miss what happened in between.
    this.last ??= await this.currentSeq();
    const o = this.options;
    const base = `/collections/${encodeURIComponent(this.collection)}/changes`;
    const query = o.maxBuffer !== undefined ? `?max_buffer=${o.maxBuffer}` : '';
    yield* resumableSse<ChangeFeedItem>({
      ...this.deps,
      path: () => base + query,
      interpret: (m) => this.interpret(m),
      lastEventId: String(this.last),
      backoff: o.backoff,
      maxConsecutiveFailures: o.maxConsecutiveFailures,
      idleTimeoutMs: o.idleTimeoutMs,
      signal: o.signal,
    });
  }

  private interpret(m: SseMessage): SseStep<ChangeFeedItem> {
    let data: unknown;
    try {
      data = parseJson(m.data);
    } catch (e) {
      return {
        kind: 'fail',
        error: new ProtocolError(`change feed: bad event data (${(e as Error).message})`),
      };
    }
    if (OPS.has(m.event)) {
      const event = data as ChangeEvent;
      // The server never repeats a seq on one connection; across reconnections Last-Event-ID prevents it.
      // Dropping one at or below the last seq handed out keeps "exactly once" even against a buggy server.
      if (this.last !== undefined && event.seq <= this.last) return { kind: 'skip' };
      this.last = event.seq;
      return {
        kind: 'item',
        item: { type: 'change', event: { ...event, op: m.event as ChangeOp } },
        lastEventId: String(event.seq),
      };
    }
    switch (m.event) {
      case 'gap': {
        const gap = data as ChangeGap;
        this.last = gap.oldest_seq - 1;
        return { kind: 'item', item: { type: 'gap', gap }, lastEventId: String(this.last) };
      }
      case 'lagged':
        // Everything up to last_seq came before this event on the same connection; resume after what was
        // actually handed out, which is the same seq unless the server misbehaves.
        return { kind: 'resume', lastEventId: String(this.last ?? (data as ChangeLagged).last_seq) };
      case 'error':
        return { kind: 'fail', error: apiErrorFromStream(data as StreamError) };
      default:
        return { kind: 'skip' };
    }
  }
}
