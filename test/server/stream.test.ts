/**
 * The streaming extensions over real sockets: NDJSON ingest (per-line errors, batches, backpressure, a
 * 200k-line body), the pipelined WebSocket (ids, in-flight cap, bad frames), and the SSE change feed (live,
 * resume without gaps or duplicates, gap after WAL truncation, lagged readers, listener clean-up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { request, WebSocket } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConfigOptions, defaultConfig } from '../../src/config/index.js';
import { type ChangeEvent, Engine, type EngineApi, WorkerEngine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { parseJson } from '../../src/server/json.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-stream-'));
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

const DIM = 4;
const U64_MAX = (1n << 64n) - 1n;
const UUID = '550e8400-e29b-41d4-a716-446655440000';
let dirs = 0;

interface Served {
  app: FastifyInstance;
  engine: EngineApi;
  base: string;
}

/** A server on a real port; `wrap` puts a proxy between the routes and the engine. */
async function serve(
  options: ConfigOptions = {},
  kind: 'engine' | 'worker' = 'engine',
  wrap?: (e: EngineApi) => EngineApi,
): Promise<Served> {
  const config = defaultConfig({
    ...options,
    storage: { data_dir: join(root, `d${dirs++}`), ...options.storage },
    // Cheap graphs: these tests are about transport, and the in-process indexer shares our event loop.
    engine: { hnsw: { m: 4, ef_construct: 16 }, ...options.engine },
  });
  const engine = kind === 'worker' ? await WorkerEngine.open(config) : await Engine.open(config);
  cleanup.push(() => engine.close());
  const app = await buildApp({ engine: wrap ? wrap(engine) : engine, config });
  cleanup.push(async () => {
    // A test that failed half-way may leave a stream open; app.close() would wait for it.
    app.server.closeAllConnections();
    await app.close();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { app, engine, base: `http://127.0.0.1:${port}` };
}

/** Forwards every call; `hold` makes the named methods wait for `open()`. */
function gate(engine: EngineApi, hold: string[]) {
  let open!: () => void;
  let gateOpen = new Promise<void>((r) => {
    open = r;
  });
  const calls: Record<string, number> = {};
  let subscribed = 0;
  const proxy = new Proxy(engine, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop === 'onChange') {
        return (listener: (e: ChangeEvent) => void) => {
          subscribed++;
          const off = fn(listener) as () => void;
          return () => {
            subscribed--;
            off();
          };
        };
      }
      if (!hold.includes(String(prop))) return fn;
      return async (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        await gateOpen;
        return fn(...args);
      };
    },
  });
  return {
    proxy,
    calls,
    subscribed: () => subscribed,
    open: () => open(),
    close: () => {
      gateOpen = new Promise<void>((r) => {
        open = r;
      });
    },
  };
}

async function createCollection(engine: EngineApi, name = 'c', distance: 'Euclid' | 'Cosine' = 'Euclid') {
  await engine.createCollection(name, { size: DIM, distance });
}

const vec = (i: number) => [i % 97, (i * 7) % 13, ((i * 3) % 11) - 5, 0.5 + (i % 5) * 0.25];

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---------------------------------------------------------------- NDJSON

function lines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => parseJson(l) as Record<string, unknown>);
}

