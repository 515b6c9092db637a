/** Result cache, ingest budget, drain estimate, priorities, tenant registry and collection ownership. */
import { describe, expect, it } from 'vitest';
import {
  CollectionOwners,
  DrainEstimate,
  derivePriority,
  hashKey,
  IngestBudget,
  ResultCache,
  sustainableRate,
  TenantRegistry,
} from '../../src/admission/index.js';

describe('ResultCache', () => {
  it('hits at the same seq within the TTL; another seq or an expired entry is a miss and is evicted', () => {
    const c = new ResultCache<string>({ maxEntries: 10, ttlMs: 1000 });
    c.set('k', 'v', 7, 0);
    expect(c.get('k', 7, 999)).toBe('v');
    expect(c.get('k', 8, 999)).toBe(undefined);
    expect(c.size).toBe(0);
    c.set('k', 'v', 7, 0);
    expect(c.get('k', 7, 1000)).toBe(undefined);
    expect([c.hits, c.misses, c.size]).toEqual([1, 2, 0]);
  });
  it('evicts the least recently used entry beyond maxEntries', () => {
    const c = new ResultCache<number>({ maxEntries: 2, ttlMs: 1000 });
    c.set('a', 1, 0, 0);
    c.set('b', 2, 0, 0);
    c.get('a', 0, 1); // a is now the most recent
    c.set('c', 3, 0, 1);
    expect([c.get('a', 0, 2), c.get('b', 0, 2), c.get('c', 0, 2)]).toEqual([1, undefined, 3]);
  });
});

describe('IngestBudget', () => {
  it('bounds bytes and operations; one write larger than the budget passes alone', () => {
    const b = new IngestBudget({ maxBytes: 100, maxOps: 3, memoryFactor: 4 });
    expect(b.tryAcquire(60)).toBe(null);
    expect(b.tryAcquire(50)).toBe('ingest_bytes');
    expect(b.tryAcquire(40)).toBe(null);
    expect(b.tryAcquire(0)).toBe(null);
    expect(b.tryAcquire(0)).toBe('ingest_ops');
    b.release(60);
    b.release(40);
    b.release(0);
    expect([b.bytes, b.ops]).toEqual([0, 0]);
    expect(b.tryAcquire(500)).toBe(null);
    expect(b.tryAcquire(1)).toBe('ingest_bytes');
    b.closed = true;
    b.release(500);
    expect(b.tryAcquire(1)).toBe('memory');
  });
  it('near a memory budget, the bytes in flight × memoryFactor must fit the headroom', () => {
    const b = new IngestBudget({ maxBytes: 1000, maxOps: 10, memoryFactor: 4 });
    expect(b.tryAcquire(50, 200)).toBe(null); // 50 × 4 = 200 fits
    expect(b.tryAcquire(1, 200)).toBe('memory'); // 51 × 4 > 200
    expect(b.tryAcquire(1, 204)).toBe(null);
    b.release(50);
    b.release(1);
    expect(b.tryAcquire(60, 200)).toBe('memory'); // even alone
  });
});

describe('sustainableRate', () => {
  it('is the limit over the request time unless more was measured; the measured rate alone without an RTT', () => {
    // A quiet second measured 0.05/ms; 16 slots of 10 ms each sustain 1.6/ms.
    expect(sustainableRate(0.05, 16, 10)).toBe(1.6);
    expect(sustainableRate(3, 16, 10)).toBe(3);
    expect(sustainableRate(undefined, 16, 8)).toBe(2);
    expect(sustainableRate(0.05, 16, 0)).toBe(0.05);
    expect(sustainableRate(undefined, 16, 0)).toBe(undefined);
    // And what Retry-After makes of it: 40 requests ahead at 1.6/ms → 25 ms, raised to the 100 ms minimum.
    const d = new DrainEstimate({ alpha: 0.3, minMs: 100, maxMs: 30_000 });
    expect(d.retryAfterMs(40, sustainableRate(0.05, 16, 10))).toBe(100);
    expect(d.retryAfterMs(400, sustainableRate(0.05, 16, 10))).toBe(250);
  });
});

