/**
 * The client under faults, against a fault injector: a tiny HTTP server on loopback that answers what the
 * test scripts (503 with Retry-After, reset connections) and counts what reaches it. Checks that the
 * client honours Retry-After and sends its deadline, retries only what is safe, keeps retries within the
 * budget, sheds load locally when the server refuses most requests, and opens its circuit. A scripted
 * WebSocket peer answers out of order, pushes frames nobody asked for, and holds an answer back.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { SurgeClient } from '../../src/client/client.js';
import {
  CircuitOpenError,
  ClientDeadlineExceededError,
  EngineClosedError,
  TransportError,
} from '../../src/client/errors.js';
import type { BreakerChange, RetryEvent } from '../../src/client/events.js';
import { SurgeError } from '../../src/protocol/errors.js';
import { errorBody } from '../../src/server/envelope.js';

interface Hit {
  at: number;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

type Behaviour = (hit: Hit, n: number, req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
const clients: SurgeClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function injector(behaviour: Behaviour) {
  const hits: Hit[] = [];
  const state = { behaviour };
  const server = createServer((req, res) => {
    const hit = { at: performance.now(), method: req.method!, url: req.url!, headers: req.headers };
    hits.push(hit);
    req.resume();
    req.on('end', () => state.behaviour(hit, hits.length, req, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, set: (b: Behaviour) => (state.behaviour = b) };
}

const OK_SEARCH = JSON.stringify({ result: [{ id: 1, version: 1, score: 0 }], status: 'ok', time: 0 });

function answer(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
}
const ok: Behaviour = (_h, _n, _q, res) => answer(res, 200, OK_SEARCH);
const refuse =
  (retryAfter: string): Behaviour =>
  (_h, _n, _q, res) =>
    answer(res, 503, JSON.stringify(errorBody(new SurgeError('ENGINE_CLOSED', 'busy'), 0)), {
      'retry-after': retryAfter,
    });

function client(url: string, options: ConstructorParameters<typeof SurgeClient>[0] = {}) {
  const c = new SurgeClient({ url, ...options });
  clients.push(c);
  return c;
}

const search = { vector: [1, 2], limit: 1 };

describe('Retry-After and deadlines', () => {
  it('waits the Retry-After the server asks for, and sends the remaining deadline each time', async () => {
    const inj = await injector((h, n, q, res) => (n === 1 ? refuse('1')(h, n, q, res) : ok(h, n, q, res)));
    const c = client(inj.url, { throttle: false });
    const retries: RetryEvent[] = [];
    c.events.on('retry', (e) => retries.push(e));
    const hits = await c.search('docs', search, { timeoutMs: 5_000 });
    expect(hits).toEqual([{ id: 1, version: 1, score: 0 }]);
    expect(inj.hits).toHaveLength(2);
    const gap = inj.hits[1]!.at - inj.hits[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(1_000);
    // Retry-After plus at most the first jitter window (50 ms) — and timer slack on a busy machine.
    expect(gap).toBeLessThan(2_000);
    expect(retries).toEqual([
      {
        route: '/collections/{name}/points/search',
        attempt: 1,
        delayMs: expect.any(Number),
        code: 'ENGINE_CLOSED',
      },
    ]);
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(1_000);
    // Qdrant's `timeout` (whole seconds, rounded up) and the exact milliseconds, shrinking as time passes.
    expect(new URL(inj.hits[0]!.url, 'http://x').searchParams.get('timeout')).toBe('5');
    expect(new URL(inj.hits[1]!.url, 'http://x').searchParams.get('timeout')).toBe('4');
    const ms = inj.hits.map((h) => Number(h.headers['x-surgevec-timeout-ms']));
    expect(ms[0]).toBeLessThanOrEqual(5_000);
    expect(ms[0]! - ms[1]!).toBeGreaterThanOrEqual(1_000);
  });

  it('does not wait for a Retry-After beyond the deadline: fails at once with the server’s error', async () => {
    const inj = await injector(refuse('10'));
    const c = client(inj.url, { throttle: false });
    const t0 = performance.now();
    const e = await c.search('docs', search, { timeoutMs: 2_000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EngineClosedError);
    expect((e as EngineClosedError).retryAfterMs).toBe(10_000);
    expect(inj.hits).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('what is retried', () => {
  it('retries reads after a reset connection, but not a write that may have been applied', async () => {
    const reset: Behaviour = (_h, _n, req) => req.socket.destroy();
    const inj = await injector((h, n, q, res) => (n === 1 ? reset(h, n, q, res) : ok(h, n, q, res)));
    const c = client(inj.url, { throttle: false, retry: { baseMs: 1 } });
    expect(await c.search('docs', search)).toHaveLength(1);
    expect(inj.hits).toHaveLength(2);

    inj.set(reset);
    const e = await c
      .createCollection('x', { vectors: { size: 2, distance: 'Dot' } })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).maybeProcessed).toBe(true);
    expect(inj.hits).toHaveLength(3); // one attempt only
    // A refusal (503) did no work: even the non-idempotent create is retried.
    inj.set((h, n, q, res) =>
      n === 4 ? refuse('0')(h, n, q, res) : answer(res, 200, '{"result":true,"status":"ok","time":0}'),
    );
    expect(await c.createCollection('x', { vectors: { size: 2, distance: 'Dot' } })).toBe(true);
    expect(inj.hits).toHaveLength(5);
  });

  it('retries even a non-idempotent call whose connection was refused (nothing was sent)', async () => {
    // A port nobody listens on, then a server on it 150 ms later.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    const c = client(`http://127.0.0.1:${port}`, {
      throttle: false,
      breaker: false,
      retry: { maxAttempts: 20, baseMs: 50, capMs: 100 },
    });
    let refused = 0;
    c.events.on('request', (e) => {
      if (e.outcome === 'transport') refused++;
    });
    const hits: string[] = [];
    const late = createServer((req, res) => {
      hits.push(req.url!);
      req.resume();
      req.on('end', () => answer(res, 200, '{"result":true,"status":"ok","time":0}'));
    });
    servers.push(late);
    setTimeout(() => late.listen(port, '127.0.0.1'), 150);
    expect(
      await c.createCollection('x', { vectors: { size: 2, distance: 'Dot' } }, { timeoutMs: 5_000 }),
    ).toBe(true);
    expect(refused).toBeGreaterThan(0);
    expect(hits).toHaveLength(1);
  });
});

describe('overload: a 503 storm', () => {
  const CALLS = 400;

  async function storm(options: ConstructorParameters<typeof SurgeClient>[0], calls = CALLS) {
    const inj = await injector(refuse('0'));
    const c = client(inj.url, { breaker: false, retry: { baseMs: 1, capMs: 2 }, ...options });
    let retries = 0;
    let throttled = 0;
    c.events.on('retry', () => retries++);
    c.events.on('throttled', () => throttled++);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < calls; i++) {
      const e = await c.search('docs', search).catch((x: unknown) => x as Error);
      const name = (e as Error).constructor.name;
      outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
    }
    return { hits: inj.hits.length, retries, throttled, outcomes };
  }

  it('without a budget, every call would make 4 attempts', async () => {
    const r = await storm({ throttle: false, retryBudget: false }, 100);
    expect(r.hits).toBe(100 * 4);
  });

  it('the retry budget keeps retries within 10% of calls (+ the per-window floor)', async () => {
    const r = await storm({ throttle: false });
    expect(r.retries).toBeLessThanOrEqual(Math.max(10, 0.1 * CALLS));
    expect(r.hits).toBe(CALLS + r.retries);
    expect(r.hits).toBeLessThanOrEqual(CALLS * 1.1);
    console.log(
      `storm, budget only: ${CALLS} calls → ${r.hits} requests reached the server (${r.retries} retries)`,
    );
  });

  it('adaptive throttling sheds the storm locally: few requests reach the server', async () => {
    const r = await storm({});
    expect(r.outcomes.get('ThrottledError')).toBeGreaterThan(CALLS * 0.9);
    expect(r.hits).toBeLessThan(CALLS * 0.1);
    console.log(
      `storm, budget + throttle: ${CALLS} calls → ${r.hits} requests reached the server, ${r.throttled} rejected locally`,
    );
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, fails fast without touching the server, and closes after a good probe', async () => {
    const inj = await injector(refuse('0'));
    const c = client(inj.url, {
      throttle: false,
      retry: false,
      breaker: { failureThreshold: 3, cooldownMs: 200 },
    });
    const changes: BreakerChange[] = [];
    c.events.on('breaker', (e) => changes.push(e));
    const errors: unknown[] = [];
    for (let i = 0; i < 10; i++) errors.push(await c.search('docs', search).catch((x: unknown) => x));
    expect(inj.hits).toHaveLength(3);
    expect(errors.slice(0, 3).every((e) => e instanceof EngineClosedError)).toBe(true);
    expect(errors.slice(3).every((e) => e instanceof CircuitOpenError)).toBe(true);
    expect((errors[3] as CircuitOpenError).retryAfterMs).toBeGreaterThan(150);
    await new Promise((r) => setTimeout(r, 220));
    inj.set(ok);
    expect(await c.search('docs', search)).toHaveLength(1);
    expect(changes.map((e) => `${e.from}>${e.to}`)).toEqual([
      'closed>open',
      'open>half_open',
      'half_open>closed',
    ]);
    expect(inj.hits).toHaveLength(4);
  });

  it('an idempotent call waits out a short open circuit within its deadline instead of failing', async () => {
    const inj = await injector(refuse('0'));
    const c = client(inj.url, {
      throttle: false,
      retry: { maxAttempts: 10, baseMs: 1, capMs: 5 },
      breaker: { failureThreshold: 2, cooldownMs: 100 },
    });
    setTimeout(() => inj.set(ok), 50);
    expect(await c.search('docs', search, { timeoutMs: 3_000 })).toHaveLength(1);
  });
});

describe('WebSocket session against a scripted peer', () => {
  it('matches out-of-order answers, hands on unsolicited frames, keeps a timed-out slot until answered', async () => {
    const app = Fastify();
    await app.register(websocket);
    let sockets = 0;
    app.get('/collections/c/ws', { websocket: true }, (socket) => {
      sockets++;
      const held: { id: number }[] = [];
      socket.on('message', (data: Buffer) => {
        const f = JSON.parse(String(data)) as { id: number; op: string; limit: number };
        if (f.op === 'query') {
          held.push(f); // answered only when a search with limit 99 arrives
          return;
        }
        socket.send(JSON.stringify({ subscription: 's1', event: 'match', seq: f.id }));
        if (f.limit === 99)
          for (const h of held.splice(0)) socket.send(JSON.stringify({ id: h.id, result: { points: [] } }));
        // Later requests first: answers come back in reverse order of a burst.
        setTimeout(
          () => socket.send(JSON.stringify({ id: f.id, result: [{ id: f.limit, version: 0, score: 0 }] })),
          50 - f.limit * 5,
        );
      });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    try {
      const c = client(`http://127.0.0.1:${port}`);
      const pushed: unknown[] = [];
      const s = await c.session('c', { maxInFlight: 4, onUnsolicited: (f) => pushed.push(f) });
      const answers = await Promise.all([1, 2, 3].map((limit) => s.search({ vector: [1], limit })));
      expect(answers.map((a) => a[0]!.id)).toEqual([1, 2, 3]);
      expect(pushed).toHaveLength(3);
      expect(pushed[0]).toMatchObject({ subscription: 's1', event: 'match' });

      const t0 = performance.now();
      await expect(s.query({ limit: 1 }, { timeoutMs: 100 })).rejects.toBeInstanceOf(
        ClientDeadlineExceededError,
      );
      expect(performance.now() - t0).toBeLessThan(400);
      expect(s.inFlight).toBe(1); // the server still counts it open
      await s.search({ vector: [1], limit: 99 }); // releases the held answer
      expect(s.inFlight).toBe(0);
      expect(sockets).toBe(1);
    } finally {
      await app.close();
    }
  });
});