describe('POST /collections/:name/points/stream (NDJSON)', () => {
  it('reports bad lines by exact line number, acknowledges batches, and stores the good points exactly', async () => {
    const { app, engine } = await serve({ server: { stream_batch_points: 3 } });
    await createCollection(engine);
    const deep: Record<string, unknown> = {};
    let at = deep;
    for (let i = 0; i < 40; i++) at = at.x = {} as Record<string, unknown>;
    const body = [
      /* 1 */ JSON.stringify({ id: 1, vector: [1.5, -2, 0.25, 3], payload: { a: 1 } }),
      /* 2 */ JSON.stringify({ id: 2, vector: [1, 2, 3] }),
      /* 3 */ '{"id": 3, "vector": [1, 2, 3, 4]',
      /* 4 */ '   ',
      /* 5 */ JSON.stringify({ id: -1, vector: [1, 2, 3, 4] }),
      /* 6 */ JSON.stringify({ id: UUID, vector: [0.5, 0.25, 0.125, 8] }),
      /* 7 */ JSON.stringify({ id: 7, vector: [1, 'x', 3, 4] }),
      // Passes the route's checks; the engine refuses the batch as a whole, then only this point.
      /* 8 */ '{"id": 8, "vector": [1, 1, 1, 1], "payload": {"__proto__": 1}}',
      /* 9 */ `{"id": ${U64_MAX}, "vector": [9, 9, 9, 9], "payload": {"big": true}}`,
      /* 10 */ '[1, 2]',
      /* 11 */ JSON.stringify({ id: 11, vector: [1, 2, 3, 4], payload: deep }),
      /* 12 */ JSON.stringify({ id: 12, vector: [1e39, 0, 0, 0] }),
      /* 13 */ JSON.stringify({ id: 13, vector: [-1, -2, -3, -4], payload: 'nope' }),
      /* 14 */ JSON.stringify({ id: 14, vector: [-1, -2, -3, -4.5] }),
      /* 15, no final newline */ JSON.stringify({ id: 15, vector: [7, 7, 7, 7], payload: { last: 1 } }),
    ].join('\r\n');
    const res = await app.inject({
      method: 'POST',
      url: '/collections/c/points/stream',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const out = lines(res.body);
    const errors = out.filter((l) => 'line' in l).map((l) => [l.line, (l.error as { code: string }).code]);
    expect(errors.sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [2, 'DIMENSION_MISMATCH'],
      [3, 'INVALID_JSON'],
      [5, 'INVALID_POINT_ID'],
      [7, 'INVALID_VECTOR'],
      [8, 'FORBIDDEN_PAYLOAD_KEY'],
      [10, 'INVALID_REQUEST'],
      [11, 'PAYLOAD_TOO_DEEP'],
      [12, 'INVALID_VECTOR'],
      [13, 'INVALID_PAYLOAD'],
    ]);
    for (const l of out.filter((x) => 'line' in x)) {
      const e = l.error as { message: string; hint: string };
      expect(e.message.length).toBeGreaterThan(5);
      expect(e.hint.length).toBeGreaterThan(5);
    }
    // Lines that pass the route's checks, in batches of 3: [1, 6, 8] [9, 11, 14] [15]; 8 and 11 are then
    // refused by the engine, and only they.
    const batches = out.filter((l) => 'batch' in l);
    expect(batches.map((b) => [b.batch, b.points, b.status])).toEqual([
      [1, 2, 'acknowledged'],
      [2, 2, 'acknowledged'],
      [3, 1, 'acknowledged'],
    ]);
    const seqs = batches.map((b) => b.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const done = out.at(-1)!;
    expect(done).toEqual({ done: true, points: 5, errors: 9, last_seq: seqs.at(-1) });

    const got = await engine.retrieve('c', [1, UUID, U64_MAX, 14, 15, 2, 8, 11], true, true);
    expect(got).toEqual([
      { id: 1, vector: [1.5, -2, 0.25, 3], payload: { a: 1 } },
      { id: UUID, vector: [0.5, 0.25, 0.125, 8], payload: {} },
      { id: U64_MAX, vector: [9, 9, 9, 9], payload: { big: true } },
      { id: 14, vector: [-1, -2, -3, -4.5], payload: {} },
      { id: 15, vector: [7, 7, 7, 7], payload: { last: 1 } },
    ]);
    expect(await engine.count('c')).toBe(5);
  });

  it('answers completed with ?wait=true, and refuses what is not an NDJSON stream to a collection', async () => {
    const { app, engine } = await serve();
    await createCollection(engine);
    const ndjson = { 'content-type': 'application/x-ndjson' };
    const payload = `${JSON.stringify({ id: 1, vector: [1, 2, 3, 4] })}\n`;
    const waited = await app.inject({
      method: 'POST',
      url: '/collections/c/points/stream?wait=true',
      headers: ndjson,
      payload,
    });
    expect(lines(waited.body)[0]).toMatchObject({ batch: 1, points: 1, status: 'completed' });
    const missing = await app.inject({
      method: 'POST',
      url: '/collections/nope/points/stream',
      headers: ndjson,
      payload,
    });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'COLLECTION_NOT_FOUND']);
    const json = await app.inject({
      method: 'POST',
      url: '/collections/c/points/stream',
      payload: { id: 1, vector: [1, 2, 3, 4] },
    });
    expect([json.statusCode, json.json().code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const empty = await app.inject({
      method: 'POST',
      url: '/collections/c/points/stream',
      headers: ndjson,
      payload: '',
    });
    expect(lines(empty.body)).toEqual([{ done: true, points: 0, errors: 0, last_seq: null }]);
  });

  it('streams 200k lines from a generator over a socket, holding the sender back while batches are pending', async () => {
    const TOTAL = 200_000;
    let g!: ReturnType<typeof gate>;
    const { base, engine } = await serve({}, 'worker', (e) => {
      g = gate(e, ['upsert']);
      return g.proxy;
    });
    await createCollection(engine);
    let pulled = 0;
    async function* body(): AsyncGenerator<string> {
      const CHUNK = 500;
      for (let i = 0; i < TOTAL; i += CHUNK) {
        let s = '';
        for (let j = i; j < i + CHUNK; j++) {
          s += `{"id":${j},"vector":[${vec(j).join(',')}],"payload":{"j":${j}}}\n`;
        }
        pulled = i + CHUNK;
        yield s;
      }
    }
    // Not awaited yet: the answer's headers leave with its first line, after the first batch.
    const pending = request(`${base}/collections/c/points/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: Readable.from(body()),
    });
    const answer = (async () => {
      const res = await pending;
      expect(res.statusCode).toBe(200);
      let text = '';
      for await (const chunk of res.body) text += chunk;
      return lines(text);
    })();

    // The engine holds its first writes: two batches go in, then the server stops reading, and the
    // sender stalls once the socket buffers are full — far short of the body.
    await waitFor(() => (g.calls.upsert ?? 0) >= 2);
    let before = -1;
    await waitFor(async () => {
      const now = pulled;
      const still = now === before;
      before = now;
      await new Promise((r) => setTimeout(r, 300));
      return still && pulled === now;
    });
    expect(g.calls.upsert).toBe(2);
    expect(pulled).toBeLessThan(TOTAL / 2);
    g.open();

    const out = await answer;
    expect(out.filter((l) => 'line' in l)).toEqual([]);
    expect(out.filter((l) => 'batch' in l)).toHaveLength(TOTAL / 1000);
    expect(out.at(-1)).toMatchObject({ done: true, points: TOTAL, errors: 0 });
    expect(await engine.count('c')).toBe(TOTAL);
    const sample = [0, 1, 77_777, 123_456, TOTAL - 1];
    expect(await engine.retrieve('c', sample, true, true)).toEqual(
      sample.map((j) => ({ id: j, vector: vec(j), payload: { j } })),
    );
  }, 60_000);

  it('does not let the request timeout cut a long stream short', async () => {
    const { app, base, engine } = await serve({ server: { stream_batch_points: 1 } });
    await createCollection(engine);
    const sockets: import('node:net').Socket[] = [];
    app.server.on('connection', (socket) => sockets.push(socket));
    let socketClosed = false;
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    async function* body(): AsyncGenerator<string> {
      yield `${JSON.stringify({ id: 1, vector: [1, 2, 3, 4] })}\n`;
      await held;
      yield `${JSON.stringify({ id: 2, vector: [1, 2, 3, 4] })}\n`;
    }
    const res = request(`${base}/collections/c/points/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: Readable.from(body()),
    });
    await waitFor(async () => (await engine.count('c')) === 1);
    // What Node's connection checker does once requestTimeout has passed.
    const timeout = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    expect(sockets).toHaveLength(1);
    for (const socket of sockets) {
      socket.once('close', () => {
        socketClosed = true;
      });
      app.server.emit('clientError', timeout, socket);
    }
    release();
    const out = lines(await (await res).body.text());
    expect(socketClosed).toBe(false);
    expect(out.at(-1)).toMatchObject({ done: true, points: 2, errors: 0 });
  });
});

// ---------------------------------------------------------------- WebSocket

interface Answer {
  id: unknown;
  result?: unknown;
  error?: { code: string; message: string; hint: string };
}

async function openWs(url: string) {
  const ws = new WebSocket(url);
  const answers: Answer[] = [];
  const waiters: (() => void)[] = [];
  ws.addEventListener('message', (ev) => {
    answers.push(parseJson(String(ev.data)) as Answer);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('websocket failed to open')));
  });
  const until = async (n: number) => {
    while (answers.length < n) await new Promise<void>((r) => waiters.push(r));
  };
  cleanup.push(async () => ws.close());
  return { ws, answers, until, send: (frame: unknown) => ws.send(JSON.stringify(frame)) };
}

