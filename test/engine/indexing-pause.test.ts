/**
 * setIndexingPaused (the degradation ladder's level 1): while paused no indexing batch starts — written
 * points stay unindexed but searchable — in existing and newly created collections alike; resuming indexes
 * them all. Run against the in-process Engine and through the worker protocol (WorkerEngine).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, type EngineApi, WorkerEngine } from '../../src/engine/index.js';
import { testConfig } from '../contracts/engine.contract.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-index-pause-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const points = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, vector: [1, (from + i) % 7, 0.5, (from + i) % 3] }));

const unindexed = async (e: EngineApi, name: string) => {
  const info = await e.collectionInfo(name);
  return info.points_count - info.indexed_vectors_count;
};

for (const [label, open] of [
  ['Engine', (dir: string) => Engine.open(testConfig(dir))],
  ['WorkerEngine', (dir: string) => WorkerEngine.open(testConfig(dir))],
] as const) {
  describe(`setIndexingPaused (${label})`, () => {
    it('holds back indexing while paused, in old and new collections; resuming catches up', async () => {
      const e: EngineApi = await open(join(root, label));
      try {
        await e.createCollection('old', { size: 4, distance: 'Cosine' });
        await e.upsert('old', points(0, 40), { wait: true });
        await e.whenIndexed('old');
        expect(await unindexed(e, 'old')).toBe(0);

        await e.setIndexingPaused(true);
        await e.upsert('old', points(40, 200), { wait: true });
        await e.createCollection('new', { size: 4, distance: 'Cosine' });
        await e.upsert('new', points(0, 200), { wait: true });
        let indexed = false;
        const done = e.whenIndexed().then(() => {
          indexed = true;
        });
        // Slices of 16 points index in well under a millisecond each: 200 ms would have finished them all.
        await sleep(200);
        expect(indexed).toBe(false);
        expect(await unindexed(e, 'old')).toBe(200);
        expect(await unindexed(e, 'new')).toBe(200);
        // Unindexed points are searched exactly meanwhile.
        const hits = await e.search('new', { vector: [1, 6, 0.5, 0], limit: 1 });
        expect(hits[0]?.id).toBe(6);

        await e.setIndexingPaused(false);
        await done;
        expect(await unindexed(e, 'old')).toBe(0);
        expect(await unindexed(e, 'new')).toBe(0);
      } finally {
        await e.close();
      }
    });
  });
}
