/**
 * A standing query's events (docs/API.md, "Standing queries") as an async iterator that survives
 * disconnects and server restarts: over SSE it is one `interpret` over `resumable-sse.ts` (reconnecting
 * with Last-Event-ID); over the WebSocket it re-attaches on a new `WsSession` with `last_seq`. Either way
 * the caller gets each seq once, in order: the server delivers at least once, this drops any seq at or
 * below the last one handed out.
 *
 * `lagged` needs nothing from the caller (the server catches the stream up by itself); `closed` with
 * `shutdown`, `too_slow` or `error` reconnects; `deleted` and `collection_dropped` end the iteration with
 * SubscriptionNotFoundError / CollectionNotFoundError.
 */
import { parseJson } from '../../protocol/json.js';
import type {
  SubscriptionClosed,
  SubscriptionEvent,
  SubscriptionLagged,
  SubscriptionRequest,
  SubscriptionSeqEvent,
} from '../../protocol/subscriptions.js';
import { type ApiError, errorClasses, ProtocolError, type SurgeClientError } from '../errors.js';
import { type BackoffPolicy, retryDelay } from '../policy/backoff.js';
import { sleep } from '../policy/deadline.js';
import type { SubscriptionsApi } from '../subscriptions.js';
import { type ResumableSseOptions, resumableSse, type SseStep } from './resumable-sse.js';
import type { SseMessage } from './sse.js';
import type { SessionOptions, WsSession } from './ws-session.js';

export type SubscriptionTransport = 'sse' | 'ws';

export interface SubscribeOptions {
  /** Default `sse`: one HTTP stream per subscription. `ws`: the collection's WebSocket. */
  transport?: SubscriptionTransport;
  /** Start after this seq (the last one you have): what a consumer that stored its position passes. */
  afterSeq?: number;
  /**
   * Start at this seq (threshold mode; within the WAL's retention). With a request instead of an id, it is
   * the request's `from_seq`. Without it nor `afterSeq`: from the subscription's creation.
   */
  fromSeq?: number;
  /** Delete the subscription when the iteration ends. Default: true if this call created it. */
  deleteOnClose?: boolean;
  /** `lagged` and `closed` notices, for logs and metrics; the iterator handles them itself. */
  onNotice?: (notice: SubscriptionLagged | SubscriptionClosed) => void;
  /** Ends the iteration (quietly). */
  signal?: AbortSignal;
  /** Failed reconnections in a row before the iterator throws. Default 20. */
  maxConsecutiveFailures?: number;
  backoff?: BackoffPolicy;
  /** SSE: no bytes for this long = a dead connection (the server beats every 15 s by default). Default 45 s. */
  idleTimeoutMs?: number;
  /**
   * WebSocket: events held for a caller that is not reading before the connection is dropped (and later
   * re-attached from the last seq handed out), since a WebSocket has no backpressure. Default 10,000.
   */
  maxBuffer?: number;
}

export interface SubscriptionStreamDeps {
  sse: Omit<
    ResumableSseOptions<SubscriptionSeqEvent>,
    'path' | 'interpret' | 'lastEventId' | 'backoff' | 'maxConsecutiveFailures' | 'idleTimeoutMs' | 'signal'
  >;
  api: SubscriptionsApi;
  session: (collection: string, options: SessionOptions) => Promise<WsSession>;
  random: () => number;
}

const SEQ_EVENTS = new Set(['match', 'topk', 'reset']);

export class SubscriptionStream implements AsyncIterable<SubscriptionSeqEvent> {
  private subscriptionId: string | undefined;
  private last: number | undefined;
  private started = false;
  private readonly request: SubscriptionRequest | undefined;

  constructor(
    private readonly deps: SubscriptionStreamDeps,
    readonly collection: string,
    target: string | SubscriptionRequest,
    private readonly options: SubscribeOptions = {},
  ) {
    if (typeof target === 'string') this.subscriptionId = target;
    else this.request = target;
    if (options.afterSeq !== undefined) this.last = options.afterSeq;
    else if (options.fromSeq !== undefined && typeof target === 'string') this.last = options.fromSeq - 1;
  }

  /** The subscription's id (known once iteration has started, when this stream creates it). */
  get id(): string | undefined {
    return this.subscriptionId;
  }

