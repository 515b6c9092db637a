import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../src/engine/filter/evaluate.js';
import { parseFilter } from '../../../src/engine/filter/parse.js';
import { PayloadIndex } from '../../../src/engine/filter/payload-index.js';
import {
  PLANNER_SAMPLE,
  PLANNER_SAMPLE_MAX,
  type PlannerContext,
  planFilter,
} from '../../../src/engine/filter/planner.js';
import type { Filter } from '../../../src/engine/filter/types.js';
import type { Payload, PayloadSchemaType } from '../../../src/engine/types.js';
import { filterArb, payloadMixArb, plannableFilterArb, prng, sampler } from './gen.js';

interface World {
  payloads: (Payload | undefined)[];
  live: number[];
  indexes: Map<string, PayloadIndex>;
  ctx: PlannerContext;
}

/** Slot i has key `${i}`; `indexed` fields get a PayloadIndex over the live slots. */
function world(
  payloads: (Payload | undefined)[],
  live: number[],
  indexed: [string, PayloadSchemaType][],
  seed = 1,
): World {
  const indexes = new Map<string, PayloadIndex>();
  for (const [key, type] of indexed) {
    const idx = new PayloadIndex(key, type);
    for (const s of live) idx.add(s, payloads[s]);
    indexes.set(key, idx);
  }
  const liveSet = new Set(live);
  const ctx: PlannerContext = {
    indexes,
    liveCount: live.length,
    sampleLive: sampler(live, prng(seed)),
    payloadOf: (s) => payloads[s],
    keyOf: (s) => String(s),
    slotOf: (k) => (liveSet.has(Number(k)) ? Number(k) : undefined),
  };
  return { payloads, live, indexes, ctx };
}

function trueMatches(w: World, f: Filter): number[] {
  const pred = compileFilter(f);
  return w.live.filter((s) => pred(w.payloads[s], String(s)));
}

describe('planFilter: examples', () => {
  const payloads: Payload[] = Array.from({ length: 1000 }, (_, i) => ({
    color: ['red', 'green', 'blue', 'black'][i % 4]!,
    n: i,
    rare: i % 100 === 0 ? 'yes' : 'no',
  }));
  const live = payloads.map((_, i) => i);
  const w = world(payloads, live, [
    ['color', 'keyword'],
    ['n', 'integer'],
    ['rare', 'keyword'],
  ]);

  it('picks the most selective indexed must condition', () => {
    const f = parseFilter({
      must: [
        { key: 'color', match: { value: 'red' } },
        { key: 'rare', match: { value: 'yes' } },
      ],
    });
    const plan = planFilter(f, w.ctx);
    expect(plan.candidates).toBeDefined();
    expect([...plan.candidates!].sort((a, b) => a - b)).toEqual(live.filter((i) => i % 100 === 0));
    // 10 candidates ≤ sample size: every one is evaluated, the estimate is exact.
    expect(plan.estimate).toBe(trueMatches(w, f).length);
    expect(plan.estimate).toBe(10); // multiples of 100 are all red (i ≡ 0 mod 4)
  });

  it('uses has_id when the context can map keys to slots', () => {
    const f = parseFilter({ must: [{ has_id: [3, 5, 5000] }, { key: 'color', match: { value: 'green' } }] });
    const plan = planFilter(f, w.ctx);
    expect([...plan.candidates!].sort((a, b) => a - b)).toEqual([3, 5]);
    expect(plan.estimate).toBe(1); // 5 is green, 3 is black
    const blind = planFilter(f, { ...w.ctx, slotOf: undefined });
    expect(blind.candidates!.length).toBe(250);
  });

  it('looks into nested musts and a lone should; ignores must_not and multi-way should', () => {
    const nested = parseFilter({ must: [{ must: [{ key: 'n', range: { lt: 10 } }] }] });
    expect(planFilter(nested, w.ctx).candidates?.length).toBe(10);
    const lone = parseFilter({ should: [{ key: 'n', range: { gte: 990 } }] });
    expect(planFilter(lone, w.ctx).candidates?.length).toBe(10);
    const not = parseFilter({ must_not: [{ key: 'n', range: { gte: 10 } }] });
    expect(planFilter(not, w.ctx).candidates).toBeUndefined();
    const either = parseFilter({
      should: [
        { key: 'n', range: { lt: 10 } },
        { key: 'rare', match: { value: 'yes' } },
      ],
    });
    expect(planFilter(either, w.ctx).candidates).toBeUndefined();
  });

  it('finds an index under another spelling of the key (a[].b ≡ a.b)', () => {
    const ww = world(
      [{ a: [{ b: 1 }] }, { a: [{ b: 2 }] }, { a: { b: 1 } }, {}],
      [0, 1, 2, 3],
      [['a[].b', 'integer']],
    );
    const plan = planFilter(parseFilter({ must: { key: 'a.b', match: { value: 1 } } }), ww.ctx);
    expect([...plan.candidates!].sort()).toEqual([0, 2]);
  });

  it('should: [] plans to nothing', () => {
    const plan = planFilter(parseFilter({ should: [] }), w.ctx);
    expect(plan.estimate).toBe(0);
    expect(plan.candidates!.length).toBe(0);
  });

  it('no candidates when nothing is indexed; a zero-hit sample is small but not zero', () => {
    const big = world(
      Array.from({ length: 20_000 }, (_, i) => ({ v: i })),
      Array.from({ length: 20_000 }, (_, i) => i),
      [],
    );
    const plan = planFilter(parseFilter({ must: { key: 'v', match: { value: 12_345 } } }), big.ctx);
    expect(plan.candidates).toBeUndefined();
    expect(plan.estimate).toBeGreaterThan(0);
    // 0 hits in 512 → a second sample of 2048, still 0 → Laplace: 20000 / (2048 + 2).
    expect(plan.estimate).toBe(Math.ceil(20_000 / (PLANNER_SAMPLE_MAX + 2)));
    expect(planFilter({}, big.ctx).estimate).toBe(20_000);
    expect(planFilter({}, { ...big.ctx, liveCount: 0 }).estimate).toBe(0);
  });

  it('small collections are counted exactly', () => {
    const f = parseFilter({ must: { key: 'color', match: { any: ['red', 'blue'] } } });
    const small = world(payloads.slice(0, 300), live.slice(0, 300), []);
    expect(planFilter(f, small.ctx).estimate).toBe(150);
  });
});

