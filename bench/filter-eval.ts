/**
 * Filter hot paths: evaluations/s of a compiled 3-condition filter over 1M payloads, payload index build and
 * lookup times, and one planner call. Run: `npx tsx bench/filter-eval.ts [points]`.
 */
import { compileFilter } from '../src/engine/filter/evaluate.js';
import { parseFilter } from '../src/engine/filter/parse.js';
import { PayloadIndex } from '../src/engine/filter/payload-index.js';
import { type PlannerContext, planFilter } from '../src/engine/filter/planner.js';
import type { FieldCondition } from '../src/engine/filter/types.js';
import type { Payload } from '../src/engine/types.js';
import { rng } from '../src/platform/random.js';

const N = Number(process.argv[2] ?? 1_000_000);
const REGIONS = ['eu', 'us', 'apac', 'latam'];

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const rand = rng(42);
const payloads: Payload[] = new Array(N);
const keys: string[] = new Array(N);
let t = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  payloads[i] = {
    category: `c${Math.floor(rand() * 100)}`,
    price: Math.round(rand() * 100_000) / 100,
    stock: Math.floor(rand() * 100),
    tags: [`t${Math.floor(rand() * 50)}`, `t${Math.floor(rand() * 50)}`],
    meta: { region: REGIONS[Math.floor(rand() * REGIONS.length)]! },
  };
  keys[i] = String(i);
}
console.log(`generated ${N.toLocaleString()} payloads in ${ms(t).toFixed(0)} ms`);

const filter = parseFilter({
  must: [
    { key: 'category', match: { any: ['c1', 'c2', 'c3', 'c4', 'c5'] } },
    { key: 'price', range: { gte: 100, lt: 500 } },
  ],
  must_not: [{ key: 'meta.region', match: { value: 'us' } }],
});
const pred = compileFilter(filter);

function evalRound(): number {
  let hits = 0;
  for (let i = 0; i < N; i++) if (pred(payloads[i], keys[i]!)) hits++;
  return hits;
}

// Warm-up, then the best of 5 rounds (the JIT and GC make the first rounds noisy).
evalRound();
let best = Number.POSITIVE_INFINITY;
let hits = 0;
for (let r = 0; r < 5; r++) {
  t = process.hrtime.bigint();
  hits = evalRound();
  best = Math.min(best, ms(t));
}
console.log(
  `compiled filter (any of 5 keywords ∧ price range ∧ ¬ nested region): ${hits.toLocaleString()} matches, ` +
    `${best.toFixed(1)} ms per ${N.toLocaleString()} → ${(((N / best) * 1000) / 1e6).toFixed(1)} M evals/s`,
);

// A filter whose first condition is rare short-circuits: the common case behind an index.
const selective = compileFilter(
  parseFilter({
    must: [
      { key: 'stock', match: { value: 7 } },
      { key: 'tags', match: { value: 't3' } },
    ],
  }),
);
selective(payloads[0], keys[0]!);
t = process.hrtime.bigint();
let h2 = 0;
for (let i = 0; i < N; i++) if (selective(payloads[i], keys[i]!)) h2++;
const t2 = ms(t);
console.log(
  `2-condition filter (integer ∧ array keyword): ${h2} matches, ${(((N / t2) * 1000) / 1e6).toFixed(1)} M evals/s`,
);

function timeIndex(name: string, idx: PayloadIndex, field: string): void {
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) idx.add(i, payloads[i]);
  console.log(`index ${name}: build ${ms(t).toFixed(0)} ms, ${idx.size.toLocaleString()} slots (${field})`);
}

const category = new PayloadIndex('category', 'keyword');
const price = new PayloadIndex('price', 'float');
const stock = new PayloadIndex('stock', 'integer');
timeIndex('keyword', category, 'category');
timeIndex('float', price, 'price');
timeIndex('integer', stock, 'stock');

function timeLookup(name: string, idx: PayloadIndex, cond: FieldCondition, reps = 20): void {
  t = process.hrtime.bigint();
  const first = idx.lookup(cond)!;
  const cold = ms(t);
  t = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) idx.lookup(cond);
  const warm = ms(t) / reps;
  t = process.hrtime.bigint();
  const E = 100_000;
  for (let r = 0; r < E; r++) idx.estimate(cond);
  const est = (ms(t) / E) * 1000;
  console.log(
    `lookup ${name}: ${first.length.toLocaleString()} slots, first ${cold.toFixed(2)} ms, then ${warm.toFixed(2)} ms; ` +
      `estimate ${est.toFixed(2)} µs`,
  );
}

timeLookup('keyword value (1%)', category, { key: 'category', match: { value: 'c7' } });
timeLookup('keyword any (5%)', category, { key: 'category', match: { any: ['c1', 'c2', 'c3', 'c4', 'c5'] } });
timeLookup('float range (0.1%, first builds the sorted view)', price, {
  key: 'price',
  range: { gte: 100, lt: 101 },
});
timeLookup('float range (40%)', price, { key: 'price', range: { gte: 100, lt: 500 } });
timeLookup('integer value (1%)', stock, { key: 'stock', match: { value: 7 } });
timeLookup('integer range (10%)', stock, { key: 'stock', range: { lt: 10 } });

// Streaming writes beside range queries: writes go to the delta; a query merges it once it exceeds 8192 pairs.
{
  const W = 20_000;
  const cond: FieldCondition = { key: 'price', range: { gte: 100, lt: 101 } };
  let worst = 0;
  let total = 0;
  for (let w = 0; w < W; w++) {
    const slot = (w * 7919) % N;
    price.remove(slot, payloads[slot]);
    payloads[slot] = { ...payloads[slot], price: Math.round(rand() * 100_000) / 100 };
    price.add(slot, payloads[slot]);
    if (w % 100 === 99) {
      t = process.hrtime.bigint();
      price.lookup(cond);
      const q = ms(t);
      worst = Math.max(worst, q);
      total += q;
    }
  }
  console.log(
    `float range lookup interleaved with ${W.toLocaleString()} updates (1 query / 100 writes): ` +
      `mean ${(total / (W / 100)).toFixed(2)} ms, worst ${worst.toFixed(1)} ms (a delta merge)`,
  );
}

const live = Array.from({ length: N }, (_, i) => i);
const sampleRand = rng(7);
const ctx: PlannerContext = {
  indexes: new Map([
    ['category', category],
    ['price', price],
    ['stock', stock],
  ]),
  liveCount: N,
  sampleLive: (n) => Array.from({ length: n }, () => live[Math.floor(sampleRand() * N)]!),
  payloadOf: (s) => payloads[s],
  keyOf: (s) => keys[s]!,
};
for (let r = 0; r < 3; r++) planFilter(filter, ctx);
t = process.hrtime.bigint();
const plan = planFilter(filter, ctx);
console.log(
  `planFilter (3 conditions, 2 indexed): ${ms(t).toFixed(2)} ms, ${plan.candidates?.length.toLocaleString()} candidates, ` +
    `estimate ${plan.estimate.toLocaleString()} vs ${hits.toLocaleString()} true`,
);
