/**
 * TopKState keeps its invariant — the reserve is exactly the best |reserve| matching points — under any
 * sequence of writes, against a brute-force ranking; `reconcile` turns a search taken during writes into
 * the exact top-k at the later seq, or asks for a retry when it cannot.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, ScoredPoint } from '../../src/engine/index.js';
import { rng } from '../../src/platform/random.js';
import { Metric } from '../../src/subscriptions/metric.js';
import { reconcile } from '../../src/subscriptions/reconcile.js';
import { type Member, TopKState } from '../../src/subscriptions/top-k.js';

const metric = new Metric('Dot', 1);

describe('TopKState', () => {
  it('stays a prefix of the true ranking, asks for a refill only when it must, and tracks its keys', () => {
    const r = rng(11);
    for (let run = 0; run < 30; run++) {
      const k = 1 + Math.floor(r() * 4);
      const capacity = k + Math.floor(r() * 4);
      const held = new Set<string>();
      const s = new TopKState(k, capacity, metric, (key, on) => (on ? held.add(key) : held.delete(key)));
      const truth = new Map<string, number>();
      s.reset([], true);
      for (let step = 0; step < 200; step++) {
        const key = String(Math.floor(r() * 25));
        if (r() < 0.3) {
          truth.delete(key);
          s.remove(key);
        } else {
          const score = Math.floor(r() * 1000) / 10;
          truth.set(key, score);
          s.upsert(key, { key, id: Number(key), score, version: step });
        }
        const ranked = [...truth]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
          .map(([key]) => key);
        const top = s.top().map((m) => m.key);
        expect(top).toEqual(ranked.slice(0, top.length));
        expect(held.size).toBe(s.size);
        for (const m of s.top()) expect(held.has(m.key)).toBe(true);
        if (s.exhaustive) expect(s.size).toBe(Math.min(truth.size, capacity));
        if (s.needsRefresh()) {
          // What a refresh does: the true best `capacity`, exhaustive when that is all of them.
          s.reset(
            ranked
              .slice(0, capacity)
              .map((key) => ({ key, id: Number(key), score: truth.get(key)!, version: step })),
            truth.size <= capacity,
          );
        }
        expect(s.top().length).toBe(Math.min(k, truth.size));
      }
      expect(held.size).toBe(s.size);
    }
  });
});

describe('reconcile', () => {
  const target = (k: number, capacity: number) => ({
    k,
    capacity,
    vector: Float32Array.of(1),
    threshold: null,
    predicate: undefined,
    withPayload: false as const,
    metric,
  });
  const hit = (id: number, score: number, version = 1): ScoredPoint => ({ id, score, version });
  const upsert = (seq: number, ids: number[], scores: number[]): ChangeEvent => ({
    collection: 'c',
    seq,
    op: 'upsert',
    ids,
    points: { vectors: Float32Array.from(scores), payloads: ids.map(() => null) },
  });
  const keys = (r: ReturnType<typeof reconcile>) =>
    r.ok ? r.members.map((m: Member) => m.key).sort() : r.reason;

  it('takes an untouched search result as it is', () => {
    const r = reconcile(target(2, 3), [hit(1, 9), hit(2, 8), hit(3, 7)], 3, []);
    expect(keys(r)).toEqual(['1', '2', '3']);
    expect(r.ok && r.exhaustive).toBe(false);
    expect(reconcile(target(2, 3), [hit(1, 9)], 3, []).ok).toBe(true);
  });

  it('applies the writes of the window: deleted points go, upserted ones are scored from the event', () => {
    const del: ChangeEvent = { collection: 'c', seq: 6, op: 'delete', ids: [2], points: { touched: [2] } };
    const r = reconcile(target(2, 4), [hit(1, 9), hit(2, 8), hit(3, 7), hit(4, 6)], 4, [
      upsert(5, [9, 1], [8.5, 1]),
      del,
    ]);
    // 1 was re-written below the cut-off (6): it can no longer be placed; 9 ranks above it.
    expect(keys(r)).toEqual(['3', '4', '9']);
  });

  it('asks to search deeper when too few placeable points remain, and to retry when it cannot tell', async () => {
    const del: ChangeEvent = {
      collection: 'c',
      seq: 6,
      op: 'delete',
      ids: [1, 2],
      points: { touched: [1, 2] },
    };
    expect(keys(reconcile(target(2, 3), [hit(1, 9), hit(2, 8), hit(3, 7)], 3, [del]))).toBe('too_few');
    // A payload edit: no effect on who is a member without a filter; unknowable with one.
    const edit: ChangeEvent = {
      collection: 'c',
      seq: 7,
      op: 'set_payload',
      ids: [3],
      points: { touched: [3] },
    };
    expect(keys(reconcile(target(1, 3), [hit(1, 9), hit(3, 7, 5)], 3, [edit]))).toEqual(['1', '3']);
    const filtered = { ...target(1, 3), predicate: () => true };
    expect(keys(reconcile(filtered, [hit(1, 9), hit(3, 7, 5)], 3, [edit]))).toBe('ambiguous');
    // A short result while writes touched enough points to have cut it: ambiguous; too few to have: complete.
    const up = upsert(8, [5, 6], [1, 1]);
    expect(keys(reconcile(target(1, 4), [hit(1, 9), hit(2, 8)], 4, [up]))).toBe('ambiguous');
    const one = upsert(8, [5], [1]);
    const r = reconcile(target(1, 4), [hit(1, 9), hit(2, 8)], 4, [one]);
    expect(keys(r)).toEqual(['1', '2', '5']);
    expect(r.ok && r.exhaustive).toBe(true);
    expect(
      keys(reconcile(target(1, 3), [hit(1, 9)], 3, [{ collection: 'c', seq: 7, op: 'delete', filter: {} }])),
    ).toBe('no_points');
  });
});
