/**
 * Coalesces concurrent searches on one collection into the engine's batch search: one crossing to the
 * engine thread for many queries. Adaptive: a search is sent at once when the engine has nothing of ours in
 * flight; otherwise it waits for the batch in flight to return and leaves with everything queued meanwhile
 * (at most `max` per batch). No timer, so an idle server adds no latency.
 */
import type { EngineApi, ScoredPoint, SearchRequest } from '../engine/index.js';
import { SurgeError } from '../protocol/errors.js';

interface Waiting {
  request: SearchRequest;
  resolve: (r: ScoredPoint[]) => void;
  reject: (e: unknown) => void;
}

export interface BatcherStats {
  batches: number;
  searches: number;
}

export class SearchBatcher {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly inFlight = new Set<string>();
  readonly stats: BatcherStats = { batches: 0, searches: 0 };
  /** Observer for metrics: size of each batch sent. */
  onBatch: ((size: number) => void) | undefined;

  constructor(
    private readonly engine: EngineApi,
    /** Mutable: degradation level 1 lowers it, so a search waits behind a shorter batch. */
    public max: number,
  ) {}

  search(collection: string, request: SearchRequest): Promise<ScoredPoint[]> {
    return new Promise((resolve, reject) => {
      const q = this.queues.get(collection) ?? [];
      this.queues.set(collection, q);
      q.push({ request, resolve, reject });
      if (!this.inFlight.has(collection)) this.flush(collection);
    });
  }

  /** Queued searches waiting for a batch (a queue-depth gauge). */
  depth(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private flush(collection: string): void {
    const q = this.queues.get(collection);
    if (!q || q.length === 0) {
      this.queues.delete(collection);
      return;
    }
    const batch = q.splice(0, this.max);
    this.inFlight.add(collection);
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
        this.inFlight.delete(collection);
        this.flush(collection);
      });
  }
}
