/**
 * Closed-loop throughput of one peer at one search effort: `clients` callers, each sending its next query as
 * soon as the previous answer arrives, cycling through the query set. This is a capacity measurement (how many
 * queries per second the system sustains with N requests outstanding), not a latency-under-arrivals one — the
 * open-loop generator (`bench run`) does that. Bounded by count and by time, whichever comes first.
 */
import * as hdr from 'hdr-histogram-js';
import { recallAtK } from '../datasets/exact-knn.js';
import type { Peer } from './peer.js';

export interface LoadBounds {
  /** Stop after this many timed queries in total. */
  maxQueries: number;
  /** Stop starting new queries after this many seconds. */
  maxSeconds: number;
  /** Untimed queries first (caches, JIT, connection set-up), at most this many. */
  warmupQueries: number;
}

export interface LoadResult {
  clients: number;
  queries: number;
  seconds: number;
  qps: number;
  /** Latency percentiles in milliseconds, from an HDR histogram at microsecond resolution. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** recall@k over the first answer to each query that was answered (at least one pass when bounds allow). */
  recall: number;
  errors: number;
  firstError?: string;
  /** When this is the median of several rounds: every round's QPS, in order. */
  roundsQps?: number[];
}

export interface QuerySet {
  dim: number;
  count: number;
  vectors: Float32Array;
  k: number;
  /** count × truthK exact neighbours, best first. */
  truth: Int32Array;
  truthK: number;
}

export function queryAt(qs: QuerySet, i: number): Float32Array {
  return qs.vectors.subarray(i * qs.dim, (i + 1) * qs.dim);
}

/** Stop a client after this many failures: a peer that errors on every query is measured, not hammered. */
const MAX_ERRORS = 100;

export async function measureLoad(
  peer: Peer,
  qs: QuerySet,
  clients: number,
  bounds: LoadBounds,
): Promise<LoadResult> {
  const warm = Math.min(bounds.warmupQueries, qs.count);
  let w = 0;
  await Promise.all(
    Array.from({ length: Math.min(clients, Math.max(1, warm)) }, async () => {
      while (w < warm) await peer.search(queryAt(qs, w++), qs.k);
    }),
  );

  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const firstAnswers: (number[] | undefined)[] = new Array(qs.count);
  let issued = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + bounds.maxSeconds * 1000;
  const client = async () => {
    while (issued < bounds.maxQueries && errors < MAX_ERRORS && performance.now() < deadline) {
      const q = issued++ % qs.count;
      const s = performance.now();
      try {
        const ids = await peer.search(queryAt(qs, q), qs.k);
        histogram.recordValue(Math.max(1, Math.round((performance.now() - s) * 1000)));
        done++;
        firstAnswers[q] ??= ids;
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - t0) / 1000;

  const answered: number[][] = [];
  const truthRows: number[] = [];
  for (let q = 0; q < qs.count; q++) {
    if (firstAnswers[q]) {
      answered.push(firstAnswers[q]!);
      truthRows.push(q);
    }
  }
  const ms = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  const result: LoadResult = {
    clients,
    queries: done,
    seconds,
    qps: done / seconds,
    p50Ms: ms(50),
    p90Ms: ms(90),
    p99Ms: ms(99),
    // The same rounding as the percentiles (highest equivalent value), so p99 <= max always holds.
    maxMs: ms(100),
    recall: answered.length ? recallOf(answered, qs, truthRows) : 0,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
  };
  histogram.destroy();
  return result;
}

/** recall@k of answers to the queries `rows` (their truth rows picked out of the full truth matrix). */
export function recallOf(answers: ArrayLike<number>[], qs: QuerySet, rows?: readonly number[]): number {
  if (!rows) return recallAtK(answers, qs.truth, qs.truthK, qs.k);
  const truth = new Int32Array(rows.length * qs.truthK);
  for (let i = 0; i < rows.length; i++) {
    truth.set(qs.truth.subarray(rows[i]! * qs.truthK, (rows[i]! + 1) * qs.truthK), i * qs.truthK);
  }
  return recallAtK(answers, truth, qs.truthK, qs.k);
}