  /** Seq of the last event handed out (or the start point): where a reconnection resumes. */
  get lastSeq(): number | undefined {
    return this.last;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<SubscriptionSeqEvent, void, undefined> {
    if (this.started) throw new RangeError('a SubscriptionStream can be iterated once; subscribe again');
    this.started = true;
    const o = this.options;
    let id = this.subscriptionId;
    const created = id === undefined;
    if (id === undefined) {
      const request = this.request!;
      const body =
        o.fromSeq !== undefined && request.from_seq == null ? { ...request, from_seq: o.fromSeq } : request;
      id = (await this.deps.api.create(this.collection, body, { signal: o.signal })).id;
      this.subscriptionId = id;
    }
    try {
      if (o.transport === 'ws') yield* this.overWs(id);
      else yield* this.overSse(id);
    } finally {
      if (o.deleteOnClose ?? created) await this.deps.api.delete(this.collection, id).catch(() => undefined);
    }
  }

  /** A seq event to hand out, or undefined when the caller already has its seq. */
  private fresh(e: SubscriptionSeqEvent): SubscriptionSeqEvent | undefined {
    if (this.last !== undefined && e.seq <= this.last) return undefined;
    this.last = e.seq;
    return e;
  }

  /** What a `closed` notice means here: an error ends the iteration, undefined reconnects. */
  private closedError(c: SubscriptionClosed): ApiError | undefined {
    const message = `subscription ${c.subscription} was closed by the server: ${c.reason}`;
    if (c.reason === 'deleted') return new errorClasses.SUBSCRIPTION_NOT_FOUND({ status: 404, message });
    if (c.reason === 'collection_dropped') {
      return new errorClasses.COLLECTION_NOT_FOUND({ status: 404, message });
    }
    return undefined;
  }

  // ---------------------------------------------------------------- SSE

  private overSse(id: string): AsyncGenerator<SubscriptionSeqEvent, void, undefined> {
    const o = this.options;
    const path = `/collections/${encodeURIComponent(this.collection)}/subscriptions/${encodeURIComponent(id)}/events`;
    return resumableSse<SubscriptionSeqEvent>({
      ...this.deps.sse,
      path: () => path,
      interpret: (m) => this.interpret(m),
      lastEventId: this.last === undefined ? undefined : String(this.last),
      backoff: o.backoff,
      maxConsecutiveFailures: o.maxConsecutiveFailures,
      idleTimeoutMs: o.idleTimeoutMs,
      signal: o.signal,
    });
  }

  private interpret(m: SseMessage): SseStep<SubscriptionSeqEvent> {
    let data: SubscriptionEvent;
    try {
      data = parseJson(m.data) as SubscriptionEvent;
    } catch (e) {
      return {
        kind: 'fail',
        error: new ProtocolError(`subscription: bad event data (${(e as Error).message})`),
      };
    }
    if (SEQ_EVENTS.has(m.event)) {
      const e = this.fresh(data as SubscriptionSeqEvent);
      return e ? { kind: 'item', item: e, lastEventId: String(e.seq) } : { kind: 'skip' };
    }
    if (m.event === 'lagged' || m.event === 'closed') {
      const notice = data as SubscriptionLagged | SubscriptionClosed;
      this.options.onNotice?.(notice);
      const error = notice.event === 'closed' ? this.closedError(notice) : undefined;
      // Any other `closed` ends the response: resumable-sse reconnects from the last seq handed out.
      if (error) return { kind: 'fail', error };
    }
    return { kind: 'skip' };
  }

  // ---------------------------------------------------------------- WebSocket

  private async *overWs(id: string): AsyncGenerator<SubscriptionSeqEvent, void, undefined> {
    const o = this.options;
    const maxBuffer = o.maxBuffer ?? 10_000;
    const backoff = o.backoff ?? { baseMs: 100, capMs: 5_000 };
    const maxFailures = o.maxConsecutiveFailures ?? 20;
    let failures = 0;
    while (!o.signal?.aborted) {
      const queue: SubscriptionSeqEvent[] = [];
      let wake: (() => void) | undefined;
      /** This connection is over for us: closed, cut by the server, or dropped for a slow caller. */
      let done = false;
      let failure: SurgeClientError | undefined;
      const notify = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const stop = () => {
        done = true;
        notify();
      };
      o.signal?.addEventListener('abort', stop, { once: true });
      let session: WsSession | undefined;
      try {
        session = await this.deps.session(this.collection, {
          onClose: stop,
          onUnsolicited: (frame) => {
            const f = frame as SubscriptionEvent;
            if (done || f?.subscription !== id) return;
            if (SEQ_EVENTS.has(f.event)) {
              queue.push(f as SubscriptionSeqEvent);
              // No backpressure on a WebSocket: past the bound, drop this connection and re-attach later
              // from the last seq handed out (what a `lagged` does on the server's side).
              if (queue.length > maxBuffer) void session?.close();
            } else if (f.event === 'lagged' || f.event === 'closed') {
              o.onNotice?.(f);
              if (f.event === 'closed') {
                failure = this.closedError(f);
                stop();
                return;
              }
            }
            notify();
          },
        });
        await session.subscribe(id, this.last);
        failures = 0;
        for (;;) {
          while (queue.length > 0) {
            const e = this.fresh(queue.shift()!);
            if (e) yield e;
          }
          if (failure) throw failure;
          if (done || o.signal?.aborted) break;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        // The server detached us (`closed` with shutdown/too_slow/error) or the caller was too slow:
        // re-attach at once from the last seq handed out.
      } catch (e) {
        if (o.signal?.aborted) return;
        const err = e as SurgeClientError;
        if (!('retryable' in (err as object)) || !err.retryable) throw e;
        if (++failures > maxFailures) throw e;
        try {
          await sleep(retryDelay(failures - 1, backoff, this.deps.random, err.retryAfterMs), o.signal);
        } catch {
          return;
        }
      } finally {
        o.signal?.removeEventListener('abort', stop);
        await session?.close().catch(() => undefined);
      }
    }
  }
}
