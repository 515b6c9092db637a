/**
 * The Qdrant REST contract, driven through the official client (`@qdrant/js-client-rest`) against a listening
 * server (style.md §3): the same suite runs against `buildApp` with an in-process Engine and against the real
 * `surgevec serve` CLI. Every assertion is on exact ids, scores and shapes of small seeded data, and on the
 * status/code of each error — so a change in wire behaviour fails here before a Qdrant user notices.
 *
 * The client cannot send ids above 2^53 on Node 20 (it needs JSON.rawJSON), so big ids go over undici with the
 * JSON written as text and the answers checked as text.
 */
import { QdrantClient } from '@qdrant/js-client-rest';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/protocol/errors.js';
import { errors } from '../../src/protocol/errors.js';

export interface ServerHandle {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Stops the server; implementations assert that it stopped cleanly. */
  stop(): Promise<void>;
}

export type StartServer = () => Promise<ServerHandle>;

type Filter = NonNullable<Parameters<QdrantClient['count']>[1]>['filter'];
type Id = string | number;

interface ApiErrorLike extends Error {
  status: number;
  data: { status: { error: string }; code: string; hint: string; result: unknown; time: number };
}

/** The client throws its fetcher's ApiError (an anonymous subclass of it): find it on the prototype chain. */
function isApiError(e: unknown): e is ApiErrorLike {
  for (let p = e ? Object.getPrototypeOf(e) : null; p; p = Object.getPrototypeOf(p)) {
    if (p.constructor?.name === 'ApiError') return true;
  }
  return false;
}

async function expectApiError(p: Promise<unknown>, status: number, code: ErrorCode): Promise<ApiErrorLike> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) throw new Error(`expected ApiError ${status} ${code}, but the call succeeded`);
  if (!isApiError(caught)) throw caught;
  expect({ status: caught.status, code: caught.data?.code }).toEqual({ status, code });
  expect(errors[code].status).toBe(status);
  expect(typeof caught.data.status.error).toBe('string');
  expect(caught.data.status.error.length).toBeGreaterThan(5);
  expect(caught.data.hint).toBe(errors[code].hint);
  expect(caught.data.result).toBeNull();
  expect(typeof caught.data.time).toBe('number');
  return caught;
}

interface RawAnswer {
  status: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field in the tests.
  json: any;
}

