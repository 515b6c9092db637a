/**
 * Admission control through the real app (buildApp + in-process Engine, app.inject) with a fake clock:
 * keys and 401/403, tenant isolation (persisted across a restart), quotas with exact Retry-After, the
 * priority header, shedding by level, the concurrency gate's queue and deadlines, the ingest and memory
 * budgets, the effective ef, the result cache, the admin API, metrics, and admission switched off.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ConfigOptions, defaultConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-admission-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ADMIN = 'admin-key-0123456789';
const FREE = 'free-key-0123456789';
const STD = 'standard-key-0123456789';
const PREMIUM = 'premium-key-0123456789';
const TENANTS = [
  {
    id: 'freeco',
    tier: 'free' as const,
    keys: [FREE],
    quotas: { reads_per_s: 10, reads_burst: 2, points_per_s: 100, points_burst: 10 },
  },
  { id: 'stdco', tier: 'standard' as const, keys: [STD] },
  { id: 'premco', tier: 'premium' as const, keys: [PREMIUM] },
];

interface Fixture {
  app: FastifyInstance;
  engine: Engine;
  clock: { t: number };
  mem: { rss: number };
  dir: string;
}

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) {
    await f.app.close();
    await f.engine.close();
  }
});

let dirs = 0;
async function fixture(overrides: ConfigOptions = {}, dir = join(root, `d${dirs++}`)): Promise<Fixture> {
  const config = defaultConfig({
    ...overrides,
    storage: { data_dir: dir },
    // Ticks are driven by the tests (rt.tick()), never by the timer.
    admission: { tick_ms: 10_000, ...overrides.admission },
  });
  const engine = await Engine.open(config);
  const clock = { t: 1000 };
  const mem = { rss: 0 };
  const app = await buildApp({ engine, config, admission: { now: () => clock.t, rss: () => mem.rss } });
  const f = { app, engine, clock, mem, dir };
  open.push(f);
  return f;
}

const keyed = (config: ConfigOptions = {}) =>
  fixture({ ...config, admission: { admin_key: ADMIN, ...config.admission }, tenants: TENANTS });

function req(
  f: Fixture,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
  url: string,
  key?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return f.app.inject({
    method,
    url,
    headers: {
      ...(key ? { 'api-key': key } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

const SEARCH = { vector: [1, 0, 0, 0], limit: 3 };

async function collection(f: Fixture, name: string, key?: string, points = 5): Promise<void> {
  expect(
    (await req(f, 'PUT', `/collections/${name}`, key, { vectors: { size: 4, distance: 'Cosine' } }))
      .statusCode,
  ).toBe(200);
  const pts = Array.from({ length: points }, (_, i) => ({ id: i + 1, vector: [1, i, 0, 0.5] }));
  if (points > 0) {
    const r = await req(f, 'PUT', `/collections/${name}/points?wait=true`, key ?? ADMIN, { points: pts });
    expect(r.statusCode, r.body).toBe(200);
  }
}

const rt = (f: Fixture) => f.app.admission!;

describe('open mode (no keys configured)', () => {
  it('serves everyone as before and reports the level and the effective ef', async () => {
    const f = await fixture();
    await collection(f, 'c');
    const r = await req(f, 'POST', '/collections/c/points/search', undefined, SEARCH);
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-surgevec-level']).toBe('0');
    expect(r.headers['x-surgevec-ef']).toBe('200'); // engine.hnsw.ef, the controller's start
    expect(r.json().result).toHaveLength(3);
    const s = await req(f, 'GET', '/admin/status');
    expect(s.statusCode).toBe(200);
    expect(s.json().result).toMatchObject({ enabled: true, open: true, level: 0, limit: { current: 32 } });
    expect((await req(f, 'GET', '/admin/tenants')).json().code).toBe('FORBIDDEN');
  });

  it('an explicit ef is honoured in open mode', async () => {
    const f = await fixture();
    await collection(f, 'c');
    const r = await req(f, 'POST', '/collections/c/points/search', undefined, {
      ...SEARCH,
      params: { hnsw_ef: 900 },
    });
    expect(r.headers['x-surgevec-ef']).toBe('900');
  });
});

describe('keys', () => {
  it('401 without a key or with an unknown one; api-key and Bearer both work; probes need none', async () => {
    const f = await keyed();
    await collection(f, 'c', ADMIN);
    const none = await req(f, 'GET', '/collections');
    expect([none.statusCode, none.json().code, none.headers['www-authenticate']]).toEqual([
      401,
      'UNAUTHORIZED',
      'Bearer',
    ]);
    expect((await req(f, 'GET', '/collections', 'wrong-key-0123456789')).statusCode).toBe(401);
    expect((await req(f, 'GET', '/collections', STD)).statusCode).toBe(200);
    const bearer = await f.app.inject({
      method: 'GET',
      url: '/collections',
      headers: { authorization: `Bearer ${STD}` },
    });
    expect(bearer.statusCode).toBe(200);
    for (const url of ['/healthz', '/readyz', '/metrics', '/'])
      expect((await req(f, 'GET', url)).statusCode).toBe(200);
  });

  it('/admin needs the admin key: 401 without, 403 with a tenant key', async () => {
    const f = await keyed();
    expect((await req(f, 'GET', '/admin/status')).statusCode).toBe(401);
    expect((await req(f, 'GET', '/admin/status', PREMIUM)).json().code).toBe('FORBIDDEN');
    expect((await req(f, 'GET', '/admin/status', ADMIN)).json().result).toMatchObject({
      open: false,
      tenants: 3,
    });
  });
});

describe('tenant isolation', () => {
  it('a key reaches only its tenant collections; others look missing', async () => {
    const f = await keyed();
    await collection(f, 'std-docs', STD);
    await collection(f, 'prem-docs', PREMIUM);
    const list = await req(f, 'GET', '/collections', STD);
    expect(list.json().result.collections).toEqual([{ name: 'std-docs' }]);
    const other = '/collections/prem-docs';
    expect((await req(f, 'GET', other, STD)).json().code).toBe('COLLECTION_NOT_FOUND');
    expect((await req(f, 'POST', `${other}/points/search`, STD, SEARCH)).json().code).toBe(
      'COLLECTION_NOT_FOUND',
    );
    expect(
      (await req(f, 'PUT', `${other}/points`, STD, { points: [{ id: 9, vector: [1, 1, 1, 1] }] })).statusCode,
    ).toBe(404);
    expect((await req(f, 'GET', `${other}/changes`, STD)).statusCode).toBe(404);
    expect((await req(f, 'GET', `${other}/exists`, STD)).json().result).toEqual({ exists: false });
    expect((await req(f, 'DELETE', other, STD)).json().result).toBe(false);
    expect((await req(f, 'PUT', other, STD, { vectors: { size: 4, distance: 'Cosine' } })).json().code).toBe(
      'COLLECTION_EXISTS',
    );
    // Still there, untouched, for its owner and the admin.
    expect((await req(f, 'GET', other, PREMIUM)).json().result.points_count).toBe(5);
    expect((await req(f, 'GET', '/collections', ADMIN)).json().result.collections).toHaveLength(2);
  });

  it('aliases: only to own collections, listed only to their owner, and they resolve only for it', async () => {
    const f = await keyed();
    await collection(f, 'std-docs', STD);
    await collection(f, 'prem-docs', PREMIUM);
    const alias = (key: string, actions: unknown[]) =>
      req(f, 'POST', '/collections/aliases', key, { actions });
    expect(
      (await alias(STD, [{ create_alias: { alias_name: 'steal', collection_name: 'prem-docs' } }])).json()
        .code,
    ).toBe('COLLECTION_NOT_FOUND');
    expect(
      (await alias(PREMIUM, [{ create_alias: { alias_name: 'live', collection_name: 'prem-docs' } }]))
        .statusCode,
    ).toBe(200);
    expect((await alias(STD, [{ delete_alias: { alias_name: 'live' } }])).json().code).toBe(
      'ALIAS_NOT_FOUND',
    );
    expect(
      (await alias(STD, [{ create_alias: { alias_name: 'live', collection_name: 'std-docs' } }])).json().code,
    ).toBe('ALIAS_EXISTS');
    expect((await req(f, 'GET', '/aliases', STD)).json().result.aliases).toEqual([]);
    expect((await req(f, 'GET', '/aliases', PREMIUM)).json().result.aliases).toEqual([
      { alias_name: 'live', collection_name: 'prem-docs' },
    ]);
    expect((await req(f, 'POST', '/collections/live/points/search', STD, SEARCH)).statusCode).toBe(404);
    expect((await req(f, 'POST', '/collections/live/points/search', PREMIUM, SEARCH)).statusCode).toBe(200);
    expect(
      (await alias(PREMIUM, [{ rename_alias: { old_alias_name: 'live', new_alias_name: 'prod' } }]))
        .statusCode,
    ).toBe(200);
    expect((await req(f, 'POST', '/collections/prod/points/search', PREMIUM, SEARCH)).statusCode).toBe(200);
  });

  it('ownership is persisted in the data directory and survives a restart', async () => {
    const f = await keyed();
    await collection(f, 'std-docs', STD);
    await f.app.close();
    await f.engine.close();
    open.splice(open.indexOf(f), 1);
    const owners = JSON.parse(readFileSync(join(f.dir, 'admission', 'owners.json'), 'utf8'));
    expect(owners).toEqual({ 'std-docs': { tenant: 'stdco' } });
    const g = await fixture({ admission: { admin_key: ADMIN }, tenants: TENANTS }, f.dir);
    expect((await req(g, 'GET', '/collections/std-docs', PREMIUM)).statusCode).toBe(404);
    expect((await req(g, 'GET', '/collections/std-docs', STD)).statusCode).toBe(200);
  });

  it('the admin assigns an unowned collection to a tenant', async () => {
    const f = await keyed();
    await collection(f, 'legacy', ADMIN);
    expect((await req(f, 'GET', '/collections/legacy', STD)).statusCode).toBe(404);
    const r = await req(f, 'PUT', '/admin/collections/legacy/owner', ADMIN, { tenant: 'stdco' });
    expect(r.json().result).toEqual({ name: 'legacy', tenant: 'stdco' });
    expect((await req(f, 'GET', '/collections/legacy', STD)).statusCode).toBe(200);
    expect(
      (await req(f, 'PUT', '/admin/collections/nope/owner', ADMIN, { tenant: 'stdco' })).statusCode,
    ).toBe(404);
  });
});

describe('quotas (429)', () => {
  it('reads: the burst passes, then 429 with the exact Retry-After, and the same request passes after it', async () => {
    const f = await keyed();
    await collection(f, 'free-c', FREE, 0);
    f.clock.t = 10_000; // the bucket is full again
    const url = '/collections/free-c/points/count';
    expect((await req(f, 'POST', url, FREE, {})).statusCode).toBe(200);
    expect((await req(f, 'POST', url, FREE, {})).statusCode).toBe(200);
    const r = await req(f, 'POST', url, FREE, {});
    expect(r.statusCode).toBe(429);
    expect(r.json()).toMatchObject({
      code: 'OVER_QUOTA',
      details: { reason: 'quota_reads', retry_after_ms: 100 },
    });
    expect([r.headers['retry-after'], r.headers['retry-after-ms']]).toEqual(['1', '100']);
    f.clock.t += 99;
    expect((await req(f, 'POST', url, FREE, {})).headers['retry-after-ms']).toBe('1');
    f.clock.t += 1;
    expect((await req(f, 'POST', url, FREE, {})).statusCode).toBe(200);
  });

  it('written points: charged per point after parsing; an empty bucket refuses before the body is parsed', async () => {
    const f = await keyed();
    await collection(f, 'free-c', FREE, 0);
    f.clock.t = 10_000;
    const pts = (n: number) => ({
      points: Array.from({ length: n }, (_, i) => ({ id: i + 1, vector: [1, 0, 0, i] })),
    });
    expect((await req(f, 'PUT', '/collections/free-c/points', FREE, pts(10))).statusCode).toBe(200);
    const r = await req(f, 'PUT', '/collections/free-c/points', FREE, pts(1));
    expect(r.json().details).toEqual({ reason: 'quota_points', retry_after_ms: 10 });
    // Malformed JSON is not even read: the answer is the quota, not INVALID_JSON.
    expect((await req(f, 'PUT', '/collections/free-c/points', FREE, '{not json')).json().code).toBe(
      'OVER_QUOTA',
    );
    f.clock.t += 50; // 5 points' worth
    const six = await req(f, 'PUT', '/collections/free-c/points', FREE, pts(6));
    expect([six.statusCode, six.headers['retry-after-ms']]).toEqual([429, '10']);
    expect((await req(f, 'PUT', '/collections/free-c/points', FREE, pts(5))).statusCode).toBe(200);
  });

  it('premium has no default quota', async () => {
    const f = await keyed();
    await collection(f, 'p', PREMIUM, 0);
    for (let i = 0; i < 30; i++)
      expect((await req(f, 'POST', '/collections/p/points/count', PREMIUM, {})).statusCode).toBe(200);
  });
});

describe('priority and the degradation level', () => {
  it('level 2 sheds free (503 + Retry-After), level 3 sheds standard; premium, admin and probes pass', async () => {
    const f = await keyed();
    await collection(f, 'f', FREE, 0);
    await collection(f, 's', STD, 0);
    await collection(f, 'p', PREMIUM, 0);
    f.clock.t = 10_000;
    rt(f).ladder = { level: 2, hotSince: null, calmSince: null, changedAt: f.clock.t };
    const shed = await req(f, 'POST', '/collections/f/points/count', FREE, {});
    expect([shed.statusCode, shed.json().code, shed.json().details.reason]).toEqual([
      503,
      'OVERLOADED',
      'shed',
    ]);
    expect(shed.headers['retry-after']).toBe('1');
    expect(shed.headers['x-surgevec-level']).toBe('2');
    expect((await req(f, 'POST', '/collections/s/points/count', STD, {})).statusCode).toBe(200);
    // A premium client lowering itself to "low" is shed like free traffic; raising is ignored.
    expect(
      (await req(f, 'POST', '/collections/p/points/count', PREMIUM, {}, { 'x-surgevec-priority': 'low' }))
        .statusCode,
    ).toBe(503);
    expect(
      (await req(f, 'POST', '/collections/f/points/count', FREE, {}, { 'x-surgevec-priority': 'critical' }))
        .statusCode,
    ).toBe(503);
    expect(
      (
        await req(f, 'POST', '/collections/p/points/count', PREMIUM, {}, { 'x-surgevec-priority': 'urgent' })
      ).json().code,
    ).toBe('INVALID_REQUEST');
    rt(f).ladder = { ...rt(f).ladder, level: 3 };
    expect((await req(f, 'POST', '/collections/s/points/count', STD, {})).statusCode).toBe(503);
    expect((await req(f, 'POST', '/collections/p/points/count', PREMIUM, {})).statusCode).toBe(200);
    expect((await req(f, 'POST', '/collections/f/points/count', ADMIN, {})).statusCode).toBe(200);
    expect((await req(f, 'GET', '/healthz')).statusCode).toBe(200);
    expect(rt(f).rejections.get('shed')).toBe(4);
  });

  it('the ladder climbs on slow searches and comes back to 0 when calm (driven by ticks)', async () => {
    const f = await fixture({
      admission: { ladder: { escalate_ms: 0, recover_ms: 0 }, ef: { window_ms: 100, min_samples: 1 } },
    });
    const r = rt(f);
    // 20 searches of 80 ms each in a 1 s window: p99 80 ms > 50 ms, while on average only 1.6 of the 32
    // slots were in use (20 × 80 ms / 1000 ms): slow, not saturated.
    for (let i = 0; i < 20; i++) {
      r.gate.limiter.acquire(2, f.clock.t);
      r.readDone(2, f.clock.t - 80, true);
    }
    f.clock.t += 1000;
    r.tick();
    // HdrHistogram at 2 significant digits reports the top of 80 ms's bucket.
    expect([r.level, r.lastP99Ms, r.lastUtilisation]).toEqual([1, 80.383, 0.05]);
    const level1 = await req(f, 'GET', '/admin/status');
    // The controller lowers ef from the second hot window on; level 1 uses the floor at once.
    expect(level1.json().result.ef).toMatchObject({ effective: 64, controller: 200 });
    expect(f.app.surge.batcher.max).toBe(16);
    // Level 1 pauses background indexing: points written now stay unindexed (searched exactly).
    await collection(f, 'paused', undefined, 40);
    await new Promise((res) => setTimeout(res, 100));
    const info = await req(f, 'GET', '/collections/paused');
    expect(info.json().result.points_count - info.json().result.indexed_vectors_count).toBe(40);
    // Still slow, but nothing queued and the limit idle: shedding would not help, so no level 2.
    f.clock.t += 1;
    r.tick();
    expect(r.level).toBe(1);
    // Slow with 24 of the 32 slots busy: saturated, so level 2 sheds free traffic.
    for (let i = 0; i < 24; i++) r.gate.limiter.acquire(2, f.clock.t);
    f.clock.t += 1;
    r.tick();
    expect(r.level).toBe(2);
    for (let i = 0; i < 24; i++) r.gate.limiter.release(2);
    f.clock.t += 100; // an empty window: p99 0, calm
    r.tick();
    expect(r.level).toBe(1);
    f.clock.t += 1;
    r.tick();
    expect([r.level, f.app.surge.batcher.max]).toEqual([0, 100]);
    // Back at 0, indexing resumes.
    await f.engine.whenIndexed('paused');
  });
});

describe('the concurrency gate (503)', () => {
  const small = { admission: { limit: { initial: 2, min: 2, max: 2 }, queue: { capacity: 1 } } };

  it('a read beyond the limit waits; a freed slot lets it run; a full queue refuses at once', async () => {
    const f = await keyed(small);
    await collection(f, 's', STD, 0);
    const r = rt(f);
    r.gate.limiter.acquire(2, f.clock.t); // standard holds its one guaranteed slot …
    r.gate.limiter.acquire(3, f.clock.t); // … and the limit (2) is full
    const waiting = req(f, 'POST', '/collections/s/points/count', STD, {});
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.gate.queued(2)).toBe(1);
    const full = await req(f, 'POST', '/collections/s/points/count', STD, {});
    expect([full.statusCode, full.json().details.reason]).toEqual([503, 'queue_full']);
    expect(Number(full.headers['retry-after-ms'])).toBeGreaterThan(0);
    r.gate.release(2, f.clock.t, r.limit.limit);
    expect((await waiting).statusCode).toBe(200);
    expect([r.gate.limiter.inflight[2], r.gate.limiter.inflight[3]]).toEqual([0, 1]); // its slot came back
  });

  it('a waiter past its deadline gets 503 DEADLINE_EXCEEDED with Retry-After', async () => {
    // A free request may wait 2 ms by default (queue.burst_wait_ms): long enough here to reach its deadline.
    const f = await keyed({
      admission: { ...small.admission, queue: { ...small.admission.queue, burst_wait_ms: 100 } },
    });
    await collection(f, 'f', FREE, 0);
    const r = rt(f);
    r.gate.limiter.acquire(3, f.clock.t);
    r.gate.limiter.acquire(3, f.clock.t);
    const waiting = req(
      f,
      'POST',
      '/collections/f/points/count',
      FREE,
      {},
      { 'x-surgevec-timeout-ms': '50' },
    );
    await new Promise((resolve) => setImmediate(resolve));
    f.clock.t += 50;
    r.tick();
    const res = await waiting;
    expect([res.statusCode, res.json().code]).toEqual([503, 'DEADLINE_EXCEEDED']);
    expect(res.headers['retry-after']).toBe('1');
  });

  it('a free waiter is refused after queue.burst_wait_ms (2 ms), not the 100 ms interval', async () => {
    const f = await keyed(small);
    await collection(f, 'f', FREE, 0);
    const r = rt(f);
    r.gate.limiter.acquire(3, f.clock.t);
    r.gate.limiter.acquire(3, f.clock.t);
    const waiting = req(f, 'POST', '/collections/f/points/count', FREE, {});
    await new Promise((resolve) => setImmediate(resolve));
    f.clock.t += 1;
    r.tick();
    expect(r.gate.queued(3)).toBe(1);
    f.clock.t += 1;
    r.tick();
    const res = await waiting;
    expect([res.statusCode, res.json().code, res.json().details.reason]).toEqual([
      503,
      'OVERLOADED',
      'sojourn',
    ]);
  });

  it('premium keeps its guaranteed share while free traffic fills the limit', async () => {
    const f = await keyed(small);
    await collection(f, 'p', PREMIUM, 0);
    const r = rt(f);
    r.gate.limiter.acquire(3, f.clock.t);
    r.gate.limiter.acquire(3, f.clock.t);
    expect((await req(f, 'POST', '/collections/p/points/count', PREMIUM, {})).statusCode).toBe(200);
  });
});

describe('write budgets', () => {
  it('the ingest byte budget refuses a write with 503 before reading it', async () => {
    const f = await keyed({ admission: { ingest: { max_bytes: 1000, max_ops: 10 } } });
    await collection(f, 'p', PREMIUM, 0);
    rt(f).ingest.tryAcquire(900);
    const body = { points: [{ id: 1, vector: [1, 2, 3, 4], payload: { pad: 'x'.repeat(200) } }] };
    const r = await req(f, 'PUT', '/collections/p/points', PREMIUM, body);
    expect([r.statusCode, r.json().details.reason]).toEqual([503, 'ingest_bytes']);
    rt(f).releaseIngest(900);
    expect((await req(f, 'PUT', '/collections/p/points', PREMIUM, body)).statusCode).toBe(200);
    expect(rt(f).ingest.bytes).toBe(0);
  });

  it('near the memory budget writes pause (503) while reads go on, and resume below the low mark', async () => {
    const f = await keyed({ admission: { memory_budget_bytes: 1_000_000 } });
    await collection(f, 'p', PREMIUM, 0);
    f.mem.rss = 950_000; // the mark is 80% (800 kB)
    f.clock.t += 20;
    const w = await req(f, 'PUT', '/collections/p/points', PREMIUM, {
      points: [{ id: 1, vector: [1, 2, 3, 4] }],
    });
    expect([w.statusCode, w.json().details.reason]).toEqual([503, 'memory']);
    expect((await req(f, 'POST', '/collections/p/points/count', PREMIUM, {})).statusCode).toBe(200);
    f.mem.rss = 750_000; // between the marks (700 kB, 800 kB): still paused
    f.clock.t += 20;
    expect(
      (await req(f, 'PUT', '/collections/p/points', PREMIUM, { points: [{ id: 1, vector: [1, 2, 3, 4] }] }))
        .statusCode,
    ).toBe(503);
    f.mem.rss = 600_000;
    f.clock.t += 20;
    expect(
      (await req(f, 'PUT', '/collections/p/points', PREMIUM, { points: [{ id: 1, vector: [1, 2, 3, 4] }] }))
        .statusCode,
    ).toBe(200);
    // A body whose in-flight cost (8 × its bytes) exceeds the 200 kB left below the mark is refused.
    const big = { points: [{ id: 2, vector: [1, 2, 3, 4], payload: { pad: 'x'.repeat(30_000) } }] };
    expect((await req(f, 'PUT', '/collections/p/points', PREMIUM, big)).json().details.reason).toBe('memory');
  });
});

describe('search effort and the result cache', () => {
  it('caps an explicit ef below premium, honours it for premium, and uses the floor at level 1', async () => {
    const f = await keyed();
    await collection(f, 's', STD);
    await collection(f, 'p', PREMIUM);
    const ef = async (key: string, name: string, body: object) =>
      (await req(f, 'POST', `/collections/${name}/points/search`, key, body)).headers['x-surgevec-ef'];
    expect(await ef(STD, 's', SEARCH)).toBe('200');
    expect(await ef(STD, 's', { ...SEARCH, params: { hnsw_ef: 1000 } })).toBe('200');
    expect(await ef(STD, 's', { ...SEARCH, params: { hnsw_ef: 32 } })).toBe('32');
    expect(await ef(PREMIUM, 'p', { ...SEARCH, params: { hnsw_ef: 1000 } })).toBe('1000');
    rt(f).ladder = { ...rt(f).ladder, level: 1 };
    expect(await ef(STD, 's', SEARCH)).toBe('64');
    expect(await ef(PREMIUM, 'p', SEARCH)).toBe('64');
    expect(await ef(PREMIUM, 'p', { ...SEARCH, params: { hnsw_ef: 300 } })).toBe('300');
  });

  it('hits for the same query at the same seq, misses after a write, and answers exactly what a search does', async () => {
    const f = await fixture({ admission: { cache: { from_level: 0 } } });
    await collection(f, 'c');
    const search = () =>
      req(f, 'POST', '/collections/c/points/search', undefined, { ...SEARCH, with_payload: true });
    const first = await search();
    const second = await search();
    expect([first.headers['x-surgevec-cache'], second.headers['x-surgevec-cache']]).toEqual(['miss', 'hit']);
    expect(second.json().result).toEqual(first.json().result);
    await req(f, 'PUT', '/collections/c/points?wait=true', undefined, {
      points: [{ id: 99, vector: [1, 0, 0, 0] }],
    });
    const third = await search();
    expect(third.headers['x-surgevec-cache']).toBe('miss');
    expect(third.json().result[0].id).toBe(99);
    expect((await search()).headers['x-surgevec-cache']).toBe('hit');
    // A different query (another limit) is another entry.
    expect(
      (await req(f, 'POST', '/collections/c/points/search', undefined, { ...SEARCH, limit: 2 })).headers[
        'x-surgevec-cache'
      ],
    ).toBe('miss');
    const status = (await req(f, 'GET', '/admin/status')).json().result.cache;
    expect(status).toMatchObject({ hits: 2, misses: 3, hit_rate: 0.4 });
    const metrics = (await req(f, 'GET', '/metrics')).body;
    expect(metrics).toMatch(/^surgevec_result_cache_hits_total 2$/m);
    expect(metrics).toMatch(/^surgevec_result_cache_misses_total 3$/m);
  });

  it('a dropped and re-created collection never answers from the old cache', async () => {
    const f = await fixture({ admission: { cache: { from_level: 0 } } });
    await collection(f, 'c');
    const search = () => req(f, 'POST', '/collections/c/points/search', undefined, SEARCH);
    await search();
    await req(f, 'DELETE', '/collections/c');
    await collection(f, 'c', undefined, 2);
    const r = await search();
    expect(r.headers['x-surgevec-cache']).toBe('miss');
    expect(r.json().result).toHaveLength(2);
  });

  it('below cache.from_level (default 2) the cache is not used', async () => {
    const f = await fixture();
    await collection(f, 'c');
    expect(
      (await req(f, 'POST', '/collections/c/points/search', undefined, SEARCH)).headers['x-surgevec-cache'],
    ).toBe(undefined);
  });
});

describe('/admin/tenants', () => {
  it('create (a generated key works at once), list, rotate keys, delete; keys are stored hashed', async () => {
    const f = await keyed();
    const created = await req(f, 'POST', '/admin/tenants', ADMIN, {
      id: 'acme',
      tier: 'standard',
      quotas: { reads_per_s: 5 },
    });
    expect(created.statusCode).toBe(200);
    const c = created.json().result;
    expect(c).toMatchObject({ id: 'acme', tier: 'standard', source: 'api', keys: 1 });
    expect(c.effective_quotas).toEqual({
      reads_per_s: 5,
      reads_burst: 1000,
      points_per_s: 50_000,
      points_burst: 100_000,
    });
    const [key] = c.api_keys as string[];
    expect(key).toMatch(/^sv_[A-Za-z0-9_-]{43}$/);
    expect((await req(f, 'GET', '/collections', key)).statusCode).toBe(200);
    expect(readFileSync(join(f.dir, 'admission', 'tenants.json'), 'utf8')).not.toContain(key!);
    expect((await req(f, 'POST', '/admin/tenants', ADMIN, { id: 'acme', tier: 'free' })).json().code).toBe(
      'TENANT_EXISTS',
    );
    expect((await req(f, 'POST', '/admin/tenants', ADMIN, { id: 'bad id', tier: 'free' })).json().code).toBe(
      'INVALID_REQUEST',
    );
    const ids = (await req(f, 'GET', '/admin/tenants', ADMIN))
      .json()
      .result.tenants.map((t: { id: string }) => t.id);
    expect(ids).toEqual(['acme', 'freeco', 'premco', 'stdco']);
    const rotated = await req(f, 'PATCH', '/admin/tenants/acme', ADMIN, {
      keys: ['acme-new-key-0123456789'],
      tier: 'premium',
    });
    expect(rotated.json().result).toMatchObject({ tier: 'premium', keys: 1 });
    expect((await req(f, 'GET', '/collections', key)).statusCode).toBe(401);
    expect((await req(f, 'GET', '/collections', 'acme-new-key-0123456789')).statusCode).toBe(200);
    expect((await req(f, 'PATCH', '/admin/tenants/stdco', ADMIN, { tier: 'premium' })).json().code).toBe(
      'FORBIDDEN',
    );
    expect((await req(f, 'GET', '/admin/tenants/nope', ADMIN)).json().code).toBe('TENANT_NOT_FOUND');
    expect((await req(f, 'DELETE', '/admin/tenants/acme', ADMIN)).statusCode).toBe(200);
    expect((await req(f, 'GET', '/collections', 'acme-new-key-0123456789')).statusCode).toBe(401);
  });

  it('API-made tenants survive a restart', async () => {
    const f = await keyed();
    const key = (await req(f, 'POST', '/admin/tenants', ADMIN, { id: 'acme', tier: 'free' })).json().result
      .api_keys[0];
    await f.app.close();
    await f.engine.close();
    open.splice(open.indexOf(f), 1);
    const g = await fixture({ admission: { admin_key: ADMIN }, tenants: TENANTS }, f.dir);
    expect((await req(g, 'GET', '/collections', key)).statusCode).toBe(200);
  });
});

describe('metrics and switching admission off', () => {
  it('exposes level, limit, inflight, queue depth, rejections and effective ef', async () => {
    const f = await keyed();
    await req(f, 'GET', '/collections');
    const text = (await req(f, 'GET', '/metrics')).body;
    expect(text).toMatch(/^surgevec_admission_level 0$/m);
    expect(text).toMatch(/^surgevec_admission_limit 32$/m);
    expect(text).toMatch(/^surgevec_admission_inflight\{priority="high"\} 0$/m);
    expect(text).toMatch(/^surgevec_admission_queue_depth\{priority="low"\} 0$/m);
    expect(text).toMatch(
      /^surgevec_admission_rejections_total\{reason="unauthorized",priority="critical"\} 1$/m,
    );
    expect(text).toMatch(/^surgevec_search_effective_ef 200$/m);
  });

  it('admission.enabled = false: no keys checked, no headers, the status says off', async () => {
    const f = await fixture({ admission: { enabled: false, admin_key: ADMIN }, tenants: TENANTS });
    const r = await req(f, 'GET', '/collections');
    expect([r.statusCode, r.headers['x-surgevec-level']]).toEqual([200, undefined]);
    expect((await req(f, 'GET', '/admin/status')).json().result).toEqual({ enabled: false, level: 0 });
    expect((await req(f, 'GET', '/admin/tenants', ADMIN)).statusCode).toBe(404);
  });
});
