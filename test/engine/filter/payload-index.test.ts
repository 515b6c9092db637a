import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../src/engine/filter/evaluate.js';
import { PayloadIndex } from '../../../src/engine/filter/payload-index.js';
import type { FieldCondition, Filter } from '../../../src/engine/filter/types.js';
import type { Payload, PayloadSchemaType } from '../../../src/engine/types.js';
import { fieldConditionArb, PATHS, payloadAlongArb, rangeArb } from './gen.js';

const sorted = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b);

function bruteForce(cond: FieldCondition, payloads: Map<number, Payload | undefined>): number[] {
  const pred = compileFilter({ must: [cond] });
  const out: number[] = [];
  for (const [slot, p] of payloads) if (pred(p, String(slot))) out.push(slot);
  return out.sort((a, b) => a - b);
}

/** Conditions each type must answer (anything else may be undefined, never wrong). */
function mustAnswer(type: PayloadSchemaType, c: FieldCondition, hasStrays: boolean): boolean {
  const m = c.match;
  const matchOk =
    !m ||
    ('value' in m &&
      ((type === 'keyword' && typeof m.value === 'string') ||
        (type === 'bool' && typeof m.value === 'boolean') ||
        ((type === 'integer' || type === 'float') && typeof m.value === 'number'))) ||
    ('any' in m &&
      (m.any.length === 0 ||
        (type === 'keyword' && m.any.every((v) => typeof v === 'string')) ||
        ((type === 'integer' || type === 'float') && m.any.every((v) => typeof v === 'number'))));
  const rangeOk = !c.range || type === 'float' || (type === 'integer' && !hasStrays);
  return (m !== undefined || c.range !== undefined) && matchOk && rangeOk;
}

describe('PayloadIndex: examples', () => {
  it('keyword index: values, arrays, wrong types skipped, size', () => {
    const idx = new PayloadIndex('tags', 'keyword');
    idx.add(0, { tags: ['a', 'b'] });
    idx.add(1, { tags: 'b' });
    idx.add(2, { tags: 3 });
    idx.add(3, { other: 'a' });
    idx.add(4, undefined);
    expect(idx.size).toBe(2);
    expect(sorted(idx.lookup({ key: 'tags', match: { value: 'b' } })!)).toEqual([0, 1]);
    expect(sorted(idx.lookup({ key: 'tags', match: { any: ['a', 'b', 'zz'] } })!)).toEqual([0, 1]);
    expect(idx.estimate({ key: 'tags', match: { value: 'b' } })).toBe(2);
    expect(idx.lookup({ key: 'tags', match: { value: 3 } })).toBeUndefined();
    expect(idx.lookup({ key: 'tags', match: { except: ['a'] } })).toBeUndefined();
    expect(idx.lookup({ key: 'tags', range: { gt: 1 } })).toBeUndefined();
    expect(idx.lookup({ key: 'other', match: { value: 'a' } })).toBeUndefined();
    idx.remove(0, { tags: ['a', 'b'] });
    expect(idx.size).toBe(1);
    expect(sorted(idx.lookup({ key: 'tags', match: { value: 'b' } })!)).toEqual([1]);
    expect(idx.lookup({ key: 'tags', match: { value: 'a' } })!.length).toBe(0);
  });

  it('integer index: ranges are exact only while no float sits at the path', () => {
    const idx = new PayloadIndex('n', 'integer');
    for (let i = 0; i < 10; i++) idx.add(i, { n: i });
    expect(sorted(idx.lookup({ key: 'n', range: { gte: 3, lt: 6 } })!)).toEqual([3, 4, 5]);
    expect(idx.estimate({ key: 'n', range: { gt: 7 } })).toBe(2);
    idx.add(20, { n: 4.5 });
    expect(idx.size).toBe(10);
    expect(idx.lookup({ key: 'n', range: { gte: 3, lt: 6 } })).toBeUndefined();
    expect(sorted(idx.lookup({ key: 'n', match: { value: 4 } })!)).toEqual([4]);
    idx.remove(20, { n: 4.5 });
    expect(sorted(idx.lookup({ key: 'n', range: { gte: 3, lt: 6 } })!)).toEqual([3, 4, 5]);
  });

  it('float index: ranges with duplicates across array elements are deduplicated', () => {
    const idx = new PayloadIndex('p', 'float');
    idx.add(1, { p: [1.5, 2.5, 3.5] });
    idx.add(2, { p: 2 });
    idx.add(3, { p: 'x' });
    expect(sorted(idx.lookup({ key: 'p', range: { gte: 1, lte: 3 } })!)).toEqual([1, 2]);
    expect(sorted(idx.lookup({ key: 'p', match: { value: 2 } })!)).toEqual([2]);
    expect(sorted(idx.lookup({ key: 'p', match: { value: 2 }, range: { gt: 3 } })!)).toEqual([1, 2]);
    expect(idx.estimate({ key: 'p', range: { gte: 1, lte: 3 } })).toBe(2);
  });

  it('bool index and a[].b ≡ a.b', () => {
    const idx = new PayloadIndex('a[].ok', 'bool');
    idx.add(7, { a: [{ ok: true }, { ok: false }] });
    idx.add(8, { a: { ok: false } });
    expect(idx.canonicalKey).toBe('a.ok');
    expect(sorted(idx.lookup({ key: 'a.ok', match: { value: false } })!)).toEqual([7, 8]);
    expect(sorted(idx.lookup({ key: 'a[].ok', match: { value: true } })!)).toEqual([7]);
  });

  it('add twice / remove unknown keep the counts right', () => {
    const idx = new PayloadIndex('k', 'keyword');
    idx.add(1, { k: 'a' });
    idx.add(1, { k: 'a' });
    expect(idx.size).toBe(1);
    idx.remove(2, { k: 'a' });
    expect(idx.size).toBe(1);
    idx.remove(1, { k: 'a' });
    expect(idx.size).toBe(0);
    idx.add(100_000, { k: 'b' });
    expect([...idx.lookup({ key: 'k', match: { value: 'b' } })!]).toEqual([100_000]);
  });
});

