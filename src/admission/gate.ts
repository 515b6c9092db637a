/**
 * The concurrency gate: a PriorityLimiter in front of one CodelQueue per priority. A request either gets a
 * slot now, waits in its priority's queue, or is refused; when a slot frees, the highest priority that may
 * take it is served first. Pure: the caller passes the time and the current limit, and learns about
 * admissions and drops through the two callbacks (the server resolves its promises there).
 */
import { type CodelOptions, CodelQueue, type DropReason, type QueueState } from './codel-queue.js';
import { PriorityLimiter, type Shares } from './priority-limiter.js';
import type { PriorityRank } from './tenant.js';

export type Offer = 'admitted' | 'queued' | 'refused';

export interface GateCallbacks<T> {
  admit(value: T): void;
  drop(value: T, reason: DropReason): void;
}

export class AdmissionGate<T> {
  readonly limiter: PriorityLimiter;
  /** Index = priority rank; critical (0) never waits, so queues[0] stays empty. */
  readonly queues: CodelQueue<T>[];

  constructor(
    shares: Shares,
    queue: Readonly<CodelOptions>,
    private readonly cb: GateCallbacks<T>,
    idleShareMs?: number,
    ceilings?: Shares,
    /**
     * The standing-queue sojourn target of `high` (premium), if not `queue.targetMs`: premium has a latency
     * SLO to spend (50 ms) and a success target, so it may wait a little longer before it is refused.
     */
    highTargetMs?: number,
    /** `burstWaitMs` of normal and low (premium waits up to `queue.intervalMs` while absorbing a burst). */
    lowerBurstWaitMs?: number,
  ) {
    this.limiter = new PriorityLimiter(shares, idleShareMs, ceilings);
    const options = (r: number): CodelOptions => {
      if (r === 1) return highTargetMs === undefined ? queue : { ...queue, targetMs: highTargetMs };
      return r >= 2 && lowerBurstWaitMs !== undefined ? { ...queue, burstWaitMs: lowerBurstWaitMs } : queue;
    };
    this.queues = [0, 1, 2, 3].map((r) => new CodelQueue<T>(options(r), (v, why) => cb.drop(v, why)));
  }

  /**
   * A new request. Admitted at once when its priority may take a slot and nobody of its priority is
   * already waiting (no overtaking in FIFO order); otherwise queued — unless the wait it can expect is
   * longer than it may wait (the queue's sojourn bound, or its deadline), in which case it is refused now,
   * cheaply, instead of after waiting in vain. The expected wait is the requests served before it over the
   * drain rate (`drainPerMs`, completions per ms; unknown → no prediction): in FIFO order everyone queued
   * at its priority or above, newest-first (a standing queue) only those of higher priorities.
   * `admit` is not called for an immediate admission: the return value says so.
   */
  offer(r: PriorityRank, value: T, now: number, deadline: number, limit: number, drainPerMs?: number): Offer {
    const q = this.queues[r]!;
    if (r === 0 || (q.length === 0 && this.limiter.canAcquire(r, limit, now))) {
      this.limiter.acquire(r, now);
      return 'admitted';
    }
    if (drainPerMs !== undefined && drainPerMs > 0) {
      const bound = q.bound(now);
      const lifo = q.state === 'overloaded';
      const before = lifo ? this.queuedAhead((r - 1) as PriorityRank) : this.queuedAhead(r);
      if ((before + 1) / drainPerMs > Math.min(bound, deadline - now)) {
        this.cb.drop(value, 'sojourn');
        return 'refused';
      }
    }
    if (!q.push(value, now, deadline)) return 'refused';
    // The queue may hold only stale requests that are dropped right here, leaving room to serve.
    this.pump(now, limit);
    return 'queued';
  }

  /** A request finished: its slot goes to the best waiting request. */
  release(r: PriorityRank, now: number, limit: number): void {
    this.limiter.release(r);
    this.pump(now, limit);
  }

  /** Periodic: queue states advance, stale and expired waiters are dropped, free slots (a raised limit) used. */
  sweep(now: number, limit: number): void {
    for (let r = 1; r < 4; r++) this.queues[r]!.sweep(now);
    this.pump(now, limit);
  }

  /** Refuses every waiter of `r` and lower priorities (a degradation level shedding them). */
  shed(fromRank: PriorityRank, now: number, reason: DropReason): void {
    for (let r = fromRank; r < 4; r++) {
      const q = this.queues[r]!;
      for (let v = q.take(now); v !== undefined; v = q.take(now)) this.cb.drop(v, reason);
    }
  }

  queued(r: PriorityRank): number {
    return this.queues[r]!.length;
  }

  /** Waiting at priorities r or higher: the requests ahead of a newcomer of priority r. */
  queuedAhead(r: PriorityRank): number {
    let n = 0;
    // Rank 0 (critical) never waits: nothing is ahead of it.
    for (let i = 1; i <= r; i++) n += this.queues[i]!.length;
    return n;
  }

  state(r: PriorityRank): QueueState {
    return this.queues[r]!.state;
  }

  anyOverloaded(): boolean {
    return (
      this.queues[1]!.state === 'overloaded' ||
      this.queues[2]!.state === 'overloaded' ||
      this.queues[3]!.state === 'overloaded'
    );
  }

  private pump(now: number, limit: number): void {
    for (let r = 1 as PriorityRank; r < 4; r = (r + 1) as PriorityRank) {
      const q = this.queues[r]!;
      while (q.length > 0 && this.limiter.canAcquire(r, limit, now)) {
        const v = q.take(now);
        if (v === undefined) break;
        this.limiter.acquire(r, now);
        this.cb.admit(v);
      }
    }
  }
}
