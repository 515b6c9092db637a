/**
 * Standing queries on the collection WebSocket: `{"op": "subscribe", …}` creates a subscription (the body
 * of POST …/subscriptions) or, with `"subscription": "<id>"`, attaches an existing one, resuming after
 * `last_seq`; its events then arrive as frames `{"subscription", "event", "seq", …}` — the SSE data.
 * `{"op": "unsubscribe", "subscription": "<id>", "delete"?: true}` detaches it (and deletes it).
 * Many subscriptions share one connection; each has its own bounded queue, and the socket's send buffer
 * is the shared backpressure signal.
 */
import type { FastifyInstance } from 'fastify';
import { SurgeError } from '../../../protocol/errors.js';
import type { Delivery, OutgoingEvent, Sink } from '../../../subscriptions/index.js';
import { stringifyJson } from '../../json.js';

/** What we use of a `ws` WebSocket. */
export interface EventSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string, cb?: (err?: Error) => void): void;
}

const OPEN = 1;
/** A sink reports "full" above this many bytes waiting in the socket, and drained below a quarter of it. */
const EVENTS_HIGH = 1 << 20;

export class WsSubscriptions {
  private readonly deliveries = new Map<string, Delivery>();
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly app: FastifyInstance,
    private readonly socket: EventSocket,
    private readonly tenant: string,
    private readonly name: string,
  ) {}

  handles(op: unknown): boolean {
    return op === 'subscribe' || op === 'unsubscribe';
  }

  async handle(frame: Record<string, unknown>): Promise<unknown> {
    const service = this.app.subscriptions;
    const collection = (await service.collectionInfo(this.name)).name;
    if (frame.op === 'unsubscribe') {
      const id = subscriptionId(frame.subscription);
      const d = this.deliveries.get(id);
      if (!d && frame.delete !== true) {
        throw new SurgeError(
          'SUBSCRIPTION_NOT_FOUND',
          `subscription ${JSON.stringify(id)} is not attached to this connection`,
        );
      }
      d?.detach();
      this.deliveries.delete(id);
      if (frame.delete === true) await service.delete(this.tenant, collection, id);
      return true;
    }
    const { id: _frameId, op: _op, subscription, last_seq, ...body } = frame;
    const after = lastSeq(last_seq);
    let id: string;
    let seq: number;
    if (subscription !== undefined) {
      id = subscriptionId(subscription);
      seq = service.get(this.tenant, collection, id).seq;
    } else {
      ({ id, seq } = await service.create(this.tenant, collection, body));
    }
    if (this.closed) return { subscription: id, seq };
    if (this.deliveries.has(id)) {
      throw new SurgeError('INVALID_REQUEST', `subscription ${id} is already attached to this connection`);
    }
    const d = service.attach(this.tenant, collection, id, new WsSink(this, id));
    this.deliveries.set(id, d);
    // After the answer frame, which the caller sends when this promise settles.
    setImmediate(() => {
      if (!d.closed) d.start(after);
    });
    return { subscription: id, seq };
  }

  send(e: OutgoingEvent): boolean {
    if (this.closed || this.socket.readyState !== OPEN) return true;
    this.socket.send(stringifyJson(e), () => this.sent());
    return this.socket.bufferedAmount < EVENTS_HIGH;
  }

  onDrain(cb: () => void): void {
    if (this.closed || this.socket.readyState !== OPEN) cb();
    else this.waiters.push(cb);
  }

  ended(id: string): void {
    this.deliveries.delete(id);
  }

  isClosed(id: string): boolean {
    return this.closed || this.socket.readyState !== OPEN || !this.deliveries.has(id);
  }

  private sent(): void {
    if (this.waiters.length > 0 && this.socket.bufferedAmount < EVENTS_HIGH / 4) this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const cb of w) cb();
  }

  /** The socket closed: every delivery on it ends (the subscriptions stay; clients re-attach). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.deliveries.values()) d.detach();
    this.deliveries.clear();
    this.wake();
  }
}

class WsSink implements Sink {
  readonly transport = 'ws';
  constructor(
    private readonly conn: WsSubscriptions,
    private readonly id: string,
  ) {}
  send(e: OutgoingEvent): boolean {
    return this.conn.send(e);
  }
  onDrain(cb: () => void): void {
    this.conn.onDrain(cb);
  }
  end(): void {
    this.conn.ended(this.id);
  }
  get closed(): boolean {
    return this.conn.isClosed(this.id);
  }
}

function subscriptionId(v: unknown): string {
  if (typeof v !== 'string' || v === '') {
    throw new SurgeError('INVALID_REQUEST', 'frame.subscription must be a subscription id (a string)');
  }
  return v;
}

function lastSeq(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new SurgeError('INVALID_REQUEST', 'frame.last_seq must be an integer >= 0');
  }
  return v;
}
