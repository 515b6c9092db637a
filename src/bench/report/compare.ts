/**
 * `bench compare a.json b.json`: the key measures of two runs side by side with the change from A to B
 * (positive = B higher). Whether higher is better depends on the row; the verdicts show which run passed.
 */
import { ms, num, pct, rate, verdictMark } from './format.js';
import type { RunFile } from './run-file.js';

interface Row {
  name: string;
  a: number | null;
  b: number | null;
  show: (v: number | null) => string;
  /** +1 when higher is better, -1 when lower is. */
  better: 1 | -1;
}

function rows(a: RunFile, b: RunFile): Row[] {
  const lat = (r: RunFile, k: 'p50' | 'p90' | 'p99' | 'p999' | 'max') => r.summary.latency_ms[k];
  return [
    {
      name: 'offered',
      a: a.summary.rates.offered_rps,
      b: b.summary.rates.offered_rps,
      show: rate,
      better: 1,
    },
    {
      name: 'throughput',
      a: a.summary.rates.throughput_rps,
      b: b.summary.rates.throughput_rps,
      show: rate,
      better: 1,
    },
    {
      name: 'goodput',
      a: a.summary.rates.goodput_rps,
      b: b.summary.rates.goodput_rps,
      show: rate,
      better: 1,
    },
    { name: 'latency p50', a: lat(a, 'p50'), b: lat(b, 'p50'), show: ms, better: -1 },
    { name: 'latency p90', a: lat(a, 'p90'), b: lat(b, 'p90'), show: ms, better: -1 },
    { name: 'latency p99', a: lat(a, 'p99'), b: lat(b, 'p99'), show: ms, better: -1 },
    { name: 'latency p99.9', a: lat(a, 'p999'), b: lat(b, 'p999'), show: ms, better: -1 },
    { name: 'latency max', a: lat(a, 'max'), b: lat(b, 'max'), show: ms, better: -1 },
    { name: 'service p99', a: a.summary.service_ms.p99, b: b.summary.service_ms.p99, show: ms, better: -1 },
    {
      name: 'error rate',
      a: a.summary.error_rate,
      b: b.summary.error_rate,
      show: (v) => pct(v, 3),
      better: -1,
    },
    {
      name: 'recall',
      a: a.summary.recall?.mean ?? null,
      b: b.summary.recall?.mean ?? null,
      show: (v) => num(v, 4),
      better: 1,
    },
    {
      name: 'server CPU mean (cores)',
      a: a.summary.server?.cpu_cores_mean ?? null,
      b: b.summary.server?.cpu_cores_mean ?? null,
      show: (v) => num(v, 2),
      better: -1,
    },
    {
      name: 'server RSS max (MB)',
      a: a.summary.server?.rss_mb_max ?? null,
      b: b.summary.server?.rss_mb_max ?? null,
      show: (v) => num(v, 0),
      better: -1,
    },
    {
      name: '$ per million requests',
      a: a.summary.cost?.usd_per_million_requests ?? null,
      b: b.summary.cost?.usd_per_million_requests ?? null,
      show: (v) => num(v, 4),
      better: -1,
    },
  ];
}

function change(r: Row): string {
  if (r.a === null || r.b === null) return '–';
  if (r.a === 0) return r.b === 0 ? '0%' : 'new';
  const d = (r.b - r.a) / Math.abs(r.a);
  const sign = d > 0 ? '+' : '';
  const verdict = Math.abs(d) < 0.02 ? '' : d * r.better > 0 ? ' better' : ' worse';
  return `${sign}${(d * 100).toFixed(1)}%${verdict}`;
}

export function compareMarkdown(a: RunFile, b: RunFile, nameA = 'A', nameB = 'B'): string {
  const out: string[] = [];
  out.push(`# ${a.scenario.name} (${nameA}) vs ${b.scenario.name} (${nameB})`);
  out.push('');
  out.push(`- ${nameA}: ${a.started_at}, ${a.target.url}, ${a.dataset.id}, SLA ${a.pass ? 'PASS' : 'FAIL'}`);
  out.push(`- ${nameB}: ${b.started_at}, ${b.target.url}, ${b.dataset.id}, SLA ${b.pass ? 'PASS' : 'FAIL'}`);
  if (a.dataset.id !== b.dataset.id)
    out.push(`- warning: different datasets (${a.dataset.id} vs ${b.dataset.id})`);
  out.push('');
  out.push(`| measure | ${nameA} | ${nameB} | change |`);
  out.push('|---|---|---|---|');
  for (const r of rows(a, b)) out.push(`| ${r.name} | ${r.show(r.a)} | ${r.show(r.b)} | ${change(r)} |`);
  out.push('');
  out.push(`| SLA | ${nameA} | ${nameB} |`);
  out.push('|---|---|---|');
  for (const v of a.verdicts) {
    const w = b.verdicts.find((x) => x.name === v.name);
    out.push(`| ${v.rule} | ${verdictMark(v.pass)} | ${w ? verdictMark(w.pass) : '–'} |`);
  }
  out.push('');
  return out.join('\n');
}
