/**
 * The concurrency limit split by priority (after Netflix concurrency-limits' partitioned limiter): each
 * priority has a guaranteed share of the limit that it may use even when the limit is full; beyond its share
 * it may borrow only *idle* share. A share is idle when its priority has taken no slot for `idleMs`; the
 * unused part of an active priority's share stays reserved for it. So premium keeps its 60% however much free
 * traffic arrives — and free traffic does not fill the engine with work that premium requests would then
 * wait behind — while free traffic may use the whole server once premium has been quiet for a second.
 * Critical requests (health, admin) are counted but never limited.
 */
import { type Priority, type PriorityRank, rank } from './tenant.js';

/** Guaranteed fractions of the limit for high, normal and low (critical is not limited). */
export interface Shares {
  high: number;
  normal: number;
  low: number;
}

export class PriorityLimiter {
  /** In flight per priority rank (0 = critical). */
  readonly inflight = new Int32Array(4);
  /** When each priority last took a slot. */
  private readonly lastActive = new Float64Array(4).fill(Number.NEGATIVE_INFINITY);
  private readonly shares: Float64Array;
  private readonly ceilings: Float64Array;

  constructor(
    shares: Shares,
    private readonly idleMs = 1000,
    /**
     * The most of the limit each priority may hold, borrowing included (default: all of it). A ceiling
     * below 1 for free traffic keeps room free for premium requests that arrive after a quiet spell — before
     * the limit has noticed that premium is active again, those would otherwise queue behind free work.
     */
    ceilings: Shares = { high: 1, normal: 1, low: 1 },
  ) {
    this.shares = Float64Array.of(Number.POSITIVE_INFINITY, shares.high, shares.normal, shares.low);
    this.ceilings = Float64Array.of(Number.POSITIVE_INFINITY, ceilings.high, ceilings.normal, ceilings.low);
  }

  /** Limited requests in flight (critical excluded). */
  get total(): number {
    return this.inflight[1]! + this.inflight[2]! + this.inflight[3]!;
  }

  /** A priority's guaranteed slots at this limit: ⌈limit × share⌉, at least 1. */
  partitionLimit(r: PriorityRank, limit: number): number {
    if (r === 0) return Number.POSITIVE_INFINITY;
    return Math.max(1, Math.ceil(limit * this.shares[r]!));
  }

  /** Whether `r` is active: it took a slot within the last `idleMs`. */
  active(r: PriorityRank, now: number): boolean {
    return now - this.lastActive[r]! < this.idleMs;
  }

  /** Slots of other, active priorities' shares they are not using right now: not borrowable by `r`. */
  reserved(r: PriorityRank, limit: number, now: number): number {
    let n = 0;
    for (let p = 1 as PriorityRank; p < 4; p = (p + 1) as PriorityRank) {
      if (p !== r && this.active(p, now)) n += Math.max(0, this.partitionLimit(p, limit) - this.inflight[p]!);
    }
    return n;
  }

  canAcquire(r: PriorityRank, limit: number, now: number): boolean {
    if (r === 0) return true;
    const mine = this.inflight[r]!;
    if (mine < this.partitionLimit(r, limit)) return true;
    if (mine >= Math.max(1, Math.floor(limit * this.ceilings[r]!))) return false;
    return this.total + this.reserved(r, limit, now) < limit;
  }

  acquire(r: PriorityRank, now: number): void {
    this.inflight[r]!++;
    this.lastActive[r] = now;
  }

  release(r: PriorityRank): void {
    if (this.inflight[r]! > 0) this.inflight[r]!--;
  }

  inflightOf(p: Priority): number {
    return this.inflight[rank(p)]!;
  }
}
