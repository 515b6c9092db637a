/**
 * Searches and index builds never run on the caller's event loop: with the engine in its worker thread,
 * the main thread's event-loop delay p99 stays under 10 ms while ingest, indexing and searches run flat out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { WorkerEngine } from '../../src/engine/index.js';
import { clusteredVectors, rng } from '../../src/platform/random.js';

const dir = mkdtempSync(join(tmpdir(), 'surgevec-eld-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('keeps main-thread event-loop delay p99 < 10 ms under full ingest + search load', async () => {
  const dim = 100;
  const n = 20_000;
  const data = clusteredVectors(rng(3), n, dim, 200, 0.5);
  const engine = await WorkerEngine.open(
    defaultConfig({ storage: { data_dir: dir }, engine: { segment_max_points: 8192 } }),
  );
  try {
    await engine.createCollection('eld', { size: dim, distance: 'Cosine' });
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const batch = 500;
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
    const deadline = Date.now() + 20_000;
    const search = async () => {
      for (let i = 0; i < 400 && Date.now() < deadline; i++) {
        const q = (i * 37) % n;
        await engine.search('eld', { vector: data.subarray(q * dim, (q + 1) * dim), limit: 10 });
        searches++;
      }
    };
    await Promise.all([ingest(), ingest(), ingest(), ingest(), ...Array.from({ length: 8 }, search)]);
    const unindexed = (await engine.stats()).eld!.unindexed;
    h.disable();
    const p99 = h.percentile(99) / 1e6;
    console.log(
      `event-loop delay p99 ${p99.toFixed(2)} ms, max ${(h.max / 1e6).toFixed(2)} ms; ${searches} searches, ` +
        `${n} points ingested, ${unindexed} still unindexed at the end`,
    );
    expect(searches).toBeGreaterThan(1000);
    expect(await engine.count('eld')).toBe(n);
    expect(p99).toBeLessThan(10);
  } finally {
    await engine.close();
  }
});
