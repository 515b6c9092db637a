/**
 * Recall floors on real data (style.md §4): 20,000 GloVe-100 words, 200 held-out query words, cosine,
 * against exact search computed independently (exactKnn over the same rows). Default ef, default config.
 * Filters matching 1%, 10% and 50% of points are checked on both planner paths: exact scan of matches
 * (default threshold) and graph traversal with the filter applied during the walk (threshold 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactKnn, loadGlove } from '../../src/bench/datasets/index.js';
import { defaultConfig } from '../../src/config/index.js';
import { Engine, type Filter } from '../../src/engine/index.js';

const BASE = 20_000;
const QUERIES = 200;
const K = 10;
const FLOOR = 0.95;

const dir = mkdtempSync(join(tmpdir(), 'surgevec-recall-'));
let engine: Engine;
let base: Float32Array;
let queries: Float32Array;
const bucket = (row: number) => (row * 7919) % 100; // spreads buckets over frequent and rare words alike

const filters: [string, number, Filter, (row: number) => boolean][] = [
  ['1%', 0.01, { must: [{ key: 'b', match: { value: 7 } }] }, (r) => bucket(r) === 7],
  ['10%', 0.1, { must: [{ key: 'b', range: { lt: 10 } }] }, (r) => bucket(r) < 10],
  ['50%', 0.5, { must: [{ key: 'b', range: { gte: 50 } }] }, (r) => bucket(r) >= 50],
];

beforeAll(async () => {
  const data = await loadGlove({ base: BASE, queries: QUERIES });
  base = data.base;
  queries = data.queries;
  engine = await Engine.open(defaultConfig({ storage: { data_dir: dir } }));
  for (const [name, threshold] of [
    ['planner', undefined],
    ['graph', 0],
  ] as const) {
    await engine.createCollection(name, {
      size: 100,
      distance: 'Cosine',
      hnsw: threshold === undefined ? {} : { full_scan_threshold: threshold },
      payload_indexes: { b: 'integer' },
    });
    for (let start = 0; start < BASE; start += 2000) {
      const n = Math.min(2000, BASE - start);
      await engine.upsert(name, {
        ids: Array.from({ length: n }, (_, i) => start + i),
        vectors: base.subarray(start * 100, (start + n) * 100),
        payloads: Array.from({ length: n }, (_, i) => ({ b: bucket(start + i), w: data.words[start + i]! })),
      });
    }
  }
  await engine.whenIndexed();
}, 600_000);

afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function recall(collection: string, rows: number[] | undefined, filter?: Filter): Promise<number> {
  const subset = rows ?? Array.from({ length: BASE }, (_, i) => i);
  const sub = new Float32Array(subset.length * 100);
  subset.forEach((row, i) => {
    sub.set(base.subarray(row * 100, (row + 1) * 100), i * 100);
  });
  const truth = exactKnn(sub, 100, queries, K, 'cosine');
  let hits = 0;
  for (let q = 0; q < QUERIES; q++) {
    const want = new Set(Array.from(truth.subarray(q * K, (q + 1) * K), (i) => subset[i]!));
    const got = await engine.search(collection, {
      vector: queries.subarray(q * 100, (q + 1) * 100),
      limit: K,
      filter: filter ?? null,
    });
    expect(got.length).toBe(K);
    for (const p of got) if (want.has(p.id as number)) hits++;
  }
  return hits / (QUERIES * K);
}

describe(`recall@${K} on ${BASE} GloVe-100 words at the default ef`, () => {
  it(`unfiltered >= ${FLOOR}`, async () => {
    const info = await engine.collectionInfo('graph');
    expect(info.indexed_vectors_count).toBe(BASE);
    const r = await recall('graph', undefined);
    console.log(`recall@10 unfiltered, default ef ${info.config.hnsw.ef}: ${r.toFixed(4)}`);
    expect(r).toBeGreaterThanOrEqual(FLOOR);
  });

  for (const [label, share, filter, test] of filters) {
    for (const collection of ['planner', 'graph']) {
      it(`filter matching ${label} via ${collection === 'graph' ? 'filtered graph traversal' : 'the planner (exact scan)'} >= ${FLOOR}`, async () => {
        const rows = Array.from({ length: BASE }, (_, i) => i).filter(test);
        expect(rows.length / BASE).toBeCloseTo(share, 2);
        expect(await engine.count(collection, filter)).toBe(rows.length);
        const before = (await engine.stats())[collection]!.searches;
        const r = await recall(collection, rows, filter);
        const after = (await engine.stats())[collection]!.searches;
        const path = collection === 'graph' ? 'graph' : 'exact';
        expect(after[path] - before[path]).toBe(QUERIES);
        console.log(`recall@10 filter ${label} (${collection}): ${r.toFixed(4)}`);
        expect(r).toBeGreaterThanOrEqual(FLOOR);
      });
    }
  }
});
