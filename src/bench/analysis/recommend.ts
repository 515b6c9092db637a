/**
 * Rule-based recommendations: each rule reads the summary (and a few scenario facts), fires on a documented
 * condition and says what to look at. The table in docs/BENCH.md lists every rule with its condition; the
 * ids are stable so CI can grep for them. Pure.
 */
import type { Recommendation, RunSummary, ServerSeriesRecord } from '../report/run-file.js';
import type { Slo } from '../scenarios/schema.js';

export interface RuleContext {
  s: RunSummary;
  slo: Slo;
  /** Cores the server may use (host CPUs when it shares the host). */
  cores: number;
  ef?: number | undefined;
  connections: number;
  pipelining: number;
  burstRecoveryS?: number | null | undefined;
  server: ServerSeriesRecord | null;
  /** 1-minute load average of the host when the run started. */
  hostLoad?: number | undefined;
}

interface Rule {
  id: string;
  severity: Recommendation['severity'];
  check: (c: RuleContext) => string | undefined;
}

const pct = (x: number) => `${+(x * 100).toFixed(2)}%`;

/** Least-squares slope of RSS (MB) per minute over the run, from the scraped series. */
export function rssSlopeMbPerMin(server: ServerSeriesRecord | null): number | null {
  if (!server) return null;
  const pts: [number, number][] = [];
  server.t.forEach((t, i) => {
    const v = server.rss_mb[i];
    if (v !== null && v !== undefined) pts.push([t, v]);
  });
  if (pts.length < 10) return null;
  const n = pts.length;
  const mx = pts.reduce((a, p) => a + p[0], 0) / n;
  const my = pts.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of pts) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den > 0 ? (num / den) * 60 : null;
}

