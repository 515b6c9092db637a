/**
 * A snapshot is written while the collection keeps serving: reads and writes issued after it started finish
 * before it does, writes made meanwhile survive a restart (WAL tail after the snapshot's seq), and indexing
 * that waited for it resumes. The restarted collection answers exactly like one that never stopped.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { clusteredVectors, rng } from '../../src/platform/random.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-snapshot-concurrent-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('serves reads and writes while a snapshot is written, and loses none of them', async () => {
  const config = defaultConfig({ storage: { data_dir: join(root, 'data') } });
  const dim = 32;
  const n = 20_000;
  const data = clusteredVectors(rng(3), n + 2_000, dim, 20);
  const row = (i: number) => Array.from(data.subarray(i * dim, (i + 1) * dim));
  const engine = await Engine.open(config);
  await engine.createCollection('c', { size: dim, distance: 'Cosine' });
  for (let b = 0; b < n; b += 1_000) {
    await engine.upsert(
      'c',
      Array.from({ length: 1_000 }, (_, i) => ({ id: b + i, vector: row(b + i), payload: { b } })),
    );
  }
  await engine.whenIndexed('c');

  let snapshotDone = 0;
  const snapshot = engine.snapshot('c').then(() => {
    snapshotDone = performance.now();
  });
  const search = engine.search('c', { vector: row(5), limit: 5 }).then((r) => ({ r, at: performance.now() }));
  const write = engine
    .upsert(
      'c',
      Array.from({ length: 2_000 }, (_, i) => ({ id: n + i, vector: row(n + i), payload: { during: true } })),
    )
    .then(() => performance.now());
  const del = engine.deletePoints('c', { points: Array.from({ length: 100 }, (_, i) => i) });
  const [s, writtenAt] = await Promise.all([search, write, del]);
  await snapshot;
  expect(s.r[0]!.id).toBe(5);
  expect(s.at).toBeLessThan(snapshotDone);
  expect(writtenAt).toBeLessThan(snapshotDone);
  await engine.whenIndexed('c'); // indexing resumed after the snapshot
  const probe = { vector: row(n + 7), limit: 10, with_payload: true };
  const before = await engine.search('c', probe);
  expect(before[0]).toMatchObject({ id: n + 7, payload: { during: true } });
  // What a crash now would leave (no close, so no second snapshot): the restart loads the snapshot and
  // replays the WAL tail written after its seq.
  const image = join(root, 'crash-image');
  cpSync(join(root, 'data'), image, { recursive: true });
  const again = await Engine.open(defaultConfig({ storage: { data_dir: image } }));
  expect(await again.count('c')).toBe(n + 2_000 - 100);
  expect(await again.count('c', { must: [{ key: 'during', match: { value: true } }] })).toBe(2_000);
  expect((await again.retrieve('c', [0, 99, 100])).map((p) => p.id)).toEqual([100]);
  expect(await again.search('c', probe)).toEqual(before);
  await again.close();
  await engine.close();
});

it('counts a failed snapshot and keeps serving', async () => {
  const dir = join(root, 'failing');
  const engine = await Engine.open(defaultConfig({ storage: { data_dir: dir } }));
  await engine.createCollection('c', { size: 4, distance: 'Dot' });
  await engine.upsert('c', [{ id: 1, vector: [1, 0, 0, 0] }]);
  // A file where the snapshots directory belongs: every snapshot write fails.
  const snaps = join(dir, 'collections', 'c', 'snapshots');
  rmSync(snaps, { recursive: true, force: true });
  writeFileSync(snaps, 'not a directory');
  await expect(engine.snapshot('c')).rejects.toThrow();
  expect((await engine.stats()).c).toMatchObject({ snapshots: 0, snapshotFailures: 1 });
  await engine.upsert('c', [{ id: 2, vector: [0, 1, 0, 0] }]);
  expect(await engine.count('c')).toBe(2);
  rmSync(snaps);
  await engine.snapshot('c');
  expect((await engine.stats()).c).toMatchObject({ snapshots: 1, snapshotFailures: 1 });
  await engine.close();
});
