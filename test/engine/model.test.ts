/**
 * Model-based property test: random sequences of upsert / delete / payload edits applied to the engine and
 * to a plain in-memory model give the same get / count / scroll / exact-search answers, before and after a
 * restart (which exercises snapshot + WAL replay).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { Engine, type EngineApi, type Filter, type Payload, type PointId } from '../../src/engine/index.js';

const DIM = 3;
const root = mkdtempSync(join(tmpdir(), 'surgevec-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const idArb = fc.oneof(
  fc.integer({ min: 0, max: 25 }),
  fc.constantFrom(
    2n ** 64n - 1n,
    2n ** 60n,
    '00000000-0000-0000-0000-00000000000a',
    'ffffffff-0000-0000-0000-000000000001',
  ),
);
const vecArb = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: DIM, maxLength: DIM });
const payloadArb = fc.record(
  { color: fc.constantFrom('red', 'green', 'blue'), n: fc.integer({ min: 0, max: 9 }), flag: fc.boolean() },
  { requiredKeys: [] },
);
const filterArb: fc.Arbitrary<Filter> = fc.oneof(
  fc.constantFrom('red', 'green').map((c) => ({ must: [{ key: 'color', match: { value: c } }] })),
  fc.integer({ min: 0, max: 9 }).map((n) => ({ must: [{ key: 'n', range: { gte: n } }] })),
  fc.constant<Filter>({ must_not: [{ key: 'flag', match: { value: true } }] }),
  fc.constant<Filter>({ should: [{ is_empty: { key: 'color' } }, { key: 'n', match: { any: [1, 2, 3] } }] }),
);

type Cmd =
  | { t: 'upsert'; points: { id: PointId; vector: number[]; payload?: Payload }[] }
  | { t: 'delete'; ids: PointId[] }
  | { t: 'deleteFilter'; filter: Filter }
  | { t: 'set'; ids: PointId[]; payload: Payload }
  | { t: 'overwrite'; ids: PointId[]; payload: Payload }
  | { t: 'unset'; ids: PointId[]; keys: string[] };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .array(
        fc.record({ id: idArb, vector: vecArb, payload: payloadArb }, { requiredKeys: ['id', 'vector'] }),
        {
          minLength: 1,
          maxLength: 8,
        },
      )
      .map((points) => ({ t: 'upsert' as const, points })),
  },
  { weight: 2, arbitrary: fc.array(idArb, { maxLength: 4 }).map((ids) => ({ t: 'delete' as const, ids })) },
  { weight: 1, arbitrary: filterArb.map((filter) => ({ t: 'deleteFilter' as const, filter })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ ids: fc.array(idArb, { minLength: 1, maxLength: 3 }), payload: payloadArb })
      .map((c) => ({ t: 'set' as const, ...c })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ ids: fc.array(idArb, { minLength: 1, maxLength: 3 }), payload: payloadArb })
      .map((c) => ({ t: 'overwrite' as const, ...c })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        ids: fc.array(idArb, { minLength: 1, maxLength: 3 }),
        keys: fc.subarray(['color', 'n', 'flag'], { minLength: 1 }),
      })
      .map((c) => ({ t: 'unset' as const, ...c })),
  },
);

const keyOf = (id: PointId) => (typeof id === 'string' ? `u:${id}` : `n:${BigInt(id)}`);
const norm = (id: PointId): PointId =>
  typeof id === 'bigint' && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id;

/** The model: a map, a brute-force filter written for these three fields, exact L2 search. */
class Model {
  points = new Map<string, { id: PointId; vector: number[]; payload: Payload }>();
  matches(p: Payload, f: Filter): boolean {
    const c = JSON.stringify(f);
    if (c.includes('"must_not"')) return p.flag !== true;
    if (c.includes('"is_empty"')) return p.color === undefined || [1, 2, 3].includes(p.n as number);
    if (c.includes('"range"'))
      return typeof p.n === 'number' && p.n >= (f.must as { range: { gte: number } }[])[0]!.range.gte;
    return p.color === (f.must as { match: { value: string } }[])[0]!.match.value;
  }
  missing(ids: PointId[]): boolean {
    return ids.some((id) => !this.points.has(keyOf(id)));
  }
  apply(c: Cmd): void {
    switch (c.t) {
      case 'upsert':
        for (const p of c.points)
          this.points.set(keyOf(p.id), { id: norm(p.id), vector: p.vector, payload: p.payload ?? {} });
        break;
      case 'delete':
        for (const id of c.ids) this.points.delete(keyOf(id));
        break;
      case 'deleteFilter':
        for (const [k, p] of this.points) if (this.matches(p.payload, c.filter)) this.points.delete(k);
        break;
      case 'set':
        if (!this.missing(c.ids))
          for (const id of c.ids) Object.assign(this.points.get(keyOf(id))!.payload, c.payload);
        break;
      case 'overwrite':
        if (!this.missing(c.ids))
          for (const id of c.ids) this.points.get(keyOf(id))!.payload = { ...c.payload };
        break;
      case 'unset':
        if (!this.missing(c.ids))
          for (const id of c.ids) for (const k of c.keys) delete this.points.get(keyOf(id))!.payload[k];
        break;
    }
  }
}

