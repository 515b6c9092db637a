/**
 * The native addon must turn every bad argument into a JS error with a code — never a crash (a crash takes
 * the test worker down, so "no crash" is asserted by the run finishing). fast-check throws wrong types,
 * lengths, NaN, huge or fractional numbers and detached buffers at every method; then the adapter's mapping
 * to catalogue errors is checked; searches coalesced into one native call answer as they would alone.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon, type NativeHnsw } from '../../../src/engine/index/native/addon.js';
import { NativeHnswIndex, nativeSearchCounters } from '../../../src/engine/index/native-hnsw-index.js';
import {
  type IndexHits,
  type IndexSearchOptions,
  slotSet,
  slotSetAdd,
} from '../../../src/engine/index/vector-index.js';
import { clusteredVectors, rng } from '../../../src/platform/random.js';
import { SurgeError } from '../../../src/protocol/errors.js';

const { NativeHnsw: Core } = loadAddon();
const scratch = mkdtempSync(join(tmpdir(), 'surgevec-native-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const dim = 8;

function fresh(): NativeHnsw {
  return new Core({ space: 'l2', dim, m: 8, efConstruction: 32, capacity: 16 });
}

function detached(): Float32Array {
  const a = new Float32Array(dim);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

/** Anything a careless or hostile caller might pass where a typed array or number is expected. */
const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string(),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 1.5, 2 ** 53, 2 ** 64),
  fc.integer({ min: 0, max: 40 }).map((len) => new Float32Array(len).fill(0.5)),
  fc.integer({ min: 0, max: 3 }).map((rows) => new Float32Array(rows * dim).fill(Number.NaN)),
  fc.integer({ min: 0, max: 3 }).map((rows) => new Float32Array(rows * dim).fill(Number.POSITIVE_INFINITY)),
  fc.integer({ min: 0, max: 8 }).map((len) => new Uint32Array(len).map((_, i) => i)),
  fc.integer({ min: 0, max: 8 }).map((len) => new BigUint64Array(len).map((_, i) => BigInt(i) * 2n ** 40n)),
  fc.constant(new Float64Array(dim)),
  fc.constant(new Uint8Array(4)),
  fc.constant([1, 2, 3]),
  fc.constant({ ef: -3 }),
  fc.constant({ ef: 1e12, threads: 1e6 }),
  fc.constant({ filter: new Float32Array(2) }),
  fc.constant({ filter: new Uint8Array(1), filterBase: -5 }),
  fc.constant({ allow: 'x' }),
  fc.constant({ exact: true, allow: new BigUint64Array([1n, 2n ** 63n]) }),
  fc.constant(null).map(detached),
);

async function settle(run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (e) {
    // Every failure is an Error; the addon's own carry a stable SV_ code.
    expect(e).toBeInstanceOf(Error);
    const code = (e as { code?: unknown }).code;
    if (code !== undefined) expect(String(code)).toMatch(/^SV_|^ERR_/);
  }
}

describe('native addon under hostile input', () => {
  it('answers junk arguments to every method with errors, and keeps working', async () => {
    const index = fresh();
    const good = clusteredVectors(rng(1), 40, dim, 4);
    await index.addBatch(
      Uint32Array.from({ length: 40 }, (_, i) => i),
      good,
      2,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('addBatch', 'remove', 'get', 'search', 'save', 'ctor'),
        junk,
        junk,
        junk,
        async (method, a, b, c) => {
          const f = index as unknown as Record<string, (...args: unknown[]) => unknown>;
          if (method === 'ctor') await settle(() => new Core(a as never));
          // A junk string is a file name: keep it inside a temp directory, not the working directory.
          else if (method === 'save')
            await settle(() =>
              f.save!.call(index, typeof a === 'string' ? join(scratch, `junk-${a.length}`) : (a ?? 42)),
            );
          else if (method !== 'remove') await settle(() => f[method]!.call(index, a, b, c));
          // remove() with junk must not drop the good points the next assertion relies on
          else await settle(() => f.remove!.call(index, typeof a === 'string' ? a : 'nope'));
        },
      ),
      { numRuns: 400, seed: 7 },
    );
    // Still consistent afterwards: the good points are found exactly.
    const r = await index.search(good.slice(0, dim), 1, { ef: 32 });
    expect(r.counts[0]).toBe(1);
    expect(r.keys[0]).toBe(0n);
  });

  it('clamps k to what the index holds and accepts 64-bit keys', async () => {
    const index = fresh();
    const keys = new BigUint64Array([2n ** 63n + 5n, 7n, 2n ** 40n]);
    await index.addBatch(keys, clusteredVectors(rng(2), 3, dim, 1));
    const r = await index.search(new Float32Array(dim), 1_000_000, { ef: 10 });
    expect(r.k).toBe(3);
    expect(new Set(r.keys)).toEqual(new Set(keys));
    expect(index.get(new BigUint64Array([2n ** 63n + 5n, 1n])).found).toEqual(new Uint8Array([1, 0]));
    expect(index.remove(new BigUint64Array([2n ** 40n, 2n ** 40n, 99n]))).toBe(1);
    expect(index.size()).toBe(2);
  });

  it('maps native errors to catalogue errors in the adapter', async () => {
    const index = NativeHnswIndex.create(dim, 'l2', { m: 8, efConstruction: 32 });
    await expect(index.add([1, 2], new Float32Array(dim))).rejects.toMatchObject({
      code: 'DIMENSION_MISMATCH',
    });
    await expect(index.add([1], new Float32Array(dim).fill(Number.NaN))).rejects.toMatchObject({
      code: 'INVALID_VECTOR',
    });
    await index.add([1], new Float32Array(dim));
    await expect(index.search(new Float32Array(dim - 1), 3, { ef: 10 })).rejects.toBeInstanceOf(SurgeError);
    await expect(index.search(new Float32Array(dim), 3, { ef: Number.NaN })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    expect(() =>
      NativeHnswIndex.load('/nonexistent/file.hnsw', dim, 'l2', { m: 8, efConstruction: 32 }),
    ).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPTED' }));
  });
});

