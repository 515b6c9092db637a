/**
 * Read grants (Qdrant's JWT `access: [{collection, access: 'r'}]`): one tenant's collection shared read-only
 * with others — from the config file and through /admin/tenants — through the real app (buildApp +
 * in-process Engine, app.inject). A grant opens search, get, scroll, count, collection info and exists; it
 * never opens writes, payload edits or delete, and a collection without a grant stays invisible.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ConfigOptions, defaultConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-grants-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ADMIN = 'admin-key-0123456789';
const OWNER = 'owner-key-0123456789';
const READER = 'reader-key-0123456789';
const OTHER = 'other-key-0123456789';

const opened: { app: FastifyInstance; engine: Engine }[] = [];
afterEach(async () => {
  for (const f of opened.splice(0)) {
    await f.app.close();
    await f.engine.close();
  }
});

let dirs = 0;
async function server(overrides: ConfigOptions): Promise<FastifyInstance> {
  const config = defaultConfig({
    ...overrides,
    storage: { data_dir: join(root, `d${dirs++}`) },
    admission: { admin_key: ADMIN, tick_ms: 10_000 },
  });
  const engine = await Engine.open(config);
  const app = await buildApp({ engine, config });
  opened.push({ app, engine });
  return app;
}

function call(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
  url: string,
  key: string,
  body?: unknown,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: { 'api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

const POINTS = [1, 2, 3].map((id) => ({ id, vector: [1, id, 0, 0.5], payload: { n: id } }));

async function shared(app: FastifyInstance, name: string): Promise<void> {
  expect(
    (await call(app, 'PUT', `/collections/${name}`, OWNER, { vectors: { size: 4, distance: 'Cosine' } }))
      .statusCode,
  ).toBe(200);
  const r = await call(app, 'PUT', `/collections/${name}/points?wait=true`, OWNER, { points: POINTS });
  expect(r.statusCode, r.body).toBe(200);
}

/** Every read a grant opens answers 200; every write or drop answers 403; nothing changed. */
async function expectReadOnly(app: FastifyInstance, name: string, key: string): Promise<void> {
  const base = `/collections/${name}`;
  const reads: [string, string, unknown?][] = [
    ['POST', `${base}/points/search`, { vector: [1, 0, 0, 0], limit: 2 }],
    ['POST', `${base}/points/query`, { query: [1, 0, 0, 0], limit: 2 }],
    ['POST', `${base}/points/search/batch`, { searches: [{ vector: [1, 0, 0, 0], limit: 2 }] }],
    ['GET', `${base}/points/2`],
    ['POST', `${base}/points`, { ids: [1, 2] }],
    ['POST', `${base}/points/scroll`, { limit: 10 }],
    ['POST', `${base}/points/count`, {}],
    ['GET', base],
  ];
  for (const [method, url, body] of reads) {
    const r = await call(app, method as 'GET' | 'POST', url, key, body);
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(200);
  }
  expect((await call(app, 'POST', `${base}/points/count`, key, {})).json().result.count).toBe(3);
  expect((await call(app, 'GET', `${base}/exists`, key)).json().result.exists).toBe(true);

  const writes: [string, string, unknown?][] = [
    ['PUT', `${base}/points?wait=true`, { points: [{ id: 9, vector: [0, 1, 0, 0] }] }],
    ['POST', `${base}/points/delete?wait=true`, { points: [1] }],
    ['POST', `${base}/points/payload?wait=true`, { payload: { x: 1 }, points: [1] }],
    ['POST', `${base}/points/payload/clear?wait=true`, { points: [1] }],
    ['PUT', `${base}/index`, { field_name: 'n', field_schema: 'integer' }],
    ['DELETE', base],
  ];
  for (const [method, url, body] of writes) {
    const r = await call(app, method as 'PUT' | 'POST' | 'DELETE', url, key, body);
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(403);
    expect(r.json().code).toBe('FORBIDDEN');
  }
  const after = await call(app, 'POST', `${base}/points/scroll`, OWNER, { limit: 10, with_payload: true });
  expect(after.json().result.points).toEqual(POINTS.map(({ id, payload }) => ({ id, payload })));
}