describe('DrainEstimate', () => {
  const O = { alpha: 0.5, minMs: 10, maxMs: 5000 };
  it('backlog / smoothed completion rate, clamped', () => {
    const d = new DrainEstimate(O);
    expect(d.retryAfterMs(100)).toBe(10); // no data yet: the minimum
    d.update(0, 0, false);
    d.update(100, 100, true); // 1 per ms
    expect(d.retryAfterMs(50)).toBe(50);
    d.update(20, 200, true); // 0.2 per ms → EWMA 0.6
    expect(d.rate).toBeCloseTo(0.6, 12);
    expect(d.retryAfterMs(60)).toBe(100);
    expect(d.retryAfterMs(1)).toBe(10);
    expect(d.retryAfterMs(1e9)).toBe(5000);
  });
  it('skips idle intervals but counts busy ones with nothing completed', () => {
    const d = new DrainEstimate(O);
    d.update(0, 0, false);
    d.update(100, 100, true);
    d.update(0, 1000, false);
    expect(d.rate).toBe(1);
    d.update(0, 1100, true);
    expect(d.rate).toBe(0.5);
  });
});

describe('derivePriority', () => {
  it('tier gives the base; control requests and the admin are critical; bulk ingest is one step lower', () => {
    expect(derivePriority('premium', 'read')).toBe('high');
    expect(derivePriority('standard', 'write')).toBe('normal');
    expect(derivePriority('free', 'read')).toBe('low');
    expect(derivePriority('free', 'control')).toBe('critical');
    expect(derivePriority('admin', 'read')).toBe('critical');
    expect(derivePriority('premium', 'bulk')).toBe('normal');
    expect(derivePriority('free', 'bulk')).toBe('low');
  });
  it('a client may lower its priority, never raise it', () => {
    expect(derivePriority('premium', 'read', 'low')).toBe('low');
    expect(derivePriority('free', 'read', 'high')).toBe('low');
    expect(derivePriority('standard', 'read', 'critical')).toBe('normal');
  });
});

describe('TenantRegistry', () => {
  const t = (id: string, keys: string[]) => ({
    id,
    tier: 'free' as const,
    quotas: {},
    keyHashes: keys.map(hashKey),
    source: 'api' as const,
  });
  it('resolves keys to tenants by hash; replacing a tenant drops its old keys', () => {
    const r = new TenantRegistry();
    r.put(t('a', ['k1', 'k2']));
    expect(r.resolve('k2')?.id).toBe('a');
    expect(r.resolve('nope')).toBe(undefined);
    r.put(t('a', ['k3']));
    expect([r.resolve('k1'), r.resolve('k3')?.id]).toEqual([undefined, 'a']);
    expect(r.remove('a')).toBe(true);
    expect(r.resolve('k3')).toBe(undefined);
  });
  it('refuses a key held by another tenant, and bad ids', () => {
    const r = new TenantRegistry();
    r.put(t('a', ['k1']));
    expect(() => r.put(t('b', ['k1']))).toThrow(/already used/);
    expect(() => r.put(t('no spaces', []))).toThrow(/must match/);
  });
});

describe('CollectionOwners', () => {
  it('claims, aliases, renames and drops; unowned names belong to nobody', () => {
    const o = new CollectionOwners();
    o.claim('docs', 'acme');
    o.claimAlias('current', 'acme', 'docs');
    expect([o.canAccess('acme', 'current'), o.canAccess('other', 'docs'), o.owner('legacy')]).toEqual([
      true,
      false,
      undefined,
    ]);
    o.renameAlias('current', 'live');
    expect(o.ownedBy('acme')).toEqual(['docs', 'live']);
    o.dropCollection('docs');
    expect(o.ownedBy('acme')).toEqual([]);
    o.claim('x', 'acme');
    expect(CollectionOwners.from(o.snapshot()).snapshot()).toEqual({ x: { tenant: 'acme' } });
  });
});
