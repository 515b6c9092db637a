/** Priority partitions (guaranteed shares, borrowing) and the gate that queues and dispatches by priority. */
import { describe, expect, it } from 'vitest';
import { AdmissionGate, type DropReason, PriorityLimiter } from '../../src/admission/index.js';

const SHARES = { high: 0.6, normal: 0.3, low: 0.1 };
const QUEUE = { targetMs: 5, intervalMs: 100, capacity: 4 };

describe('PriorityLimiter', () => {
  it('guaranteed slots are ⌈limit × share⌉, at least one', () => {
    const l = new PriorityLimiter(SHARES);
    expect([l.partitionLimit(1, 10), l.partitionLimit(2, 10), l.partitionLimit(3, 10)]).toEqual([6, 3, 1]);
    expect(l.partitionLimit(3, 3)).toBe(1);
    expect(l.partitionLimit(0, 10)).toBe(Number.POSITIVE_INFINITY);
  });

  it('idle share is borrowable below the limit; at the limit only a priority under its share gets in', () => {
    const l = new PriorityLimiter(SHARES, 1000);
    for (let i = 0; i < 10; i++) {
      expect(l.canAcquire(3, 10, 0)).toBe(true);
      l.acquire(3, 0);
    }
    expect(l.total).toBe(10);
    expect(l.canAcquire(3, 10, 0)).toBe(false);
    expect(l.canAcquire(1, 10, 0)).toBe(true); // premium still has its 6
    expect(l.canAcquire(2, 10, 0)).toBe(true);
    for (let i = 0; i < 6; i++) l.acquire(1, 0);
    expect(l.canAcquire(1, 10, 0)).toBe(false);
    expect(l.canAcquire(0, 10, 0)).toBe(true); // critical is never limited
  });

  it("an active priority's unused share is not borrowed; it becomes idle after idleMs", () => {
    const l = new PriorityLimiter(SHARES, 1000);
    l.acquire(1, 0); // premium active at 0, 1 of its 6 slots in use: 5 reserved
    expect(l.reserved(3, 10, 0)).toBe(5);
    for (let i = 0; i < 4; i++) {
      expect(l.canAcquire(3, 10, 500)).toBe(true);
      l.acquire(3, 500);
    }
    expect(l.canAcquire(3, 10, 500)).toBe(false); // 5 in flight + 5 reserved = the limit of 10
    expect(l.canAcquire(3, 10, 999)).toBe(false);
    expect(l.canAcquire(3, 10, 1000)).toBe(true); // premium idle for 1 s: its share is borrowable
    expect(l.active(1, 1000)).toBe(false);
  });
});

describe('PriorityLimiter ceilings', () => {
  it('caps what a priority may hold, borrowing included: free stops at ⌊limit × 0.5⌋ with premium idle', () => {
    const l = new PriorityLimiter(SHARES, 1000, { high: 1, normal: 0.8, low: 0.5 });
    let n = 0;
    while (l.canAcquire(3, 10, 5000)) {
      l.acquire(3, 5000);
      n++;
    }
    expect(n).toBe(5); // premium and standard idle: 9 slots borrowable, the ceiling keeps 5 free
    expect(l.canAcquire(2, 10, 5000)).toBe(true);
    for (let i = 0; i < 3; i++) l.acquire(2, 5000);
    expect([l.canAcquire(2, 10, 5000), l.canAcquire(1, 10, 5000)]).toEqual([true, true]);
    // A guaranteed share is never cut by a ceiling below it.
    const tight = new PriorityLimiter(SHARES, 1000, { high: 1, normal: 1, low: 0.01 });
    tight.acquire(3, 0);
    expect(tight.canAcquire(3, 10, 5000)).toBe(false); // ⌈10 × 0.1⌉ = 1 guaranteed, ceiling ⌊0.1⌋ → 1
  });
});

function gate(capacity = QUEUE.capacity) {
  const admitted: string[] = [];
  const dropped: [string, DropReason][] = [];
  const g = new AdmissionGate<string>(
    SHARES,
    { ...QUEUE, capacity },
    {
      admit: (v) => admitted.push(v),
      drop: (v, why) => dropped.push([v, why]),
    },
  );
  return { g, admitted, dropped };
}

