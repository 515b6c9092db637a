/**
 * The service's registry rules: tenants see and reach only their own subscriptions and have their own
 * limits; a dropped collection takes its subscriptions with it (deliveries closed with a reason); a
 * reopened service resumes the persisted subscriptions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { type OutgoingEvent, SubscriptionService } from '../../src/subscriptions/index.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-subs-service-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function sink() {
  const events: OutgoingEvent[] = [];
  let ended = false;
  return {
    events,
    get ended() {
      return ended;
    },
    send(e: OutgoingEvent) {
      events.push(e);
      return true;
    },
    onDrain(cb: () => void) {
      cb();
    },
    end() {
      ended = true;
    },
    get closed() {
      return ended;
    },
    transport: 'ws' as const,
  };
}

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'none';
};

it('isolates tenants: listing, reading, deleting and attaching; limits are per tenant', async () => {
  const config = defaultConfig({
    storage: { data_dir: join(root, 'a'), fsync: false },
    subscriptions: { scorer: 'main', max_per_tenant: 2 },
  });
  const engine = await Engine.open(config);
  const service = await SubscriptionService.open({ engine, config });
  await engine.createCollection('c', { size: 2, distance: 'Dot' });
  const a1 = await service.create('a', 'c', { vector: [1, 0] });
  await service.create('a', 'c', { vector: [0, 1] });
  await expect(service.create('a', 'c', { vector: [1, 1] })).rejects.toMatchObject({
    code: 'TOO_MANY_SUBSCRIPTIONS',
  });
  const b1 = await service.create('b', 'c', { vector: [1, 1], score_threshold: 1 });
  expect(service.list('a', 'c').map((s) => s.id)).not.toContain(b1.id);
  expect(service.list('b', 'c').map((s) => s.id)).toEqual([b1.id]);
  expect(service.list('default', 'c')).toEqual([]);
  expect(code(() => service.get('b', 'c', a1.id))).toBe('SUBSCRIPTION_NOT_FOUND');
  expect(code(() => service.attach('b', 'c', a1.id, sink()))).toBe('SUBSCRIPTION_NOT_FOUND');
  await expect(service.delete('b', 'c', a1.id)).rejects.toMatchObject({ code: 'SUBSCRIPTION_NOT_FOUND' });
  expect(service.get('a', 'c', a1.id).tenant).toBe('a');
  await service.delete('a', 'c', a1.id);
  await service.create('a', 'c', { vector: [1, 0] });
  await service.close();
  await engine.close();
});

it('closes deliveries with reason collection_dropped when the collection goes, and forgets its subscriptions', async () => {
  const config = defaultConfig({
    storage: { data_dir: join(root, 'b'), fsync: false },
    subscriptions: { scorer: 'main' },
  });
  const engine = await Engine.open(config);
  let service = await SubscriptionService.open({ engine, config });
  await engine.createCollection('c', { size: 2, distance: 'Dot' });
  await engine.createCollection('keep', { size: 2, distance: 'Dot' });
  const sub = await service.create('default', 'c', { vector: [1, 0], score_threshold: 0.5 });
  const kept = await service.create('default', 'keep', { vector: [1, 0], top_k: 1 });
  const s = sink();
  service.attach('default', 'c', sub.id, s).start(undefined);
  await engine.upsert('c', [{ id: 1, vector: [1, 0] }]);
  await service.whenIdle();
  expect(s.events.map((e) => e.event)).toEqual(['match']);
  await engine.dropCollection('c');
  await engine.createCollection('c', { size: 2, distance: 'Dot' });
  await engine.upsert('c', [{ id: 2, vector: [1, 0] }]);
  for (let i = 0; i < 100 && !s.ended; i++) await new Promise((r) => setTimeout(r, 10));
  expect(s.events.at(-1)).toMatchObject({ event: 'closed', reason: 'collection_dropped' });
  expect(service.list('default', 'c')).toEqual([]);

  // Reopened: the surviving subscription is back, with its top-k rebuilt.
  await engine.upsert('keep', [{ id: 5, vector: [2, 0] }]);
  await service.close();
  service = await SubscriptionService.open({ engine, config });
  expect(service.list('default', 'keep').map((x) => x.id)).toEqual([kept.id]);
  const t = sink();
  service.attach('default', 'keep', kept.id, t).start(undefined);
  for (let i = 0; i < 100 && t.events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(t.events[0]).toMatchObject({ event: 'reset', reason: 'initial', points: [{ id: 5, score: 2 }] });
  await service.close();
  await engine.close();
});