describe('GET /collections/:name/ws (WebSocket)', () => {
  it('answers pipelined frames by id with the REST routes’ validation and results', async () => {
    const { base, engine } = await serve();
    await createCollection(engine);
    const c = await openWs(`${base.replace('http', 'ws')}/collections/c/ws`);
    const points = Array.from({ length: 20 }, (_, i) => ({ id: i, vector: vec(i), payload: { i } }));
    c.send({ id: 'up', op: 'upsert', points, wait: true });
    await c.until(1);
    expect(c.answers[0]).toMatchObject({ id: 'up', result: { status: 'completed' } });
    // Many frames back to back, without waiting for answers.
    c.send({ id: 1, op: 'search', vector: vec(3), limit: 2, with_payload: true });
    c.send({ id: 2, op: 'query', query: { nearest: vec(5) }, limit: 1 });
    c.send({ id: 3, op: 'query', query: vec(6), limit: 1, with_vector: true });
    c.send({ id: 4, op: 'search', vector: [1, 2], limit: 1 });
    c.send({ id: 5, op: 'delete', points: [0, 1] });
    c.send({ id: 6, op: 'upsert', batch: { ids: [100, 101], vectors: [vec(100), vec(101)] } });
    c.send({ id: 7, op: 'delete', filter: { must: [{ key: 'i', range: { gte: 18 } }] }, wait: true });
    c.send({ id: 8, op: 'search', vector: vec(1), limit: 0 });
    c.send({ id: 9, op: 'upsert', points: [{ id: 'not-a-uuid', vector: vec(1) }] });
    c.send({ id: 10, op: 'fly' });
    await c.until(11);
    const byId = new Map(c.answers.slice(1).map((a) => [a.id, a]));
    expect(byId.size).toBe(10);
    const hits = byId.get(1)!.result as { id: number; score: number; payload: unknown }[];
    expect(hits.map((h) => [h.id, h.score, h.payload])).toEqual([
      [3, 0, { i: 3 }],
      [expect.any(Number), expect.any(Number), expect.any(Object)],
    ]);
    expect((byId.get(2)!.result as { points: { id: number }[] }).points.map((p) => p.id)).toEqual([5]);
    expect((byId.get(3)!.result as { points: { vector: number[] }[] }).points[0]!.vector).toEqual(vec(6));
    expect(byId.get(4)!.error!.code).toBe('DIMENSION_MISMATCH');
    expect(byId.get(5)!.result).toMatchObject({ status: 'acknowledged' });
    expect(byId.get(6)!.result).toMatchObject({ status: 'acknowledged' });
    expect(byId.get(7)!.result).toMatchObject({ status: 'completed' });
    expect(byId.get(8)!.error!.code).toBe('INVALID_REQUEST');
    expect(byId.get(9)!.error!.code).toBe('INVALID_POINT_ID');
    expect(byId.get(10)!.error).toMatchObject({ code: 'INVALID_REQUEST', hint: expect.any(String) });
    await waitFor(async () => (await engine.count('c')) === 18);
    expect((await engine.retrieve('c', [0, 1, 18, 19, 100])).map((p) => p.id)).toEqual([100]);
  });

  it('answers over-cap frames at once with TOO_MANY_IN_FLIGHT, and bad frames with id null', async () => {
    let g!: ReturnType<typeof gate>;
    const { base, engine } = await serve({ server: { ws_max_in_flight: 2 } }, 'engine', (e) => {
      g = gate(e, ['searchEach', 'upsert']);
      return g.proxy;
    });
    await createCollection(engine);
    await engine.upsert('c', [{ id: 1, vector: vec(1) }]);
    const c = await openWs(`${base.replace('http', 'ws')}/collections/c/ws`);
    c.send({ id: 'a', op: 'search', vector: vec(1), limit: 1 });
    c.send({ id: 'b', op: 'upsert', points: [{ id: 2, vector: vec(2) }] });
    c.send({ id: 'c', op: 'search', vector: vec(1), limit: 1 });
    c.ws.send('{"id": "d", "op": ');
    c.send([1, 2]);
    c.send({ id: { nested: true }, op: 'search' });
    await c.until(4);
    expect(c.answers.map((a) => [a.id, a.error?.code])).toEqual([
      ['c', 'TOO_MANY_IN_FLIGHT'],
      [null, 'INVALID_JSON'],
      [null, 'INVALID_REQUEST'],
      [null, 'INVALID_REQUEST'],
    ]);
    g.open();
    await c.until(6);
    const later = c.answers.slice(4).sort((x, y) => String(x.id).localeCompare(String(y.id)));
    expect(later.map((a) => a.id)).toEqual(['a', 'b']);
    expect((later[0]!.result as { id: number }[])[0]!.id).toBe(1);
    // Slots are free again.
    c.send({ id: 'e', op: 'search', vector: vec(2), limit: 1 });
    await c.until(7);
    expect((c.answers[6]!.result as { id: number }[])[0]!.id).toBe(2);
  });

  it('refuses the upgrade for a missing collection with a 404', async () => {
    const { base } = await serve();
    const ws = new WebSocket(`${base.replace('http', 'ws')}/collections/nope/ws`);
    const outcome = await new Promise<string>((resolve) => {
      ws.addEventListener('open', () => resolve('open'));
      ws.addEventListener('error', () => resolve('error'));
    });
    expect(outcome).toBe('error');
    const res = await request(`${base}/collections/nope/ws`);
    expect(res.statusCode).toBe(404);
    expect(((await res.body.json()) as { code: string }).code).toBe('COLLECTION_NOT_FOUND');
  });
});