describe('PayloadIndex: lookup equals brute force (property)', () => {
  const types: PayloadSchemaType[] = ['keyword', 'integer', 'float', 'bool'];
  const op = (path: string) =>
    fc.oneof(
      fc.record({ kind: fc.constant('remove' as const), slot: fc.nat(24) }),
      fc.record({ kind: fc.constant('update' as const), slot: fc.nat(24), payload: payloadAlongArb(path) }),
    );

  it('for every type and path, after adds, removes and updates', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...types),
        fc
          .constantFrom(...PATHS)
          .chain((path) =>
            fc.tuple(
              fc.constant(path),
              fc.array(payloadAlongArb(path), { minLength: 4, maxLength: 25 }),
              fc.array(op(path), { maxLength: 12 }),
            ),
          ),
        fc.array(fieldConditionArb(PATHS), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(0, 1, 3, 8192),
        (type, [path, initial, ops], conds, rangeDeltaLimit) => {
          // Tiny delta limits make range queries run through the snapshot + delta + merge paths.
          const idx = new PayloadIndex(path, type, { rangeDeltaLimit });
          const live = new Map<number, Payload | undefined>();
          initial.forEach((p, slot) => {
            idx.add(slot, p);
            live.set(slot, p);
          });
          const hasType = compileFilter(typedValueFilter(path, type));
          const hasFloat = compileFilter(floatFilter(path));
          const check = () => {
            const payloads = [...live.values()];
            const hasStrays = type === 'integer' && payloads.some((p) => hasFloat(p, ''));
            for (const raw of conds) {
              const c = { ...raw, key: path };
              const got = idx.lookup(c);
              const est = idx.estimate(c);
              expect(got === undefined).toBe(est === undefined);
              if (mustAnswer(type, c, hasStrays)) expect(got).toBeDefined();
              if (got === undefined) continue;
              const want = bruteForce(c, live);
              expect(sorted(got)).toEqual(want);
              expect(new Set(got).size).toBe(got.length);
              expect(est).toBeGreaterThanOrEqual(want.length);
              expect(est).toBeLessThanOrEqual(idx.size);
              if (c.match && 'value' in c.match && !c.range) expect(est).toBe(want.length);
            }
            expect(idx.size).toBe(payloads.filter((p) => hasType(p, '')).length);
          };
          check();
          for (const o of ops) {
            if (o.kind === 'remove') {
              if (!live.has(o.slot)) continue;
              idx.remove(o.slot, live.get(o.slot));
              live.delete(o.slot);
            } else {
              if (live.has(o.slot)) idx.remove(o.slot, live.get(o.slot));
              idx.add(o.slot, o.payload);
              live.set(o.slot, o.payload);
            }
            check();
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('float ranges stay exact through long write sequences with merges', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            slot: fc.nat(60),
            value: fc.option(
              fc.array(
                fc.integer({ min: -20, max: 20 }).map((v) => v / 4),
                { maxLength: 3 },
              ),
            ),
          }),
          { minLength: 1, maxLength: 200 },
        ),
        fc.array(rangeArb, { minLength: 1, maxLength: 4 }),
        fc.nat(5),
        (writes, ranges, limit) => {
          const idx = new PayloadIndex('p', 'float', { rangeDeltaLimit: limit });
          const live = new Map<number, Payload | undefined>();
          writes.forEach((w, step) => {
            if (live.has(w.slot)) idx.remove(w.slot, live.get(w.slot));
            const p = w.value === null ? undefined : { p: w.value };
            idx.add(w.slot, p);
            live.set(w.slot, p);
            if (step % 7 === 0) {
              for (const range of ranges) {
                const c = { key: 'p', range };
                const want = bruteForce(c, live);
                expect(sorted(idx.lookup(c)!)).toEqual(want);
                expect(idx.estimate(c)).toBeGreaterThanOrEqual(want.length);
              }
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

// The generators draw strings from x/y/z, integers from -2..3 and floats from ±0.5, 1.5, 2.5, so these
// filters say "has a value of the index's type" and "has a non-integral number" at `path`.
const INTS = [-2, -1, 0, 1, 2, 3];
const FLOATS = [-0.5, 0.5, 1.5, 2.5];

function typedValueFilter(path: string, type: PayloadSchemaType): Filter {
  switch (type) {
    case 'keyword':
      return { must: [{ key: path, match: { any: ['x', 'y', 'z'] } }] };
    case 'integer':
      return { must: [{ key: path, match: { any: INTS } }] };
    case 'float':
      return { must: [{ key: path, range: {} }] };
    case 'bool':
      return {
        should: [
          { key: path, match: { value: true } },
          { key: path, match: { value: false } },
        ],
      };
  }
}

function floatFilter(path: string): Filter {
  return { should: FLOATS.map((v) => ({ key: path, range: { gte: v, lte: v } })) };
}
