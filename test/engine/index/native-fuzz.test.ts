/**
 * The native addon must turn every bad argument into a JS error with a code — never a crash (a crash takes
 * the test worker down, so "no crash" is asserted by the run finishing). fast-check throws wrong types,
 * lengths, NaN, huge or fractional numbers and detached buffers at every method; then the adapter's mapping
 * to catalogue errors is checked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeHnsw } from '../../../src/engine/index/native/addon.js';
import { NativeHnswIndex } from '../../../src/engine/index/native-hnsw-index.js';
import { clusteredVectors, rng } from '../../../src/platform/random.js';
import { SurgeError } from '../../../src/protocol/errors.js';

const { NativeHnsw: Core } = loadAddon();
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
          else if (method === 'save') await settle(() => f.save!.call(index, a === undefined ? 42 : a));
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
