/** The console summary and the Markdown report: two text views of one run file. */
import { int, ms, num, pct, rate, verdictActual, verdictMark } from './format.js';
import type { RunFile } from './run-file.js';

/** Scenario extras as flat `key: value` rows (nested objects by dotted key, long arrays shortened). */
export function flattenExtras(extras: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (prefix: string, v: unknown, depth: number) => {
    if (v === null || v === undefined) out.push([prefix, '–']);
    else if (Array.isArray(v)) {
      const shown = v
        .slice(0, 12)
        .map((x) => (typeof x === 'number' ? String(+x.toFixed(3)) : JSON.stringify(x)));
      out.push([prefix, `[${shown.join(', ')}${v.length > 12 ? `, … ${v.length} in all` : ''}]`]);
    } else if (typeof v === 'object' && depth < 3) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x, depth + 1);
    } else if (typeof v === 'number') out.push([prefix, String(+v.toFixed(3))]);
    else out.push([prefix, typeof v === 'string' ? v : JSON.stringify(v)]);
  };
  walk('', extras, 0);
  return out;
}

/** Chart markers (kill, burst…) are for the HTML; the text views show the measurements they come from. */
export function withoutEvents(extras: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(extras).filter(([k]) => k !== 'events'));
}

export function consoleSummary(r: RunFile): string {
  const s = r.summary;
  const l: string[] = [];
  const row = (k: string, v: string) => l.push(`  ${k.padEnd(22)} ${v}`);
  l.push('');
  l.push(
    `${r.scenario.name} against ${r.target.url} — ${r.pass ? 'PASS' : 'FAIL'}${r.stopped_early ? ' (stopped early)' : ''}`,
  );
  l.push(`  ${r.dataset.about}`);
  row('elapsed', `${num(s.elapsed_s, 1)} s`);
  row(
    'requests',
    `${int(s.requests.scheduled)} scheduled, ${int(s.requests.ok)} ok, ${int(s.requests.errors)} errors, ` +
      `${int(s.requests.dropped)} dropped, ${int(s.requests.unsent)} unsent, ${int(s.requests.late_starts)} late starts`,
  );
  row(
    'rates',
    `offered ${rate(s.rates.offered_rps)}, throughput ${rate(s.rates.throughput_rps)}, goodput ${rate(s.rates.goodput_rps)} (${pct(s.rates.goodput_ratio, 1)} within ${r.slo.p99_ms} ms)`,
  );
  const p = s.latency_ms;
  row(
    'latency',
    `p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  p99.9 ${ms(p.p999)}  max ${ms(p.max)}`,
  );
  const q = s.service_ms;
  row(
    'service time',
    `p50 ${ms(q.p50)}  p99 ${ms(q.p99)}  max ${ms(q.max)}  (from dispatch; latency is from the intended start)`,
  );
  row(
    'error rate',
    `${pct(s.error_rate, 3)}${
      Object.keys(s.errors.by_code).length
        ? `  ${Object.entries(s.errors.by_code)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')}`
        : ''
    }`,
  );
  if (s.retry_after.count)
    row(
      'Retry-After',
      `${s.retry_after.count} answers, mean ${s.retry_after.mean_s} s, max ${s.retry_after.max_s} s`,
    );
  if (s.refusals?.latency_ms.count)
    row(
      'refusals',
      `${int(s.refusals.latency_ms.count)} × 429/503: p50 ${ms(s.refusals.latency_ms.p50)}  p99 ${ms(s.refusals.latency_ms.p99)}  (service p99 ${ms(s.refusals.service_ms.p99)}${s.refusals.server_ms?.count ? `, server p99 ${ms(s.refusals.server_ms.p99)}` : ''})`,
    );
  row(
    'recall',
    s.recall
      ? `recall@${s.recall.k} ${num(s.recall.mean, 4)} (min ${num(s.recall.min, 2)}, ${int(s.recall.samples)} samples)`
      : 'not measured',
  );
  if (s.server)
    row(
      'server',
      `CPU ${num(s.server.cpu_cores_mean, 2)} cores mean, ${num(s.server.cpu_cores_max, 2)} max; RSS ${int(s.server.rss_mb_start)} → ${int(s.server.rss_mb_max)} MB max`,
    );
  if (s.cost)
    row(
      'cost',
      `$${num(s.cost.usd_per_million_requests, 4)} per million requests (${s.cost.cores} cores at $${s.cost.usd_per_core_hour}/core-hour)`,
    );
  row(
    'generator',
    `event loop ${pct(s.generator.event_loop_utilization, 0)} busy, timer lag p99 ${ms(s.timer_lag_ms.p99)}`,
  );
  for (const [k, v] of flattenExtras(withoutEvents(r.extras))) row(k, v);
  l.push('  SLA');
  for (const v of r.verdicts)
    l.push(
      `    ${verdictMark(v.pass).padEnd(5)} ${v.rule.padEnd(26)} actual ${verdictActual(v.name, v.actual)}`,
    );
  if (r.anomalies.length) {
    l.push('  anomalies (EWMA z-score)');
    for (const a of r.anomalies.slice(0, 10))
      l.push(
        `    ${a.series} ${a.direction} at ${a.from_s}–${a.to_s} s: ${num(a.peak)} vs ${num(a.expected)} expected (z ${a.z})`,
      );
  }
  if (r.recommendations.length) {
    l.push('  recommendations');
    for (const x of r.recommendations) l.push(`    [${x.rule}] ${x.message}`);
  }
  l.push('');
  return l.join('\n');
}

function table(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function markdownReport(r: RunFile): string {
  const s = r.summary;
  const p = s.latency_ms;
  const out: string[] = [];
  out.push(`# ${r.scenario.name}: ${r.pass ? 'PASS' : 'FAIL'}`);
  out.push('');
  out.push(
    `${r.started_at} · target ${r.target.url}${r.target.server?.version ? ` (${r.target.server.title ?? 'server'} ${r.target.server.version})` : ''} · ` +
      `${r.dataset.about} · host ${r.host.cpus} CPUs (${r.host.cpu_model}), ${r.host.note}`,
  );
  out.push('');
  out.push(
    table(
      ['SLA', 'actual', 'verdict'],
      r.verdicts.map((v) => [v.rule, verdictActual(v.name, v.actual), verdictMark(v.pass)]),
    ),
  );
  out.push('');
  out.push('## Summary');
  out.push('');
  out.push(
    table(
      ['measure', 'value'],
      [
        ['elapsed', `${num(s.elapsed_s, 1)} s${r.stopped_early ? ' (stopped early)' : ''}`],
        [
          'scheduled / ok / errors',
          `${int(s.requests.scheduled)} / ${int(s.requests.ok)} / ${int(s.requests.errors)}`,
        ],
        [
          'dropped / unsent / late starts',
          `${int(s.requests.dropped)} / ${int(s.requests.unsent)} / ${int(s.requests.late_starts)}`,
        ],
        [
          'offered / throughput / goodput',
          `${rate(s.rates.offered_rps)} / ${rate(s.rates.throughput_rps)} / ${rate(s.rates.goodput_rps)}`,
        ],
        ['latency p50 / p90 / p95', `${ms(p.p50)} / ${ms(p.p90)} / ${ms(p.p95)}`],
        ['latency p99 / p99.9 / max', `${ms(p.p99)} / ${ms(p.p999)} / ${ms(p.max)}`],
        ['service time p50 / p99', `${ms(s.service_ms.p50)} / ${ms(s.service_ms.p99)}`],
        ['error rate', pct(s.error_rate, 3)],
        [
          'errors by code',
          Object.entries(s.errors.by_code)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ') || '–',
        ],
        ['Retry-After', s.retry_after.count ? `${s.retry_after.count}, mean ${s.retry_after.mean_s} s` : '–'],
        [
          'refusals (429/503) p50 / p99, service p99, server p99',
          s.refusals?.latency_ms.count
            ? `${ms(s.refusals.latency_ms.p50)} / ${ms(s.refusals.latency_ms.p99)}, ${ms(s.refusals.service_ms.p99)}, ${s.refusals.server_ms?.count ? ms(s.refusals.server_ms.p99) : '–'}`
            : '–',
        ],
        [
          'recall',
          s.recall
            ? `@${s.recall.k} ${num(s.recall.mean, 4)} (${int(s.recall.samples)} samples)`
            : 'not measured',
        ],
        [
          'server CPU mean / max',
          s.server ? `${num(s.server.cpu_cores_mean, 2)} / ${num(s.server.cpu_cores_max, 2)} cores` : '–',
        ],
        [
          'server RSS start / max',
          s.server ? `${int(s.server.rss_mb_start)} / ${int(s.server.rss_mb_max)} MB` : '–',
        ],
        [
          'cost per million requests',
          s.cost
            ? `$${num(s.cost.usd_per_million_requests, 4)} (${s.cost.cores} cores × $${s.cost.usd_per_core_hour}/h)`
            : '–',
        ],
        ['generator event loop busy', pct(s.generator.event_loop_utilization, 0)],
      ],
    ),
  );
  const extras = flattenExtras(withoutEvents(r.extras));
  if (extras.length) {
    out.push('');
    out.push('## Scenario measurements');
    out.push('');
    out.push(table(['measure', 'value'], extras));
  }
  if (s.by_tenant.length) {
    out.push('');
    out.push('## Tenants');
    out.push('');
    out.push(
      table(
        [
          'tenant',
          'requests',
          'dropped',
          'ok',
          'success',
          'goodput',
          'p50',
          'p99',
          'p99.9',
          'refusals',
          'refusal p99',
        ],
        s.by_tenant.map((t) => [
          t.name,
          int(t.count),
          int(t.dropped ?? 0),
          int(t.ok),
          t.success_ratio === undefined ? '—' : pct(t.success_ratio, 2),
          t.goodput === undefined ? '—' : int(t.goodput),
          ms(t.latency_ms.p50),
          ms(t.latency_ms.p99),
          ms(t.latency_ms.p999),
          int(t.refusal_ms?.count ?? 0),
          t.refusal_ms?.count ? ms(t.refusal_ms.p99) : '—',
        ]),
      ),
    );
  }
  out.push('');
  out.push('## Anomalies');
  out.push('');
  out.push(
    r.anomalies.length
      ? table(
          ['series', 'seconds', 'direction', 'peak', 'expected', 'z'],
          r.anomalies.map((a) => [
            a.series,
            `${a.from_s}–${a.to_s}`,
            a.direction,
            num(a.peak),
            num(a.expected),
            String(a.z),
          ]),
        )
      : 'None flagged.',
  );
  out.push('');
  out.push('## Recommendations');
  out.push('');
  out.push(
    r.recommendations.length
      ? r.recommendations.map((x) => `- **${x.rule}** (${x.severity}): ${x.message}`).join('\n')
      : 'None.',
  );
  if (r.notes.length) {
    out.push('');
    out.push('## Notes');
    out.push('');
    out.push(r.notes.map((n) => `- ${n}`).join('\n'));
  }
  out.push('');
  return out.join('\n');
}
