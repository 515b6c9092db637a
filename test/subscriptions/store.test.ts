/**
 * The subscription log: records survive a reopen exactly (vectors bit for bit, u64 ids in filters), a
 * torn last line is ignored, damage before it is refused, and a log of mostly dead records is rewritten.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SubscriptionStore } from '../../src/subscriptions/store.js';
import type { SubscriptionSpec } from '../../src/subscriptions/types.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-subs-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spec = (i: number): SubscriptionSpec => ({
  id: `id-${i}`,
  tenant: i % 2 ? 'a' : 'b',
  collection: 'c',
  vector: Float32Array.of(Math.PI * i, -0, 1e-30, 3.4e38),
  filter: { must: [{ has_id: [18446744073709551615n, 7] }] },
  score_threshold: i % 3 ? 0.5 : null,
  top_k: i % 3 ? null : 5,
  with_payload: ['x'],
  seq: i,
  created_at: new Date(1_700_000_000_000 + i).toISOString(),
});

it('reopens with exactly what was stored, in creation order', async () => {
  const dir = join(root, 'a');
  let { store, specs } = await SubscriptionStore.open({ dir, fsync: true });
  expect(specs).toEqual([]);
  await Promise.all([0, 1, 2, 3].map((i) => store.create(spec(i))));
  await store.delete('id-1');
  await store.close();
  ({ store, specs } = await SubscriptionStore.open({ dir, fsync: true }));
  expect(specs).toEqual([spec(0), spec(2), spec(3)]);
  expect(Object.is(specs[0]!.vector[1], -0)).toBe(true);
  await store.close();
});

it('ignores a torn last line, refuses damage before it', async () => {
  const dir = join(root, 'b');
  const { store } = await SubscriptionStore.open({ dir, fsync: false });
  await store.create(spec(1));
  await store.close();
  const file = join(dir, 'subscriptions.log');
  appendFileSync(file, '{"op":"create","id":"id-9","ten');
  const reopened = await SubscriptionStore.open({ dir, fsync: false });
  expect(reopened.specs.map((s) => s.id)).toEqual(['id-1']);
  await reopened.store.close();
  writeFileSync(file, `garbage\n${readFileSync(file, 'utf8')}`);
  await expect(SubscriptionStore.open({ dir, fsync: false })).rejects.toMatchObject({
    code: 'STORAGE_ERROR',
  });
});

it('rewrites a log that is mostly dead records', async () => {
  const dir = join(root, 'c');
  const { store } = await SubscriptionStore.open({ dir, fsync: false });
  for (let i = 0; i < 100; i++) await store.create(spec(i));
  for (let i = 0; i < 98; i++) await store.delete(`id-${i}`);
  await store.close();
  const file = join(dir, 'subscriptions.log');
  const before = statSync(file).size;
  const reopened = await SubscriptionStore.open({ dir, fsync: false });
  expect(reopened.specs.map((s) => s.id)).toEqual(['id-98', 'id-99']);
  expect(statSync(file).size).toBeLessThan(before / 20);
  await reopened.store.close();
});
