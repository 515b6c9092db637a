/**
 * The query cache with a fake clock: LRU order, TTL to the millisecond, byte bound, and invalidation by
 * the collection's seq — including a read that was in flight while a write moved the seq.
 */
import { describe, expect, it } from 'vitest';
import { QueryCache } from '../../src/client/cache/query-cache.js';
import { ManualClock } from '../../src/client/clock.js';

function cache(o: Partial<{ maxEntries: number; maxBytes: number; ttlMs: number }> = {}) {
  const clock = new ManualClock();
  return { clock, c: new QueryCache({ maxEntries: 3, maxBytes: 1 << 20, ttlMs: 1_000, ...o }, clock) };
}

describe('query cache', () => {
  it('evicts the least recently used entry', () => {
    const { c } = cache();
    for (const k of ['a', 'b', 'c']) c.set('docs', k, k.toUpperCase(), c.begin('docs'));
    expect(c.get('a')).toBe('A'); // a is now the most recent
    c.set('docs', 'd', 'D', c.begin('docs'));
    expect([c.get('b'), c.get('c'), c.get('a'), c.get('d')]).toEqual([undefined, 'C', 'A', 'D']);
    expect(c.size).toBe(3);
    expect([c.hits, c.misses]).toEqual([4, 1]);
  });

  it('expires entries after the TTL, to the millisecond', () => {
    const { c, clock } = cache();
    c.set('docs', 'k', 'v', c.begin('docs'));
    clock.advance(999);
    expect(c.get('k')).toBe('v');
    clock.advance(1);
    expect(c.get('k')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('stays under its byte bound (2 bytes per UTF-16 unit of key and text)', () => {
    const { c } = cache({ maxEntries: 100, maxBytes: 100 });
    c.set('docs', 'k1', 'x'.repeat(18), 0); // (2 + 18) · 2 = 40
    c.set('docs', 'k2', 'x'.repeat(18), 0); // 80
    expect(c.sizeBytes).toBe(80);
    c.set('docs', 'k3', 'x'.repeat(18), 0); // 120 > 100: k1 goes
    expect(c.sizeBytes).toBe(80);
    expect(c.get('k1')).toBeUndefined();
    c.set('docs', 'huge', 'x'.repeat(100), 0); // larger than the whole cache: not stored
    expect(c.get('huge')).toBeUndefined();
    expect(c.get('k2')).toBe('x'.repeat(18));
  });

  it('drops a collection’s entries when its seq rises, and only that collection’s', () => {
    const { c } = cache();
    c.observeSeq('docs', 10);
    c.set('docs', 'search 1', 'r1', c.begin('docs'));
    c.set('other', 'search 2', 'r2', c.begin('other'));
    c.observeSeq('docs', 9); // older news: nothing moves
    c.observeSeq('docs', 10);
    expect(c.get('search 1')).toBe('r1');
    c.observeSeq('docs', 11);
    expect(c.get('search 1')).toBeUndefined();
    expect(c.get('search 2')).toBe('r2');
    expect(c.seq('docs')).toBe(11);
  });

  it('does not store a read that was in flight while a write moved the seq', () => {
    const { c } = cache();
    const generation = c.begin('docs'); // read starts
    c.observeSeq('docs', 5); // a write lands meanwhile
    c.set('docs', 'k', 'possibly stale', generation);
    expect(c.get('k')).toBeUndefined();
    c.set('docs', 'k', 'fresh', c.begin('docs'));
    expect(c.get('k')).toBe('fresh');
  });

  it('forgets the seq of a dropped collection, so the new one’s lower seqs count again', () => {
    const { c } = cache();
    c.observeSeq('docs', 500);
    c.forget('docs');
    c.set('docs', 'k', 'v', c.begin('docs'));
    c.observeSeq('docs', 1); // the recreated collection's first write
    expect(c.get('k')).toBeUndefined();
  });
});
