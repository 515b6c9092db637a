/**
 * A WebSocket session (`GET /collections/{name}/ws`): many requests on one connection, pipelined — sent
 * without waiting for earlier answers — and matched to their answers by id, in whatever order they come.
 *
 * The server allows `server.ws_max_in_flight` (default 64) open requests per connection and refuses the
 * rest with TOO_MANY_IN_FLIGHT; the session queues beyond `maxInFlight` locally instead. A request whose
 * deadline passes is rejected at once, but keeps its slot until the server answers it, since the server
 * still counts it open. A session does not reconnect by itself: when the connection closes, every open
 * request fails with a TransportError and the session is `closed`; open a new one.
 */
import { WebSocket } from 'undici';
import { parseJson, stringifyJson } from '../../protocol/json.js';
import type { WsSubscribed } from '../../protocol/subscriptions.js';
import type {
  PointsSelector,
  QueryRequest,
  SearchRequest,
  UpsertRequest,
  WsAnswer,
  WsOp,
  WsResults,
} from '../../protocol/wire.js';
import type { Clock } from '../clock.js';
import { apiErrorFromStream, type SurgeClientError, TransportError } from '../errors.js';
import { Deadline } from '../policy/deadline.js';

export type SessionState = 'connecting' | 'open' | 'closed';

export interface SessionOptions {
  /** Requests open at once on the connection. Default 64 (the server's default cap). */
  maxInFlight?: number;
  /** Default deadline of each request, ms. Default: the client's. */
  timeoutMs?: number;
  /**
   * Frames that answer none of this session's requests — pushed by the server on its own, like the
   * events of a standing query attached to this connection. The extension point for subscriptions over
   * the WebSocket; without it such frames are dropped.
   */
  onUnsolicited?: (frame: unknown) => void;
  /** The connection closed (by either side); open requests have failed. */
  onClose?: (why: string) => void;
}

export interface SessionCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Open {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** Rejected locally (deadline): the answer, when it comes, only frees the slot. */
  abandoned: boolean;
}

export class WsSession {
  private current: SessionState = 'connecting';
  private readonly open = new Map<number, Open>();
  private readonly queue: { go: () => void; fail: (e: unknown) => void }[] = [];
  private nextId = 0;
  /** Slots granted: requests sent and not answered, plus ones granted a slot and about to send. */
  private used = 0;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly onUnsolicited: ((frame: unknown) => void) | undefined;
  private readonly onClosed: ((why: string) => void) | undefined;

  private constructor(
    private readonly ws: WebSocket,
    private readonly url: string,
    private readonly clock: Clock,
    defaultTimeoutMs: number,
    options: SessionOptions,
  ) {
    this.maxInFlight = options.maxInFlight ?? 64;
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.onUnsolicited = options.onUnsolicited;
    this.onClosed = options.onClose;
  }

