/**
 * SLA verdicts: each threshold of the scenario's `slo` against the run's summary. A value that was not
 * measured (no recall samples, nothing completed) is `pass: null` — it neither passes nor fails — and the run
 * passes when no verdict is false. `surgevec bench run` exits 2 when it does not (CI-friendly).
 */
import type { RunSummary, Verdict } from '../report/run-file.js';
import type { Slo } from '../scenarios/schema.js';

export function verdicts(s: RunSummary, slo: Slo): Verdict[] {
  const measured = s.latency_ms.count > 0;
  const out: Verdict[] = [
    {
      name: 'p50',
      rule: `p50 < ${slo.p50_ms} ms`,
      threshold: slo.p50_ms,
      actual: measured ? s.latency_ms.p50 : null,
      pass: measured ? s.latency_ms.p50 < slo.p50_ms : null,
    },
    {
      name: 'p99',
      rule: `p99 < ${slo.p99_ms} ms`,
      threshold: slo.p99_ms,
      actual: measured ? s.latency_ms.p99 : null,
      pass: measured ? s.latency_ms.p99 < slo.p99_ms : null,
    },
    {
      name: 'error_rate',
      rule: `error rate < ${+(slo.error_rate * 100).toPrecision(6)}%`,
      threshold: slo.error_rate,
      actual: s.requests.scheduled > 0 ? s.error_rate : null,
      pass: s.requests.scheduled > 0 ? s.error_rate < slo.error_rate : null,
    },
    {
      name: 'recall',
      rule: `recall@${s.recall?.k ?? 10} ≥ ${slo.recall}`,
      threshold: slo.recall,
      actual: s.recall ? s.recall.mean : null,
      pass: s.recall ? s.recall.mean >= slo.recall : null,
    },
  ];
  return out;
}

export function passes(v: readonly Verdict[]): boolean {
  return v.every((x) => x.pass !== false);
}
