/**
 * Start-up against damaged files: a torn WAL tail is cut (only the unfinished write is lost), damage before
 * the tail stops start-up with an error naming file and offset, a broken snapshot is reported, never skipped.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type Config, defaultConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { SurgeError } from '../../src/protocol/errors.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-recovery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** 10 acknowledged upserts of 10 points, then the process "dies": no close, so no snapshot. */
async function crashedEngine(name: string): Promise<{ config: Readonly<Config>; walFile: string }> {
  const config = defaultConfig({ storage: { data_dir: join(root, name) } });
  const engine = await Engine.open(config);
  await engine.createCollection('c', { size: 4, distance: 'Dot' });
  for (let b = 0; b < 10; b++) {
    await engine.upsert(
      'c',
      Array.from({ length: 10 }, (_, i) => ({ id: b * 10 + i, vector: [b, i, 1, 2], payload: { b } })),
    );
  }
  const walDir = join(root, name, 'collections', 'c', 'wal');
  const files = readdirSync(walDir).filter((f) => f.endsWith('.log'));
  expect(files.length).toBe(1);
  return { config, walFile: join(walDir, files[0]!) };
}

/** Byte offsets where each record starts (u32 length | u32 crc | body). */
function recordOffsets(file: string): number[] {
  const buf = readFileSync(file);
  const out: number[] = [];
  for (let off = 0; off + 8 <= buf.length; off += 8 + buf.readUInt32LE(off)) out.push(off);
  return out;
}

it('cuts a torn last record and keeps every earlier write', async () => {
  const { config, walFile } = await crashedEngine('torn');
  const offsets = recordOffsets(walFile);
  const size = readFileSync(walFile).length;
  truncateSync(walFile, size - 7); // the last upsert was half-written when the process died
  const engine = await Engine.open(config);
  expect(await engine.count('c')).toBe(90);
  expect(await engine.count('c', { must: [{ key: 'b', match: { value: 9 } }] })).toBe(0);
  expect((await engine.retrieve('c', [89], true, true))[0]).toEqual({
    id: 89,
    payload: { b: 8 },
    vector: [8, 9, 1, 2],
  });
  expect(offsets.length).toBe(10); // one record per acknowledged upsert
  await engine.upsert('c', [{ id: 1000, vector: [1, 1, 1, 1] }]);
  await engine.close();
  const again = await Engine.open(config);
  expect(await again.count('c')).toBe(91);
  await again.close();
});

it('refuses to start on a damaged record before the tail, naming the file and the offset', async () => {
  const { config, walFile } = await crashedEngine('corrupt');
  const offsets = recordOffsets(walFile);
  const buf = readFileSync(walFile);
  const victim = offsets[3]!;
  buf[victim + 20] = buf[victim + 20]! ^ 0xff;
  writeFileSync(walFile, buf);
  const err = await Engine.open(config).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SurgeError);
  expect((err as SurgeError).code).toBe('WAL_CORRUPTED');
  expect((err as SurgeError).message).toContain(walFile);
  expect((err as SurgeError).message).toContain(`offset ${victim}`);
  // Nothing was changed by the failed start: the file still holds every byte.
  expect(readFileSync(walFile).length).toBe(buf.length);
});

it('reports a snapshot it cannot read instead of silently starting from less', async () => {
  const config = defaultConfig({ storage: { data_dir: join(root, 'snap') } });
  const engine = await Engine.open(config);
  await engine.createCollection('c', { size: 2, distance: 'Euclid' });
  await engine.upsert('c', [{ id: 1, vector: [1, 2] }]);
  await engine.close();
  const snaps = join(root, 'snap', 'collections', 'c', 'snapshots');
  const snap = join(snaps, readdirSync(snaps)[0]!);
  const vec = readdirSync(snap).find((f) => f.endsWith('.vec'))!;
  truncateSync(join(snap, vec), 3);
  await expect(Engine.open(config)).rejects.toMatchObject({
    code: 'SNAPSHOT_CORRUPTED',
    message: expect.stringContaining(vec),
  });
});

it('locks the data directory against a second process', async () => {
  const dir = join(root, 'lock');
  const engine = await Engine.open(defaultConfig({ storage: { data_dir: dir } }));
  writeFileSync(join(dir, 'LOCK'), '1'); // pid 1 is alive and is not us
  await expect(Engine.open(defaultConfig({ storage: { data_dir: dir } }))).rejects.toMatchObject({
    code: 'STORAGE_ERROR',
  });
  writeFileSync(join(dir, 'LOCK'), String(process.pid));
  await engine.close();
});
