/**
 * Standing queries over real sockets: REST management and its catalogue errors, SSE delivery with resume
 * (Last-Event-ID) and a `reset` beyond the WAL's retention, the WebSocket's subscribe/unsubscribe, slow
 * consumers (a stalled client gets `lagged` and catches up, or is closed as `too_slow`, while writers and
 * other clients go on). The restart of a real `surgevec serve` is in subscriptions-restart.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { request, WebSocket } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConfigOptions, defaultConfig } from '../../src/config/index.js';
import { Engine, type EngineApi, WorkerEngine } from '../../src/engine/index.js';
import { parseJson } from '../../src/protocol/json.js';
import { buildApp } from '../../src/server/app.js';

/** Parsed JSON, read field by field in assertions. */
type Json = ReturnType<typeof JSON.parse>;
const root = mkdtempSync(join(tmpdir(), 'surgevec-subs-server-'));
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;

interface Served {
  app: FastifyInstance;
  engine: EngineApi;
  base: string;
}

async function serve(options: ConfigOptions = {}, kind: 'engine' | 'worker' = 'engine'): Promise<Served> {
  const config = defaultConfig({
    ...options,
    storage: { data_dir: join(root, `d${dirs++}`), ...options.storage },
    engine: { hnsw: { m: 4, ef_construct: 16 }, ...options.engine },
    subscriptions: { scorer: 'main', ...options.subscriptions },
  });
  const engine = kind === 'worker' ? await WorkerEngine.open(config) : await Engine.open(config);
  cleanup.push(() => engine.close());
  const app = await buildApp({ engine, config });
  cleanup.push(async () => {
    app.server.closeAllConnections();
    await app.close();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { app, engine, base: `http://127.0.0.1:${port}` };
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: parseJson(text) as Record<string, Json> };
}

async function create(base: string, collection: string, body: unknown): Promise<{ id: string; seq: number }> {
  const r = await call(base, 'POST', `/collections/${collection}/subscriptions`, body);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.result;
}

async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = 'a condition',
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface SseEvent {
  id: string | undefined;
  event: string;
  data: Record<string, Json> | undefined;
}

/** A minimal EventSource: events as they arrive, the last id seen (heartbeat ids included). */
function sse(base: string, path: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  let lastId: string | undefined;
  let buf = '';
  let res: IncomingMessage | undefined;
  let ended = false;
  const ready = new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { headers: { accept: 'text/event-stream', ...headers } },
      (r) => {
        res = r;
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => {
          buf += chunk;
          let at = buf.indexOf('\n\n');
          while (at >= 0) {
            const block = buf.slice(0, at);
            buf = buf.slice(at + 2);
            let id: string | undefined;
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const [field, ...rest] = line.split(':');
              const value = rest.join(':').replace(/^ /, '');
              if (field === 'id') id = value;
              else if (field === 'event') event = value;
              else if (field === 'data') data.push(value);
            }
            if (id !== undefined) lastId = id;
            if (data.length > 0)
              events.push({ id, event, data: parseJson(data.join('\n')) as Record<string, Json> });
            at = buf.indexOf('\n\n');
          }
        });
        r.on('end', () => {
          ended = true;
        });
        resolve(r.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
  return {
    events,
    ready,
    get lastId() {
      return lastId;
    },
    get ended() {
      return ended;
    },
    close() {
      res?.destroy();
    },
    of(kind: string) {
      return events.filter((e) => e.event === kind);
    },
  };
}

/** Seqs of the matched points' ids, flattened: [[seq, id], …]. */
function matches(events: SseEvent[]): [number, number][] {
  return events
    .filter((e) => e.event === 'match')
    .flatMap((e) => e.data!.points.map((p: { id: number }) => [e.data!.seq, p.id] as [number, number]));
}

/** One sample of `/metrics` (0 when the series is absent): `labels` as they appear, e.g. `transport="sse"`. */
async function metric(base: string, name: string, labels = ''): Promise<number> {
  const text = await (await request(`${base}/metrics`)).body.text();
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const DIM = 4;
/** Points on the x axis match a subscription to [1,0,0,0] above 0.9; the others do not. */
const onAxis = (id: number) => ({ id, vector: [1, 0.01 * (id % 7), 0, 0], payload: { n: id } });
const offAxis = (id: number) => ({ id, vector: [0, 1, 0.2, 0], payload: { n: id } });

describe('REST management and catalogue errors', () => {
  it('creates, lists, reads and deletes subscriptions; bad input answers catalogue errors', async () => {
    const { base } = await serve({ subscriptions: { max_per_tenant: 3, max_top_k: 50 } });
    await call(base, 'PUT', '/collections/docs', { vectors: { size: DIM, distance: 'Cosine' } });
    await call(base, 'PUT', '/collections/docs/points?wait=true', { points: [onAxis(1), offAxis(2)] });
    const a = await create(base, 'docs', { vector: [1, 0, 0, 0], score_threshold: 0.9 });
    expect(a.seq).toBe(1);
    const b = await create(base, 'docs', {
      vector: [0, 1, 0, 0],
      top_k: 2,
      filter: { must: [{ key: 'n', range: { gte: 0 } }] },
      with_payload: ['n'],
    });
    const list = await call(base, 'GET', '/collections/docs/subscriptions');
    expect(list.body.result.subscriptions.map((s: { id: string }) => s.id).sort()).toEqual(
      [a.id, b.id].sort(),
    );
    const got = await call(base, 'GET', `/collections/docs/subscriptions/${b.id}`);
    expect(got.body.result).toMatchObject({
      id: b.id,
      mode: 'top_k',
      top_k: 2,
      tenant: 'default',
      collection: 'docs',
    });
    expect(got.body.result).not.toHaveProperty('vector');

    const expectError = async (
      p: Promise<{ status: number; body: Record<string, Json> }>,
      status: number,
      code: string,
    ) => {
      const r = await p;
      expect([r.status, r.body.code], JSON.stringify(r.body)).toEqual([status, code]);
      expect(typeof r.body.hint).toBe('string');
    };
    const post = (body: unknown, collection = 'docs') =>
      call(base, 'POST', `/collections/${collection}/subscriptions`, body);
    await expectError(post({ vector: [1, 0, 0], score_threshold: 0.5 }), 400, 'DIMENSION_MISMATCH');
    await expectError(post({ vector: [1, 0, 0, 'x'] }), 400, 'INVALID_VECTOR');
    await expectError(post({ vector: [1, 0, 0, 0] }, 'nope'), 404, 'COLLECTION_NOT_FOUND');
    await expectError(
      post({ vector: [1, 0, 0, 0], filter: { must: [{ key: 'n', range: { gt: 'x' } }] } }),
      400,
      'INVALID_FILTER',
    );
    await expectError(post({ vector: [1, 0, 0, 0], scor_threshold: 1 }), 400, 'INVALID_REQUEST');
    await expectError(post({ score_threshold: 1 }), 400, 'INVALID_REQUEST');
    await expectError(post({ vector: [1, 0, 0, 0], top_k: 51 }), 400, 'LIMIT_EXCEEDED');
    await expectError(post({ vector: [1, 0, 0, 0], top_k: 3, from_seq: 1 }), 400, 'INVALID_REQUEST');
    await expectError(post({ vector: [1, 0, 0, 0], from_seq: 99 }), 400, 'INVALID_REQUEST');
    await create(base, 'docs', { vector: [0, 0, 1, 0] });
    await expectError(post({ vector: [0, 0, 0, 1] }), 429, 'TOO_MANY_SUBSCRIPTIONS');
    await expectError(
      call(base, 'GET', '/collections/docs/subscriptions/nope'),
      404,
      'SUBSCRIPTION_NOT_FOUND',
    );
    await expectError(call(base, 'GET', '/collections/nope/subscriptions'), 404, 'COLLECTION_NOT_FOUND');
    await expectError(
      call(base, 'GET', '/collections/docs/subscriptions/nope/events'),
      404,
      'SUBSCRIPTION_NOT_FOUND',
    );
    const bad = await request(`${base}/collections/docs/subscriptions/${a.id}/events`, {
      headers: { 'last-event-id': 'abc' },
    });
    expect([bad.statusCode, ((await bad.body.json()) as { code: string }).code]).toEqual([
      400,
      'INVALID_REQUEST',
    ]);

    expect((await call(base, 'DELETE', `/collections/docs/subscriptions/${a.id}`)).body.result).toBe(true);
    await expectError(
      call(base, 'DELETE', `/collections/docs/subscriptions/${a.id}`),
      404,
      'SUBSCRIPTION_NOT_FOUND',
    );
    // A freed place under the limit can be used again.
    await create(base, 'docs', { vector: [0, 0, 0, 1] });
    // Another collection's subscription is not reachable through this one.
    await call(base, 'PUT', '/collections/other', { vectors: { size: DIM, distance: 'Cosine' } });
    await expectError(
      call(base, 'GET', `/collections/other/subscriptions/${b.id}`),
      404,
      'SUBSCRIPTION_NOT_FOUND',
    );
  });
});

describe('tenants (admission control on, API keys)', () => {
  it("a tenant's key lists, reads, deletes and streams only its own subscriptions; limits are per tenant", async () => {
    const KEY_A = 'tenant-a-key-0123456789';
    const KEY_B = 'tenant-b-key-0123456789';
    const { base } = await serve({
      admission: { admin_key: 'admin-key-0123456789' },
      tenants: [
        { id: 'a', tier: 'premium', keys: [KEY_A] },
        { id: 'b', tier: 'premium', keys: [KEY_B] },
      ],
      subscriptions: { max_per_tenant: 1 },
    });
    const as = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await request(`${base}${path}`, {
        method: method as 'GET',
        headers: { 'api-key': key, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.statusCode, body: parseJson(await res.body.text()) as Record<string, Json> };
    };
    expect(
      (await as(KEY_A, 'PUT', '/collections/a-docs', { vectors: { size: DIM, distance: 'Cosine' } })).status,
    ).toBe(200);
    expect(
      (await as(KEY_B, 'PUT', '/collections/b-docs', { vectors: { size: DIM, distance: 'Cosine' } })).status,
    ).toBe(200);
    const a = await as(KEY_A, 'POST', '/collections/a-docs/subscriptions', { vector: [1, 0, 0, 0] });
    expect(a.status).toBe(200);
    const id = a.body.result.id as string;
    expect((await as(KEY_A, 'GET', `/collections/a-docs/subscriptions/${id}`)).body.result.tenant).toBe('a');
    // A's limit is reached; B's is its own.
    expect(
      (await as(KEY_A, 'POST', '/collections/a-docs/subscriptions', { vector: [0, 1, 0, 0] })).body.code,
    ).toBe('TOO_MANY_SUBSCRIPTIONS');
    expect(
      (await as(KEY_B, 'POST', '/collections/b-docs/subscriptions', { vector: [0, 1, 0, 0] })).status,
    ).toBe(200);
    // B cannot reach A's collection at all, nor A's subscription through its own collection.
    expect((await as(KEY_B, 'GET', '/collections/a-docs/subscriptions')).body.code).toBe(
      'COLLECTION_NOT_FOUND',
    );
    for (const [method, path] of [
      ['GET', `/collections/b-docs/subscriptions/${id}`],
      ['DELETE', `/collections/b-docs/subscriptions/${id}`],
      ['GET', `/collections/b-docs/subscriptions/${id}/events`],
    ] as const) {
      expect((await as(KEY_B, method, path)).body.code, `${method} ${path}`).toBe('SUBSCRIPTION_NOT_FOUND');
    }
    const listB = (await as(KEY_B, 'GET', '/collections/b-docs/subscriptions')).body.result
      .subscriptions as Json[];
    expect(listB.map((x: { tenant: string }) => x.tenant)).toEqual(['b']);
    expect((await as(KEY_A, 'DELETE', `/collections/a-docs/subscriptions/${id}`)).status).toBe(200);
  });
});

describe('SSE delivery', () => {
  it('delivers matches live with id = seq, resumes after a disconnect without gap or duplicate, and replays from from_seq', async () => {
    const { base } = await serve();
    await call(base, 'PUT', '/collections/c', { vectors: { size: DIM, distance: 'Cosine' } });
    const early = await call(base, 'PUT', '/collections/c/points?wait=true', { points: [onAxis(100)] });
    const sub = await create(base, 'c', { vector: [1, 0, 0, 0], score_threshold: 0.9, with_payload: true });
    const s1 = sse(base, `/collections/c/subscriptions/${sub.id}/events`);
    expect(await s1.ready).toBe(200);
    const seqs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await call(base, 'PUT', '/collections/c/points', {
        points: [i % 2 ? offAxis(i) : onAxis(i)],
      });
      seqs.push(r.body.result.operation_id);
    }
    await waitFor(() => s1.of('match').length === 5, 5000, 'live matches');
    expect(matches(s1.events)).toEqual([0, 2, 4, 6, 8].map((id) => [seqs[id]!, id]));
    for (const e of s1.of('match')) expect(e.id).toBe(String(e.data!.seq));
    expect(s1.of('match')[0]!.data!.points[0]).toMatchObject({ id: 0, version: seqs[0], payload: { n: 0 } });
    expect(s1.of('match')[0]!.data!.points[0].score).toBeCloseTo(1, 5);
    s1.close();

    // Missed while disconnected: exactly those, once.
    const missed: number[] = [];
    for (let i = 10; i < 16; i++) {
      const r = await call(base, 'PUT', '/collections/c/points', { points: [onAxis(i)] });
      missed.push(r.body.result.operation_id);
    }
    const s2 = sse(base, `/collections/c/subscriptions/${sub.id}/events`, { 'last-event-id': s1.lastId! });
    await s2.ready;
    const more = await call(base, 'PUT', '/collections/c/points', { points: [onAxis(16)] });
    await waitFor(() => s2.of('match').length === 7, 5000, 'resumed matches');
    expect(matches(s2.events)).toEqual([
      ...missed.map((seq, i) => [seq, 10 + i]),
      [more.body.result.operation_id, 16],
    ]);
    s2.close();

    // A subscription created with from_seq replays the WAL from there; without Last-Event-ID a stream
    // starts at the subscription's own seq.
    const past = await create(base, 'c', { vector: [1, 0, 0, 0], score_threshold: 0.9, from_seq: 1 });
    expect(past.seq).toBe(0);
    const s3 = sse(base, `/collections/c/subscriptions/${past.id}/events`);
    await waitFor(() => s3.of('match').length === 13, 5000, 'replayed matches');
    expect(matches(s3.events)[0]).toEqual([early.body.result.operation_id, 100]);
    s3.close();
  });

  it('sends `reset` (with where the WAL starts) to a client that resumes beyond the WAL retention', async () => {
    const { base, engine } = await serve({ storage: { wal_segment_bytes: 1 << 16 } });
    await call(base, 'PUT', '/collections/c', { vectors: { size: DIM, distance: 'Cosine' } });
    const sub = await create(base, 'c', { vector: [1, 0, 0, 0], score_threshold: 0.9 });
    const filler = Array.from({ length: 200 }, (_, i) => offAxis(1000 + i));
    for (let i = 0; i < 30; i++) await engine.upsert('c', filler);
    const hit = await engine.upsert('c', [onAxis(7)]);
    await engine.snapshot('c');
    const oldest = (await engine.readChanges('c', 0, 1)).oldestSeq;
    expect(oldest).toBeGreaterThan(2);
    const s = sse(base, `/collections/c/subscriptions/${sub.id}/events`, { 'last-event-id': '1' });
    await waitFor(() => s.events.length >= (hit.operation_id >= oldest ? 2 : 1), 5000, 'reset');
    expect(s.events[0]).toMatchObject({
      event: 'reset',
      id: String(oldest - 1),
      data: { reason: 'beyond_retention', from_seq: 2, oldest_seq: oldest, seq: oldest - 1 },
    });
    if (hit.operation_id >= oldest) expect(matches(s.events)).toEqual([[hit.operation_id, 7]]);
    s.close();
  });

  it('starts a top-k stream with the current top-k, then sends enter/leave as points arrive and go', async () => {
    const { base } = await serve();
    await call(base, 'PUT', '/collections/c', { vectors: { size: DIM, distance: 'Euclid' } });
    await call(base, 'PUT', '/collections/c/points?wait=true', {
      points: [1, 2, 3, 4].map((i) => ({ id: i, vector: [i, 0, 0, 0] })),
    });
    const sub = await create(base, 'c', { vector: [0, 0, 0, 0], top_k: 2 });
    const s = sse(base, `/collections/c/subscriptions/${sub.id}/events`);
    await waitFor(() => s.events.length === 1, 5000, 'initial top-k');
    expect(s.events[0]).toMatchObject({ event: 'reset', id: String(sub.seq), data: { reason: 'initial' } });
    expect(s.events[0]!.data!.points.map((p: { id: number; score: number }) => [p.id, p.score])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    const w1 = await call(base, 'PUT', '/collections/c/points', {
      points: [{ id: 9, vector: [0.5, 0, 0, 0] }],
    });
    const w2 = await call(base, 'POST', '/collections/c/points/delete', { points: [1] });
    await call(base, 'PUT', '/collections/c/points', { points: [{ id: 10, vector: [50, 0, 0, 0] }] });
    const w3 = await call(base, 'PUT', '/collections/c/points', {
      points: [{ id: 9, vector: [7, 0, 0, 0] }],
    });
    await waitFor(() => s.of('topk').length === 3, 5000, 'top-k changes');
    expect(
      s.of('topk').map((e) => [Number(e.id), e.data!.enter.map((p: { id: number }) => p.id), e.data!.leave]),
    ).toEqual([
      [w1.body.result.operation_id, [9], [2]],
      [w2.body.result.operation_id, [2], [1]],
      [w3.body.result.operation_id, [3], [9]],
    ]);
    s.close();
    // Resuming inside the history replays it; from before it, a reset with the current top-k.
    const again = sse(base, `/collections/c/subscriptions/${sub.id}/events`, {
      'last-event-id': String(w1.body.result.operation_id),
    });
    await waitFor(() => again.events.length === 2, 5000, 'history replay');
    expect(again.events.map((e) => Number(e.id))).toEqual([
      w2.body.result.operation_id,
      w3.body.result.operation_id,
    ]);
    again.close();
  });
});

describe('WebSocket subscribe', () => {
  it('carries many subscriptions on one connection, resumes one after last_seq, and unsubscribes', async () => {
    const { base } = await serve({}, 'worker');
    await call(base, 'PUT', '/collections/c', { vectors: { size: DIM, distance: 'Cosine' } });
    const existing = await create(base, 'c', { vector: [0, 1, 0, 0], score_threshold: 0.9 });
    const before = await call(base, 'PUT', '/collections/c/points?wait=true', { points: [offAxis(1)] });
    const ws = new WebSocket(`${base.replace('http', 'ws')}/collections/c/ws`);
    const frames: Record<string, Json>[] = [];
    ws.addEventListener('message', (m) => frames.push(parseJson(String(m.data)) as Record<string, Json>));
    await new Promise((r) => ws.addEventListener('open', r));
    ws.send(JSON.stringify({ id: 1, op: 'subscribe', vector: [1, 0, 0, 0], score_threshold: 0.9 }));
    ws.send(JSON.stringify({ id: 2, op: 'subscribe', subscription: existing.id, last_seq: 0 }));
    ws.send(JSON.stringify({ id: 3, op: 'subscribe', subscription: 'nope' }));
    ws.send(JSON.stringify({ id: 4, op: 'subscribe', vector: [1, 0] }));
    await waitFor(() => frames.filter((f) => 'id' in f).length === 4, 5000, 'answers');
    const answer = (id: number) => frames.find((f) => f.id === id)!;
    const created = answer(1).result.subscription as string;
    expect(answer(2).result).toEqual({ subscription: existing.id, seq: existing.seq });
    expect(answer(3).error.code).toBe('SUBSCRIPTION_NOT_FOUND');
    expect(answer(4).error.code).toBe('DIMENSION_MISMATCH');
    // The existing one resumed after last_seq 0: the point written before the connection.
    await waitFor(
      () => frames.some((f) => f.subscription === existing.id && f.event === 'match'),
      5000,
      'replayed',
    );
    const w = await call(base, 'PUT', '/collections/c/points', { points: [onAxis(5), offAxis(6)] });
    await waitFor(() => frames.filter((f) => f.event === 'match').length === 3, 5000, 'live frames');
    const events = frames
      .filter((f) => f.event === 'match')
      .map((f) => [f.subscription, f.seq, f.points.map((p: { id: number }) => p.id)])
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    expect(events).toEqual(
      [
        [existing.id, before.body.result.operation_id, [1]],
        [created, w.body.result.operation_id, [5]],
        [existing.id, w.body.result.operation_id, [6]],
      ].sort((a, b) => (a[1] as number) - (b[1] as number) || (a[0]! < b[0]! ? -1 : 1)),
    );
    // The answer frame of a subscribe comes before its first event.
    expect(frames.findIndex((f) => f.id === 2)).toBeLessThan(
      frames.findIndex((f) => f.subscription === existing.id),
    );

    ws.send(JSON.stringify({ id: 5, op: 'unsubscribe', subscription: created, delete: true }));
    await waitFor(() => frames.some((f) => f.id === 5), 5000, 'unsubscribe');
    expect(answer(5).result).toBe(true);
    await call(base, 'PUT', '/collections/c/points?wait=true', { points: [onAxis(7)] });
    await new Promise((r) => setTimeout(r, 100));
    expect(frames.filter((f) => f.subscription === created && f.seq > w.body.result.operation_id)).toEqual(
      [],
    );
    expect((await call(base, 'GET', `/collections/c/subscriptions/${created}`)).status).toBe(404);
    ws.close();
  });
});

describe('slow consumers', () => {
  /**
   * An SSE client that sends its request and does not read, so the server's socket buffers fill. HTTP/1.0:
   * no chunked encoding, the stream is the SSE text as written.
   */
  async function stalled(base: string, path: string) {
    const u = new URL(base);
    const socket: Socket = await new Promise((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => resolve(s));
    });
    socket.write(`GET ${path} HTTP/1.0\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
    socket.pause();
    let text = '';
    let closed = false;
    return {
      socket,
      read() {
        socket.setEncoding('utf8');
        socket.on('data', (c: string) => {
          text += c;
        });
        socket.on('close', () => {
          closed = true;
        });
        socket.resume();
      },
      get text() {
        return text;
      },
      get closed() {
        return closed;
      },
    };
  }

  // Loopback sockets buffer megabytes: 300 events of 64 KB are what it takes to back them up.
  const big = 'x'.repeat(64_000);
  const count = (text: string, re: RegExp) => [...text.matchAll(re)].length;

  it('a stalled client is told `lagged` and catches up from the WAL; writers and other clients never wait', async () => {
    const { base, engine } = await serve({ subscriptions: { buffer_events: 20, max_lags: 5 } });
    await call(base, 'PUT', '/collections/c', { vectors: { size: DIM, distance: 'Cosine' } });
    // Every point matches; big payloads fill socket buffers quickly.
    const sub = await create(base, 'c', { vector: [1, 0, 0, 0], with_payload: true });
    const path = `/collections/c/subscriptions/${sub.id}/events`;
    const slow = await stalled(base, path);
    const healthy = sse(base, path);
    await healthy.ready;
    const seqs: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) {
      const r = await engine.upsert('c', [{ id: i, vector: [1, i / 300, 0, 0], payload: { big } }]);
      seqs.push(r.operation_id);
    }
    const writeMs = performance.now() - t0;
    await waitFor(() => healthy.of('match').length === 300, 10_000, 'the healthy client');
    expect(healthy.of('match').map((e) => e.data!.seq)).toEqual(seqs);
    expect(healthy.of('lagged')).toEqual([]);
    // 300 fsynced writes while a client stalls: none waited for it (a bound generous enough for a loaded box).
    expect(writeMs).toBeLessThan(15_000);

    // The stalled client now reads: `lagged`, then every event again from the WAL, in order, none missing.
    slow.read();
    const got = () => [...slow.text.matchAll(/^id: (\d+)\nevent: match/gm)].map((m) => Number(m[1]));
    await waitFor(() => got().at(-1) === seqs.at(-1), 10_000, 'the stalled client to catch up');
    expect(
      count(slow.text, /^event: lagged\ndata: \{"event":"lagged","subscription":"[^"]+","last_seq":\d+\}$/gm),
    ).toBeGreaterThan(0);
    const seen = got();
    expect(seen.every((s, i) => i === 0 || s > seen[i - 1]!)).toBe(true);
    expect(seen).toEqual(seqs);
    // What the operator sees: the lag, the discarded queue, the catch-up from the WAL.
    expect(await metric(base, 'surgevec_subscription_lagged_total', 'transport="sse"')).toBeGreaterThan(0);
    expect(
      await metric(base, 'surgevec_subscription_events_dropped_total', 'transport="sse"'),
    ).toBeGreaterThanOrEqual(20);
    expect(await metric(base, 'surgevec_subscription_catchups_total', 'kind="wal"')).toBeGreaterThan(0);
    slow.socket.destroy();
    healthy.close();
  });

  it('a client that never catches up is closed with reason too_slow', async () => {
    const { base, engine } = await serve({ subscriptions: { buffer_events: 5, max_lags: 0 } });
    await call(base, 'PUT', '/collections/c', { vectors: { size: DIM, distance: 'Cosine' } });
    const sub = await create(base, 'c', { vector: [1, 0, 0, 0], with_payload: true });
    const slow = await stalled(base, `/collections/c/subscriptions/${sub.id}/events`);
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 200; i++)
      await engine.upsert('c', [{ id: i, vector: [1, 0, 0, 0], payload: { big } }]);
    slow.read();
    await waitFor(() => slow.closed, 10_000, 'the server to close the stream');
    expect(
      count(
        slow.text,
        /^event: closed\ndata: \{"event":"closed","subscription":"[^"]+","reason":"too_slow"\}$/gm,
      ),
    ).toBe(1);
    expect(
      await metric(base, 'surgevec_subscription_closes_total', 'transport="sse",reason="too_slow"'),
    ).toBe(1);
    // The subscription itself stays: a new connection resumes it.
    expect((await call(base, 'GET', `/collections/c/subscriptions/${sub.id}`)).status).toBe(200);
  });
});

describe('metrics', () => {
  it('/metrics counts subscriptions, subscribers, deliveries with their latency, matching, catch-ups and closes', async () => {
    const { base, engine } = await serve();
    await call(base, 'PUT', '/collections/c', { vectors: { size: DIM, distance: 'Cosine' } });
    const m = (name: string, labels = '') => metric(base, name, labels);
    expect(await m('surgevec_subscriptions_active', 'mode="threshold"')).toBe(0);
    const a = await create(base, 'c', { vector: [1, 0, 0, 0], score_threshold: 0.9 });
    const b = await create(base, 'c', { vector: [1, 0, 0, 0], score_threshold: 0.9 });
    await create(base, 'c', { vector: [0, 1, 0, 0], top_k: 2 });
    expect(await m('surgevec_subscriptions_active', 'mode="threshold"')).toBe(2);
    expect(await m('surgevec_subscriptions_active', 'mode="top_k"')).toBe(1);

    const stream = sse(base, `/collections/c/subscriptions/${a.id}/events`);
    await stream.ready;
    const ws = new WebSocket(`${base.replace('http', 'ws')}/collections/c/ws`);
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    const frames: Json[] = [];
    ws.addEventListener('message', (e) => frames.push(parseJson(String(e.data))));
    ws.send(JSON.stringify({ id: 1, op: 'subscribe', subscription: b.id }));
    await waitFor(() => frames.some((f) => f.id === 1), 5000, 'the subscribe answer');
    await waitFor(
      async () => (await m('surgevec_subscription_subscribers', 'transport="ws"')) === 1,
      5000,
      'the WebSocket subscriber',
    );
    expect(await m('surgevec_subscription_subscribers', 'transport="sse"')).toBe(1);

    for (let i = 1; i <= 5; i++) await engine.upsert('c', [onAxis(i), offAxis(100 + i)]);
    await waitFor(() => stream.of('match').length === 5, 5000, 'the SSE events');
    await waitFor(() => frames.filter((f) => f.event === 'match').length === 5, 5000, 'the WS events');
    expect(await m('surgevec_subscription_events_delivered_total', 'transport="sse"')).toBe(5);
    expect(await m('surgevec_subscription_events_delivered_total', 'transport="ws"')).toBe(5);
    expect(await m('surgevec_subscription_delivery_seconds_count', 'transport="sse"')).toBe(5);
    expect(await m('surgevec_subscription_delivery_seconds_count', 'transport="ws"')).toBe(5);
    expect(await m('surgevec_subscription_match_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(await m('surgevec_subscription_matched_points_total')).toBe(10);
    // Idle again: nothing waits to be matched.
    expect(await m('surgevec_subscription_scorer_backlog_points', 'collection="c"')).toBe(0);
    expect(await m('surgevec_subscription_scorer_backlog_seqs', 'collection="c"')).toBe(0);

    // A client that resumes from the start catches up from the WAL.
    const again = sse(base, `/collections/c/subscriptions/${a.id}/events`, { 'last-event-id': '0' });
    await waitFor(() => again.of('match').length === 5, 5000, 'the replay');
    expect(await m('surgevec_subscription_catchups_total', 'kind="wal"')).toBe(1);

    stream.close();
    again.close();
    await waitFor(
      async () => (await m('surgevec_subscription_subscribers', 'transport="sse"')) === 0,
      5000,
      'the SSE clients to go',
    );
    expect(await m('surgevec_subscription_closes_total', 'transport="sse",reason="disconnected"')).toBe(2);
    await call(base, 'DELETE', `/collections/c/subscriptions/${b.id}`);
    expect(await m('surgevec_subscription_closes_total', 'transport="ws",reason="deleted"')).toBe(1);
    expect(await m('surgevec_subscriptions_active', 'mode="threshold"')).toBe(1);
    ws.close();
  });
});
