/**
 * surgevec's pipelined WebSocket (`GET /collections/{c}/ws`, src/server/routes/stream/ws.ts): frames
 * `{"id", "op", …REST body}` answered by `{"id", "result"}` or `{"id", "error": {code}}`, out of order.
 * `connections` sockets per (collection, api key) — the key is a header of the upgrade, so tenants cannot
 * share a socket — each with up to `pipelining` frames open. A closed socket fails its open requests
 * (WS_CLOSED) and is reopened by the next send, so a restarted server is picked up again.
 */
import { WebSocket } from 'undici';
import { errors, isErrorCode } from '../../protocol/errors.js';
import { networkCode, type Outcome, type Transport, type WireRequest } from './transport.js';

export interface WebSocketTransportOptions {
  target: string;
  connections: number;
  pipelining: number;
  timeoutMs: number;
}

interface Pending {
  resolve: (o: Outcome) => void;
  deadline: number;
  wantResult: boolean;
}

type SocketState = 'connecting' | 'open' | 'closed';

class Conn {
  state: SocketState = 'connecting';
  readonly pending = new Map<number, Pending>();
  private readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, apiKey: string | undefined) {
    this.ws = new WebSocket(url, apiKey === undefined ? undefined : { headers: { 'api-key': apiKey } });
    this.opened = new Promise<void>((resolve, reject) => {
      this.ws.addEventListener('open', () => {
        this.state = 'open';
        resolve();
      });
      this.ws.addEventListener('error', (ev) => {
        if (this.state === 'connecting')
          reject((ev as unknown as { error?: unknown }).error ?? new Error('WebSocket failed'));
      });
    });
    this.opened.catch(() => {});
    this.ws.addEventListener('close', () => {
      this.state = 'closed';
      for (const p of this.pending.values()) p.resolve({ status: 0, code: 'WS_CLOSED' });
      this.pending.clear();
    });
    this.ws.addEventListener('message', (ev) => this.onMessage(ev.data));
  }

  private onMessage(data: unknown): void {
    let frame: { id?: unknown; result?: unknown; error?: { code?: unknown } };
    try {
      frame = JSON.parse(typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer).toString('utf8'));
    } catch {
      return;
    }
    const p = typeof frame.id === 'number' ? this.pending.get(frame.id) : undefined;
    if (!p) return;
    this.pending.delete(frame.id as number);
    if (frame.error) {
      const code = typeof frame.error.code === 'string' ? frame.error.code : 'WS_ERROR';
      p.resolve({ status: isErrorCode(code) ? errors[code].status : 500, code });
      return;
    }
    p.resolve(p.wantResult ? { status: 200, result: frame.result } : { status: 200 });
  }

  send(text: string): void {
    this.ws.send(text);
  }

  close(): void {
    this.ws.close();
  }
}

export class WebSocketTransport implements Transport {
  readonly kind = 'websocket' as const;
  readonly capacity: number;
  private readonly groups = new Map<string, Conn[]>();
  private readonly next = new Map<string, number>();
  private nextId = 1;
  private readonly sweeper: NodeJS.Timeout;
  private readonly base: string;

  constructor(private readonly o: WebSocketTransportOptions) {
    this.capacity = o.connections * o.pipelining;
    const url = new URL(o.target);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.base = url.href.replace(/\/+$/, '');
    // One sweep instead of one timer per frame: deadlines are checked every 50 ms.
    this.sweeper = setInterval(() => this.sweep(), 50);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = performance.now();
    for (const conns of this.groups.values()) {
      for (const c of conns) {
        for (const [id, p] of c.pending) {
          if (p.deadline <= now) {
            c.pending.delete(id);
            p.resolve({ status: 0, code: 'TIMEOUT' });
          }
        }
      }
    }
  }

  private conn(collection: string, apiKey: string | undefined): Conn {
    const key = `${collection}\n${apiKey ?? ''}`;
    let conns = this.groups.get(key);
    if (!conns) {
      conns = [];
      this.groups.set(key, conns);
    }
    const i = (this.next.get(key) ?? 0) % this.o.connections;
    this.next.set(key, i + 1);
    let c = conns[i];
    if (!c || c.state === 'closed') {
      c = new Conn(`${this.base}/collections/${encodeURIComponent(collection)}/ws`, apiKey);
      conns[i] = c;
    }
    return c;
  }

  async send(req: WireRequest): Promise<Outcome> {
    const c = this.conn(req.collection, req.apiKey);
    try {
      await c.opened;
    } catch (e) {
      return { status: 0, code: networkCode(e) === 'NETWORK_ERROR' ? 'WS_CONNECT_FAILED' : networkCode(e) };
    }
    if (c.state !== 'open') return { status: 0, code: 'WS_CLOSED' };
    const id = this.nextId++;
    const op = req.op === 'upsert' ? `"op":"upsert","wait":${req.wait === true}` : '"op":"search"';
    const frame = `{"id":${id},${op},${req.body.slice(1)}`;
    return new Promise<Outcome>((resolve) => {
      c.pending.set(id, {
        resolve,
        deadline: performance.now() + this.o.timeoutMs,
        wantResult: req.wantResult === true,
      });
      try {
        c.send(frame);
      } catch (e) {
        c.pending.delete(id);
        resolve({ status: 0, code: networkCode(e) });
      }
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const conns of this.groups.values()) for (const c of conns) c.close();
    this.groups.clear();
  }
}
