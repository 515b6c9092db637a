/**
 * Where a search's time goes: raw hnswlib-node searchKnn vs our HnswIndex adapter vs a full Engine.search
 * (planner, per-segment merge, result building) vs WorkerEngine (thread hop), same graph, same queries, same
 * ef, one run — compare the ratios, not absolute numbers.
 *   npx tsx bench/search-overhead.ts [--base 50000] [--ef 128]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadGlove } from '../src/bench/datasets/index.js';
import { defaultConfig } from '../src/config/index.js';
import { normalizeInPlace } from '../src/engine/index/distance.js';
import { HnswIndex } from '../src/engine/index/hnsw-index.js';
import { Engine, WorkerEngine } from '../src/engine/index.js';

const { values: args } = parseArgs({
  options: { base: { type: 'string', default: '50000' }, ef: { type: 'string', default: '128' } },
});
const DIM = 100;
const ef = Number(args.ef);
const d = await loadGlove({ base: Number(args.base), quiet: true });
const n = d.baseCount;
const nq = d.queryCount;
const base = d.base.slice();
for (let i = 0; i < n; i++) normalizeInPlace(base, i * DIM, DIM);
const queries = d.queries.slice();
for (let i = 0; i < nq; i++) normalizeInPlace(queries, i * DIM, DIM);

async function time(label: string, fn: (q: number) => Promise<unknown> | unknown): Promise<number> {
  for (let q = 0; q < 200; q++) await fn(q); // warm-up
  const t0 = performance.now();
  for (let q = 0; q < nq; q++) await fn(q);
  const qps = nq / ((performance.now() - t0) / 1000);
  console.log(`${label.padEnd(44)} ${Math.round(qps).toString().padStart(6)} QPS`);
  return qps;
}

const index = HnswIndex.create(DIM, 'ip', { m: 16, efConstruction: 200, capacity: n });
const slots = Array.from({ length: n }, (_, i) => i);
index.add(slots, base);
const dir = mkdtempSync(join(tmpdir(), 'surgevec-overhead-'));
const config = defaultConfig({ storage: { data_dir: dir }, engine: { hnsw: { full_scan_threshold: 0 } } });
const engine = await Engine.open(config);
await engine.createCollection('g', { size: DIM, distance: 'Cosine' });
for (let s = 0; s < n; s += 5000) {
  const c = Math.min(5000, n - s);
  await engine.upsert('g', { ids: slots.slice(s, s + c), vectors: base.subarray(s * DIM, (s + c) * DIM) });
}
await engine.whenIndexed();
console.log(`# ${n} GloVe-100 vectors, ${nq} queries, ef ${ef}, one graph each`);

// biome-ignore lint/suspicious/noExplicitAny: reaching into the adapter for the raw binding on purpose.
const raw = (index as any).index as import('hnswlib-node').HierarchicalNSW;
raw.setEf(ef);
const arrays = Array.from({ length: nq }, (_, q) => Array.from(queries.subarray(q * DIM, (q + 1) * DIM)));
const rawQps = await time('hnswlib-node searchKnn (plain array ready)', (q) => raw.searchKnn(arrays[q]!, 10));
await time('HnswIndex.search', (q) => index.search(queries.subarray(q * DIM, (q + 1) * DIM), 10, { ef }));
const engQps = await time('Engine.search (in-process)', (q) =>
  engine.search('g', {
    vector: queries.subarray(q * DIM, (q + 1) * DIM),
    limit: 10,
    params: { hnsw_ef: ef },
  }),
);
await engine.close();
const worker = await WorkerEngine.open(config);
await time('WorkerEngine.search (sequential)', (q) =>
  worker.search('g', {
    vector: queries.subarray(q * DIM, (q + 1) * DIM),
    limit: 10,
    params: { hnsw_ef: ef },
  }),
);
const t0 = performance.now();
await Promise.all(
  Array.from({ length: 10 }, (_, b) =>
    worker.searchEach(
      'g',
      Array.from({ length: nq / 10 }, (_, i) => ({
        vector: queries.subarray((b * 100 + i) * DIM, (b * 100 + i + 1) * DIM),
        limit: 10,
        params: { hnsw_ef: ef },
      })),
    ),
  ),
);
console.log(
  `${'WorkerEngine.searchEach (batches of 100)'.padEnd(44)} ${Math.round(
    nq / ((performance.now() - t0) / 1000),
  )
    .toString()
    .padStart(6)} QPS`,
);
console.log(`Engine / raw hnswlib: ${(engQps / rawQps).toFixed(2)}`);
await worker.close();
rmSync(dir, { recursive: true, force: true });