describe('AdmissionGate', () => {
  it('admits while slots are free, then queues; a freed slot goes to the highest priority waiting', () => {
    const { g, admitted } = gate();
    expect(g.offer(3, 'l1', 0, 1000, 2)).toBe('admitted');
    expect(g.offer(3, 'l2', 0, 1000, 2)).toBe('admitted');
    expect(g.offer(3, 'l3', 0, 1000, 2)).toBe('queued'); // low is over its share (1) at the limit
    expect(g.offer(2, 'n1', 1, 1000, 2)).toBe('admitted'); // normal is under its share (1)
    expect(g.offer(2, 'n2', 1, 1000, 2)).toBe('queued');
    expect(g.offer(1, 'h1', 2, 1000, 2)).toBe('admitted');
    expect(g.offer(1, 'h2', 2, 1000, 2)).toBe('admitted'); // high's share is ⌈1.2⌉ = 2
    expect(g.offer(1, 'h3', 2, 1000, 2)).toBe('queued');
    expect(g.queuedAhead(3)).toBe(3);
    g.release(3, 3, 2); // total 4 ≥ 2: nobody is under its share
    expect(admitted).toEqual([]);
    g.release(1, 3, 2);
    expect(admitted).toEqual(['h3']);
    g.release(1, 4, 2);
    g.release(1, 4, 2);
    g.release(2, 4, 2); // total drops to 1 (l2): normal first, then nothing else fits the limit of 2
    expect(admitted).toEqual(['h3', 'n2']);
    g.release(3, 5, 2);
    expect(admitted).toEqual(['h3', 'n2', 'l3']);
  });

  it('critical is admitted at any load and never waits', () => {
    const { g } = gate();
    g.offer(3, 'l1', 0, 1000, 1);
    expect(g.offer(0, 'c', 0, 1000, 1)).toBe('admitted');
  });

  it('a newcomer does not overtake a waiter of its own priority', () => {
    const { g, admitted } = gate();
    g.offer(3, 'l1', 0, 1000, 1);
    g.offer(3, 'l2', 0, 1000, 1);
    g.limiter.release(3); // a slot frees without a pump (e.g. between events)
    expect(g.offer(3, 'l3', 1, 1000, 1)).toBe('queued');
    expect(admitted).toEqual(['l2']);
  });

  it('refuses at once a request the drain rate cannot serve within its bound (FIFO: all waiters ahead)', () => {
    const { g, dropped } = gate(10);
    g.offer(3, 'busy', 0, 1000, 1); // the one slot
    // 0.05 completions per ms: the 1st waiter expects 20 ms … the 5th 100 ms (= the bound), the 6th 120 ms.
    for (let i = 1; i <= 5; i++) expect(g.offer(3, `q${i}`, 0, 1000, 1, 0.05)).toBe('queued');
    expect(g.offer(3, 'q6', 0, 1000, 1, 0.05)).toBe('refused');
    expect(dropped).toEqual([['q6', 'sojourn']]);
    const h = gate();
    h.g.offer(3, 'busy', 0, 1000, 1);
    expect(h.g.offer(3, 'short', 0, 15, 1, 0.05)).toBe('refused'); // expects 20 ms, may wait 15
    expect(h.g.offer(3, 'unknown-rate', 0, 15, 1)).toBe('queued');
  });

  it('in a standing queue (newest first) only higher-priority waiters are ahead of a newcomer', () => {
    const { g, dropped } = gate(10);
    g.offer(3, 'busy', 0, 10_000, 1);
    g.offer(3, 'a', 0, 10_000, 1); // may wait until 100
    g.offer(3, 'b', 50, 10_000, 1); // until 150
    g.sweep(100, 1); // non-empty since 0: overloaded; 'a' is dropped, 'b' stays
    expect([dropped, g.state(3)]).toEqual([[['a', 'sojourn']], 'overloaded']);
    // Newest first: nothing of higher priority waits, 1 / 0.3 = 3.3 ms ≤ 5 (FIFO would say 6.7 ms).
    expect(g.offer(3, 'c', 100, 10_000, 1, 0.3)).toBe('queued');
    expect(g.offer(1, 'hbusy', 100, 10_000, 1)).toBe('admitted'); // high's guaranteed slot
    expect(g.offer(1, 'h', 100, 10_000, 1)).toBe('queued');
    expect(g.offer(3, 'd', 100, 10_000, 1, 0.3)).toBe('refused'); // 'h' is ahead: 2 / 0.3 = 6.7 ms > 5
  });

  it("premium's own sojourn target: in a standing queue it may wait 20 ms where the others get 5", () => {
    const admitted: string[] = [];
    const dropped: [string, DropReason][] = [];
    const g = new AdmissionGate<string>(
      SHARES,
      { ...QUEUE, capacity: 10 },
      { admit: (v) => admitted.push(v), drop: (v, why) => dropped.push([v, why]) },
      1000,
      undefined,
      20,
    );
    for (const r of [1, 3] as const) {
      g.offer(r, `busy${r}`, 0, 10_000, 1);
      g.offer(r, `w${r}`, 0, 10_000, 1);
      g.offer(r, `x${r}`, 50, 10_000, 1);
    }
    g.sweep(100, 1); // both queues non-empty for 100 ms: standing; their first waiters are dropped
    expect([g.state(1), g.state(3)]).toEqual(['overloaded', 'overloaded']);
    // Newest first: 0.5 completions per ms → 2 ms expected for premium; free has premium's 2 waiters ahead
    // (6 ms > 5) and is refused, while premium may wait up to 20 ms.
    expect(g.offer(1, 'h', 100, 10_000, 1, 0.5)).toBe('queued');
    expect(g.offer(3, 'l', 100, 10_000, 1, 0.5)).toBe('refused');
    g.sweep(119, 1);
    expect(dropped.map(([v]) => v)).toEqual(['w1', 'w3', 'l']);
    g.sweep(120, 1);
    expect(dropped.slice(3)).toEqual([['h', 'sojourn']]);
  });

  it('standard and free may wait only burst_wait_ms while a queue absorbs a burst; premium the interval', () => {
    const dropped: [string, DropReason][] = [];
    const g = new AdmissionGate<string>(
      SHARES,
      { ...QUEUE, capacity: 10 },
      { admit: () => undefined, drop: (v, why) => dropped.push([v, why]) },
      1000,
      undefined,
      20,
      5,
    );
    for (const r of [1, 2, 3] as const) {
      g.offer(r, `busy${r}`, 0, 10_000, 1);
      g.offer(r, `w${r}`, 0, 10_000, 1);
    }
    g.sweep(5, 1);
    expect(dropped).toEqual([
      ['w2', 'sojourn'],
      ['w3', 'sojourn'],
    ]);
    g.sweep(99, 1);
    expect(dropped).toHaveLength(2);
    g.sweep(100, 1);
    expect(dropped.at(-1)).toEqual(['w1', 'sojourn']);
  });

  it('a full queue refuses', () => {
    const { g, dropped } = gate();
    g.offer(3, 'x', 0, 1000, 1);
    for (let i = 0; i < 4; i++) g.offer(3, `q${i}`, 0, 1000, 1);
    expect(g.offer(3, 'over', 0, 1000, 1)).toBe('refused');
    expect(dropped).toEqual([['over', 'queue_full']]);
  });

  it('sweep drops expired waiters and uses a raised limit', () => {
    const { g, admitted, dropped } = gate();
    g.offer(2, 'a', 0, 1000, 1);
    g.offer(2, 'b', 0, 50, 1);
    g.offer(2, 'c', 0, 1000, 1);
    g.sweep(50, 3);
    expect(dropped).toEqual([['b', 'deadline']]);
    expect(admitted).toEqual(['c']);
  });

  it('shed refuses every waiter of the given priority and below', () => {
    const { g, dropped } = gate();
    // Each priority holds its one guaranteed slot at limit 1, so the next of each waits.
    for (const r of [1, 2, 3] as const) expect(g.offer(r, 'busy', 0, 1000, 1)).toBe('admitted');
    g.offer(1, 'h', 0, 1000, 1);
    g.offer(2, 'n', 0, 1000, 1);
    g.offer(3, 'l', 0, 1000, 1);
    g.shed(2, 1, 'shed');
    expect(dropped).toEqual([
      ['n', 'shed'],
      ['l', 'shed'],
    ]);
    expect(g.queued(1)).toBe(1);
  });
});
