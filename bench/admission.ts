/**
 * Admission's hot path: what each per-request decision costs (ns/op) — GCRA, the gate (admit + release),
 * a Gradient2 sample, key → tenant, priority — and, end to end through Fastify (app.inject), what the hooks
 * add to an admitted request and what a refusal costs compared with the same request without admission.
 * Run: `npx tsx bench/admission.ts [iterations]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdmissionGate,
  derivePriority,
  GRADIENT_DEFAULTS,
  GradientLimit,
  hashKey,
  LocalQuotaStore,
  TenantRegistry,
} from '../src/admission/index.js';
import { type ConfigOptions, defaultConfig } from '../src/config/index.js';
import { Engine } from '../src/engine/index.js';
import { buildApp } from '../src/server/app.js';

const N = Number(process.argv[2] ?? 2_000_000);

function bench(label: string, n: number, fn: (i: number) => void): void {
  for (let i = 0; i < Math.min(n, 100_000); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label.padEnd(52)} ${ns.toFixed(0).padStart(7)} ns/op`);
}

console.log(`# pure policies, ${N.toLocaleString()} iterations each`);
const store = new LocalQuotaStore();
const limit = { ratePerSec: 1e9, burst: 1e9 };
bench('GCRA take (LocalQuotaStore, 100 tenants)', N, (i) => {
  store.take(`r:t${i % 100}`, 1, limit, i);
});
const gate = new AdmissionGate<number>(
  { high: 0.6, normal: 0.3, low: 0.1 },
  { targetMs: 5, intervalMs: 100, capacity: 256 },
  { admit: () => undefined, drop: () => undefined },
);
bench('gate offer (admitted) + release', N, (i) => {
  gate.offer(2, i, i, i + 1000, 64);
  gate.release(2, i, 64);
});
const g = new GradientLimit(GRADIENT_DEFAULTS);
bench('Gradient2 sample (window of 10 / 100 ms)', N, (i) => {
  g.update({ rttMs: 5 + (i % 7), inflight: 40 }, i * 0.02);
});
const registry = new TenantRegistry();
for (let t = 0; t < 1000; t++) {
  registry.put({
    id: `t${t}`,
    tier: 'free',
    quotas: {},
    keyHashes: [hashKey(`key-${t}-0123456789`)],
    source: 'api',
  });
}
bench('key → tenant (seen key)', N, (i) => {
  registry.resolve(`key-${i % 1000}-0123456789`);
});
bench('key → tenant (first sight: SHA-256)', N / 10, (i) => {
  hashKey(`key-${i}-0123456789`);
});
bench('derivePriority', N, (i) => {
  derivePriority(i % 2 ? 'premium' : 'free', 'read', i % 3 ? undefined : 'low');
});

console.log('\n# through Fastify (app.inject, in-process engine): per request, three apps interleaved');
const ADMIN = 'admin-key-0123456789';
const FREE = 'free-key-0123456789';
const json = { 'content-type': 'application/json' };

async function app(options: ConfigOptions, key?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'surgevec-bench-admission-'));
  const config = defaultConfig({ ...options, storage: { data_dir: dir } });
  const engine = await Engine.open(config);
  const a = await buildApp({ engine, config });
  const headers = key ? { ...json, 'api-key': key } : json;
  await a.inject({
    method: 'PUT',
    url: '/collections/c',
    headers,
    payload: '{"vectors":{"size":4,"distance":"Dot"}}',
  });
  return {
    a,
    headers,
    async close() {
      await a.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const keyed = {
  admission: { admin_key: ADMIN },
  tenants: [{ id: 'f', tier: 'free' as const, keys: [FREE], quotas: { reads_per_s: 1e9, reads_burst: 1e9 } }],
};
const runs = {
  'count, admission off': await app({ admission: { enabled: false } }),
  'count, admitted (key, quota, gate)': await app(keyed, FREE),
  'count, refused 503 (level 2 sheds free)': await app(keyed, FREE),
};
runs['count, refused 503 (level 2 sheds free)'].a.admission!.ladder = {
  level: 2,
  hotSince: null,
  calmSince: null,
  changedAt: 0,
};
// Rounds alternate between the apps, so a noisy neighbour on the machine hits all three alike.
const totals = new Map<string, number>();
const ROUNDS = 12;
const PER_ROUND = 2000;
for (let round = 0; round < ROUNDS; round++) {
  for (const [label, r] of Object.entries(runs)) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PER_ROUND; i++) {
      await r.a.inject({
        method: 'POST',
        url: '/collections/c/points/count',
        headers: r.headers,
        payload: '{}',
      });
    }
    if (round >= 2) totals.set(label, (totals.get(label) ?? 0) + Number(process.hrtime.bigint() - t0));
  }
}
const us = (label: string) => totals.get(label)! / ((ROUNDS - 2) * PER_ROUND) / 1000;
for (const label of Object.keys(runs))
  console.log(`${label.padEnd(52)} ${us(label).toFixed(1).padStart(7)} µs/req`);
const base = us('count, admission off');
console.log(
  `admission adds ${(us('count, admitted (key, quota, gate)') - base).toFixed(1)} µs to an admitted request; ` +
    `a refusal costs ${us('count, refused 503 (level 2 sheds free)').toFixed(1)} µs (the count it replaces: ${base.toFixed(1)} µs)`,
);
for (const r of Object.values(runs)) await r.close();
