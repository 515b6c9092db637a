/** GCRA with a fake clock: exact decisions, exact Retry-After, and the store contract. */
import { describe, expect, it } from 'vitest';
import { gcra, LocalQuotaStore } from '../../src/admission/index.js';

// 10 per second → one unit every 100 ms; 5 at once from a full bucket.
const LIMIT = { ratePerSec: 10, burst: 5 };

describe('gcra step', () => {
  it('a full bucket spends its burst, then refuses with the exact wait for the next unit', () => {
    let tat: number | undefined;
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = gcra(tat, 1, LIMIT, 0);
      expect(r.decision.allowed).toBe(true);
      remaining.push(r.decision.remaining);
      tat = r.tat;
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    expect(tat).toBe(500);
    const refused = gcra(tat, 1, LIMIT, 0);
    expect(refused.decision).toEqual({ allowed: false, retryAfterMs: 100, remaining: 0 });
    expect(refused.tat).toBe(500); // a refusal is not charged
    expect(gcra(tat, 1, LIMIT, 40).decision.retryAfterMs).toBe(60);
    const later = gcra(tat, 1, LIMIT, 100);
    expect(later.decision).toEqual({ allowed: true, retryAfterMs: 0, remaining: 0 });
    expect(later.tat).toBe(600);
  });

  it('a cost of n is n units: 3 then 3 from a burst of 5 waits 100 ms', () => {
    const a = gcra(undefined, 3, LIMIT, 0);
    expect([a.decision.allowed, a.decision.remaining, a.tat]).toEqual([true, 2, 300]);
    const b = gcra(a.tat, 3, LIMIT, 0);
    expect(b.decision).toEqual({ allowed: false, retryAfterMs: 100, remaining: 2 });
    expect(gcra(a.tat, 3, LIMIT, 100).decision.allowed).toBe(true);
  });

  it('a request dearer than the burst passes only from a full bucket, and its cost is then waited off', () => {
    const big = gcra(undefined, 8, LIMIT, 0);
    expect([big.decision.allowed, big.tat]).toEqual([true, 800]);
    expect(gcra(big.tat, 1, LIMIT, 0).decision.retryAfterMs).toBe(400);
    expect(gcra(big.tat, 1, LIMIT, 400).decision.allowed).toBe(true);
    // From a bucket that is not full it waits until the bucket is: 100 ms after one unit was spent.
    expect(gcra(100, 8, LIMIT, 0).decision).toEqual({ allowed: false, retryAfterMs: 100, remaining: 4 });
  });

  it('an idle bucket refills: a TAT in the past is the same as a full bucket', () => {
    expect(gcra(200, 5, LIMIT, 10_000).decision).toEqual({ allowed: true, retryAfterMs: 0, remaining: 0 });
  });
});

describe('LocalQuotaStore', () => {
  it('take charges, peek does not, and buckets are per key', () => {
    const s = new LocalQuotaStore();
    expect(s.peek('a', 5, LIMIT, 0).allowed).toBe(true);
    expect(s.take('a', 5, LIMIT, 0).allowed).toBe(true);
    expect(s.peek('a', 1, LIMIT, 0)).toEqual({ allowed: false, retryAfterMs: 100, remaining: 0 });
    expect(s.take('a', 1, LIMIT, 0).retryAfterMs).toBe(100);
    expect(s.take('b', 1, LIMIT, 0).allowed).toBe(true);
  });

  it('sweep forgets exactly the buckets that are full again', () => {
    const s = new LocalQuotaStore();
    s.take('a', 1, LIMIT, 0); // TAT 100
    s.take('b', 5, LIMIT, 0); // TAT 500
    expect(s.sweep(100)).toBe(1);
    expect(s.size).toBe(1);
    expect(s.peek('b', 5, LIMIT, 450).retryAfterMs).toBe(50);
  });
});
