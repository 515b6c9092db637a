/**
 * Coalesces concurrent searches on one collection into the engine's batch search: one crossing to the
 * engine thread for many queries. Adaptive: a search is sent at once when the engine has nothing of ours in
 * flight; otherwise it waits for the batch in flight to return and leaves with what is queued meanwhile
 * (at most `max` per batch). No timer, so an idle server adds no latency.
 *
 * Priorities (admission's ranks: 0 critical, 1 high, 2 normal, 3 low): a batch takes the most urgent
 * searches first, so a premium search never waits for a later batch while free ones ride this one. And a
 * premium search does not wait behind a batch of free ones either: ranks 0–1 have an express lane — a
 * second batch in flight beside the regular one, carrying only them — so their wait is bounded by one
 * express batch, never by a long regular one. The native core runs both batches on both cores at once.
 * When more searches wait than one batch takes (overload), each rank is served newest first, as the
 * admission gate does: the newest caller is the one most likely still waiting for its answer. The gate's
 * concurrency limit bounds how many searches can be here at all, so the oldest are not stranded for long.
 */
import type { EngineApi, ScoredPoint, SearchRequest } from '../engine/index.js';
import { SurgeError } from '../protocol/errors.js';

/** Admission's priority ranks: 0 critical, 1 high (premium), 2 normal, 3 low (free). */
export type SearchPriority = 0 | 1 | 2 | 3;
const EXPRESS_BELOW = 2;
const RANKS = 4;

interface Waiting {
  request: SearchRequest;
  resolve: (r: ScoredPoint[]) => void;
  reject: (e: unknown) => void;
}

interface Lanes {
  /** Waiting searches by rank. */
  queues: Waiting[][];
  size: number;
  regular: boolean;
  express: boolean;
}

export interface BatcherStats {
  batches: number;
  searches: number;
  /** Batches sent on the express lane (ranks 0–1 beside a regular batch in flight). */
  express: number;
}

export class SearchBatcher {
  private readonly lanes = new Map<string, Lanes>();
  readonly stats: BatcherStats = { batches: 0, searches: 0, express: 0 };
  /** Observer for metrics: size of each batch sent. */
  onBatch: ((size: number) => void) | undefined;

  constructor(
    private readonly engine: EngineApi,
    /** Mutable: degradation level 1 lowers it, so a search waits behind a shorter batch. */
    public max: number,
  ) {}

  search(collection: string, request: SearchRequest, priority: SearchPriority = 2): Promise<ScoredPoint[]> {
    return new Promise((resolve, reject) => {
      let l = this.lanes.get(collection);
      if (!l) {
        l = { queues: Array.from({ length: RANKS }, () => []), size: 0, regular: false, express: false };
        this.lanes.set(collection, l);
      }
      l.queues[priority]!.push({ request, resolve, reject });
      l.size++;
      if (!l.regular) this.flush(collection, l, false);
      else if (priority < EXPRESS_BELOW && !l.express) this.flush(collection, l, true);
    });
  }

  /** Queued searches waiting for a batch (a queue-depth gauge). */
  depth(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.size;
    return n;
  }

  /** Most urgent first; within a rank oldest first, or newest first when not all of them fit. */
  private take(l: Lanes, express: boolean): Waiting[] {
    const batch: Waiting[] = [];
    const ranks = express ? EXPRESS_BELOW : RANKS;
    const overloaded = l.size > this.max;
    for (let r = 0; r < ranks && batch.length < this.max; r++) {
      const q = l.queues[r]!;
      if (q.length === 0) continue;
      const n = Math.min(q.length, this.max - batch.length);
      const taken = overloaded ? q.splice(q.length - n, n).reverse() : q.splice(0, n);
      for (const w of taken) batch.push(w);
    }
    l.size -= batch.length;
    return batch;
  }

  private flush(collection: string, l: Lanes, express: boolean): void {
    const batch = this.take(l, express);
    if (batch.length === 0) {
      if (!l.regular && !l.express && l.size === 0) this.lanes.delete(collection);
      return;
    }
    if (express) {
      l.express = true;
      this.stats.express++;
    } else l.regular = true;
    this.stats.batches++;
    this.stats.searches += batch.length;
    this.onBatch?.(batch.length);
    this.engine
      .searchEach(
        collection,
        batch.map((w) => w.request),
      )
      .then(
        (results) => {
          results.forEach((r, i) => {
            const w = batch[i]!;
            if (Array.isArray(r)) w.resolve(r);
            else w.reject(SurgeError.from(r.error));
          });
        },
        (e: unknown) => {
          for (const w of batch) w.reject(e);
        },
      )
      .finally(() => {
        if (express) l.express = false;
        else l.regular = false;
        if (!l.regular) this.flush(collection, l, false);
        if (!l.express && this.urgentWaiting(l)) this.flush(collection, l, true);
        if (!l.regular && !l.express && l.size === 0) this.lanes.delete(collection);
      });
  }

  private urgentWaiting(l: Lanes): boolean {
    for (let r = 0; r < EXPRESS_BELOW; r++) if (l.queues[r]!.length > 0) return true;
    return false;
  }
}
