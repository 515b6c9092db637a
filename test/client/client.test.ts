/**
 * The SDK against a real `surgevec serve` process on a loopback port: every typed REST method, typed
 * errors from real answers, u64 ids, the scroll iterator, a pipelined WebSocket session (and the server's
 * in-flight cap), the change feed, the query cache (own writes, other writers through the feed), client
 * metrics on a registry passed in, and a frozen (SIGSTOP) server against deadlines and abort signals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SurgeClient } from '../../src/client/client.js';
import {
  AbortedError,
  type ApiError,
  ClientDeadlineExceededError,
  CollectionExistsError,
  CollectionNotFoundError,
  DimensionMismatchError,
  PointNotFoundError,
  TooManyInFlightError,
  TransportError,
  UnsupportedFeatureError,
} from '../../src/client/errors.js';
import type { RequestEvent } from '../../src/client/events.js';
import type { ChangeFeedItem } from '../../src/client/streams/changes.js';
import { type Served, serve } from './serve.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-client-'));
let server: Served;
const clients: SurgeClient[] = [];
function client(options: ConstructorParameters<typeof SurgeClient>[0] = {}) {
  const c = new SurgeClient({ url: server.url, ...options });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  // These tests check the client against the server's answers; with admission on, a test machine busy with
  // the rest of the suite makes the server shed some of 64 pipelined frames (refusals are tested in
  // test/admission and test/server/ws-admission.test.ts).
  server = await serve(join(root, 'data'), { config: { admission: { enabled: false } } });
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

const U64_MAX = (1n << 64n) - 1n;
const UUID = '550e8400-e29b-41d4-a716-446655440000';
const vec = (i: number) => [i % 7, (i * 3) % 11, (i % 5) - 2, 1 + (i % 3)];

describe('typed REST methods', () => {
  it('serve every route with Qdrant’s results, u64 ids intact', async () => {
    const c = client();
    const requests: RequestEvent[] = [];
    c.events.on('request', (e) => requests.push(e));
    expect((await c.info()).version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await c.healthz()).toBe('healthz check passed');
    expect(await c.livez()).toBe('healthz check passed');
    expect(await c.readyz()).toBe(true);
    expect(await c.metrics()).toMatch(/^# HELP /m);

    expect(await c.createCollection('docs', { vectors: { size: 4, distance: 'Euclid' } })).toBe(true);
    expect(await c.collectionExists('docs')).toBe(true);
    expect(await c.collectionExists('nope')).toBe(false);
    expect((await c.getCollections()).collections.map((x) => x.name)).toContain('docs');
    const before = requests.length;
    await expect(
      c.createCollection('docs', { vectors: { size: 4, distance: 'Euclid' } }),
    ).rejects.toBeInstanceOf(CollectionExistsError);
    expect(requests.length - before).toBe(1); // a 409 is an answer, not a failure: never retried

    const idx = await c.createPayloadIndex(
      'docs',
      { field_name: 'lang', field_schema: 'keyword' },
      { wait: true },
    );
    expect(idx.status).toBe('completed');
    const points = Array.from({ length: 20 }, (_, i) => ({
      id: i,
      vector: vec(i),
      payload: { lang: i % 2 ? 'en' : 'de', n: i },
    }));
    const up = await c.upsert(
      'docs',
      {
        points: [
          ...points,
          { id: U64_MAX, vector: [9, 9, 9, 9], payload: { big: true } },
          { id: UUID, vector: [8, 8, 8, 8] },
        ],
      },
      { wait: true },
    );
    expect(up.status).toBe('completed');
    const info = await c.getCollection('docs');
    expect([info.points_count, info.seq, info.config.params.vectors]).toEqual([
      22,
      up.operation_id,
      { size: 4, distance: 'Euclid' },
    ]);

    expect(await c.retrieve('docs', { ids: [3, U64_MAX, 999], with_vector: true })).toEqual([
      { id: 3, vector: vec(3), payload: { lang: 'en', n: 3 } },
      { id: U64_MAX, vector: [9, 9, 9, 9], payload: { big: true } },
    ]);
    expect(await c.getPoint('docs', U64_MAX)).toEqual({
      id: U64_MAX,
      vector: [9, 9, 9, 9],
      payload: { big: true },
    });
    await expect(c.getPoint('docs', 12345)).rejects.toBeInstanceOf(PointNotFoundError);

    const hits = await c.search('docs', { vector: vec(5), limit: 3, with_payload: true });
    expect(hits[0]).toMatchObject({ id: 5, score: 0, payload: { lang: 'en', n: 5 } });
    const filtered = await c.search('docs', {
      vector: vec(5),
      limit: 3,
      filter: { must: [{ key: 'lang', match: { value: 'de' } }] },
    });
    expect(filtered.map((h) => h.id).every((id) => Number(id) % 2 === 0)).toBe(true);
    const batch = await c.searchBatch('docs', {
      searches: [
        { vector: vec(1), limit: 1 },
        { vector: vec(2), limit: 1 },
      ],
    });
    expect(batch.map((b) => b[0]!.id)).toEqual([1, 2]);
    expect((await c.query('docs', { query: vec(7), limit: 1 })).points[0]!.id).toBe(7);
    expect((await c.query('docs', { query: { nearest: vec(8) }, limit: 1 })).points[0]!.id).toBe(8);
    const byId = await c.query('docs', { query: 4, limit: 2 });
    expect(byId.points.map((p) => p.id)).not.toContain(4);
    const qb = await c.queryBatch('docs', { searches: [{ query: vec(9), limit: 1 }, { limit: 2 }] });
    expect([qb[0]!.points[0]!.id, qb[1]!.points.map((p) => p.id)]).toEqual([9, [0, 1]]);
    expect(await c.count('docs')).toBe(22);
    expect(await c.count('docs', { filter: { must: [{ key: 'lang', match: { value: 'en' } }] } })).toBe(10);
    const page = await c.scroll('docs', { limit: 5, offset: 10 });
    expect([page.points.map((p) => p.id), page.next_page_offset]).toEqual([[10, 11, 12, 13, 14], 15]);

    await c.setPayload('docs', { payload: { tag: 'x' }, points: [1, 2] }, { wait: true });
    await c.overwritePayload('docs', { payload: { only: 1 }, points: [3] }, { wait: true });
    await c.deletePayload('docs', { keys: ['n'], points: [1] }, { wait: true });
    await c.clearPayload('docs', { points: [2] }, { wait: true });
    expect((await c.retrieve('docs', { ids: [1, 2, 3] })).map((p) => p.payload)).toEqual([
      { lang: 'en', tag: 'x' },
      {},
      { only: 1 },
    ]);
    await c.delete('docs', { points: [0, UUID] }, { wait: true });
    await c.delete('docs', { filter: { must: [{ key: 'big', match: { value: true } }] } }, { wait: true });
    expect(await c.count('docs')).toBe(19);

    await c.updateCollectionAliases([{ create_alias: { alias_name: 'latest', collection_name: 'docs' } }]);
    expect((await c.getAliases()).aliases).toEqual([{ alias_name: 'latest', collection_name: 'docs' }]);
    expect((await c.getCollectionAliases('docs')).aliases).toHaveLength(1);
    expect(await c.count('latest')).toBe(19);
    await c.deletePayloadIndex('docs', 'lang', { wait: true });
    expect((await c.getCollection('docs')).payload_schema).toEqual({});
  });

  it('throw typed errors built from the server’s answers', async () => {
    const c = client();
    const e = await c.search('docs', { vector: [1, 2, 3], limit: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DimensionMismatchError);
    expect(e).toMatchObject({
      status: 400,
      code: 'DIMENSION_MISMATCH',
      hint: expect.stringMatching(/vector length/),
    });
    const missing = await c.count('ghost').catch((x: unknown) => x);
    expect(missing).toBeInstanceOf(CollectionNotFoundError);
    expect((missing as ApiError).message).toMatch(/^Not found: /);
    const unsupported = await c
      .scroll('docs', { order_by: 'n' } as never)
      .catch((x: unknown) => x as ApiError);
    expect(unsupported).toBeInstanceOf(UnsupportedFeatureError);
    expect(await c.deleteCollection('ghost')).toBe(false);
  });
});

describe('streams', () => {
  it('scrollAll walks every point once, in id order, page by page', async () => {
    const c = client();
    await c.createCollection('many', { vectors: { size: 4, distance: 'Dot' } });
    const ids = Array.from({ length: 1_000 }, (_, i) => i * 3);
    await c.upsert('many', { batch: { ids, vectors: ids.map(vec) } }, { wait: true });
    const requests: RequestEvent[] = [];
    c.events.on('request', (e) => requests.push(e));
    const seen: number[] = [];
    for await (const p of c.scrollAll('many', { with_payload: false }, { pageSize: 64 }))
      seen.push(p.id as number);
    expect(seen).toEqual(ids);
    expect(requests).toHaveLength(Math.ceil(1_000 / 64));
  });

  it('pipelines requests on a WebSocket session, matched by id, within the server’s in-flight cap', async () => {
    const c = client();
    const s = await c.session('many', { maxInFlight: 64 });
    expect(s.state).toBe('open');
    const expected = await Promise.all(
      Array.from({ length: 30 }, (_, i) => c.search('many', { vector: vec(i), limit: 3 }, { cache: false })),
    );
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => s.search({ vector: vec(i % 30), limit: 3 })),
    );
    const ms = performance.now() - t0;
    for (let i = 0; i < 300; i++) expect(answers[i]).toEqual(expected[i % 30]);
    const w = await s.upsert({ points: [{ id: 1, vector: [1e3, 1e3, 1e3, 1e3] }] }, { wait: true });
    expect(w.status).toBe('completed');
    expect((await s.query({ query: [1, 1, 1, 1], limit: 1 })).points[0]!.id).toBe(1); // Dot: the largest wins
    expect((await s.delete({ points: [1] }, { wait: true })).status).toBe('completed');
    await expect(s.search({ vector: [1], limit: 1 })).rejects.toBeInstanceOf(DimensionMismatchError);
    expect(s.inFlight).toBe(0);
    console.log(`ws: 300 pipelined searches in ${ms.toFixed(0)} ms`);

    // Beyond the server's cap (64) the server refuses; the session's own cap is what prevents it.
    const greedy = await c.session('many', { maxInFlight: 300 });
    const settled = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) => greedy.search({ vector: vec(i), limit: 3 })),
    );
    const refused = settled.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TooManyInFlightError);

    // Closing fails what is still open, and the session stays closed.
    const pending = s.search({ vector: vec(1), limit: 3 });
    const closing = s.close();
    const late = await pending.then(
      () => 'answered',
      (e: unknown) => e,
    );
    await closing;
    expect(late === 'answered' || late instanceof TransportError).toBe(true);
    expect(s.state).toBe('closed');
    await expect(s.search({ vector: vec(1), limit: 1 })).rejects.toBeInstanceOf(TransportError);
    await greedy.close();
  });

  it('follows the change feed in seq order, from a given seq or from now', async () => {
    const c = client();
    await c.createCollection('feed', { vectors: { size: 4, distance: 'Euclid' } });
    const first = await c.upsert('feed', { points: [{ id: 1, vector: vec(1) }] });
    const stop = new AbortController();
    const fromStart: ChangeFeedItem[] = [];
    const fromNow: ChangeFeedItem[] = [];
    const all = c.changes('feed', { fromSeq: 1, signal: stop.signal });
    const now = c.changes('feed', { signal: stop.signal });
    const reading = Promise.all([
      (async () => {
        for await (const item of all) fromStart.push(item);
      })(),
      (async () => {
        for await (const item of now) fromNow.push(item);
      })(),
    ]);
    await waitFor(() => all.lastSeq === first.operation_id && now.lastSeq !== undefined);
    const w2 = await c.upsert('feed', { points: [{ id: 2, vector: vec(2) }] });
    const w3 = await c.setPayload('feed', { payload: { a: 1 }, points: [2] });
    await waitFor(() => all.lastSeq === w3.operation_id && now.lastSeq === w3.operation_id);
    stop.abort();
    await reading;
    const summary = (items: ChangeFeedItem[]) =>
      items.map((i) => (i.type === 'change' ? [i.event.seq, i.event.op, i.event.ids] : ['gap']));
    expect(summary(fromStart)).toEqual([
      [first.operation_id, 'upsert', [1]],
      [w2.operation_id, 'upsert', [2]],
      [w3.operation_id, 'set_payload', [2]],
    ]);
    expect(summary(fromNow)).toEqual(summary(fromStart).slice(1));
  });
});

describe('query cache', () => {
  it('serves repeats from memory and drops them on the client’s own writes', async () => {
    const c = client({ cache: { ttlMs: 60_000 } });
    const requests: RequestEvent[] = [];
    c.events.on('request', (e) => requests.push(e));
    const q = { vector: [100, 100, 100, 100], limit: 1 };
    const a = await c.search('many', q);
    const b = await c.search('many', q);
    expect(b).toEqual(a);
    expect(requests).toHaveLength(1);
    expect([c.cache!.hits, c.cache!.misses]).toEqual([1, 1]);
    b[0]!.score = -1; // a caller mutating its result does not touch the cache
    expect((await c.search('many', q))[0]!.score).toBe(a[0]!.score);
    await c.upsert('many', { points: [{ id: 5_000_000, vector: [100, 100, 100, 100] }] });
    const fresh = await c.search('many', q);
    expect(fresh[0]!.id).toBe(5_000_000);
    expect(requests.filter((r) => r.route.endsWith('/search'))).toHaveLength(2);
  });

  it('sees other writers’ changes through the change feed', async () => {
    const c = client({ cache: { ttlMs: 60_000, followChanges: ['many'] } });
    const other = client();
    const q = { vector: [-50, -50, -50, -50], limit: 1 };
    await waitFor(() => c.cache!.seq('many') >= 0); // the follower has pinned its start
    const before = await c.search('many', q);
    expect(await c.search('many', q)).toEqual(before);
    const w = await other.upsert('many', { points: [{ id: 6_000_000, vector: [-50, -50, -50, -50] }] });
    const t0 = performance.now();
    await waitFor(() => c.cache!.seq('many') >= w.operation_id);
    console.log(
      `cache: another writer's change seen through the feed in ${(performance.now() - t0).toFixed(1)} ms`,
    );
    expect((await c.search('many', q))[0]!.id).toBe(6_000_000);
  });
});

describe('metrics', () => {
  it('records requests, retries and breaker state on the registry passed in', async () => {
    const registry = new Registry();
    const c = client({ metrics: { registry } });
    await c.count('many');
    await c.count('ghost').catch(() => undefined);
    const text = await registry.metrics();
    expect(text).toMatch(
      /surgevec_client_requests_total\{endpoint="[^"]+",method="POST",route="\/collections\/\{name\}\/points\/count",outcome="ok",status="200"\} 1/,
    );
    expect(text).toMatch(/outcome="error",status="404"\} 1/);
    expect(text).toMatch(/surgevec_client_breaker_state\{endpoint="[^"]+"\} 0/);
    expect(text).toMatch(/surgevec_client_request_duration_seconds_count\{route="[^"]+",outcome="ok"\} 1/);
  });
});

describe('several endpoints', () => {
  it('steers reads away from an endpoint that refuses them, retrying on the healthy one', async () => {
    let refused = 0;
    const sick = createServer((req, res) => {
      refused++;
      req.resume();
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end('{"status":{"error":"down"},"result":null}');
    });
    await new Promise<void>((r) => sick.listen(0, '127.0.0.1', r));
    try {
      const c = client({ url: [`http://127.0.0.1:${(sick.address() as AddressInfo).port}`, server.url] });
      const failed: RequestEvent[] = [];
      c.events.on('request', (e) => {
        if (e.outcome !== 'ok') failed.push(e);
      });
      const counts = [];
      for (let i = 0; i < 200; i++) counts.push(await c.count('many'));
      expect(new Set(counts).size).toBe(1);
      expect(failed).toHaveLength(refused);
      expect(refused).toBeLessThan(20);
      console.log(
        `endpoints: 200 reads, ${refused} reached the refusing endpoint (then retried on the other)`,
      );
    } finally {
      sick.closeAllConnections();
      await new Promise((r) => sick.close(r));
    }
  });
});

describe('deadlines against a frozen server', () => {
  it('gives up at the deadline, and on the caller’s signal, then works again once the server is back', async () => {
    const c = client({ retry: { baseMs: 20 } });
    await c.count('many'); // a warm connection
    server.child.kill('SIGSTOP');
    try {
      let t0 = performance.now();
      const e = await c.count('many', {}, { timeoutMs: 300 }).catch((x: unknown) => x);
      const took = performance.now() - t0;
      expect(e).toBeInstanceOf(ClientDeadlineExceededError);
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(600);
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 100);
      t0 = performance.now();
      await expect(c.count('many', {}, { signal: abort.signal })).rejects.toBeInstanceOf(AbortedError);
      expect(performance.now() - t0).toBeLessThan(400);
      console.log(`deadline: 300 ms deadline gave up after ${took.toFixed(0)} ms`);
    } finally {
      server.child.kill('SIGCONT');
    }
    expect(await c.count('many', {}, { timeoutMs: 5_000 })).toBeGreaterThan(0);
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}
