/**
 * The contract every VectorIndex passes (style.md §3): exact reference and HNSW alike. ANN answers are
 * checked against a naive scan written here, independently of the index under test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeInPlace } from '../../src/engine/index/distance.js';
import type { IndexSpace, SlotSet, VectorIndex } from '../../src/engine/index/vector-index.js';
import { slotSet, slotSetAdd } from '../../src/engine/index/vector-index.js';
import { clusteredVectors, rng } from '../../src/platform/random.js';

export interface IndexFactory {
  make(dim: number, space: IndexSpace): VectorIndex;
  load(file: string, dim: number, space: IndexSpace, live: number[]): VectorIndex;
  /** Recall floor at ef 64 on the seeded clustered set (1 for exact). */
  recallFloor: number;
}

function naiveTopK(
  data: Float32Array,
  slots: number[],
  dim: number,
  q: Float32Array,
  k: number,
  space: IndexSpace,
) {
  const scored = slots.map((slot, row) => {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const a = data[row * dim + j]!;
      const b = q[j]!;
      s += space === 'ip' ? a * b : (a - b) * (a - b);
    }
    return { slot, d: space === 'ip' ? 1 - s : s };
  });
  scored.sort((a, b) => a.d - b.d);
  return scored.slice(0, k);
}

/** A SlotSet spanning every slot in `slots` (the contract uses sparse slots from 1,000,000 up). */
function setOf(slots: Iterable<number>): SlotSet {
  const list = [...slots];
  const base = Math.min(...list);
  const set = slotSet(base, Math.max(...list) - base + 1);
  for (const s of list) slotSetAdd(set, s);
  return set;
}