describe('searches that wait for a pool slot share one native call', () => {
  it('answers each as it would have been answered alone, and a bad one fails alone', async () => {
    const n = 3_000;
    const d = 24;
    const index = NativeHnswIndex.create(d, 'l2', { m: 12, efConstruction: 64, capacity: n });
    const data = clusteredVectors(rng(11), n, d, 12);
    await index.add(
      Uint32Array.from({ length: n }, (_, i) => i),
      data,
    );
    const setA = slotSet(0, n);
    const setB = slotSet(0, n);
    for (let i = 0; i < n; i += 7) slotSetAdd(setA, i);
    for (let i = 3; i < n; i += 13) slotSetAdd(setB, i);
    const r = rng(12);
    const calls = Array.from({ length: 120 }, (_, i) => {
      const q = data.slice(((i * 17) % n) * d, ((i * 17) % n) * d + d).map((x) => x + (r() - 0.5) * 0.1);
      const pick = i % 5;
      const options: IndexSearchOptions = {
        ef: [10, 40, 200, 400][i % 4]!,
        ...(pick === 3 ? { allow: setA } : pick === 4 ? { allow: setB, exact: i % 2 === 0 } : {}),
      };
      return { q, k: 1 + (i % 20), options };
    });
    const alone: IndexHits[] = [];
    for (const c of calls) alone.push(await index.search(c.q, c.k, c.options));
    const before = { ...nativeSearchCounters() };
    // All at once: every slot is soon taken, the rest queue and leave in shared calls — one of them with a
    // query the core refuses (NaN), which must fail alone.
    const pending = calls.map((c) => index.search(c.q, c.k, c.options));
    const bad = expect(
      index.search(new Float32Array(d).fill(Number.NaN), 5, { ef: 10 }),
    ).rejects.toMatchObject({
      code: 'INVALID_VECTOR',
    });
    pending.push(...calls.slice(0, 10).map((c) => index.search(c.q, c.k, c.options)));
    const together = await Promise.all(pending);
    await expect(index.search(calls[0]!.q, 5, { ef: Number.NaN })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    await bad;
    await expect(index.search(new Float32Array(d - 1), 3, { ef: 10 })).rejects.toMatchObject({
      code: 'DIMENSION_MISMATCH',
    });
    const after = nativeSearchCounters();
    expect(after.queries - before.queries).toBeGreaterThanOrEqual(calls.length + 11);
    expect(after.calls - before.calls).toBeLessThan(calls.length / 2);
    together.forEach((hits, i) => {
      const want = alone[i % calls.length]!;
      expect([...hits.slots], `search ${i}`).toEqual([...want.slots]);
      expect([...hits.distances]).toEqual([...want.distances]);
    });
  });
});

describe.runIf(process.platform === 'linux')('index builds', () => {
  it('run on threads of lower OS priority than the process', async () => {
    const n = 30_000;
    const d = 32;
    const index = NativeHnswIndex.create(d, 'l2', { m: 16, efConstruction: 200, capacity: n });
    let done = false;
    const build = index
      .add(
        Uint32Array.from({ length: n }, (_, i) => i),
        clusteredVectors(rng(5), n, d, 10),
      )
      .finally(() => {
        done = true;
      });
    const seen = new Set<number>();
    while (!done) {
      for (const tid of readdirSync('/proc/self/task')) {
        try {
          const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
          // Fields after the command name; the nice value is field 19 of stat(5).
          seen.add(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
        } catch {
          // the thread ended between readdir and read
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await build;
    expect([...seen]).toContain(10);
    expect(index.size()).toBe(n);
  });
});
