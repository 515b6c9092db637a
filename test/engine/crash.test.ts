/**
 * kill -9 at random moments: every acknowledged write must be there after restart, with its exact vector
 * and payload, and the state must be exactly some prefix of the op stream (nothing half-applied).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { rng } from '../../src/platform/random.js';
import { COLLECTION, model } from '../fixtures/crash-ops.js';

const ROUNDS = 12;
const dir = mkdtempSync(join(tmpdir(), 'surgevec-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runChild(start: number, killAfterMs: number): Promise<{ acked: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/crash-child.ts', dir, String(start)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const acked: number[] = [];
    let buf = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        else acked.push(Number(line));
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      if (signal === 'SIGKILL') resolve({ acked });
      else reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
    });
  });
}

it(`loses no acknowledged write across ${ROUNDS} kill -9 rounds`, async () => {
  const r = rng(20261123);
  let applied = 0;
  let totalAcked = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const { acked } = await runChild(applied, 150 + Math.floor(r() * 600));
    totalAcked += acked.length;
    const engine = await Engine.open(
      defaultConfig({ storage: { data_dir: dir }, engine: { segment_max_points: 128 } }),
    );
    try {
      // One seq per op, after the create_index op of the collection's creation.
      const k = (await engine.collectionInfo(COLLECTION)).seq - 1;
      // Every acknowledged op is inside the recovered prefix.
      for (const i of acked) expect(i).toBeLessThan(k);
      const expected = model(k);
      expect(await engine.count(COLLECTION)).toBe(expected.size);
      const got = await engine.retrieve(COLLECTION, [...expected.keys()], true, true);
      expect(got.length).toBe(expected.size);
      for (const p of got) {
        const want = expected.get(p.id as number)!;
        expect(p.payload).toEqual(want.payload);
        expect(p.vector).toEqual(want.vector);
      }
      // Indexes rebuilt from snapshot + WAL agree with the payloads.
      const from = Math.max(0, k - 6);
      const lastOps = await engine.count(COLLECTION, { must: [{ key: 'op', range: { gte: from } }] });
      expect(lastOps).toBe([...expected.values()].filter((v) => (v.payload.op as number) >= from).length);
      applied = k;
    } finally {
      await engine.close();
    }
  }
  expect(applied).toBeGreaterThan(ROUNDS * 5);
  expect(totalAcked).toBeGreaterThan(ROUNDS * 5);
});