const TENANTS = (access: { collection: string; access: 'r' }[]) => [
  { id: 'owner', tier: 'premium' as const, keys: [OWNER] },
  { id: 'reader', tier: 'free' as const, keys: [READER], access },
  { id: 'other', tier: 'standard' as const, keys: [OTHER] },
];

describe('read grants', () => {
  it('from the config file: search/get/scroll/count/info allowed, writes and delete refused', async () => {
    const app = await server({ tenants: TENANTS([{ collection: 'glove', access: 'r' }]) });
    await shared(app, 'glove');
    await shared(app, 'private');
    await expectReadOnly(app, 'glove', READER);

    // The grant names one collection: the owner's other collection stays invisible to the reader …
    const hidden = await call(app, 'POST', '/collections/private/points/search', READER, {
      vector: [1, 0, 0, 0],
      limit: 2,
    });
    expect(hidden.statusCode).toBe(404);
    expect((await call(app, 'GET', '/collections/private/exists', READER)).json().result.exists).toBe(false);
    // … and a tenant without a grant sees neither.
    expect((await call(app, 'POST', '/collections/glove/points/count', OTHER, {})).statusCode).toBe(404);
    const listed = (await call(app, 'GET', '/collections', READER)).json().result.collections;
    expect(listed.map((c: { name: string }) => c.name)).toEqual(['glove']);
    expect((await call(app, 'GET', '/collections', OTHER)).json().result.collections).toEqual([]);
  });

  it('through /admin/tenants: granted on creation, replaced by PATCH, persisted across a restart', async () => {
    const app = await server({ tenants: TENANTS([]) });
    await shared(app, 'glove');
    const made = await call(app, 'POST', '/admin/tenants', ADMIN, {
      id: 'api-reader',
      tier: 'standard',
      access: [{ collection: 'glove', access: 'r' }],
    });
    expect(made.statusCode, made.body).toBe(200);
    const key = made.json().result.api_keys[0] as string;
    expect(made.json().result.access).toEqual([{ collection: 'glove', access: 'r' }]);
    await expectReadOnly(app, 'glove', key);

    // Only 'r' exists: owning a collection is what gives write access.
    const rw = await call(app, 'PATCH', '/admin/tenants/api-reader', ADMIN, {
      access: [{ collection: 'glove', access: 'rw' }],
    });
    expect(rw.statusCode).toBe(400);

    const revoked = await call(app, 'PATCH', '/admin/tenants/api-reader', ADMIN, { access: [] });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect((await call(app, 'POST', '/collections/glove/points/count', key, {})).statusCode).toBe(404);
    const again = await call(app, 'PATCH', '/admin/tenants/api-reader', ADMIN, {
      access: [{ collection: 'glove', access: 'r' }],
    });
    expect(again.statusCode).toBe(200);

    // A restart reads the grant back from <data_dir>/admission/tenants.json.
    const dir = join(root, `d${dirs - 1}`);
    const f = opened.pop()!;
    await f.app.close();
    await f.engine.close();
    const config = defaultConfig({
      tenants: TENANTS([]),
      storage: { data_dir: dir },
      admission: { admin_key: ADMIN, tick_ms: 10_000 },
    });
    const engine = await Engine.open(config);
    const restarted = await buildApp({ engine, config });
    opened.push({ app: restarted, engine });
    expect((await call(restarted, 'POST', '/collections/glove/points/count', key, {})).statusCode).toBe(200);
    expect(
      (
        await call(restarted, 'PUT', '/collections/glove/points?wait=true', key, {
          points: [{ id: 9, vector: [0, 1, 0, 0] }],
        })
      ).statusCode,
    ).toBe(403);
  });
});