async function run(engine: EngineApi, c: Cmd, model: Model): Promise<void> {
  const shouldFail = (c.t === 'set' || c.t === 'overwrite' || c.t === 'unset') && model.missing(c.ids);
  const p =
    c.t === 'upsert'
      ? engine.upsert('m', c.points)
      : c.t === 'delete'
        ? engine.deletePoints('m', { points: c.ids })
        : c.t === 'deleteFilter'
          ? engine.deletePoints('m', { filter: c.filter })
          : c.t === 'set'
            ? engine.setPayload('m', c.payload, { points: c.ids })
            : c.t === 'overwrite'
              ? engine.overwritePayload('m', c.payload, { points: c.ids })
              : engine.deletePayload('m', c.keys, { points: c.ids });
  if (shouldFail) await expect(p).rejects.toMatchObject({ code: 'POINT_NOT_FOUND' });
  else await p;
  model.apply(c);
}

async function compare(
  engine: EngineApi,
  model: Model,
  filters: Filter[],
  queries: number[][],
): Promise<void> {
  expect(await engine.count('m')).toBe(model.points.size);
  const ids = [...model.points.values()].map((p) => p.id);
  const got = await engine.retrieve('m', ids, true, true);
  const byKey = new Map(got.map((r) => [keyOf(r.id), r]));
  for (const p of model.points.values()) {
    expect(byKey.get(keyOf(p.id))).toEqual({ id: p.id, payload: p.payload, vector: p.vector });
  }
  // Scroll visits every point once, in id order, across pages.
  const scrolled: PointId[] = [];
  let offset: PointId | null = null;
  do {
    const page: Awaited<ReturnType<EngineApi['scroll']>> = await engine.scroll('m', {
      limit: 4,
      offset,
      with_payload: false,
    });
    scrolled.push(...page.points.map((x) => x.id));
    offset = page.next_page_offset;
  } while (offset !== null);
  expect(new Set(scrolled.map(keyOf))).toEqual(new Set(model.points.keys()));
  expect(scrolled.length).toBe(model.points.size);
  for (const f of filters) {
    const want = [...model.points.values()].filter((p) => model.matches(p.payload, f));
    expect(await engine.count('m', f)).toBe(want.length);
    for (const q of queries) {
      const scores = want
        .map((p) => Math.sqrt(p.vector.reduce((s, x, j) => s + (x - q[j]!) ** 2, 0)))
        .sort((a, b) => a - b)
        .slice(0, 5);
      const hits = await engine.search('m', { vector: q, limit: 5, filter: f, params: { exact: true } });
      expect(hits.map((h) => h.score)).toEqual(scores.map((s) => expect.closeTo(s, 3)));
    }
  }
}

it('engine matches an in-memory model under random operations, also after restart', async () => {
  let run_ = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(cmdArb, { minLength: 1, maxLength: 30 }),
      fc.array(filterArb, { minLength: 1, maxLength: 2 }),
      fc.array(vecArb, { minLength: 1, maxLength: 2 }),
      async (cmds, filters, queries) => {
        const dir = join(root, `r${run_++}`);
        const config = defaultConfig({
          storage: { data_dir: dir, snapshot_interval_ops: 7 },
          engine: { segment_max_points: 16, index_slice_points: 4, vacuum_deleted_ratio: 0.3 },
        });
        let engine = await Engine.open(config);
        const model = new Model();
        try {
          await engine.createCollection('m', {
            size: DIM,
            distance: 'Euclid',
            payload_indexes: { color: 'keyword' },
          });
          for (const c of cmds) await run(engine, c, model);
          await compare(engine, model, filters, queries);
          await engine.close();
          engine = await Engine.open(config);
          await compare(engine, model, filters, queries);
        } finally {
          await engine.close();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    ),
    { numRuns: 60, seed: 424242 },
  );
});
