/** `GET /admin/status`: the admission state an operator (or the benchmark) watches, as one JSON object. */
import type { FastifyInstance } from 'fastify';
import { PRIORITIES } from '../../../admission/index.js';
import type { AdmissionRuntime } from '../../admission/runtime.js';
import { ok } from '../../envelope.js';

/** The process's memory as V8 sees it: RSS includes garbage not yet collected and heap V8 keeps. */
function memory(budget: number) {
  const m = process.memoryUsage();
  return {
    rss_bytes: m.rss,
    budget_bytes: budget,
    heap_used_bytes: m.heapUsed,
    heap_total_bytes: m.heapTotal,
    external_bytes: m.external,
    array_buffers_bytes: m.arrayBuffers,
  };
}

export function admissionStatus(rt: AdmissionRuntime | undefined) {
  if (rt === undefined) return { enabled: false, level: 0 };
  const now = rt.now();
  const perPriority = (f: (r: 0 | 1 | 2 | 3) => number | string) =>
    Object.fromEntries(PRIORITIES.map((p, r) => [p, f(r as 0 | 1 | 2 | 3)]));
  const cache = rt.cache;
  const lookups = cache ? cache.hits + cache.misses : 0;
  return {
    enabled: true,
    open: rt.open,
    level: rt.level,
    level_since_ms: Math.round(now - rt.ladder.changedAt),
    search_p99_ms: rt.lastP99Ms,
    shed_fraction: rt.lastShedFraction,
    limit: {
      current: rt.limit.limit,
      long_rtt_ms: rt.limit.longRttMs,
      last_rtt_ms: rt.limit.lastRtt,
    },
    inflight: perPriority((r) => rt.gate.limiter.inflight[r]!),
    queued: perPriority((r) => (r === 0 ? 0 : rt.gate.queued(r))),
    queue_state: perPriority((r) => (r === 0 ? 'empty' : rt.gate.state(r))),
    ef: {
      effective: rt.ef.effective(rt.level),
      controller: rt.ef.ef,
      floor: rt.cfg.ef.floor,
      ceiling: rt.cfg.ef.ceiling,
      target_p99_ms: rt.cfg.ef.target_p99_ms,
    },
    cache: cache
      ? {
          entries: cache.size,
          hits: cache.hits,
          misses: cache.misses,
          hit_rate: lookups === 0 ? 0 : cache.hits / lookups,
          from_level: rt.cfg.cache.from_level,
        }
      : null,
    ingest: {
      bytes: rt.ingest.bytes,
      ops: rt.ingest.ops,
      max_bytes: rt.cfg.ingest.max_bytes,
      max_ops: rt.cfg.ingest.max_ops,
      paused_for_memory: rt.ingest.closed,
    },
    memory: memory(rt.cfg.memory_budget_bytes),
    rejections: Object.fromEntries(rt.rejections),
    tenants: rt.store.registry.size,
  };
}

export async function statusRoute(app: FastifyInstance): Promise<void> {
  app.get('/admin/status', async (req) => ok(admissionStatus(app.admission), req.startedAt));
}