async function raw(base: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: string) {
  const res = await request(`${base}${path}`, {
    method,
    ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (probes answer text/plain)
  }
  return { status: res.statusCode, text, json } as RawAnswer;
}

const ids = (points: readonly { id: Id }[]) => points.map((p) => p.id);
const CITIES = ['London', 'Paris', 'Berlin'] as const;

/**
 * Ten points, ids 1..10, Dot distance: vector [i, 10 - i], so the score against [1, 0] is exactly i.
 * London = {3, 6, 9}, Paris = {1, 4, 7, 10}, Berlin = {2, 5, 8}; `note` is null on 1, absent on 2, [] on 3.
 */
function item(i: number) {
  const payload: Record<string, unknown> = {
    city: CITIES[i % 3],
    n: i,
    price: i + 0.5,
    even: i % 2 === 0,
    tags: [i % 2 === 0 ? 'even' : 'odd', 'all'],
    meta: { owner: { name: i <= 5 ? 'ann' : 'bob' }, level: i * 10 },
  };
  if (i === 1) payload.note = null;
  else if (i === 3) payload.note = [];
  else if (i !== 2) payload.note = `note ${i}`;
  return { id: i, vector: [i, 10 - i], payload };
}
const ITEMS = Array.from({ length: 10 }, (_, k) => item(k + 1));

/** Filters over ITEMS and the ids they must select (ordered by id). */
const FILTER_CASES: [string, Filter, number[]][] = [
  ['match value (keyword)', { must: [{ key: 'city', match: { value: 'London' } }] }, [3, 6, 9]],
  ['match value (integer)', { must: [{ key: 'n', match: { value: 4 } }] }, [4]],
  ['match value (bool)', { must: [{ key: 'even', match: { value: true } }] }, [2, 4, 6, 8, 10]],
  ['match value in an array field', { must: [{ key: 'tags', match: { value: 'odd' } }] }, [1, 3, 5, 7, 9]],
  ['match any', { must: [{ key: 'city', match: { any: ['London', 'Berlin'] } }] }, [2, 3, 5, 6, 8, 9]],
  [
    'match except (keywords)',
    { must: [{ key: 'city', match: { except: ['London', 'Berlin'] } }] },
    [1, 4, 7, 10],
  ],
  ['match except (integers)', { must: [{ key: 'n', match: { except: [1, 2, 3, 4, 5, 6] } }] }, [7, 8, 9, 10]],
  ['range on an integer', { must: [{ key: 'n', range: { gte: 3, lt: 6 } }] }, [3, 4, 5]],
  ['range on a float', { must: [{ key: 'price', range: { gt: 7.5 } }] }, [8, 9, 10]],
  ['range lte on a float', { must: [{ key: 'price', range: { lte: 2.5 } }] }, [1, 2]],
  ['is_empty (null, missing, [])', { must: [{ is_empty: { key: 'note' } }] }, [1, 2, 3]],
  ['is_null (explicit null only)', { must: [{ is_null: { key: 'note' } }] }, [1]],
  ['has_id (unknown ids ignored)', { must: [{ has_id: [2, 5, 99] }] }, [2, 5]],
  ['dotted key, match', { must: [{ key: 'meta.owner.name', match: { value: 'bob' } }] }, [6, 7, 8, 9, 10]],
  ['dotted key, range', { must: [{ key: 'meta.level', range: { gte: 80 } }] }, [8, 9, 10]],
  [
    'should (any of)',
    {
      should: [
        { key: 'city', match: { value: 'London' } },
        { key: 'n', match: { value: 1 } },
      ],
    },
    [1, 3, 6, 9],
  ],
  ['must_not', { must_not: [{ key: 'city', match: { value: 'Paris' } }] }, [2, 3, 5, 6, 8, 9]],
  [
    'must + should',
    {
      must: [{ key: 'city', match: { value: 'Paris' } }],
      should: [
        { key: 'n', match: { value: 4 } },
        { key: 'n', match: { value: 7 } },
      ],
    },
    [4, 7],
  ],
  [
    'nested must/should/must_not',
    {
      must: [
        {
          should: [
            { key: 'city', match: { value: 'London' } },
            { key: 'city', match: { value: 'Berlin' } },
          ],
        },
      ],
      must_not: [
        {
          must: [
            { key: 'even', match: { value: true } },
            { key: 'n', range: { gt: 4 } },
          ],
        },
      ],
    },
    [2, 3, 5, 9],
  ],
  ['should: [] matches nothing (as in Qdrant)', { should: [] }, []],
  ['must: [] matches everything', { must: [] }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
  ['empty filter matches everything', {}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
];

const U64_MAX = '18446744073709551615';
const TWO_53_PLUS_1 = '9007199254740993';
const TWO_53 = '9007199254740992';
const UUID = '550e8400-e29b-41d4-a716-446655440000';

export function qdrantApiContract(name: string, start: StartServer): void {
  describe(`${name}: Qdrant REST API through @qdrant/js-client-rest`, () => {
    let server: ServerHandle;
    let client: QdrantClient;
    let stopped = false;

    beforeAll(async () => {
      server = await start();
      client = new QdrantClient({ url: server.url, checkCompatibility: false });
      // The shared read-only collection: Dot, so scores against [1, 0] are the ids themselves.
      await client.createCollection('items', {
        vectors: { size: 2, distance: 'Dot' },
        hnsw_config: { m: 8, ef_construct: 64 },
      });
      await client.upsert('items', { wait: true, points: ITEMS });
      for (const [field_name, field_schema] of [
        ['city', 'keyword'],
        ['n', 'integer'],
        ['price', 'float'],
        ['even', 'bool'],
      ] as const) {
        await client.createPayloadIndex('items', { field_name, field_schema, wait: true });
      }
    });

    afterAll(async () => {
      if (server && !stopped) await server.stop();
    });

    it('serves GET / and the probes as Qdrant does', async () => {
      const info = await client.versionInfo();
      expect(info.title).toMatch(/surgevec/);
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      for (const probe of ['/healthz', '/livez', '/readyz']) {
        const r = await raw(server.url, 'GET', probe);
        expect(r.status, probe).toBe(200);
      }
    });

    it('creates Cosine, Euclid and Dot collections and describes them in Qdrant shape', async () => {
      for (const [name, distance] of [
        ['c-cos', 'Cosine'],
        ['c-euc', 'Euclid'],
        ['c-dot', 'Dot'],
      ] as const) {
        expect(await client.collectionExists(name)).toEqual({ exists: false });
        expect(
          await client.createCollection(name, {
            vectors: { size: 3, distance },
            hnsw_config: { m: 12, ef_construct: 40, full_scan_threshold: 500 },
          }),
        ).toBe(true);
        expect(await client.collectionExists(name)).toEqual({ exists: true });
        const info = await client.getCollection(name);
        expect(info.status).toBe('green');
        expect(info.points_count).toBe(0);
        expect(info.indexed_vectors_count).toBe(0);
        expect(info.config.params.vectors).toEqual({ size: 3, distance });
        expect(info.config.params.shard_number).toBe(1);
        expect(info.config.hnsw_config).toMatchObject({ m: 12, ef_construct: 40, full_scan_threshold: 500 });
        expect(info.payload_schema).toEqual({});
      }
      const { collections } = await client.getCollections();
      expect(collections.map((c) => c.name)).toEqual(
        expect.arrayContaining(['items', 'c-cos', 'c-euc', 'c-dot']),
      );
      expect(collections.every((c) => Object.keys(c).join() === 'name')).toBe(true);

      // A second create is refused with the catalogue's status and code.
      await expectApiError(
        client.createCollection('c-cos', { vectors: { size: 3, distance: 'Cosine' } }),
        errors.COLLECTION_EXISTS.status,
        'COLLECTION_EXISTS',
      );
      await expectApiError(
        client.createCollection('c-bad', { vectors: { size: 3, distance: 'Manhattan' } }),
        400,
        'UNSUPPORTED_FEATURE',
      );
      await expectApiError(
        client.createCollection('c-named', { vectors: { image: { size: 3, distance: 'Dot' } } }),
        400,
        'UNSUPPORTED_FEATURE',
      );
    });

    it('getCollection reports points_count and the payload schema of items', async () => {
      const info = await client.getCollection('items');
      expect(info.points_count).toBe(10);
      expect(info.config.params.vectors).toEqual({ size: 2, distance: 'Dot' });
      expect(info.config.hnsw_config).toMatchObject({ m: 8, ef_construct: 64 });
      expect(info.payload_schema).toEqual({
        city: { data_type: 'keyword', points: 10 },
        n: { data_type: 'integer', points: 10 },
        price: { data_type: 'float', points: 10 },
        even: { data_type: 'bool', points: 10 },
      });
    });

    it('deletes collections idempotently (true, then false) as Qdrant does', async () => {
      await client.createCollection('c-del', { vectors: { size: 2, distance: 'Dot' } });
      expect(await client.deleteCollection('c-del')).toBe(true);
      expect(await client.collectionExists('c-del')).toEqual({ exists: false });
      expect(await client.deleteCollection('c-del')).toBe(false);
      await expectApiError(client.getCollection('c-del'), 404, 'COLLECTION_NOT_FOUND');
    });

    it('creates, renames, deletes and atomically swaps aliases', async () => {
      await client.createCollection('al-1', { vectors: { size: 2, distance: 'Dot' } });
      await client.createCollection('al-2', { vectors: { size: 2, distance: 'Dot' } });
      await client.upsert('al-1', { wait: true, points: [{ id: 1, vector: [1, 0] }] });
      await client.upsert('al-2', { wait: true, points: [{ id: 2, vector: [1, 0] }] });

      expect(
        await client.updateCollectionAliases({
          actions: [
            { create_alias: { alias_name: 'live', collection_name: 'al-1' } },
            { create_alias: { alias_name: 'old', collection_name: 'al-1' } },
          ],
        }),
      ).toBe(true);
      expect((await client.getCollectionAliases('al-1')).aliases).toEqual([
        { alias_name: 'live', collection_name: 'al-1' },
        { alias_name: 'old', collection_name: 'al-1' },
      ]);
      expect(ids(await client.search('live', { vector: [1, 0], limit: 5 }))).toEqual([1]);
      // Collection reads resolve aliases, as in Qdrant.
      expect((await client.getCollection('live')).points_count).toBe(1);
      expect(await client.collectionExists('live')).toEqual({ exists: true });

      await client.updateCollectionAliases({
        actions: [{ rename_alias: { old_alias_name: 'old', new_alias_name: 'previous' } }],
      });
      const all = (await client.getAliases()).aliases.filter((a) => a.collection_name.startsWith('al-'));
      expect(all).toEqual([
        { alias_name: 'live', collection_name: 'al-1' },
        { alias_name: 'previous', collection_name: 'al-1' },
      ]);

      // The blue/green switch: one request, both actions or neither.
      await client.updateCollectionAliases({
        actions: [
          { delete_alias: { alias_name: 'live' } },
          { create_alias: { alias_name: 'live', collection_name: 'al-2' } },
        ],
      });
      expect(ids(await client.search('live', { vector: [1, 0], limit: 5 }))).toEqual([2]);
      expect((await client.getCollectionAliases('al-2')).aliases).toEqual([
        { alias_name: 'live', collection_name: 'al-2' },
      ]);

      // A failing action leaves every alias as it was.
      await expectApiError(
        client.updateCollectionAliases({
          actions: [
            { create_alias: { alias_name: 'live', collection_name: 'al-1' } },
            { delete_alias: { alias_name: 'no-such-alias' } },
          ],
        }),
        404,
        'ALIAS_NOT_FOUND',
      );
      expect(ids(await client.search('live', { vector: [1, 0], limit: 5 }))).toEqual([2]);
      await expectApiError(
        client.updateCollectionAliases({
          actions: [{ create_alias: { alias_name: 'x', collection_name: 'no-such-collection' } }],
        }),
        404,
        'COLLECTION_NOT_FOUND',
      );

      await client.updateCollectionAliases({
        actions: [{ delete_alias: { alias_name: 'previous' } }, { delete_alias: { alias_name: 'live' } }],
      });
      expect((await client.getCollectionAliases('al-1')).aliases).toEqual([]);
      await expectApiError(client.getCollectionAliases('no-such-collection'), 404, 'COLLECTION_NOT_FOUND');
    });

    it('creates and deletes payload indexes (keyword/integer/float/bool); wait defaults to false', async () => {
      await client.createCollection('idx', { vectors: { size: 2, distance: 'Dot' } });
      await client.upsert('idx', {
        wait: true,
        points: [
          { id: 1, vector: [1, 0], payload: { k: 'a', i: 1, f: 1.5, b: true } },
          { id: 2, vector: [0, 1], payload: { k: 'b', i: 2 } },
        ],
      });
      const waited = await client.createPayloadIndex('idx', {
        field_name: 'k',
        field_schema: 'keyword',
        wait: true,
      });
      expect(waited.status).toBe('completed');
      expect(typeof waited.operation_id).toBe('number');
      // The client sends no `wait` here; Qdrant's default is false, so the answer is "acknowledged".
      const unwaited = await client.createPayloadIndex('idx', { field_name: 'i', field_schema: 'integer' });
      expect(unwaited.status).toBe('acknowledged');
      expect(unwaited.operation_id).toBeGreaterThan(waited.operation_id!);
      await client.createPayloadIndex('idx', {
        field_name: 'f',
        field_schema: { type: 'float' },
        wait: true,
      });
      await client.createPayloadIndex('idx', { field_name: 'b', field_schema: 'bool', wait: true });
      expect((await client.getCollection('idx')).payload_schema).toEqual({
        k: { data_type: 'keyword', points: 2 },
        i: { data_type: 'integer', points: 2 },
        f: { data_type: 'float', points: 1 },
        b: { data_type: 'bool', points: 1 },
      });
      const e = await expectApiError(
        client.createPayloadIndex('idx', { field_name: 'g', field_schema: 'geo', wait: true }),
        400,
        'UNSUPPORTED_FEATURE',
      );
      expect(e.data.status.error).toMatch(/geo/);

      expect((await client.deletePayloadIndex('idx', 'b', { wait: true })).status).toBe('completed');
      expect(Object.keys((await client.getCollection('idx')).payload_schema).sort()).toEqual(['f', 'i', 'k']);
      await expectApiError(
        client.createPayloadIndex('no-such-collection', { field_name: 'k', field_schema: 'keyword' }),
        404,
        'COLLECTION_NOT_FOUND',
      );
    });

    it('upserts in points form and batch form, with wait true and false', async () => {
      await client.createCollection('up', { vectors: { size: 2, distance: 'Dot' } });
      const a = await client.upsert('up', {
        wait: true,
        points: [
          { id: 1, vector: [1, 0], payload: { v: 1 } },
          { id: UUID, vector: [0, 1], payload: { v: 'uuid' } },
        ],
      });
      expect(a.status).toBe('completed');
      const b = await client.upsert('up', {
        wait: false,
        batch: {
          ids: [2, 3],
          vectors: [
            [2, 0],
            [3, 0],
          ],
          payloads: [{ v: 2 }, null],
        },
      });
      expect(b.status).toBe('acknowledged');
      expect(b.operation_id).toBeGreaterThan(a.operation_id!);
      // Acknowledged writes are durable; they become visible (immediately in surgevec, eventually in Qdrant).
      await expect.poll(async () => (await client.count('up')).count, { timeout: 5000 }).toBe(4);
      const batchNoPayloads = await client.upsert('up', {
        wait: true,
        batch: { ids: [4], vectors: [[4, 0]] },
      });
      expect(batchNoPayloads.status).toBe('completed');
      // An upsert replaces the whole point, payload included.
      await client.upsert('up', { wait: true, points: [{ id: 1, vector: [5, 0], payload: { w: true } }] });
      const got = await client.retrieve('up', { ids: [1, 2, 3, 4, UUID], with_vector: true });
      expect(got).toEqual([
        { id: 1, payload: { w: true }, vector: [5, 0] },
        { id: 2, payload: { v: 2 }, vector: [2, 0] },
        { id: 3, payload: {}, vector: [3, 0] },
        { id: 4, payload: {}, vector: [4, 0] },
        { id: UUID, payload: { v: 'uuid' }, vector: [0, 1] },
      ]);
      expect((await client.getCollection('up')).points_count).toBe(5);
    });

    it('retrieves points: payload by default, no vector, selectors, unknown ids skipped', async () => {
      const two = await client.retrieve('items', { ids: [2, 99, 7] });
      expect(ids(two).sort()).toEqual([2, 7]);
      const p7 = two.find((p) => p.id === 7)!;
      expect(p7.payload).toEqual(ITEMS[6]!.payload);
      expect(p7).not.toHaveProperty('vector');

      const onlyCity = await client.retrieve('items', {
        ids: [3],
        with_payload: ['city', 'n'],
        with_vector: true,
      });
      expect(onlyCity).toEqual([{ id: 3, payload: { city: 'London', n: 3 }, vector: [3, 7] }]);
      const exclude = await client.retrieve('items', {
        ids: [3],
        with_payload: { exclude: ['meta', 'tags', 'note', 'price'] },
      });
      expect(exclude).toEqual([{ id: 3, payload: { city: 'London', n: 3, even: false } }]);
      const none = await client.retrieve('items', { ids: [3], with_payload: false });
      expect(none).toEqual([{ id: 3 }]);
    });

    // KNOWN DIFFERENCE (docs/API.md): Qdrant selects nested paths ("meta.owner" → {meta: {owner}}, see its
    // tests/openapi/test_payload_selector.py); the engine's selectPayload keeps or drops whole top-level keys.
    it('selects nested payload paths in include/exclude as Qdrant does', async () => {
      const inc = await client.retrieve('items', {
        ids: [1],
        with_payload: { include: ['city', 'meta.owner'] },
      });
      expect(inc[0]!.payload).toEqual({ city: 'Paris', meta: { owner: { name: 'ann' } } });
      const exc = await client.retrieve('items', { ids: [1], with_payload: { exclude: ['meta.level'] } });
      expect(exc[0]!.payload!.meta).toEqual({ owner: { name: 'ann' } });
    });

    it('gets one point by id with payload and vector; 404 when it does not exist', async () => {
      const r = await client.api().getPoint({ collection_name: 'items', id: 4 });
      expect(r.status).toBe(200);
      expect(r.data.status).toBe('ok');
      expect(r.data.result).toEqual({ id: 4, payload: ITEMS[3]!.payload, vector: [4, 6] });
      const e = await expectApiError(
        client.api().getPoint({ collection_name: 'items', id: 12345 }),
        404,
        'POINT_NOT_FOUND',
      );
      expect(e.data.status.error).toMatch(/12345/);
      await expectApiError(
        client.api().getPoint({ collection_name: 'nope', id: 1 }),
        404,
        'COLLECTION_NOT_FOUND',
      );
    });

    it('deletes points by ids and by filter', async () => {
      await client.createCollection('del', { vectors: { size: 2, distance: 'Dot' } });
      await client.upsert('del', { wait: true, points: ITEMS });
      const r = await client.delete('del', { wait: true, points: [1, 2, 99] });
      expect(r.status).toBe('completed');
      expect((await client.count('del')).count).toBe(8);
      await client.delete('del', {
        wait: true,
        filter: { must: [{ key: 'city', match: { value: 'London' } }] },
      });
      expect(ids((await client.scroll('del', { limit: 100 })).points)).toEqual([4, 5, 7, 8, 10]);
      const unwaited = await client.delete('del', { points: [4] });
      expect(unwaited.status).toBe('acknowledged');
      await expect.poll(async () => (await client.count('del')).count, { timeout: 5000 }).toBe(4);
    });

    it('sets (incl. nested `key`), overwrites, deletes and clears payload', async () => {
      await client.createCollection('pay', { vectors: { size: 2, distance: 'Dot' } });
      await client.upsert('pay', { wait: true, points: ITEMS.slice(0, 4) });
      const payload = async (id: number) => (await client.retrieve('pay', { ids: [id] }))[0]!.payload;

      expect(
        (await client.setPayload('pay', { payload: { color: 'red', n: 100 }, points: [1] })).status,
      ).toBe('completed');
      expect(await payload(1)).toEqual({ ...ITEMS[0]!.payload, color: 'red', n: 100 });

      await client.setPayload('pay', { payload: { team: 'core' }, key: 'meta.owner', points: [2] });
      expect((await payload(2))!.meta).toEqual({ owner: { name: 'ann', team: 'core' }, level: 20 });

      await client.setPayload('pay', {
        payload: { flagged: true },
        filter: { must: [{ key: 'n', range: { gte: 3 } }] },
      });
      const flagged = await client.scroll('pay', {
        filter: { must: [{ key: 'flagged', match: { value: true } }] },
        with_payload: false,
      });
      // Point 1's n is 100 since the first set_payload.
      expect(ids(flagged.points)).toEqual([1, 3, 4]);

      await client.overwritePayload('pay', { payload: { only: 1 }, points: [3] });
      expect(await payload(3)).toEqual({ only: 1 });

      await client.deletePayload('pay', { keys: ['tags', 'meta.level', 'missing'], points: [4] });
      const p4 = await payload(4);
      expect(p4).not.toHaveProperty('tags');
      expect(p4!.meta).toEqual({ owner: { name: 'ann' } });
      expect(p4!.city).toBe('Paris');

      await client.clearPayload('pay', { points: [1, 2] });
      expect(await payload(1)).toEqual({});
      expect(await payload(2)).toEqual({});
      await client.clearPayload('pay', { filter: { must: [{ key: 'only', match: { value: 1 } }] } });
      expect(await payload(3)).toEqual({});
      expect(await payload(4)).not.toEqual({});
    });

    it('scrolls in id order with next_page_offset paging, filters and selectors', async () => {
      const pages: Id[][] = [];
      let offset: Id | undefined | null;
      do {
        const page = await client.scroll('items', { limit: 4, ...(offset != null ? { offset } : {}) });
        pages.push(ids(page.points));
        offset = page.next_page_offset as Id | null;
        // Scroll returns payload by default and no vector, as in Qdrant.
        expect(page.points.every((p) => p.payload && !('vector' in p))).toBe(true);
      } while (offset != null && pages.length < 10);
      expect(pages).toEqual([
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10],
      ]);

      const first = await client.scroll('items', { limit: 4 });
      expect(first.next_page_offset).toBe(5);
      const filtered = await client.scroll('items', {
        limit: 2,
        filter: { must: [{ key: 'city', match: { value: 'Paris' } }] },
        with_payload: ['city'],
        with_vector: true,
      });
      expect(filtered).toEqual({
        points: [
          { id: 1, payload: { city: 'Paris' }, vector: [1, 9] },
          { id: 4, payload: { city: 'Paris' }, vector: [4, 6] },
        ],
        next_page_offset: 7,
      });
      const last = await client.scroll('items', {
        offset: 7,
        filter: { must: [{ key: 'city', match: { value: 'Paris' } }] },
        with_payload: false,
      });
      expect(last).toEqual({ points: [{ id: 7 }, { id: 10 }], next_page_offset: null });
    });

    it('counts with and without a filter', async () => {
      expect(await client.count('items')).toEqual({ count: 10 });
      expect(await client.count('items', { exact: true })).toEqual({ count: 10 });
      expect(
        await client.count('items', { filter: { must: [{ key: 'even', match: { value: false } }] } }),
      ).toEqual({
        count: 5,
      });
    });

    it.each(FILTER_CASES)('filter: %s', async (_label, filter, expected) => {
      expect((await client.count('items', { filter })).count).toBe(expected.length);
      expect(ids((await client.scroll('items', { filter, limit: 100, with_payload: false })).points)).toEqual(
        expected,
      );
      // The same filter during search: scores against [1, 0] are the ids, so the order is descending ids.
      const hits = await client.search('items', { vector: [1, 0], filter, limit: 100, with_payload: false });
      expect(ids(hits)).toEqual([...expected].reverse());
    });

    it('rejects unsupported and malformed filters with catalogue errors', async () => {
      const geo = await expectApiError(
        client.count('items', {
          filter: {
            must: [{ key: 'loc', geo_radius: { center: { lon: 0, lat: 0 }, radius: 10 } }],
          },
        }),
        400,
        'UNSUPPORTED_FEATURE',
      );
      expect(geo.data.status.error).toMatch(/geo_radius/);
      const bad = await expectApiError(
        client.scroll('items', { filter: { must: [{ key: 'n', range: { gt: 'x' } }] } as never }),
        400,
        'INVALID_FILTER',
      );
      expect(bad.data.status.error).toMatch(/range\.gt/);
    });

    it('searches with filter, score_threshold, offset, payload selectors, vectors and params', async () => {
      const top = await client.search('items', { vector: [1, 0], limit: 3 });
      expect(top.map((p) => [p.id, p.score])).toEqual([
        [10, 10],
        [9, 9],
        [8, 8],
      ]);
      // The client asks for payload by default.
      expect(top[0]!.payload).toEqual(ITEMS[9]!.payload);
      expect(top[0]).not.toHaveProperty('vector');
      expect(top.every((p) => typeof p.version === 'number')).toBe(true);

      const london = await client.search('items', {
        vector: [1, 0],
        limit: 10,
        filter: { must: [{ key: 'city', match: { value: 'London' } }] },
        with_payload: false,
      });
      expect(london.map((p) => [p.id, p.score])).toEqual([
        [9, 9],
        [6, 6],
        [3, 3],
      ]);
      expect(london[0]).not.toHaveProperty('payload');

      const threshold = await client.search('items', { vector: [1, 0], limit: 10, score_threshold: 8 });
      expect(ids(threshold)).toEqual([10, 9, 8]);
      const paged = await client.search('items', {
        vector: [1, 0],
        limit: 2,
        offset: 2,
        with_payload: false,
      });
      expect(ids(paged)).toEqual([8, 7]);

      const selected = await client.search('items', {
        vector: [0, 1],
        limit: 1,
        with_payload: ['city', 'n'],
        with_vector: true,
      });
      expect(selected).toEqual([
        { id: 1, version: selected[0]!.version, score: 9, payload: { city: 'Paris', n: 1 }, vector: [1, 9] },
      ]);
      const excluded = await client.search('items', {
        vector: [0, 1],
        limit: 1,
        with_payload: { exclude: ['meta', 'tags', 'note', 'price', 'even'] },
      });
      expect(excluded[0]!.payload).toEqual({ city: 'Paris', n: 1 });

      for (const params of [
        { hnsw_ef: 4 },
        { hnsw_ef: 256 },
        { exact: true },
        { exact: false, hnsw_ef: 16 },
      ]) {
        const r = await client.search('items', { vector: [1, 0], limit: 4, params, with_payload: false });
        expect(ids(r), JSON.stringify(params)).toEqual([10, 9, 8, 7]);
      }
    });

    it('scores Cosine (normalised on write) and Euclid (distance; threshold is an upper bound) as Qdrant', async () => {
      await client.createCollection('cos', { vectors: { size: 2, distance: 'Cosine' } });
      await client.upsert('cos', {
        wait: true,
        points: [
          { id: 1, vector: [1, 0] },
          { id: 2, vector: [1, 1] },
          { id: 3, vector: [0, 1] },
          { id: 4, vector: [-1, 0] },
        ],
      });
      const cos = await client.search('cos', { vector: [2, 0], limit: 4, with_vector: true });
      expect(ids(cos)).toEqual([1, 2, 3, 4]);
      const s = cos.map((p) => p.score);
      expect(s[0]).toBeCloseTo(1, 6);
      expect(s[1]).toBeCloseTo(Math.SQRT1_2, 6);
      expect(s[2]).toBeCloseTo(0, 6);
      expect(s[3]).toBeCloseTo(-1, 6);
      const v2 = cos[1]!.vector as number[];
      expect(v2[0]).toBeCloseTo(Math.SQRT1_2, 6);
      expect(v2[1]).toBeCloseTo(Math.SQRT1_2, 6);
      expect(ids(await client.search('cos', { vector: [2, 0], limit: 4, score_threshold: 0.5 }))).toEqual([
        1, 2,
      ]);

      // Qdrant's own test (tests/openapi/test_euclid_dist.py), same data and expectations.
      await client.createCollection('euc', { vectors: { size: 2, distance: 'Euclid' } });
      await client.upsert('euc', {
        wait: true,
        points: [
          { id: 1, vector: [0, 0], payload: { city: 'Berlin' } },
          { id: 2, vector: [0, 1], payload: { city: ['Berlin', 'London'] } },
          { id: 3, vector: [-1, -1], payload: { city: ['Berlin', 'Moscow'] } },
        ],
      });
      const euc = await client.search('euc', { vector: [1, 1], limit: 3 });
      expect(ids(euc)).toEqual([2, 1, 3]);
      expect(euc[0]!.score).toBeCloseTo(1, 4);
      expect(euc[1]!.score).toBeCloseTo(Math.SQRT2, 4);
      expect(euc[2]!.score).toBeCloseTo(2 * Math.SQRT2, 4);
      expect(ids(await client.search('euc', { vector: [1, 1], limit: 3, score_threshold: 1.5 }))).toEqual([
        2, 1,
      ]);
      expect(
        ids(
          await client.search('euc', {
            vector: [1, 1],
            limit: 3,
            filter: { must: [{ key: 'city', match: { value: 'Moscow' } }] },
          }),
        ),
      ).toEqual([3]);
    });

    it('searches in batches', async () => {
      const [a, b, c] = await client.searchBatch('items', {
        searches: [
          { vector: [1, 0], limit: 2 },
          { vector: [0, 1], limit: 2, with_payload: true },
          { vector: [1, 0], limit: 5, filter: { must: [{ key: 'n', range: { lt: 3 } }] } },
        ],
      });
      expect(a!.map((p) => [p.id, p.score])).toEqual([
        [10, 10],
        [9, 9],
      ]);
      // Batch searches follow SearchRequest's default: no payload unless asked.
      expect(a![0]).not.toHaveProperty('payload');
      expect(b!.map((p) => [p.id, p.score])).toEqual([
        [1, 9],
        [2, 8],
      ]);
      expect(b![0]!.payload).toEqual(ITEMS[0]!.payload);
      expect(ids(c!)).toEqual([2, 1]);
      await expectApiError(
        client.searchBatch('items', {
          searches: [
            { vector: [1, 0], limit: 1 },
            { vector: [1, 0, 0], limit: 1 },
          ],
        }),
        400,
        'DIMENSION_MISMATCH',
      );
    });

    it('queries by vector, {nearest}, point id and with no query', async () => {
      const byVector = await client.query('items', { query: [1, 0], limit: 3 });
      expect(byVector.points.map((p) => [p.id, p.score])).toEqual([
        [10, 10],
        [9, 9],
        [8, 8],
      ]);
      // Query's default is no payload and no vector.
      expect(byVector.points[0]).not.toHaveProperty('payload');
      expect(byVector.points[0]).not.toHaveProperty('vector');

      const nearest = await client.query('items', {
        query: { nearest: [0, 1] },
        limit: 2,
        offset: 1,
        with_payload: ['n'],
        with_vector: true,
        filter: { must_not: [{ key: 'city', match: { value: 'Berlin' } }] },
        params: { hnsw_ef: 32 },
      });
      expect(nearest.points.map((p) => [p.id, p.score, p.payload, p.vector])).toEqual([
        [3, 7, { n: 3 }, [3, 7]],
        [4, 6, { n: 4 }, [4, 6]],
      ]);

      // By point id: the point's own vector is the query, and the point itself is left out.
      const byId = await client.query('items', { query: 10, limit: 3 });
      expect(byId.points.map((p) => [p.id, p.score])).toEqual([
        [9, 90],
        [8, 80],
        [7, 70],
      ]);
      await expectApiError(client.query('items', { query: 12345 }), 404, 'POINT_NOT_FOUND');

      const threshold = await client.query('items', { query: [1, 0], score_threshold: 9 });
      expect(ids(threshold.points)).toEqual([10, 9]);

      // No query: points in id order, score 1 (Qdrant's scroll-as-query), default limit 10.
      const noQuery = await client.query('items', {
        filter: { must: [{ key: 'city', match: { value: 'Paris' } }] },
        offset: 1,
        with_payload: ['city'],
      });
      expect(noQuery.points).toEqual([
        { id: 4, version: 0, score: 1, payload: { city: 'Paris' } },
        { id: 7, version: 0, score: 1, payload: { city: 'Paris' } },
        { id: 10, version: 0, score: 1, payload: { city: 'Paris' } },
      ]);
      expect(ids((await client.query('items', {})).points)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('answers catalogue errors naming the feature for query kinds surgevec lacks', async () => {
      for (const [query, feature] of [
        [{ recommend: { positive: [1] } }, 'recommend'],
        [{ fusion: 'rrf' }, 'fusion'],
        [{ order_by: 'n' }, 'order_by'],
        [{ nearest: [1, 0], mmr: { diversity: 0.5 } }, 'mmr'],
        [{ indices: [1], values: [0.5] }, 'sparse'],
      ] as const) {
        const e = await expectApiError(
          client.query('items', { query: query as never }),
          400,
          'UNSUPPORTED_FEATURE',
        );
        expect(e.data.status.error, feature).toMatch(new RegExp(feature));
      }
      const p = await expectApiError(
        client.query('items', { prefetch: [{ query: [1, 0] }], query: { fusion: 'rrf' } }),
        400,
        'UNSUPPORTED_FEATURE',
      );
      expect(p.data.status.error).toMatch(/prefetch/);
    });

    it('queries in batches', async () => {
      const [a, b, c] = await client.queryBatch('items', {
        searches: [
          { query: [1, 0], limit: 1 },
          { query: { nearest: [0, 1] }, limit: 2, with_payload: true },
          { limit: 2, filter: { must: [{ key: 'city', match: { value: 'Berlin' } }] } },
        ],
      });
      expect(a!.points.map((p) => [p.id, p.score])).toEqual([[10, 10]]);
      expect(b!.points.map((p) => [p.id, p.score])).toEqual([
        [1, 9],
        [2, 8],
      ]);
      expect(b!.points[1]!.payload).toEqual(ITEMS[1]!.payload);
      expect(c!.points.map((p) => [p.id, p.score])).toEqual([
        [2, 1],
        [5, 1],
      ]);
    });

    it('answers ApiError 404 for an unknown collection and 400 for a wrong dimension, with code and hint', async () => {
      const notFound = await expectApiError(client.getCollection('nope'), 404, 'COLLECTION_NOT_FOUND');
      expect(notFound.data.status.error).toBe("Not found: Collection `nope` doesn't exist!");
      await expectApiError(client.search('nope', { vector: [1, 0] }), 404, 'COLLECTION_NOT_FOUND');
      await expectApiError(
        client.upsert('nope', { points: [{ id: 1, vector: [1, 0] }] }),
        404,
        'COLLECTION_NOT_FOUND',
      );
      await expectApiError(client.count('nope'), 404, 'COLLECTION_NOT_FOUND');

      const dim = await expectApiError(
        client.upsert('items', { wait: true, points: [{ id: 1, vector: [1, 0, 0] }] }),
        400,
        'DIMENSION_MISMATCH',
      );
      expect(dim.data.status.error).toMatch(/^Wrong input: /);
      await expectApiError(client.search('items', { vector: [1] }), 400, 'DIMENSION_MISMATCH');
      await expectApiError(client.query('items', { query: [1, 0, 0] }), 400, 'DIMENSION_MISMATCH');
      // Nothing was written by the refused upsert.
      expect((await client.retrieve('items', { ids: [1], with_vector: true }))[0]!.vector).toEqual([1, 9]);

      const r = await raw(server.url, 'POST', '/collections/items/points/search', '{"vector": [1, 0], ');
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({
        status: { error: expect.any(String) },
        code: 'INVALID_JSON',
        result: null,
      });
      const route = await raw(server.url, 'GET', '/no/such/route');
      expect(route.status).toBe(404);
      expect(route.json).toMatchObject({
        code: 'ROUTE_NOT_FOUND',
        status: { error: expect.stringMatching(/no route/) },
      });
    });

    it('answers Qdrant endpoints it does not implement with a named catalogue error, never a bare 404', async () => {
      const rec = await expectApiError(
        client.recommend('items', { positive: [1], limit: 1 }),
        501,
        'UNSUPPORTED_ENDPOINT',
      );
      expect(rec.data.status.error).toMatch(/recommend/);
      const snap = await expectApiError(client.createSnapshot('items'), 501, 'UNSUPPORTED_ENDPOINT');
      expect(snap.data.status.error).toMatch(/snapshot/);
      const patch = await expectApiError(
        client.updateCollection('items', { optimizers_config: { indexing_threshold: 1 } }),
        400,
        'UNSUPPORTED_FEATURE',
      );
      expect(patch.data.status.error).toMatch(/updating collection/);

      // Every endpoint the client knows answers something other than "no such route".
      const api = client.api() as unknown as Record<string, (p: object) => Promise<unknown>>;
      const params = {
        collection_name: 'probe-none',
        id: 1,
        field_name: 'f',
        vector_name: 'v',
        snapshot_name: 's',
        shard_id: 0,
        peer_id: 1,
      };
      const bare404: string[] = [];
      for (const [method, call] of Object.entries(api)) {
        // /metrics is the Prometheus endpoint, not part of the Qdrant collection API this suite covers.
        if (method === 'metrics') continue;
        try {
          await call({ ...params });
        } catch (e) {
          if (isApiError(e) && (e.status === 404 || e.status === 405) && e.data?.code === 'ROUTE_NOT_FOUND') {
            bare404.push(method);
          }
        }
      }
      expect(bare404).toEqual([]);
    });

    it('round-trips ids above 2^53 exactly (raw JSON over undici)', async () => {
      const u = server.url;
      expect(
        (await raw(u, 'PUT', '/collections/big', '{"vectors": {"size": 2, "distance": "Dot"}}')).status,
      ).toBe(200);
      const up = await raw(
        u,
        'PUT',
        '/collections/big/points?wait=true',
        `{"points": [{"id": ${U64_MAX}, "vector": [1, 0], "payload": {"k": "max"}},` +
          ` {"id": ${TWO_53_PLUS_1}, "vector": [0, 1], "payload": {"k": "2^53+1"}},` +
          ` {"id": ${TWO_53}, "vector": [0.5, 0.5], "payload": {"k": "2^53"}},` +
          ` {"id": 5, "vector": [0.25, 0.25]}]}`,
      );
      expect(up.status, up.text).toBe(200);
      expect(up.json.result.status).toBe('completed');
      // 2^53 and 2^53+1 are different points (a double would merge them).
      expect((await raw(u, 'POST', '/collections/big/points/count', '{}')).json.result.count).toBe(4);

      const got = await raw(u, 'POST', '/collections/big/points', `{"ids": [${U64_MAX}, ${TWO_53_PLUS_1}]}`);
      expect(got.text).toContain(`{"id":${U64_MAX},"payload":{"k":"max"}}`);
      expect(got.text).toContain(`{"id":${TWO_53_PLUS_1},"payload":{"k":"2^53+1"}}`);

      const one = await raw(u, 'GET', `/collections/big/points/${U64_MAX}`);
      expect(one.status).toBe(200);
      expect(one.text).toContain(`"result":{"id":${U64_MAX},"payload":{"k":"max"},"vector":[1,0]}`);

      const hit = await raw(u, 'POST', '/collections/big/points/search', '{"vector": [1, 0], "limit": 1}');
      expect(hit.text).toMatch(new RegExp(`"result":\\[\\{"id":${U64_MAX},"version":\\d+,"score":1\\}\\]`));

      const page = await raw(
        u,
        'POST',
        '/collections/big/points/scroll',
        '{"limit": 2, "with_payload": false}',
      );
      expect(page.text).toContain(`"points":[{"id":5},{"id":${TWO_53}}],"next_page_offset":${TWO_53_PLUS_1}`);
      const page2 = await raw(
        u,
        'POST',
        '/collections/big/points/scroll',
        `{"limit": 5, "offset": ${TWO_53_PLUS_1}, "with_payload": false}`,
      );
      expect(page2.text).toContain(
        `"points":[{"id":${TWO_53_PLUS_1}},{"id":${U64_MAX}}],"next_page_offset":null`,
      );

      const byId = await raw(u, 'POST', '/collections/big/points/query', `{"query": ${U64_MAX}, "limit": 1}`);
      expect(byId.text).toMatch(new RegExp(`"points":\\[\\{"id":${TWO_53},`));

      const hasId = await raw(
        u,
        'POST',
        '/collections/big/points/count',
        `{"filter": {"must": [{"has_id": [${U64_MAX}, ${TWO_53}]}]}}`,
      );
      expect(hasId.json.result.count).toBe(2);

      const del = await raw(
        u,
        'POST',
        '/collections/big/points/delete?wait=true',
        `{"points": [${U64_MAX}]}`,
      );
      expect(del.status).toBe(200);
      expect((await raw(u, 'GET', `/collections/big/points/${U64_MAX}`)).status).toBe(404);
      expect((await raw(u, 'POST', '/collections/big/points/count', '{}')).json.result.count).toBe(3);
      // Out of the u64 range: refused, not rounded.
      const tooBig = await raw(
        u,
        'PUT',
        '/collections/big/points?wait=true',
        '{"points": [{"id": 18446744073709551616, "vector": [1, 0]}]}',
      );
      expect(tooBig.status).toBe(400);
      expect(tooBig.json.code).toBe('INVALID_POINT_ID');
    });

    it('applies Qdrant defaults to raw requests (with_payload per endpoint, wait=false)', async () => {
      const u = server.url;
      const search = await raw(
        u,
        'POST',
        '/collections/items/points/search',
        '{"vector": [1, 0], "limit": 1}',
      );
      expect(search.json.result).toEqual([{ id: 10, version: expect.any(Number), score: 10 }]);
      const query = await raw(u, 'POST', '/collections/items/points/query', '{"query": [1, 0], "limit": 1}');
      expect(query.json.result).toEqual({ points: [{ id: 10, version: expect.any(Number), score: 10 }] });
      const batch = await raw(
        u,
        'POST',
        '/collections/items/points/search/batch',
        '{"searches": [{"vector": [1, 0], "limit": 1}]}',
      );
      expect(batch.json.result).toEqual([[{ id: 10, version: expect.any(Number), score: 10 }]]);
      const retrieve = await raw(u, 'POST', '/collections/items/points', '{"ids": [10]}');
      expect(retrieve.json.result).toEqual([{ id: 10, payload: ITEMS[9]!.payload }]);
      const scroll = await raw(u, 'POST', '/collections/items/points/scroll', '{}');
      expect(scroll.json.result.points).toHaveLength(10);
      expect(scroll.json.result.points[0]).toEqual({ id: 1, payload: ITEMS[0]!.payload });
      expect(scroll.json.result.next_page_offset).toBeNull();
      const count = await raw(u, 'POST', '/collections/items/points/count');
      expect(count.json).toMatchObject({ status: 'ok', result: { count: 10 } });

      await raw(u, 'PUT', '/collections/raw', '{"vectors": {"size": 2, "distance": "Dot"}}');
      const w = await raw(u, 'PUT', '/collections/raw/points', '{"points": [{"id": 1, "vector": [1, 0]}]}');
      expect(w.json).toMatchObject({ status: 'ok', result: { status: 'acknowledged' } });
      const del = await raw(u, 'DELETE', '/collections/raw');
      expect(del.json).toMatchObject({ status: 'ok', result: true });
      const delAgain = await raw(u, 'DELETE', '/collections/raw');
      expect(delAgain.json).toMatchObject({ status: 'ok', result: false });
    });

    it('stops cleanly', async () => {
      stopped = true;
      await server.stop();
    });
  });
}