describe('planFilter: candidates are a superset of the matches (property)', () => {
  // Few paths shared by payloads, indexes and filters, so that candidates and matches often meet.
  const FEW = ['a', 'b', 'a.b', 'a[].c'];
  const IDS = Array.from({ length: 40 }, (_, i) => i);
  it('for random payloads, indexes and filters', () => {
    const types: PayloadSchemaType[] = ['keyword', 'integer', 'float', 'bool'];
    fc.assert(
      fc.property(
        fc.array(payloadMixArb(FEW), { minLength: 12, maxLength: 40 }),
        fc.array(fc.tuple(fc.constantFrom(...FEW, 'c[]'), fc.constantFrom(...types)), { maxLength: 4 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.array(fc.oneof(filterArb(IDS, FEW), plannableFilterArb(FEW)), { minLength: 1, maxLength: 6 }),
        (payloads, indexed, seed, alive, filters) => {
          const live = payloads.map((_, i) => i).filter((i) => alive[i]);
          // One index per key (the collection has one schema per field).
          const byKey = new Map(indexed);
          const w = world(payloads, live, [...byKey], seed);
          for (const f of filters) {
            const plan = planFilter(f, w.ctx);
            const want = trueMatches(w, f);
            expect(plan.estimate).toBeGreaterThanOrEqual(0);
            expect(plan.estimate).toBeLessThanOrEqual(live.length);
            if (live.length <= PLANNER_SAMPLE) expect(plan.estimate).toBe(want.length);
            if (plan.candidates) {
              const c = new Set(plan.candidates);
              for (const s of want) expect(c.has(s)).toBe(true);
            }
            for (const s of live) {
              expect(plan.predicate(w.payloads[s], String(s))).toBe(want.includes(s));
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('planFilter: estimates on 20k synthetic points (seeded)', () => {
  const N = 20_000;
  const rand = prng(20_240_501);
  const payloads: Payload[] = Array.from({ length: N }, () => ({
    u: Math.floor(rand() * 1000),
    v: Math.floor(rand() * 10),
    tag: `t${Math.floor(rand() * 100)}`,
  }));
  const live = payloads.map((_, i) => i);
  const plain = world(payloads, live, [], 7);
  const indexed = world(
    payloads,
    live,
    [
      ['u', 'integer'],
      ['tag', 'keyword'],
    ],
    7,
  );

  const cases: [string, number, unknown][] = [
    ['1% (range)', 2, { must: { key: 'u', range: { lt: 10 } } }],
    ['10% (range)', 1.5, { must: { key: 'u', range: { lt: 100 } } }],
    ['50% (range)', 1.5, { must: { key: 'u', range: { lt: 500 } } }],
    ['1% (keyword any)', 2, { must: { key: 'tag', match: { any: ['t1'] } } }],
    [
      '10% (indexed range × unindexed range)',
      1.5,
      {
        must: [
          { key: 'u', range: { lt: 316 } },
          { key: 'v', range: { lt: 3 } },
        ],
      },
    ],
    [
      '1% (indexed 10% × unindexed 10%)',
      2,
      {
        must: [
          { key: 'u', range: { lt: 100 } },
          { key: 'v', match: { value: 3 } },
        ],
      },
    ],
    [
      '50% (should of two)',
      1.5,
      {
        should: [
          { key: 'v', range: { lt: 3 } },
          { key: 'u', range: { gte: 715 } },
        ],
      },
    ],
  ];

  it.each(cases)('%s within a factor of %d, with and without indexes', (_n, factor, raw) => {
    const f = parseFilter(raw);
    const truth = trueMatches(plain, f).length;
    expect(truth).toBeGreaterThan(0);
    for (const w of [plain, indexed]) {
      const { estimate } = planFilter(f, w.ctx);
      expect(estimate).toBeGreaterThanOrEqual(truth / factor);
      expect(estimate).toBeLessThanOrEqual(truth * factor);
    }
  });

  it('an indexed single condition with few matches is exact', () => {
    const f = parseFilter({ must: { key: 'u', range: { lt: 10 } } });
    const plan = planFilter(f, indexed.ctx);
    expect(plan.candidates!.length).toBe(trueMatches(indexed, f).length);
    expect(plan.estimate).toBe(plan.candidates!.length);
  });
});
