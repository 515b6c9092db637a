/** The wait queue's state machine (one test per edge) and its serving order, drops and bounds. */
import { describe, expect, it } from 'vitest';
import { CodelQueue, type DropReason, queueTransition } from '../../src/admission/index.js';

const INTERVAL = 100;
const O = { targetMs: 5, intervalMs: INTERVAL, capacity: 3 };

describe('queueTransition', () => {
  it('empty —push→ draining', () =>
    expect(queueTransition('empty', 'push', 0, 0, INTERVAL)).toBe('draining'));
  it('empty stays empty on emptied and tick', () => {
    expect(queueTransition('empty', 'emptied', 500, 0, INTERVAL)).toBe('empty');
    expect(queueTransition('empty', 'tick', 500, 0, INTERVAL)).toBe('empty');
  });
  it('draining —emptied→ empty', () =>
    expect(queueTransition('draining', 'emptied', 50, 0, INTERVAL)).toBe('empty'));
  it('draining —tick after a whole interval non-empty→ overloaded', () => {
    expect(queueTransition('draining', 'tick', 99, 0, INTERVAL)).toBe('draining');
    expect(queueTransition('draining', 'tick', 100, 0, INTERVAL)).toBe('overloaded');
  });
  it('draining stays draining on push', () =>
    expect(queueTransition('draining', 'push', 500, 0, INTERVAL)).toBe('draining'));
  it('overloaded —emptied→ empty', () =>
    expect(queueTransition('overloaded', 'emptied', 0, 0, INTERVAL)).toBe('empty'));
  it('overloaded stays overloaded on push and tick', () => {
    expect(queueTransition('overloaded', 'push', 0, 0, INTERVAL)).toBe('overloaded');
    expect(queueTransition('overloaded', 'tick', 0, 0, INTERVAL)).toBe('overloaded');
  });
});

function queue(capacity = O.capacity) {
  const dropped: [string, DropReason][] = [];
  const q = new CodelQueue<string>({ ...O, capacity }, (v, why) => dropped.push([v, why]));
  return { q, dropped };
}

describe('CodelQueue', () => {
  it('serves oldest first while draining a burst', () => {
    const { q } = queue();
    q.push('a', 0, 1000);
    q.push('b', 1, 1000);
    q.push('c', 2, 1000);
    expect(q.state).toBe('draining');
    expect([q.take(50), q.take(50), q.take(50)]).toEqual(['a', 'b', 'c']);
    expect(q.state).toBe('empty');
  });

  it('a standing queue (non-empty for 100 ms) serves newest first; its newcomers may wait only 5 ms', () => {
    const { q, dropped } = queue(10);
    q.push('old', 0, 10_000); // queued while draining: may wait 100 ms
    q.push('mid', 96, 10_000);
    q.push('new', 98, 10_000);
    q.push('newest', 99, 10_000);
    expect(q.take(100)).toBe('newest'); // overloaded now: 'old' reached its 100 ms and goes; LIFO
    expect(q.state).toBe('overloaded');
    expect(dropped).toEqual([['old', 'sojourn']]);
    expect(q.take(100)).toBe('new');
    q.push('late', 103, 10_000); // queued under overload: 5 ms
    q.push('later', 104, 10_000);
    q.sweep(108);
    expect(dropped).toEqual([
      ['old', 'sojourn'],
      ['late', 'sojourn'],
    ]);
    expect([q.take(108), q.take(108), q.take(108)]).toEqual(['later', 'mid', undefined]);
    expect(q.state).toBe('empty');
  });

  it('drops a waiter at its deadline, wherever it is in the queue', () => {
    const { q, dropped } = queue();
    q.push('a', 0, 1000);
    q.push('b', 1, 20);
    q.push('c', 2, 1000);
    q.sweep(20);
    expect(dropped).toEqual([['b', 'deadline']]);
    expect(q.length).toBe(2);
    expect(q.take(21)).toBe('a');
  });

  it('a full queue refuses the newcomer while draining', () => {
    const { q, dropped } = queue(2);
    expect(q.push('a', 0, 1000)).toBe(true);
    expect(q.push('b', 0, 1000)).toBe(true);
    expect(q.push('c', 0, 1000)).toBe(false);
    expect(dropped).toEqual([['c', 'queue_full']]);
  });

  it('a full overloaded queue evicts its oldest waiter for the newcomer', () => {
    const { q, dropped } = queue(2);
    q.push('a', 0, 10_000);
    q.push('b', 98, 10_000);
    expect(q.push('c', 100, 10_000)).toBe(true); // overloaded at 100, full: 'a' makes room
    expect(dropped).toEqual([['a', 'queue_full']]);
    expect(q.take(100)).toBe('c');
  });

  it('a deadline sooner than the sojourn bound is the one that drops', () => {
    const { q, dropped } = queue();
    q.push('a', 0, 30);
    q.sweep(29);
    expect(dropped).toEqual([]);
    q.sweep(30);
    expect(dropped).toEqual([['a', 'deadline']]);
  });

  it('reports the age of its oldest waiter', () => {
    const { q } = queue();
    expect(q.oldestSojourn(10)).toBe(0);
    q.push('a', 3, 1000);
    expect(q.oldestSojourn(10)).toBe(7);
  });
});
