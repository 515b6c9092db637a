/**
 * The contract of the engine API, run against the in-process Engine and the worker-thread WorkerEngine
 * (style.md §3). Every failure mode answers a catalogue code, and the engine stays consistent after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConfigOptions, defaultConfig } from '../../src/config/index.js';
import type { ChangeEvent, EngineApi, PointInput } from '../../src/engine/index.js';
import type { ErrorCode } from '../../src/protocol/errors.js';

export type EngineFactory = (dataDir: string, overrides?: ConfigOptions) => Promise<EngineApi>;

export async function expectCode(p: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect((e as { code?: string }).code, (e as Error).message).toBe(code);
    expect((e as Error).message.length).toBeGreaterThan(5);
    return;
  }
  throw new Error(`expected a ${code} error, but the call succeeded`);
}

export function testConfig(dataDir: string, overrides: ConfigOptions = {}) {
  return defaultConfig({
    ...overrides,
    storage: { data_dir: dataDir, ...overrides.storage },
    engine: { segment_max_points: 64, index_slice_points: 16, ...overrides.engine },
  });
}

const U64_MAX = (1n << 64n) - 1n;
const UUID = '550e8400-e29b-41d4-a716-446655440000';

export function engineContract(name: string, open: EngineFactory): void {
  describe(`${name} satisfies the engine contract`, () => {
    const root = mkdtempSync(join(tmpdir(), `surgevec-${name}-`));
    let dir: string;
    let engine: EngineApi;
    let n = 0;
    beforeEach(async () => {
      dir = join(root, `t${n++}`);
      engine = await open(dir);
    });
    afterEach(async () => {
      await engine.close();
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    const pts = (count: number, dim = 4, from = 0): PointInput[] =>
      Array.from({ length: count }, (_, i) => ({
        id: from + i,
        vector: Array.from({ length: dim }, (_, j) => Math.sin((from + i) * 7 + j) + (j === 0 ? 2 : 0)),
        payload: { n: from + i, even: (from + i) % 2 === 0, tag: `t${(from + i) % 3}` },
      }));

    it('creates, lists, describes and drops collections; names are checked', async () => {
      await engine.createCollection('a', { size: 4, distance: 'Cosine' });
      await engine.createCollection('b-2_x', { size: 3, distance: 'Dot', hnsw: { m: 8 } });
      expect(await engine.listCollections()).toEqual(['a', 'b-2_x']);
      const info = await engine.collectionInfo('b-2_x');
      expect(info.config.size).toBe(3);
      expect(info.config.hnsw.m).toBe(8);
      expect(info.points_count).toBe(0);
      expect(info.status).toBe('green');
      await expectCode(engine.createCollection('a', { size: 4, distance: 'Cosine' }), 'COLLECTION_EXISTS');
      for (const bad of ['..', 'a/b', '', 'x'.repeat(256), 'a b', 'é', '../etc']) {
        await expectCode(engine.createCollection(bad, { size: 4, distance: 'Cosine' }), 'INVALID_NAME');
      }
      await expectCode(engine.createCollection('c', { size: 0, distance: 'Cosine' }), 'INVALID_REQUEST');
      await expectCode(
        engine.createCollection('c', { size: 4, distance: 'Manhattan' as 'Dot' }),
        'INVALID_REQUEST',
      );
      expect(await engine.dropCollection('a')).toBe(true);
      expect(await engine.dropCollection('a')).toBe(false);
      expect(await engine.collectionExists('a')).toBe(false);
      await expectCode(engine.collectionInfo('a'), 'COLLECTION_NOT_FOUND');
      await expectCode(engine.search('nope', { vector: [1, 2, 3, 4], limit: 1 }), 'COLLECTION_NOT_FOUND');
    });

    it('stores the whole u64 id range and UUIDs exactly', async () => {
      await engine.createCollection('ids', { size: 2, distance: 'Euclid' });
      const ids = [0, 2 ** 53 - 1, 2n ** 53n + 1n, U64_MAX, UUID, UUID.replace(/-/g, '').toUpperCase()];
      await engine.upsert(
        'ids',
        ids.slice(0, 5).map((id, i) => ({ id, vector: [i, i] })),
      );
      const got = await engine.retrieve('ids', ids, true, true);
      expect(got.map((r) => r.id)).toEqual([0, 2 ** 53 - 1, 2n ** 53n + 1n, U64_MAX, UUID]);
      expect(got[3]!.vector).toEqual([3, 3]);
      expect(await engine.count('ids')).toBe(5);
      for (const bad of [-1, 1.5, 'abc', 2n ** 64n, -1n, null, { id: 1 }, 2 ** 60, '123']) {
        await expectCode(engine.upsert('ids', [{ id: bad as number, vector: [1, 1] }]), 'INVALID_POINT_ID');
      }
      expect(await engine.count('ids')).toBe(5);
    });

    it('rejects bad vectors and payloads with catalogue codes and stays consistent', async () => {
      await engine.createCollection('v', { size: 3, distance: 'Cosine' });
      await engine.upsert('v', [{ id: 1, vector: [1, 0, 0], payload: { ok: true } }]);
      const cases: [unknown, ErrorCode][] = [
        [[1, 2], 'DIMENSION_MISMATCH'],
        [[1, 2, 3, 4], 'DIMENSION_MISMATCH'],
        [[1, Number.NaN, 3], 'INVALID_VECTOR'],
        [[1, Number.POSITIVE_INFINITY, 3], 'INVALID_VECTOR'],
        [[1, '2', 3], 'INVALID_VECTOR'],
        [[1, null, 3], 'INVALID_VECTOR'],
        ['abc', 'INVALID_VECTOR'],
        [[1e39, 0, 0], 'INVALID_VECTOR'],
      ];
      for (const [vector, code] of cases) {
        // A bad point in the middle of a batch rejects the whole batch: nothing of it is applied.
        await expectCode(
          engine.upsert('v', [
            { id: 2, vector: [0, 1, 0] },
            { id: 3, vector: vector as number[] },
          ]),
          code,
        );
      }
      let deep: Record<string, unknown> = {};
      const top = deep;
      for (let i = 0; i < 40; i++) {
        deep.x = {};
        deep = deep.x as Record<string, unknown>;
      }
      const payloadCases: [unknown, ErrorCode][] = [
        [top, 'PAYLOAD_TOO_DEEP'],
        [{ big: 'x'.repeat(2 << 20) }, 'PAYLOAD_TOO_LARGE'],
        [JSON.parse('{"__proto__": {"polluted": 1}}'), 'FORBIDDEN_PAYLOAD_KEY'],
        [{ a: { constructor: 1 } }, 'FORBIDDEN_PAYLOAD_KEY'],
        [[1, 2], 'INVALID_PAYLOAD'],
        ['text', 'INVALID_PAYLOAD'],
      ];
      for (const [payload, code] of payloadCases) {
        await expectCode(engine.upsert('v', [{ id: 4, vector: [0, 0, 1], payload: payload as never }]), code);
        await expectCode(engine.setPayload('v', payload as never, { points: [1] }), code);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await engine.count('v')).toBe(1);
      expect(await engine.retrieve('v', [1])).toEqual([{ id: 1, payload: { ok: true } }]);
      await expectCode(engine.setPayload('v', { a: 1 }, { points: [99] }), 'POINT_NOT_FOUND');
      await expectCode(engine.search('v', { vector: [1, 0, 0], limit: 0 }), 'INVALID_REQUEST');
      await expectCode(engine.search('v', { vector: [1, 0, 0], limit: 10_000_000 }), 'LIMIT_EXCEEDED');
      await expectCode(engine.search('v', { vector: [1, 0], limit: 1 }), 'DIMENSION_MISMATCH');
      await expectCode(
        engine.search('v', {
          vector: [1, 0, 0],
          limit: 1,
          filter: { must: [{ key: 'loc', geo_radius: { center: { lon: 0, lat: 0 }, radius: 1 } }] } as never,
        }),
        'UNSUPPORTED_FEATURE',
      );
      await expectCode(
        engine.search('v', {
          vector: [1, 0, 0],
          limit: 1,
          filter: { must: [{ key: 'a', range: { gt: 'x' } }] } as never,
        }),
        'INVALID_FILTER',
      );
    });

    it('scores like Qdrant for Cosine, Dot and Euclid, with offset, threshold and payload selection', async () => {
      const v = [
        [1, 0],
        [0.6, 0.8],
        [0, 2],
        [-1, 0],
      ];
      for (const distance of ['Cosine', 'Dot', 'Euclid'] as const) {
        await engine.createCollection(distance, { size: 2, distance });
        await engine.upsert(
          distance,
          v.map((vector, id) => ({ id, vector, payload: { id, name: `p${id}` } })),
        );
      }
      const q = [2, 0];
      const cos = await engine.search('Cosine', { vector: q, limit: 4 });
      expect(cos.map((p) => p.id)).toEqual([0, 1, 2, 3]);
      expect(cos.map((p) => p.score)).toEqual([1, 0.6, 0, -1].map((x) => expect.closeTo(x, 5)));
      const dot = await engine.search('Dot', { vector: q, limit: 4 });
      expect(dot.map((p) => p.id)).toEqual([0, 1, 2, 3]);
      expect(dot.map((p) => p.score)).toEqual([2, 1.2, 0, -2].map((x) => expect.closeTo(x, 5)));
      const euc = await engine.search('Euclid', { vector: q, limit: 4 });
      expect(euc.map((p) => p.id)).toEqual([0, 1, 2, 3]);
      expect(euc.map((p) => p.score)).toEqual(
        [1, Math.sqrt(1.96 + 0.64), Math.sqrt(8), 3].map((x) => expect.closeTo(x, 5)),
      );
      // Cosine vectors are stored normalised, as in Qdrant.
      expect((await engine.retrieve('Cosine', [2], false, true))[0]!.vector).toEqual([0, 1]);
      const page = await engine.search('Cosine', { vector: q, limit: 2, offset: 1, with_payload: ['name'] });
      expect(page).toEqual([
        { id: 1, version: expect.any(Number), score: expect.closeTo(0.6, 5), payload: { name: 'p1' } },
        { id: 2, version: expect.any(Number), score: expect.closeTo(0, 5), payload: { name: 'p2' } },
      ]);
      expect((await engine.search('Cosine', { vector: q, limit: 4, score_threshold: 0.5 })).length).toBe(2);
      expect(
        (await engine.search('Euclid', { vector: q, limit: 4, score_threshold: 2 })).map((p) => p.id),
      ).toEqual([0, 1]);
      const withVec = await engine.search('Dot', {
        vector: q,
        limit: 1,
        with_vector: true,
        with_payload: true,
      });
      expect(withVec[0]).toMatchObject({ id: 0, vector: [1, 0], payload: { id: 0, name: 'p0' } });
      const batch = await engine.searchBatch('Dot', [
        { vector: q, limit: 1 },
        { vector: [0, 1], limit: 1 },
      ]);
      expect(batch.map((r) => r[0]!.id)).toEqual([0, 2]);
    });

    it('searches across sealed and appendable segments, exact and HNSW, with filters', async () => {
      await engine.createCollection('s', { size: 4, distance: 'Euclid', hnsw: { full_scan_threshold: 0 } });
      await engine.upsert('s', pts(300));
      await engine.whenIndexed('s');
      const info = await engine.collectionInfo('s');
      expect(info.segments_count).toBeGreaterThanOrEqual(5);
      expect(info.indexed_vectors_count).toBe(300);
      const q = pts(1, 4, 123)[0]!.vector as number[];
      const exact = await engine.search('s', { vector: q, limit: 10, params: { exact: true } });
      const ann = await engine.search('s', { vector: q, limit: 10, params: { hnsw_ef: 100 } });
      expect(exact[0]!.id).toBe(123);
      expect(ann.map((p) => p.id)).toEqual(exact.map((p) => p.id));
      const filter = {
        must: [{ key: 'tag', match: { value: 't1' } }],
        must_not: [{ key: 'even', match: { value: true } }],
      };
      const fExact = await engine.search('s', { vector: q, limit: 10, filter, params: { exact: true } });
      const fAnn = await engine.search('s', { vector: q, limit: 10, filter, with_payload: true });
      expect(fAnn.map((p) => p.id)).toEqual(fExact.map((p) => p.id));
      for (const p of fAnn) expect(p.payload).toMatchObject({ tag: 't1', even: false });
      // Fresh writes are searchable before the indexer reaches them.
      const far = [50, 50, 50, 50];
      await engine.upsert('s', [{ id: 10_000, vector: far, payload: { tag: 'new' } }]);
      const fresh = await engine.search('s', { vector: far, limit: 1, params: { hnsw_ef: 16 } });
      expect(fresh[0]!.id).toBe(10_000);
    });

    it('deletes by ids and by filter, and edits payloads', async () => {
      await engine.createCollection('d', { size: 4, distance: 'Cosine' });
      await engine.upsert('d', pts(20));
      await engine.deletePoints('d', { points: [0, 1, 999] });
      expect(await engine.count('d')).toBe(18);
      await engine.deletePoints('d', { filter: { must: [{ key: 'tag', match: { value: 't2' } }] } });
      expect(await engine.count('d')).toBe(12);
      expect(await engine.count('d', { must: [{ key: 'tag', match: { value: 't2' } }] })).toBe(0);
      await engine.setPayload('d', { color: 'red' }, { points: [3] });
      await engine.setPayload('d', { deep: 1 }, { points: [3] }, { key: 'nested.inner' });
      expect((await engine.retrieve('d', [3]))[0]!.payload).toEqual({
        n: 3,
        even: false,
        tag: 't0',
        color: 'red',
        nested: { inner: { deep: 1 } },
      });
      await engine.deletePayload('d', ['color', 'nested.inner'], { points: [3] });
      expect((await engine.retrieve('d', [3]))[0]!.payload).toEqual({
        n: 3,
        even: false,
        tag: 't0',
        nested: {},
      });
      await engine.overwritePayload(
        'd',
        { only: 1 },
        { filter: { must: [{ key: 'n', range: { gte: 3, lte: 4 } }] } },
      );
      expect((await engine.retrieve('d', [3, 4])).map((r) => r.payload)).toEqual([{ only: 1 }, { only: 1 }]);
      await engine.clearPayload('d', { points: [4] });
      expect((await engine.retrieve('d', [4]))[0]!.payload).toEqual({});
      await expectCode(engine.deletePoints('d', {} as never), 'INVALID_REQUEST');
    });

    it('scrolls in Qdrant order (integers, then UUIDs) with stable paging and filters', async () => {
      await engine.createCollection('sc', { size: 2, distance: 'Dot' });
      const ids = [UUID, 5, 2n ** 63n, 1, 100, 'a0000000-0000-0000-0000-000000000000', 42];
      await engine.upsert(
        'sc',
        ids.map((id, i) => ({ id, vector: [i, 1], payload: { i } })),
      );
      const all: unknown[] = [];
      let offset: unknown = null;
      for (let guard = 0; guard < 10; guard++) {
        const r = await engine.scroll('sc', { limit: 3, offset: offset as number, with_payload: false });
        all.push(...r.points.map((p) => p.id));
        for (const p of r.points) expect(p.payload).toBeUndefined();
        offset = r.next_page_offset;
        if (offset === null) break;
      }
      expect(all).toEqual([1, 5, 42, 100, 2n ** 63n, UUID, 'a0000000-0000-0000-0000-000000000000']);
      const filtered = await engine.scroll('sc', {
        filter: { must: [{ key: 'i', range: { lt: 3 } }] },
        limit: 10,
      });
      expect(filtered.points.map((p) => p.id)).toEqual([5, 2n ** 63n, UUID]);
      expect(filtered.next_page_offset).toBeNull();
    });

    it('keeps everything across a restart, including sequence numbers and payload indexes', async () => {
      await engine.createCollection('r', {
        size: 4,
        distance: 'Cosine',
        payload_indexes: { tag: 'keyword', n: 'integer' },
      });
      await engine.upsert('r', pts(150));
      await engine.deletePoints('r', { points: [7] });
      await engine.setPayload('r', { x: 1 }, { points: [8] });
      const before = await engine.collectionInfo('r');
      expect(Object.keys(before.payload_schema).sort()).toEqual(['n', 'tag']);
      const q = pts(1, 4, 77)[0]!.vector as number[];
      const resultsBefore = await engine.search('r', { vector: q, limit: 5, params: { exact: true } });
      await engine.close();
      engine = await open(dir);
      const after = await engine.collectionInfo('r');
      expect(after.points_count).toBe(149);
      expect(after.seq).toBe(before.seq);
      expect(after.payload_schema).toEqual(before.payload_schema);
      expect((await engine.retrieve('r', [8]))[0]!.payload).toMatchObject({ x: 1 });
      expect(await engine.search('r', { vector: q, limit: 5, params: { exact: true } })).toEqual(
        resultsBefore,
      );
      const next = await engine.upsert('r', pts(1, 4, 500));
      expect(next.operation_id).toBe(before.seq + 1);
    });

    it('manages aliases with atomic swaps; reads resolve through them', async () => {
      await engine.createCollection('v1', { size: 2, distance: 'Dot' });
      await engine.createCollection('v2', { size: 2, distance: 'Dot' });
      await engine.upsert('v1', [{ id: 1, vector: [1, 0] }]);
      await engine.upsert('v2', [{ id: 2, vector: [1, 0] }]);
      await engine.updateAliases([{ create_alias: { alias_name: 'prod', collection_name: 'v1' } }]);
      expect((await engine.search('prod', { vector: [1, 0], limit: 1 }))[0]!.id).toBe(1);
      await engine.updateAliases([
        { delete_alias: { alias_name: 'prod' } },
        { create_alias: { alias_name: 'prod', collection_name: 'v2' } },
      ]);
      expect((await engine.search('prod', { vector: [1, 0], limit: 1 }))[0]!.id).toBe(2);
      await engine.updateAliases([{ rename_alias: { old_alias_name: 'prod', new_alias_name: 'live' } }]);
      expect(await engine.listAliases()).toEqual([{ alias_name: 'live', collection_name: 'v2' }]);
      expect(await engine.listAliases('v1')).toEqual([]);
      // A failing action leaves every alias as it was.
      await expectCode(
        engine.updateAliases([
          { create_alias: { alias_name: 'tmp', collection_name: 'v1' } },
          { delete_alias: { alias_name: 'missing' } },
        ]),
        'ALIAS_NOT_FOUND',
      );
      expect(await engine.listAliases()).toEqual([{ alias_name: 'live', collection_name: 'v2' }]);
      await expectCode(
        engine.updateAliases([{ create_alias: { alias_name: 'x', collection_name: 'none' } }]),
        'COLLECTION_NOT_FOUND',
      );
      await engine.close();
      engine = await open(dir);
      expect(await engine.listAliases()).toEqual([{ alias_name: 'live', collection_name: 'v2' }]);
      await engine.dropCollection('v2');
      expect(await engine.listAliases()).toEqual([]);
    });

    it('vacuums segments full of deletes and keeps answers identical', async () => {
      await engine.createCollection('vac', { size: 4, distance: 'Euclid' });
      await engine.upsert('vac', pts(256));
      await engine.whenIndexed('vac');
      const segmentsBefore = (await engine.collectionInfo('vac')).segments_count;
      await engine.deletePoints('vac', { filter: { must: [{ key: 'n', range: { lt: 100 } }] } });
      await engine.whenIndexed('vac');
      const info = await engine.collectionInfo('vac');
      expect(info.points_count).toBe(156);
      for (const s of info.segments) expect(s.deleted / Math.max(1, s.points + s.deleted)).toBeLessThan(0.2);
      expect(info.segments_count).toBeLessThanOrEqual(segmentsBefore);
      const q = pts(1, 4, 150)[0]!.vector as number[];
      const r = await engine.search('vac', { vector: q, limit: 3, with_payload: true });
      expect(r[0]!.id).toBe(150);
      expect(r[0]!.payload).toEqual({ n: 150, even: true, tag: 't0' });
      await engine.close();
      engine = await open(dir);
      expect(await engine.count('vac')).toBe(156);
      expect((await engine.search('vac', { vector: q, limit: 1 }))[0]!.id).toBe(150);
    });

    /** One of every op kind on collection `ch`; returns the seq of each write in order. */
    async function everyOp(): Promise<number[]> {
      await engine.createCollection('ch', { size: 4, distance: 'Dot' });
      const seqs: number[] = [];
      const w = async (p: Promise<{ operation_id: number }>) => seqs.push((await p).operation_id);
      await w(engine.createPayloadIndex('ch', 'tag', 'keyword'));
      await w(
        engine.upsert('ch', [
          ...pts(5),
          { id: U64_MAX, vector: [1, 0, 0, 0] },
          { id: UUID, vector: [0, 1, 0, 0] },
        ]),
      );
      await w(engine.deletePoints('ch', { points: [0, U64_MAX] }));
      await w(engine.deletePoints('ch', { filter: { must: [{ key: 'tag', match: { value: 't1' } }] } }));
      await w(engine.setPayload('ch', { x: 1 }, { points: [2, UUID] }));
      await w(
        engine.overwritePayload('ch', { y: 2 }, { filter: { must: [{ key: 'n', range: { gte: 2 } }] } }),
      );
      await w(engine.deletePayload('ch', ['y'], { points: [3] }));
      await w(engine.clearPayload('ch', { points: [2] }));
      await w(engine.deletePayloadIndex('ch', 'tag'));
      return seqs;
    }

    const expectedEvents = (seqs: number[], live: boolean): ChangeEvent[] => {
      const base = { collection: 'ch' };
      const f1 = { must: [{ key: 'tag', match: { value: 't1' } }] };
      const f2 = { must: [{ key: 'n', range: { gte: 2 } }] };
      return [
        { ...base, seq: seqs[0]!, op: 'create_index', field: 'tag' },
        { ...base, seq: seqs[1]!, op: 'upsert', ids: [0, 1, 2, 3, 4, U64_MAX, UUID], count: 7 },
        { ...base, seq: seqs[2]!, op: 'delete', ids: [0, U64_MAX], count: 2 },
        // Points 1 and 4 carry tag t1; live events know how many the filter matched, the WAL does not.
        { ...base, seq: seqs[3]!, op: 'delete', filter: f1, ...(live ? { count: 2 } : {}) },
        { ...base, seq: seqs[4]!, op: 'set_payload', ids: [2, UUID], count: 2 },
        { ...base, seq: seqs[5]!, op: 'overwrite_payload', filter: f2, ...(live ? { count: 2 } : {}) },
        { ...base, seq: seqs[6]!, op: 'delete_payload', ids: [3], count: 1 },
        { ...base, seq: seqs[7]!, op: 'clear_payload', ids: [2], count: 1 },
        { ...base, seq: seqs[8]!, op: 'delete_index', field: 'tag' },
      ] as ChangeEvent[];
    };

    it('tells change listeners about every applied op, in seq order, before the write settles', async () => {
      const events: ChangeEvent[] = [];
      const unsubscribe = engine.onChange((e) => events.push(e));
      const throwing = engine.onChange(() => {
        throw new Error('a listener failing must not fail writes');
      });
      await engine.createCollection('other', { size: 2, distance: 'Dot' });
      const r = await engine.upsert('other', [{ id: 9, vector: [1, 2] }]);
      // Dispatched before the write's promise settled.
      expect(events).toEqual([
        { collection: 'other', seq: r.operation_id, op: 'upsert', ids: [9], count: 1 },
      ]);
      events.length = 0;
      const seqs = await everyOp();
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      expect(events).toEqual(expectedEvents(seqs, true));
      for (const e of events) expect(e).not.toHaveProperty('vector');
      // An alias names the collection; events carry the collection's own name.
      await engine.updateAliases([{ create_alias: { alias_name: 'al', collection_name: 'ch' } }]);
      await engine.upsert('al', [{ id: 7, vector: [1, 1, 1, 1] }]);
      expect(events.at(-1)).toMatchObject({ collection: 'ch', op: 'upsert', ids: [7] });

      unsubscribe();
      throwing();
      const count = events.length;
      await engine.upsert('ch', [{ id: 8, vector: [1, 1, 1, 1] }]);
      await engine.count('ch');
      expect(events.length).toBe(count);
      // Subscribing again works (the worker is told to forward again).
      const again: ChangeEvent[] = [];
      const stop = engine.onChange((e) => again.push(e));
      const w = await engine.deletePoints('ch', { points: [8] });
      expect(again).toEqual([{ collection: 'ch', seq: w.operation_id, op: 'delete', ids: [8], count: 1 }]);
      stop();
    });

    it('reads changes back from the WAL in pages, across a restart, and reports where the WAL starts', async () => {
      const seqs = await everyOp();
      const expected = expectedEvents(seqs, false);
      const all = await engine.readChanges('ch', 0, 100);
      expect(all).toEqual({ events: expected, oldestSeq: 1 });
      const pages: ChangeEvent[] = [];
      for (let after = 0; ; ) {
        const page = await engine.readChanges('ch', after, 4);
        expect(page.events.length).toBeLessThanOrEqual(4);
        if (page.events.length === 0) break;
        pages.push(...page.events);
        after = page.events.at(-1)!.seq;
      }
      expect(pages).toEqual(expected);
      expect((await engine.readChanges('ch', seqs.at(-1)!, 10)).events).toEqual([]);
      expect((await engine.readChanges('ch', seqs[6]!, 10)).events).toEqual(expected.slice(7));
      await expectCode(engine.readChanges('nope', 0, 10), 'COLLECTION_NOT_FOUND');
      await expectCode(engine.readChanges('ch', -1, 10), 'INVALID_REQUEST');
      await expectCode(engine.readChanges('ch', 0, 0), 'INVALID_REQUEST');

      await engine.close();
      engine = await open(dir);
      expect(await engine.readChanges('ch', 0, 100)).toEqual({ events: expected, oldestSeq: 1 });
    });

    it('reports the first seq the WAL still holds once a snapshot has truncated it', async () => {
      await engine.close();
      engine = await open(dir, { storage: { wal_segment_bytes: 1 << 16 } });
      await engine.createCollection('t', { size: 4, distance: 'Dot' });
      // ~2 KB per op: 100 ops span several 64 KiB WAL files.
      let last = 0;
      for (let i = 0; i < 100; i++) last = (await engine.upsert('t', pts(60, 4, i * 60))).operation_id;
      expect((await engine.readChanges('t', 0, 1)).oldestSeq).toBe(1);
      await engine.snapshot('t');
      const { events, oldestSeq } = await engine.readChanges('t', 0, 1000);
      expect(oldestSeq).toBeGreaterThan(1);
      expect(events[0]!.seq).toBe(oldestSeq);
      expect(events.at(-1)!.seq).toBe(last);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => oldestSeq + i));
      expect(events.at(-1)).toEqual({
        collection: 't',
        seq: last,
        op: 'upsert',
        ids: Array.from({ length: 60 }, (_, i) => 99 * 60 + i),
        count: 60,
      });
    });
  });
}