  static async connect(
    url: string,
    headers: Record<string, string>,
    clock: Clock,
    defaultTimeoutMs: number,
    options: SessionOptions = {},
  ): Promise<WsSession> {
    const ws = new WebSocket(url, { headers });
    const session = new WsSession(ws, url, clock, defaultTimeoutMs, options);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', (ev) => {
        const cause = (ev as { error?: unknown }).error;
        reject(new TransportError(`${url}: the WebSocket did not open`, false, url, { cause }));
      });
    });
    session.current = 'open';
    ws.addEventListener('message', (ev) => session.onMessage(ev.data));
    ws.addEventListener('close', (ev) =>
      session.onClose(`closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`),
    );
    return session;
  }

  get state(): SessionState {
    return this.current;
  }

  /** Requests sent and not yet answered (including abandoned ones, which still hold their slot). */
  get inFlight(): number {
    return this.open.size;
  }

  upsert(request: UpsertRequest, options: SessionCallOptions & { wait?: boolean } = {}) {
    const { wait, ...call } = options;
    return this.request('upsert', { ...request, ...(wait !== undefined ? { wait } : {}) }, call);
  }

  search(request: SearchRequest, options: SessionCallOptions = {}) {
    return this.request('search', request, options);
  }

  query(request: QueryRequest, options: SessionCallOptions = {}) {
    return this.request('query', request, options);
  }

  delete(selector: PointsSelector, options: SessionCallOptions & { wait?: boolean } = {}) {
    const { wait, ...call } = options;
    return this.request('delete', { ...selector, ...(wait !== undefined ? { wait } : {}) }, call);
  }

  /**
   * Attaches an existing standing query to this connection, resuming after `lastSeq`; its events arrive
   * through `onUnsolicited` (streams/subscription.ts builds a resumable iterator on this).
   */
  subscribe(subscription: string, lastSeq?: number, options: SessionCallOptions = {}): Promise<WsSubscribed> {
    const fields = { subscription, ...(lastSeq !== undefined ? { last_seq: lastSeq } : {}) };
    // Not a WsOp of wire.ts: its answer type is protocol/subscriptions.ts's.
    return this.request('subscribe' as WsOp, fields, options) as Promise<unknown> as Promise<WsSubscribed>;
  }

  /** Detaches a standing query from this connection (and deletes it with `del`). */
  unsubscribe(subscription: string, del = false, options: SessionCallOptions = {}): Promise<boolean> {
    return this.request(
      'unsubscribe' as WsOp,
      { subscription, delete: del },
      options,
    ) as Promise<unknown> as Promise<boolean>;
  }

  /** Closes the connection; open requests fail with a TransportError. */
  async close(): Promise<void> {
    if (this.current === 'closed') return;
    const closed = new Promise<void>((r) => this.ws.addEventListener('close', () => r(), { once: true }));
    this.ws.close(1000, 'client closed the session');
    await closed;
  }

  private async request<Op extends WsOp>(
    op: Op,
    fields: object,
    options: SessionCallOptions,
  ): Promise<WsResults[Op]> {
    const deadline = new Deadline(this.clock, options.timeoutMs ?? this.timeoutMs, options.signal);
    try {
      await this.slot(deadline);
      if (this.current !== 'open') throw this.closedError();
      const id = ++this.nextId;
      return await new Promise<WsResults[Op]>((resolve, reject) => {
        const entry: Open = { resolve: resolve as (v: unknown) => void, reject, abandoned: false };
        this.open.set(id, entry);
        const onAbort = () => {
          entry.abandoned = true;
          reject(deadline.signal.reason);
        };
        deadline.signal.addEventListener('abort', onAbort, { once: true });
        this.ws.send(stringifyJson({ ...fields, id, op }));
      });
    } finally {
      deadline.dispose();
    }
  }

  /** Waits for a free in-flight slot (FIFO), or fails when the deadline passes first. */
  private slot(deadline: Deadline): Promise<void> {
    if (this.current !== 'open') return Promise.reject(this.closedError());
    if (this.used < this.maxInFlight && this.queue.length === 0) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        go: () => {
          deadline.signal.removeEventListener('abort', onAbort);
          resolve();
        },
        fail: reject,
      };
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i !== -1) this.queue.splice(i, 1);
        reject(deadline.signal.reason);
      };
      deadline.signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private onMessage(data: unknown): void {
    let answer: WsAnswer;
    try {
      answer = parseJson(String(data)) as WsAnswer;
    } catch {
      return;
    }
    const id = answer?.id;
    const entry = typeof id === 'number' ? this.open.get(id) : undefined;
    if (!entry) {
      this.onUnsolicited?.(answer);
      return;
    }
    this.open.delete(id as number);
    this.used--;
    if (!entry.abandoned) {
      if (answer.error) entry.reject(apiErrorFromStream(answer.error, this.url));
      else entry.resolve(answer.result);
    }
    while (this.queue.length > 0 && this.used < this.maxInFlight) {
      this.used++;
      this.queue.shift()!.go();
    }
  }

  private onClose(why: string): void {
    this.current = 'closed';
    const err = this.closedError(why);
    for (const entry of this.open.values()) if (!entry.abandoned) entry.reject(err);
    this.open.clear();
    this.used = 0;
    for (const w of this.queue.splice(0)) w.fail(err);
    this.onClosed?.(why);
  }

  private closedError(why = 'closed'): SurgeClientError {
    return new TransportError(`${this.url}: the WebSocket session is ${why}`, true, this.url);
  }
}
