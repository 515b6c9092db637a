/**
 * HTTP/1.1 (undici Pool: `connections` sockets, optional pipelining) and HTTP/2 (h2c by prior knowledge for
 * http:// targets — what `surgevec serve --http2` speaks — or h2 over TLS) on Qdrant's REST paths.
 * Capacity = connections × pipelining (HTTP/2: streams per session), so the generator, not undici's hidden
 * queue, holds requests waiting for a connection: their wait is visible as queueing, not as service time.
 */
import { connect } from 'node:http2';
import { Pool } from 'undici';
import { SurgeError } from '../../protocol/errors.js';
import {
  envelopeMs,
  errorCode,
  networkCode,
  type Outcome,
  parseRetryAfter,
  type Transport,
  type WireRequest,
} from './transport.js';

export interface HttpTransportOptions {
  target: string;
  kind: 'http1' | 'http2';
  connections: number;
  pipelining: number;
  timeoutMs: number;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

function route(req: WireRequest): { method: 'POST' | 'PUT'; path: string } {
  const c = encodeURIComponent(req.collection);
  switch (req.op) {
    case 'search':
      return { method: 'POST', path: `/collections/${c}/points/search` };
    case 'search_batch':
      return { method: 'POST', path: `/collections/${c}/points/search/batch` };
    case 'upsert':
      return { method: 'PUT', path: `/collections/${c}/points?wait=${req.wait === true}` };
  }
}

export class HttpTransport implements Transport {
  readonly kind: 'http1' | 'http2';
  /** Per API key: each tenant is its own client with its own `connections` (as on WebSocket). */
  readonly capacity: number;
  private readonly pools = new Map<string, Pool>();
  private readonly prefix: string;
  private readonly origin: string;

  constructor(private readonly o: HttpTransportOptions) {
    this.kind = o.kind;
    this.capacity = o.connections * o.pipelining;
    const url = new URL(o.target);
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.origin = url.origin;
  }

  private pool(apiKey: string | undefined): Pool {
    const key = apiKey ?? '';
    let pool = this.pools.get(key);
    if (pool) return pool;
    const o = this.o;
    const common = {
      connections: o.connections,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      connectTimeout: Math.min(o.timeoutMs, 10_000),
    };
    if (o.kind === 'http1') {
      pool = new Pool(this.origin, { ...common, pipelining: o.pipelining });
    } else {
      // h2c (prior knowledge) for http://, ALPN h2 for https://. A Pool's own connector must be told: a
      // factory of H2CClients would be handed the Pool's plain HTTP/1.1 connector and speak h1.
      pool = new Pool(this.origin, {
        ...common,
        allowH2: true,
        // undici's types lack `useH2c` (a runtime option of its connector since 7.x).
        connect: {
          useH2c: this.origin.startsWith('http:'),
        } as Record<string, unknown> as Pool.Options['connect'],
        pipelining: o.pipelining,
        maxConcurrentStreams: o.pipelining,
      });
    }
    this.pools.set(key, pool);
    return pool;
  }

  async send(req: WireRequest): Promise<Outcome> {
    const { method, path } = route(req);
    try {
      const res = await this.pool(req.apiKey).request({
        method,
        path: this.prefix + path,
        headers: req.apiKey === undefined ? JSON_HEADERS : { ...JSON_HEADERS, 'api-key': req.apiKey },
        body: req.body,
      });
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        if (req.wantResult) {
          const j = (await res.body.json()) as { result?: unknown };
          return { status, result: j.result };
        }
        await res.body.dump({ limit: 1 << 20 });
        return { status };
      }
      const text = await res.body.text();
      const retryAfterS = parseRetryAfter(res.headers['retry-after']);
      const serverMs = envelopeMs(text);
      return {
        status,
        code: errorCode(status, text),
        ...(retryAfterS === undefined ? {} : { retryAfterS }),
        ...(serverMs === undefined ? {} : { serverMs }),
      };
    } catch (e) {
      return { status: 0, code: networkCode(e) };
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy()));
  }
}

/**
 * Whether `target` speaks HTTP/2 (h2c by prior knowledge on http://, ALPN h2 on https://), asked with
 * node:http2 before any load: undici throws from an event handler — uncatchable — when an h2c session to an
 * HTTP/1.1-only server dies under queued requests.
 */
export async function checkHttp2(target: string, timeoutMs = 5000): Promise<void> {
  const ok = await new Promise<boolean>((resolve) => {
    const session = connect(target, { rejectUnauthorized: false });
    const done = (v: boolean) => {
      clearTimeout(timer);
      session.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    session.once('remoteSettings', () => done(true));
    session.once('error', () => done(false));
    session.once('close', () => done(false));
  });
  if (!ok) {
    throw new SurgeError(
      'TARGET_UNREACHABLE',
      `${target} does not speak HTTP/2 (${target.startsWith('https:') ? 'no h2 by ALPN' : 'h2c by prior knowledge'}): ` +
        'start it with `surgevec serve --http2`, or use --transport http1',
    );
  }
}
