/**
 * Searches and index builds never run on the caller's event loop. Measured as event-loop utilisation of the
 * main thread (busy time / wall time; robust to the OS preempting an idle thread on a loaded 2-core CI box),
 * with the in-process Engine as the control in the same run: same workload, the engine on the main thread.
 * The event-loop *delay* p99 (target < 10 ms) is a timing figure: bench/engine-glove.ts measures and
 * docs/BENCHMARKS.md reports it; here it is only printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { afterAll, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { Engine, type EngineApi, WorkerEngine } from '../../src/engine/index.js';
import { clusteredVectors, rng } from '../../src/platform/random.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-eld-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dim = 100;
const n = 10_000;
const data = clusteredVectors(rng(3), n, dim, 200, 0.5);

/** Ingest n points (4 writers) while 8 callers search; returns main-thread utilisation and delay. */
async function load(engine: EngineApi) {
  await engine.createCollection('eld', { size: dim, distance: 'Cosine', hnsw: { full_scan_threshold: 0 } });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const elu0 = performance.eventLoopUtilization();
  const batch = 250;
  let next = 0;
  const ingest = async () => {
    while (next < n) {
      const start = next;
      next += batch;
      await engine.upsert('eld', {
        ids: Array.from({ length: batch }, (_, i) => start + i),
        vectors: data.slice(start * dim, (start + batch) * dim),
      });
    }
  };
  let searches = 0;
  const search = async () => {
    for (let i = 0; i < 150; i++) {
      const q = (i * 37) % n;
      await engine.search('eld', { vector: data.subarray(q * dim, (q + 1) * dim), limit: 10 });
      searches++;
    }
  };
  await Promise.all([ingest(), ingest(), ingest(), ingest(), ...Array.from({ length: 8 }, search)]);
  await engine.whenIndexed('eld');
  const elu = performance.eventLoopUtilization(elu0).utilization;
  h.disable();
  return { elu, p99: h.percentile(99) / 1e6, max: h.max / 1e6, searches, count: await engine.count('eld') };
}

it('keeps search and indexing off the main thread (control: the in-process engine)', async () => {
  const inProcess = await Engine.open(defaultConfig({ storage: { data_dir: join(root, 'a') } }));
  const control = await load(inProcess).finally(() => inProcess.close());
  const worker = await WorkerEngine.open(defaultConfig({ storage: { data_dir: join(root, 'b') } }));
  const measured = await load(worker).finally(() => worker.close());
  for (const [name, r] of [
    ['in-process', control],
    ['worker', measured],
  ] as const) {
    console.log(
      `${name}: main-thread utilisation ${r.elu.toFixed(2)}, event-loop delay p99 ${r.p99.toFixed(2)} ms ` +
        `(max ${r.max.toFixed(1)} ms), ${r.searches} searches, ${r.count} points`,
    );
    expect(r.count).toBe(n);
    expect(r.searches).toBe(1200);
  }
  // Indexing 10k points at efConstruction 200 is seconds of CPU: on the main thread it fills the loop.
  expect(control.elu).toBeGreaterThan(0.8);
  expect(measured.elu).toBeLessThan(0.5);
});