// ---------------------------------------------------------------- SSE

/** The body of a raw HTTP/1.1 chunked response. */
function dechunk(raw: Buffer): string {
  let at = raw.indexOf('\r\n\r\n') + 4;
  expect(raw.subarray(0, at).toString()).toMatch(/^HTTP\/1\.1 200[\s\S]*transfer-encoding: chunked/i);
  const parts: Buffer[] = [];
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = Number.parseInt(raw.subarray(at, eol).toString(), 16);
    if (!(size > 0)) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts).toString('utf8');
}

interface Sse {
  id?: string;
  event: string;
  data: unknown;
}

/** An SSE reader over undici: `next()` resolves with each event (comments skipped). */
async function openSse(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const queue: Sse[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const pump = (async () => {
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += chunk;
        for (let end = buf.indexOf('\n\n'); end !== -1; end = buf.indexOf('\n\n')) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const ev: Sse = { event: 'message', data: undefined };
          let isComment = true;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            isComment = false;
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === 'id') ev.id = value;
            if (field === 'event') ev.event = value;
            if (field === 'data') ev.data = parseJson(value);
          }
          if (!isComment) queue.push(ev);
          wake?.();
        }
      }
    } catch {
      // closed by us
    }
    ended = true;
    wake?.();
  })();
  const next = async (): Promise<Sse | undefined> => {
    while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
    return queue.shift();
  };
  return {
    status: res.statusCode,
    headers: res.headers,
    next,
    close: async () => {
      res.body.destroy();
      await pump;
    },
  };
}

