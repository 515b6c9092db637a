/**
 * A bounded wait queue with request deadlines and CoDel-style sojourn control, as servers adapt CoDel
 * (Facebook's "Fail at Scale": controlled delay + adaptive LIFO). A queue that has emptied within the last
 * `interval` is absorbing a burst: it serves oldest first and a request queued now may wait up to
 * `interval`. A queue that has not been empty for a whole interval is a standing queue — overload: it
 * serves newest first (the newest caller is the one most likely still waiting for the answer, so no served
 * request is wasted) and a request queued now may wait only `target`. The bound is fixed when a request is
 * queued, so the switch to overload does not throw away the requests that arrived before it. Target 5 ms,
 * interval 100 ms (CoDel's numbers). A request's own deadline bounds its wait too.
 */

export type QueueState = 'empty' | 'draining' | 'overloaded';
export type QueueEvent = 'push' | 'emptied' | 'tick';
export type DropReason = 'queue_full' | 'sojourn' | 'deadline' | 'shed';

export interface CodelOptions {
  targetMs: number;
  intervalMs: number;
  capacity: number;
  /**
   * How long a request queued while the queue absorbs a burst (not standing) may wait; default `intervalMs`.
   * Shorter for cheap tiers: a request that waits and is then refused anyway is a slow refusal, and a burst
   * of free traffic is better refused at the door than after 100 ms.
   */
  burstWaitMs?: number;
}

/**
 * The one transition function. `since` is when the queue last stopped being empty.
 * empty —push→ draining; draining —emptied→ empty; draining —tick, non-empty for ≥ interval→ overloaded;
 * overloaded —emptied→ empty. Every other (state, event) pair leaves the state as it is.
 */
export function queueTransition(
  state: QueueState,
  event: QueueEvent,
  now: number,
  since: number,
  intervalMs: number,
): QueueState {
  switch (state) {
    case 'empty':
      return event === 'push' ? 'draining' : 'empty';
    case 'draining':
      if (event === 'emptied') return 'empty';
      if (event === 'tick' && now - since >= intervalMs) return 'overloaded';
      return 'draining';
    case 'overloaded':
      return event === 'emptied' ? 'empty' : 'overloaded';
  }
}

interface Waiting<T> {
  value: T;
  at: number;
  /** When it is dropped: the sooner of its deadline and its sojourn bound … */
  expires: number;
  /** … and which of the two that is. */
  reason: 'sojourn' | 'deadline';
}

export class CodelQueue<T> {
  state: QueueState = 'empty';
  /** When the queue last stopped being empty. */
  since = 0;
  private items: Waiting<T>[] = [];
  private head = 0;
  /** No waiter expires before this (a sweep that finds nothing due costs one comparison). */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(
    private readonly o: Readonly<CodelOptions>,
    private readonly drop: (value: T, reason: DropReason) => void,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** How long a request queued now may wait: `target` in a standing queue, `interval` otherwise. */
  bound(now: number): number {
    this.advance(now);
    return this.state === 'overloaded' ? this.o.targetMs : (this.o.burstWaitMs ?? this.o.intervalMs);
  }

  /** Age of the oldest waiting request (0 when empty). */
  oldestSojourn(now: number): number {
    return this.length === 0 ? 0 : now - this.items[this.head]!.at;
  }

  /**
   * Queues `value`. A full queue refuses the newcomer — unless it is overloaded, where the oldest waiter
   * goes instead (it is the least likely to still be useful). Returns false when `value` was refused.
   */
  push(value: T, now: number, deadline: number): boolean {
    this.advance(now);
    if (this.length >= this.o.capacity) {
      if (this.state !== 'overloaded') {
        this.drop(value, 'queue_full');
        return false;
      }
      this.drop(this.items[this.head++]!.value, 'queue_full');
    }
    if (this.length === 0) this.since = now;
    this.move('push', now);
    const bound =
      now + (this.state === 'overloaded' ? this.o.targetMs : (this.o.burstWaitMs ?? this.o.intervalMs));
    const w: Waiting<T> =
      bound < deadline
        ? { value, at: now, expires: bound, reason: 'sojourn' }
        : { value, at: now, expires: deadline, reason: 'deadline' };
    this.items.push(w);
    if (w.expires < this.nextExpiry) this.nextExpiry = w.expires;
    return true;
  }

  /** The next request to serve (oldest first, newest first when overloaded), dropping stale ones. */
  take(now: number): T | undefined {
    this.advance(now);
    this.expire(now);
    let got: Waiting<T> | undefined;
    if (this.length > 0) {
      got = this.state === 'overloaded' ? this.items.pop() : this.items[this.head++];
    }
    this.compact(now);
    return got?.value;
  }

  /** Time passes: the state may become overloaded, and stale requests are dropped. */
  sweep(now: number): void {
    this.advance(now);
    this.expire(now);
    this.compact(now);
  }

  private advance(now: number): void {
    this.move('tick', now);
  }

  private move(event: QueueEvent, now: number): void {
    this.state = queueTransition(this.state, event, now, this.since, this.o.intervalMs);
  }

  /** Drops the waiters whose time is up (their deadline or their sojourn bound). */
  private expire(now: number): void {
    if (this.length === 0 || now < this.nextExpiry) return;
    const kept: Waiting<T>[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (let i = this.head; i < this.items.length; i++) {
      const w = this.items[i]!;
      if (w.expires <= now) this.drop(w.value, w.reason);
      else {
        kept.push(w);
        if (w.expires < next) next = w.expires;
      }
    }
    this.items = kept;
    this.head = 0;
    this.nextExpiry = next;
  }

  private compact(now: number): void {
    if (this.length === 0) {
      this.items = [];
      this.head = 0;
      this.nextExpiry = Number.POSITIVE_INFINITY;
      this.move('emptied', now);
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
