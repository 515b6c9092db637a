/**
 * Admission's metrics, in the server's one prom-client registry (style.md §9): gauges are read from the
 * runtime when Prometheus scrapes, so the request path only increments the rejection counter.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { PRIORITIES } from '../../admission/index.js';
import type { AdmissionRuntime } from './runtime.js';

export function installAdmissionMetrics(app: FastifyInstance, rt: AdmissionRuntime): void {
  const registers = [app.metrics.registry];
  new Gauge({
    name: 'surgevec_admission_level',
    help: 'Degradation level: 0 normal, 1 ef at floor, 2 free tier shed + result cache, 3 premium and critical only',
    registers,
    collect() {
      this.set(rt.level);
    },
  });
  new Gauge({
    name: 'surgevec_admission_limit',
    help: 'Adaptive concurrency limit for read requests (Gradient2)',
    registers,
    collect() {
      this.set(rt.limit.limit);
    },
  });
  new Gauge({
    name: 'surgevec_admission_inflight',
    help: 'Requests holding a concurrency slot, by priority',
    labelNames: ['priority'] as const,
    registers,
    collect() {
      for (let r = 0; r < 4; r++) this.set({ priority: PRIORITIES[r]! }, rt.gate.limiter.inflight[r]!);
    },
  });
  new Gauge({
    name: 'surgevec_admission_queue_depth',
    help: 'Requests waiting for a concurrency slot, by priority',
    labelNames: ['priority'] as const,
    registers,
    collect() {
      for (let r = 1; r < 4; r++) this.set({ priority: PRIORITIES[r]! }, rt.gate.queued(r as 1 | 2 | 3));
    },
  });
  const rejections = new Counter({
    name: 'surgevec_admission_rejections_total',
    help: 'Requests refused by admission control, by reason and priority',
    labelNames: ['reason', 'priority'] as const,
    registers,
  });
  rt.onReject = (reason, priority) => rejections.inc({ reason, priority });
  new Counter({
    name: 'surgevec_result_cache_hits_total',
    help: 'Searches answered from the result cache',
    registers,
    collect() {
      this.reset();
      this.inc(rt.cache?.hits ?? 0);
    },
  });
  new Counter({
    name: 'surgevec_result_cache_misses_total',
    help: 'Result cache lookups that found no valid entry',
    registers,
    collect() {
      this.reset();
      this.inc(rt.cache?.misses ?? 0);
    },
  });
  new Gauge({
    name: 'surgevec_result_cache_entries',
    help: 'Entries in the result cache',
    registers,
    collect() {
      this.set(rt.cache?.size ?? 0);
    },
  });
  new Gauge({
    name: 'surgevec_search_effective_ef',
    help: 'hnsw_ef used by searches that do not set one (SLO-adaptive; the floor at level >= 1)',
    registers,
    collect() {
      this.set(rt.ef.effective(rt.level));
    },
  });
  new Gauge({
    name: 'surgevec_ingest_budget_bytes',
    help: 'Bytes of write requests admitted and not yet finished',
    registers,
    collect() {
      this.set(rt.ingest.bytes);
    },
  });
}
