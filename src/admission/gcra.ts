/**
 * GCRA (generic cell rate algorithm, as in redis-cell and Stripe's limiter): one number per bucket — the
 * theoretical arrival time (TAT) — instead of a token count and a refill timer. A request of `cost` at
 * `now` is allowed when the bucket, advanced by cost × T (T = 1000 / rate ms), would not run more than
 * `burst` × T ahead of now. The refusal says exactly when the same request would pass: Retry-After is
 * computed, not guessed.
 *
 * A request dearer than the whole burst could never fit; it passes only from a full bucket and then the
 * tenant waits off its cost (so a 10k-point upsert is not refused forever by a 5k burst).
 */

export interface GcraLimit {
  /** Sustained rate, units per second. */
  ratePerSec: number;
  /** Units that may be spent at once from a full bucket. */
  burst: number;
}

export interface GcraDecision {
  allowed: boolean;
  /** 0 when allowed; otherwise the exact wait until the same request would be allowed. */
  retryAfterMs: number;
  /** Whole units still available right after this decision. */
  remaining: number;
}

/** One step: the decision and the TAT to store (unchanged when refused). Pure. */
export function gcra(
  tat: number | undefined,
  cost: number,
  limit: GcraLimit,
  now: number,
): { decision: GcraDecision; tat: number } {
  const t = 1000 / limit.ratePerSec;
  const tau = limit.burst * t;
  const start = tat === undefined || tat < now ? now : tat;
  const next = start + cost * t;
  const allowAt = Math.min(next - tau, start);
  if (now < allowAt) {
    return {
      decision: { allowed: false, retryAfterMs: allowAt - now, remaining: remaining(start, now, tau, t) },
      tat: start,
    };
  }
  return { decision: { allowed: true, retryAfterMs: 0, remaining: remaining(next, now, tau, t) }, tat: next };
}

function remaining(tat: number, now: number, tau: number, t: number): number {
  return Math.max(0, Math.floor((now + tau - tat) / t + 1e-9));
}

/**
 * Where buckets live. Local now; a Redis store (cluster mode) implements the same two calls with one Lua
 * script each, so the check-and-set stays atomic across nodes — hence the optional promise.
 */
export interface QuotaStore {
  /** Charges `cost` to bucket `key` if allowed. */
  take(key: string, cost: number, limit: GcraLimit, now: number): GcraDecision | Promise<GcraDecision>;
  /** The decision `take` would make, without charging. */
  peek(key: string, cost: number, limit: GcraLimit, now: number): GcraDecision | Promise<GcraDecision>;
}

export class LocalQuotaStore implements QuotaStore {
  private readonly tats = new Map<string, number>();

  take(key: string, cost: number, limit: GcraLimit, now: number): GcraDecision {
    const r = gcra(this.tats.get(key), cost, limit, now);
    if (r.decision.allowed) this.tats.set(key, r.tat);
    return r.decision;
  }

  peek(key: string, cost: number, limit: GcraLimit, now: number): GcraDecision {
    return gcra(this.tats.get(key), cost, limit, now).decision;
  }

  /** Forgets buckets that are full again (TAT in the past): they behave exactly like absent ones. */
  sweep(now: number): number {
    let n = 0;
    for (const [k, tat] of this.tats) {
      if (tat <= now) {
        this.tats.delete(k);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.tats.size;
  }
}
