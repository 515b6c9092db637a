/** Arrivals: the ring that times "change event received → event sent" (delivery latency metric). */
import { expect, it } from 'vitest';
import { Arrivals } from '../../src/subscriptions/arrivals.js';

it('finds the time of recent seqs, forgets ones older than the ring, ignores seqs that go backwards', () => {
  const a = new Arrivals();
  expect(a.at(1)).toBeUndefined();
  // Sparse seqs (a collection's seqs skip the ops of other writers), past the ring's 8,192 entries.
  for (let i = 1; i <= 10_000; i++) a.record(i * 3, i * 10);
  expect(a.at(30_000)).toBe(100_000);
  expect(a.at(3 * 1809)).toBe(18_090);
  expect(a.at(3 * 1808)).toBeUndefined();
  expect(a.at(3 * 5000 + 1)).toBeUndefined();
  a.record(12, 1);
  expect(a.at(12)).toBeUndefined();
  expect(a.at(30_003)).toBeUndefined();
  a.record(30_003, 5);
  expect(a.at(30_003)).toBe(5);
});