describe('GET /collections/:name/changes (SSE)', () => {
  it('sends one event per applied op, live, and unsubscribes when the client goes away', async () => {
    let g!: ReturnType<typeof gate>;
    const { base, engine } = await serve({}, 'engine', (e) => {
      g = gate(e, []);
      return g.proxy;
    });
    await createCollection(engine);
    await createCollection(engine, 'other');
    const before = (await engine.upsert('c', [{ id: 1, vector: vec(1) }])).operation_id;
    const s = await openSse(`${base}/collections/c/changes`);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(g.subscribed()).toBe(1);
    const u = await engine.upsert('c', [
      { id: 2, vector: vec(2) },
      { id: U64_MAX, vector: vec(3) },
    ]);
    await engine.upsert('other', [{ id: 5, vector: vec(5) }]);
    const d = await engine.deletePoints('c', { filter: { must: [{ has_id: [2] }] } });
    const p = await engine.setPayload('c', { k: 'v' }, { points: [1] });
    expect(await s.next()).toEqual({
      id: String(u.operation_id),
      event: 'upsert',
      data: { collection: 'c', seq: u.operation_id, op: 'upsert', ids: [2, U64_MAX], count: 2 },
    });
    expect(u.operation_id).toBe(before + 1);
    expect(await s.next()).toEqual({
      id: String(d.operation_id),
      event: 'delete',
      data: {
        collection: 'c',
        seq: d.operation_id,
        op: 'delete',
        filter: { must: [{ has_id: [2] }] },
        count: 1,
      },
    });
    expect(await s.next()).toMatchObject({ id: String(p.operation_id), event: 'set_payload' });
    await s.close();
    await waitFor(() => g.subscribed() === 0);

    const missing = await request(`${base}/collections/nope/changes`);
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
    const bad = await request(`${base}/collections/c/changes?from_seq=abc`);
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
  });

  for (const kind of ['engine', 'worker'] as const) {
    it(`resumes with Last-Event-ID while writes go on, without gaps or duplicates (${kind})`, async () => {
      const { base, engine } = await serve({ storage: { fsync: false } }, kind);
      await createCollection(engine);
      const TOTAL = 3000;
      let written = 0;
      let last = 0;
      const writer = (async () => {
        for (; written < TOTAL; written++) {
          const w = written;
          last = (await engine.upsert('c', [{ id: w, vector: vec(w) }])).operation_id;
          if (w % 50 === 0) await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const seen: number[] = [];
      const first = await openSse(`${base}/collections/c/changes?from_seq=1`);
      while (seen.length < 120) seen.push(Number((await first.next())!.id));
      await first.close();
      // Reconnect while the writer keeps writing: history from the WAL (several pages, with live events
      // queueing up meanwhile that the next page holds too), then live.
      await waitFor(() => written > 2300);
      const second = await openSse(`${base}/collections/c/changes`, { 'last-event-id': String(seen.at(-1)) });
      await writer;
      while (seen.at(-1) !== last) seen.push(Number((await second.next())!.id));
      await second.close();
      expect(seen).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    });
  }

  it('starts with a gap event when from_seq is older than the WAL keeps', async () => {
    const { base, engine } = await serve({ storage: { wal_segment_bytes: 1 << 16 } });
    await createCollection(engine);
    let last = 0;
    for (let i = 0; i < 100; i++) {
      const points = Array.from({ length: 60 }, (_, j) => ({ id: i * 60 + j, vector: vec(j) }));
      last = (await engine.upsert('c', points)).operation_id;
    }
    await engine.snapshot('c');
    const oldest = (await engine.readChanges('c', 0, 1)).oldestSeq;
    expect(oldest).toBeGreaterThan(1);
    const s = await openSse(`${base}/collections/c/changes?from_seq=1`);
    expect(await s.next()).toEqual({ event: 'gap', data: { from_seq: 1, oldest_seq: oldest } });
    for (let seq = oldest; seq <= last; seq++) {
      expect(await s.next()).toMatchObject({ id: String(seq), event: 'upsert' });
    }
    const live = await engine.deletePoints('c', { points: [0] });
    expect(await s.next()).toMatchObject({ id: String(live.operation_id), data: { ids: [0] } });
    await s.close();
    // Within the WAL: no gap.
    const t = await openSse(`${base}/collections/c/changes?from_seq=${last}`);
    expect(await t.next()).toMatchObject({ id: String(last), event: 'upsert' });
    await t.close();
  });

  it('cuts off a reader that does not read with a lagged event naming the last seq it was sent', async () => {
    let g!: ReturnType<typeof gate>;
    const { base, engine } = await serve({ storage: { fsync: false } }, 'engine', (e) => {
      g = gate(e, []);
      return g.proxy;
    });
    await createCollection(engine);
    const url = new URL(`${base}/collections/c/changes?max_buffer=5`);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`,
    );
    socket.pause();
    await waitFor(() => g.subscribed() === 1);
    // ~80 KB per event (10,000 ids named): the socket buffers fill after a few hundred.
    const ids = Array.from({ length: 10_000 }, (_, i) => 10_000_000 + i);
    let last = 0;
    for (let i = 0; i < 400 && g.subscribed() > 0; i++) {
      last = (await engine.deletePoints('c', { points: ids })).operation_id;
    }
    expect(g.subscribed()).toBe(0);
    expect(last).toBeLessThan(400); // cut off before the writer was done — and the writer never waited
    const raw: Buffer[] = [];
    socket.on('data', (d: Buffer) => raw.push(d));
    socket.resume();
    await new Promise((r) => socket.once('end', r));
    socket.destroy();
    const text = dechunk(Buffer.concat(raw));
    const events = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const lagged = /event: lagged\ndata: (.*)\n\n/.exec(text);
    expect(lagged).not.toBeNull();
    const lastSeq = (JSON.parse(lagged![1]!) as { last_seq: number }).last_seq;
    expect(events.length).toBeGreaterThan(0);
    expect(events).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    expect(lastSeq).toBe(events.at(-1));
    expect(text.endsWith(lagged![0])).toBe(true);
  });
});
