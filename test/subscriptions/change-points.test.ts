/**
 * The engine's change feed with point data (what the matcher reads), in-process and from the worker thread:
 * listeners that ask get upserts' stored vectors and payloads and the ids ops by selector changed; other
 * listeners, on the same engine at the same time, get the plain events, unchanged; `readChanges` with
 * `points` reads the same vectors and payloads back from the WAL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { type ChangeEvent, Engine, type EngineApi, WorkerEngine } from '../../src/engine/index.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-change-points-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each([
  ['Engine', (dir: string) => Engine.open(defaultConfig({ storage: { data_dir: dir, fsync: false } }))],
  [
    'WorkerEngine',
    (dir: string) => WorkerEngine.open(defaultConfig({ storage: { data_dir: dir, fsync: false } })),
  ],
] as const)('%s change events with points', (name, open) => {
  it('gives point data to the listeners that ask, and only to them', async () => {
    const engine: EngineApi = await open(join(root, name));
    try {
      await engine.createCollection('c', { size: 2, distance: 'Cosine' });
      const plain: ChangeEvent[] = [];
      const rich: ChangeEvent[] = [];
      const offPlain = engine.onChange((e) => plain.push(e));
      const offRich = engine.onChange((e) => rich.push(e), { points: true });
      const w1 = await engine.upsert('c', [
        { id: 1, vector: [3, 4], payload: { t: 1 } },
        { id: 2, vector: [1, 0] },
      ]);
      const w2 = await engine.deletePoints('c', { filter: { must: [{ key: 't', match: { value: 1 } }] } });
      const w3 = await engine.setPayload('c', { t: 2 }, { points: [2] });
      // The worker posts events before the write's answer, so all are here.
      expect(plain).toEqual([
        { collection: 'c', seq: w1.operation_id, op: 'upsert', ids: [1, 2], count: 2 },
        {
          collection: 'c',
          seq: w2.operation_id,
          op: 'delete',
          filter: { must: [{ key: 't', match: { value: 1 } }] },
          count: 1,
        },
        { collection: 'c', seq: w3.operation_id, op: 'set_payload', ids: [2], count: 1 },
      ]);
      expect(rich.map(({ points, ...e }) => e)).toEqual(plain);
      expect([...rich[0]!.points!.vectors!]).toEqual([Math.fround(0.6), Math.fround(0.8), 1, 0]);
      expect(rich[0]!.points!.payloads).toEqual([{ t: 1 }, null]);
      expect(rich[1]!.points).toEqual({ touched: [1] });
      expect(rich[2]!.points).toEqual({ touched: [2] });

      const page = await engine.readChanges('c', 0, 10, { points: true });
      expect([...page.events[0]!.points!.vectors!]).toEqual([Math.fround(0.6), Math.fround(0.8), 1, 0]);
      expect(page.events[0]!.points!.payloads).toEqual([{ t: 1 }, null]);
      // The WAL keeps the filter, not what it matched.
      expect(page.events[1]!.points).toBeUndefined();
      expect((await engine.readChanges('c', 0, 10)).events[0]).not.toHaveProperty('points');

      offRich();
      await engine.upsert('c', [{ id: 3, vector: [0, 1] }]);
      expect(plain.at(-1)).not.toHaveProperty('points');
      expect(rich).toHaveLength(3);
      offPlain();
    } finally {
      await engine.close();
    }
  });
});
