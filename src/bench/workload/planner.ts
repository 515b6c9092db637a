/**
 * What each arrival sends: read or write by the mix, a batch size, which query (uniform / Zipf / hotspot), a
 * filter for a share of searches, which tenant's api key — all from one seeded RNG, so a scenario and seed
 * give the same request sequence on every run.
 *
 * Writes re-upsert existing base points with their own vector and payload: the full write path runs (WAL,
 * fsync, a new slot, index insertion) while the exact ground truth stays valid, so recall can be measured
 * under a write load. A sample of single searches is scored against that truth (recall@k).
 */
import { type Rng, rng } from '../../platform/random.js';
import type { BenchDataset } from '../datasets/bench-dataset.js';
import { FILTER_FIELDS, type FilterField } from '../datasets/bench-dataset.js';
import type { PlannedRequest } from '../generator/open-loop.js';
import type { Scenario } from '../scenarios/schema.js';
import { batchBody, matchFilter, pointJson, searchBody, vectorJson } from './bodies.js';
import { chooser } from './choice.js';

export interface FilteredTruth {
  field: FilterField;
  pool: number;
  k: number;
  truth: Int32Array;
}

export interface PlannerInput {
  scenario: Scenario;
  ds: BenchDataset;
  collection: string;
  filtered?: FilteredTruth | undefined;
  /** Rows that exist in the collection and may be re-upserted (default: the whole base). */
  writableRows?: number;
}

export interface Planner {
  plan: () => PlannedRequest;
  /** Recall is scored only while this is true (streaming ingest turns it on once its stream is in). */
  recallOn: boolean;
}

function weighted<T>(items: readonly { weight: number; value: T }[]): (r: Rng) => T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  return (r) => {
    let u = r() * total;
    for (const i of items) {
      u -= i.weight;
      if (u < 0) return i.value;
    }
    return items[items.length - 1]!.value;
  };
}

/** |found ∩ truth[0..k)| / (true neighbours that exist, at most k). */
export function scoreRecall(
  result: unknown,
  truth: Int32Array,
  offset: number,
  k: number,
): number | undefined {
  if (!Array.isArray(result)) return undefined;
  let want = 0;
  for (let i = 0; i < k; i++) if (truth[offset + i]! >= 0) want++;
  if (want === 0) return undefined;
  let hits = 0;
  const seen = new Set<number>();
  for (let i = 0; i < result.length && i < k; i++) {
    const id = Number((result[i] as { id?: unknown }).id);
    if (seen.has(id)) continue;
    seen.add(id);
    for (let j = 0; j < k; j++) {
      if (truth[offset + j] === id) {
        hits++;
        break;
      }
    }
  }
  return hits / want;
}

export function makePlanner(input: PlannerInput): Planner {
  const { scenario: sc, ds, collection, filtered } = input;
  const r = rng(sc.seed);
  const pick = chooser(sc.query.choice, ds.queryCount, rng(sc.seed + 1));
  const queryJson = Array.from({ length: ds.queryCount }, (_, q) =>
    vectorJson(ds.queries, q * ds.dim, ds.dim),
  );
  const writable = input.writableRows ?? ds.baseCount;
  const baseJson = new Map<number, string>();
  const rowJson = (row: number) => {
    let s = baseJson.get(row);
    if (s === undefined) {
      s = vectorJson(ds.base, row * ds.dim, ds.dim);
      if (baseJson.size < 50_000) baseJson.set(row, s);
    }
    return s;
  };
  const readShare = sc.mix.read / (sc.mix.read + sc.mix.write);
  const batchSize = weighted(sc.query.batch.map((b) => ({ weight: b.weight, value: b.size })));
  const tenant = sc.tenants.length
    ? weighted(sc.tenants.map((t, i) => ({ weight: t.weight, value: i })))
    : () => -1;
  const modulus = FILTER_FIELDS[sc.filter.field];
  const k = sc.query.k;
  const planner: Planner = { plan: () => undefined as never, recallOn: true };

  const oneSearch = (scored: boolean): { body: string; score?: PlannedRequest['score'] } => {
    const q = pick(r);
    let filter: string | undefined;
    let score: PlannedRequest['score'];
    if (sc.filter.fraction > 0 && r() < sc.filter.fraction) {
      const v = Math.floor(r() * modulus);
      filter = matchFilter(sc.filter.field, v);
      if (scored && filtered && q < filtered.pool) {
        const off = (q * modulus + v) * filtered.k;
        score = (res) => scoreRecall(res, filtered.truth, off, k);
      }
    } else if (scored) {
      const off = q * ds.truthK;
      score = (res) => scoreRecall(res, ds.truth, off, k);
    }
    const body = searchBody({
      vector: queryJson[q]!,
      k,
      ef: sc.query.ef,
      filter,
      withPayload: sc.query.with_payload,
    });
    return score ? { body, score } : { body };
  };

  planner.plan = () => {
    const t = tenant(r);
    const apiKey = t >= 0 ? sc.tenants[t]!.api_key : undefined;
    if (r() >= readShare) {
      const pts: string[] = [];
      for (let i = 0; i < sc.write.points; i++) {
        const row = Math.floor(r() * writable);
        pts.push(pointJson(row, rowJson(row)));
      }
      return {
        op: 'upsert',
        tenant: t,
        wire: {
          op: 'upsert',
          collection,
          body: `{"points":[${pts.join(',')}]}`,
          wait: sc.write.wait,
          apiKey,
        },
      };
    }
    const n = batchSize(r);
    if (n === 1) {
      const scored = planner.recallOn && sc.recall.sample > 0 && r() < sc.recall.sample;
      const { body, score } = oneSearch(scored);
      return {
        op: 'search',
        tenant: t,
        score,
        wire: { op: 'search', collection, body, apiKey, wantResult: score !== undefined },
      };
    }
    const bodies: string[] = [];
    for (let i = 0; i < n; i++) bodies.push(oneSearch(false).body);
    return {
      op: 'search_batch',
      tenant: t,
      wire: { op: 'search_batch', collection, body: batchBody(bodies), apiKey },
    };
  };
  return planner;
}