export const RULES: readonly Rule[] = [
  {
    id: 'generator-behind',
    severity: 'warn',
    check: ({ s }) => {
      const late = s.requests.scheduled ? s.requests.late_starts / s.requests.scheduled : 0;
      if (late <= 0.01 && s.generator.event_loop_utilization < 0.9) return undefined;
      return (
        `The load generator fell behind its own schedule (${pct(late)} of starts more than ${s.generator.late_ms} ms late, ` +
        `event loop ${pct(s.generator.event_loop_utilization)} busy). Latency is still measured from the intended ` +
        'start, so it is not understated, but part of it is the client: run the bench on another machine or lower the rate.'
      );
    },
  },
  {
    id: 'dropped-arrivals',
    severity: 'critical',
    check: ({ s }) => {
      const d = s.requests.dropped + s.requests.unsent;
      if (d === 0) return undefined;
      return (
        `${d} arrivals were never served (${s.requests.dropped} over limits.max_in_flight, ${s.requests.unsent} still ` +
        'queued at the end): the target could not absorb the offered rate. They count as errors. Lower the rate, add ' +
        'capacity, or reject early (429/503 with Retry-After) so clients back off instead of queueing.'
      );
    },
  },
  {
    id: 'client-queueing',
    severity: 'warn',
    check: ({ s, slo, cores, connections, pipelining, hostLoad }) => {
      if (s.latency_ms.p99 <= slo.p99_ms || s.latency_ms.p99 < 2 * s.service_ms.p99) return undefined;
      const busy = s.server?.cpu_cores_mean ?? null;
      // Low server CPU on a contended host means starved, not idle.
      const idle = busy !== null && busy < 0.8 * cores && (hostLoad ?? 0) <= cores;
      return (
        `p99 latency (${s.latency_ms.p99} ms) is over twice the p99 service time (${s.service_ms.p99} ms): requests ` +
        `mostly waited for one of the ${connections * pipelining} connection slots. ` +
        (idle
          ? 'The server had idle CPU: raise transport.connections or pipelining.'
          : 'If the server is busy this is saturation showing as queueing; otherwise raise transport.connections.')
      );
    },
  },
  {
    id: 'server-cpu-saturated',
    severity: 'warn',
    check: ({ s, slo, cores }) => {
      const max = s.server?.cpu_cores_max;
      if (max === null || max === undefined || max < 0.9 * cores || s.latency_ms.p99 <= slo.p99_ms)
        return undefined;
      return (
        `The server used up to ${max} of ${cores} cores while p99 broke the SLO: it is CPU-bound. Scale out or up, ` +
        'lower query.ef (recall permitting), or batch searches.'
      );
    },
  },
  {
    id: 'recall-below-target',
    severity: 'critical',
    check: ({ s, slo, ef }) => {
      if (!s.recall || s.recall.mean >= slo.recall) return undefined;
      return (
        `recall@${s.recall.k} was ${s.recall.mean} (< ${slo.recall}) at ef ${ef ?? 'server default'}: raise ` +
        'query.ef (params.hnsw_ef) or build the collection with larger m / ef_construct.'
      );
    },
  },
  {
    id: 'recall-headroom',
    severity: 'info',
    check: ({ s, slo, ef }) => {
      if (!s.recall || s.recall.mean < slo.recall + 0.03 || s.latency_ms.p99 <= slo.p99_ms) return undefined;
      return (
        `recall (${s.recall.mean}) has headroom over ${slo.recall} while p99 misses the SLO: a lower ef than ` +
        `${ef ?? 'the default'} trades recall for latency.`
      );
    },
  },
  {
    id: 'throttled',
    severity: 'info',
    check: ({ s }) => {
      const n429 = s.errors.by_status['429'] ?? 0;
      if (n429 === 0) return undefined;
      return (
        `${n429} requests were refused with 429 (over quota)` +
        (s.retry_after.count
          ? `, Retry-After mean ${s.retry_after.mean_s} s, max ${s.retry_after.max_s} s`
          : '') +
        ': clients must back off for Retry-After; raise the tenant quota if the traffic is legitimate.'
      );
    },
  },
  {
    id: 'shed-503',
    severity: 'warn',
    check: ({ s }) => {
      const n = s.errors.by_status['503'] ?? 0;
      if (n === 0) return undefined;
      return (
        `${n} requests were shed with 503 (server saturated or draining)` +
        (s.retry_after.count ? `, Retry-After mean ${s.retry_after.mean_s} s` : '') +
        ': add capacity for this load, or accept shedding of low tiers as designed.'
      );
    },
  },
  {
    id: 'slow-burst-recovery',
    severity: 'warn',
    check: ({ burstRecoveryS }) => {
      if (burstRecoveryS === undefined) return undefined;
      if (burstRecoveryS === null)
        return 'p99 never came back under the SLO after the burst within the run: the backlog outlasted it. Bound queues (deadlines, CoDel) so old work is shed, not served late.';
      if (burstRecoveryS <= 10) return undefined;
      return `p99 took ${burstRecoveryS} s after the burst ended to return under the SLO: queues drained slowly. Bound queues (deadlines, CoDel) so old work is shed, not served late.`;
    },
  },
  {
    id: 'memory-growth',
    severity: 'warn',
    check: ({ s, server }) => {
      const slope = rssSlopeMbPerMin(server);
      const growth = (s.server?.rss_mb_end ?? 0) - (s.server?.rss_mb_start ?? 0);
      // A minute of warm-up (heap sizing, JIT) grows RSS by tens of MB: judge longer runs and real growth only.
      if (slope === null || s.elapsed_s < 120 || slope < 5 || growth < 50) return undefined;
      return `Server RSS grew ${slope.toFixed(1)} MB/min over the run (${s.server?.rss_mb_start} → ${s.server?.rss_mb_end} MB): expected while points are added; otherwise soak longer and take a heap snapshot.`;
    },
  },
  {
    id: 'tail-latency',
    severity: 'info',
    check: ({ s, slo }) => {
      if (s.latency_ms.p50 >= slo.p50_ms || s.latency_ms.p99 <= slo.p99_ms) return undefined;
      if (s.service_ms.p99 < 0.5 * s.latency_ms.p99) return undefined;
      return (
        `The median is fine (${s.latency_ms.p50} ms) but p99 is ${s.latency_ms.p99} ms and the server's own service ` +
        'time has the same tail: look at server-side pauses (GC, background indexing while the collection is yellow, fsync on writes).'
      );
    },
  },
  {
    id: 'network-errors',
    severity: 'warn',
    check: ({ s }) => {
      const codes = Object.entries(s.errors.by_code).filter(([c]) =>
        /^(ECONNREFUSED|ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED|WS_CLOSED|WS_CONNECT_FAILED|NETWORK_ERROR)$/.test(
          c,
        ),
      );
      const n = codes.reduce((a, [, v]) => a + v, 0);
      if (n === 0) return undefined;
      return `${n} requests failed at the connection level (${codes.map(([c, v]) => `${c} ${v}`).join(', ')}): the server was down or refused connections (file descriptor limit, ulimit -n).`;
    },
  },
  {
    id: 'host-contended',
    severity: 'warn',
    check: ({ hostLoad, cores }) => {
      if (hostLoad === undefined || hostLoad <= cores) return undefined;
      return (
        `The host was busy before the run started (load average ${hostLoad} on ${cores} CPUs): other processes ` +
        'competed with the server and the generator, so latency and throughput are worse than on a quiet machine. ' +
        'Compare only runs made under the same conditions.'
      );
    },
  },
  {
    id: 'headroom',
    severity: 'info',
    check: ({ s, slo, cores }) => {
      const mean = s.server?.cpu_cores_mean;
      if (mean === null || mean === undefined || mean >= 0.3 * cores) return undefined;
      if (s.latency_ms.p99 > slo.p99_ms || s.error_rate >= slo.error_rate) return undefined;
      return `All SLOs held with the server at ${mean} of ${cores} cores on average: there is headroom (the capacity scenario finds the maximum rate), and cost per request falls as utilisation rises.`;
    },
  },
];

export function recommend(c: RuleContext): Recommendation[] {
  const out: Recommendation[] = [];
  for (const r of RULES) {
    const message = r.check(c);
    if (message) out.push({ rule: r.id, severity: r.severity, message });
  }
  return out;
}