export function vectorIndexContract(name: string, factory: IndexFactory): void {
  describe(`${name} satisfies VectorIndex`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'surgevec-index-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const dim = 16;

    for (const space of ['ip', 'l2'] as const) {
      describe(`space ${space}`, () => {
        const r = rng(space === 'ip' ? 1 : 2);
        const n = 500;
        const data = clusteredVectors(r, n, dim, 10);
        if (space === 'ip') for (let i = 0; i < n; i++) normalizeInPlace(data, i * dim, dim);
        // Sparse, large slot numbers: indexes must not assume 0..n-1.
        const slots = Array.from({ length: n }, (_, i) => 1_000_000 + i * 7);

        it('finds the exact nearest neighbours on a small set, best first, with correct distances', async () => {
          const index = factory.make(dim, space);
          await index.add(slots, data);
          expect(index.size()).toBe(n);
          for (let t = 0; t < 20; t++) {
            const q = data.slice(t * 13 * dim, (t * 13 + 1) * dim);
            const hits = await index.search(q, 10, { ef: 200 });
            const truth = naiveTopK(data, slots, dim, q, 10, space);
            expect(Array.from(hits.slots)).toEqual(truth.map((x) => x.slot));
            for (let i = 0; i < 10; i++) expect(hits.distances[i]).toBeCloseTo(truth[i]!.d, 4);
            for (let i = 1; i < hits.distances.length; i++) {
              expect(hits.distances[i]!).toBeGreaterThanOrEqual(hits.distances[i - 1]!);
            }
          }
        });

        it('forgets removed slots, re-adds them, and treats unknown removes as no-ops', async () => {
          const index = factory.make(dim, space);
          await index.add(slots, data);
          const q = data.slice(0, dim);
          const first = await index.search(q, 5, { ef: 100 });
          const gone = first.slots[0]!;
          index.remove(gone);
          index.remove(424242);
          expect(index.has(gone)).toBe(false);
          expect(index.size()).toBe(n - 1);
          const after = await index.search(q, 5, { ef: 100 });
          expect(Array.from(after.slots)).not.toContain(gone);
          await index.add([gone], q);
          expect(index.has(gone)).toBe(true);
          const again = await index.search(q, 1, { ef: 100 });
          expect(again.slots[0]).toBe(gone);
        });

        it('replaces the vector of a slot that is added twice', async () => {
          const index = factory.make(dim, space);
          await index.add(slots.slice(0, 50), data.subarray(0, 50 * dim));
          const target = data.slice(49 * dim, 50 * dim);
          await index.add([slots[0]!], target);
          expect(index.size()).toBe(50);
          const hits = await index.search(target, 2, { ef: 100 });
          expect(new Set(hits.slots)).toEqual(new Set([slots[0], slots[49]]));
        });

        it('honours a filter and returns fewer than k when fewer qualify', async () => {
          const index = factory.make(dim, space);
          await index.add(slots, data);
          const allowed = new Set(slots.filter((_, i) => i % 10 === 3));
          const q = data.slice(5 * dim, 6 * dim);
          const truth = naiveTopK(
            data.filter((_, j) => Math.floor(j / dim) % 10 === 3),
            [...allowed],
            dim,
            q,
            10,
            space,
          ).map((x) => x.slot);
          // Both ways the index may apply a filter: during the graph walk and by an exact scan.
          for (const exact of [false, true]) {
            const hits = await index.search(q, 10, { ef: 200, allow: setOf(allowed), exact });
            expect(hits.slots.length).toBe(10);
            for (const s of hits.slots) expect(allowed.has(s)).toBe(true);
            expect(Array.from(hits.slots)).toEqual(truth);
            const few = await index.search(q, 10, { ef: 200, allow: setOf([slots[7]!]), exact });
            expect(Array.from(few.slots)).toEqual([slots[7]]);
            const none = await index.search(q, 10, { ef: 200, allow: setOf([424242]), exact });
            expect(none.slots.length).toBe(0);
          }
        });

        it('answers exact: true with the exact neighbours', async () => {
          const index = factory.make(dim, space);
          await index.add(slots, data);
          const q = data.slice(17 * dim, 18 * dim);
          const hits = await index.search(q, 25, { ef: 1, exact: true });
          expect(Array.from(hits.slots)).toEqual(
            naiveTopK(data, slots, dim, q, 25, space).map((x) => x.slot),
          );
        });

        it('serves concurrent searches with different ef without mixing them up', async () => {
          const index = factory.make(dim, space);
          await index.add(slots, data);
          const q = data.slice(3 * dim, 4 * dim);
          const alone = await Promise.all([
            index.search(q, 10, { ef: 10 }),
            index.search(q, 10, { ef: 400 }),
          ]);
          const mixed = await Promise.all(
            Array.from({ length: 40 }, (_, i) => index.search(q, 10, { ef: i % 2 === 0 ? 10 : 400 })),
          );
          for (const [i, hits] of mixed.entries()) {
            expect(Array.from(hits.slots)).toEqual(Array.from(alone[i % 2]!.slots));
          }
        });

        it('answers an empty index and k larger than the index', async () => {
          const index = factory.make(dim, space);
          expect((await index.search(data.slice(0, dim), 10, { ef: 10 })).slots.length).toBe(0);
          await index.add(slots.slice(0, 3), data.subarray(0, 3 * dim));
          expect((await index.search(data.slice(0, dim), 100, { ef: 10 })).slots.length).toBe(3);
        });

        it('saves and loads to the same answers, re-applying later removes', async () => {
          const index = factory.make(dim, space);
          await index.add(slots, data);
          const file = join(dir, `${name}-${space}.idx`);
          // Searches go on while the file is written.
          const [, during] = await Promise.all([
            index.save(file),
            index.search(data.slice(0, dim), 5, { ef: 50 }),
          ]);
          expect(during.slots.length).toBe(5);
          const live = slots.filter((_, i) => i !== 0);
          const loaded = factory.load(file, dim, space, live);
          expect(loaded.size()).toBe(n - 1);
          expect(loaded.has(slots[0]!)).toBe(false);
          const q = data.slice(0, dim);
          const a = await index.search(q, 11, { ef: 200 });
          const b = await loaded.search(q, 10, { ef: 200 });
          expect(Array.from(b.slots)).toEqual(
            Array.from(a.slots)
              .filter((s) => s !== slots[0])
              .slice(0, 10),
          );
          await expect(index.save(join(dir, 'no-such-dir', 'x.idx'))).rejects.toThrow();
        });
      });
    }

    it(`reaches recall@10 >= ${factory.recallFloor} at ef 64 on 5,000 seeded clustered vectors`, async () => {
      const d = 32;
      const r = rng(7);
      const n = 5000;
      const data = clusteredVectors(r, n, d, 50, 0.6);
      for (let i = 0; i < n; i++) normalizeInPlace(data, i * d, d);
      const slots = Array.from({ length: n }, (_, i) => i);
      const index = factory.make(d, 'ip');
      await index.add(slots, data);
      const queries = clusteredVectors(rng(8), 100, d, 50, 0.6);
      let hit = 0;
      for (let t = 0; t < 100; t++) {
        const q = queries.subarray(t * d, (t + 1) * d);
        normalizeInPlace(q);
        const truth = new Set(naiveTopK(data, slots, d, q, 10, 'ip').map((x) => x.slot));
        const hits = await index.search(q, 10, { ef: 64 });
        for (const s of hits.slots) if (truth.has(s)) hit++;
      }
      expect(hit / 1000).toBeGreaterThanOrEqual(factory.recallFloor);
    });
  });
}
