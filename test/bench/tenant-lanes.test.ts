/**
 * Tenants are separate clients in the generator: each has its own connections, queue and max_in_flight, so
 * one tier's backlog neither delays nor drops another's arrivals (as between real clients), and a drop is
 * charged to its tenant — per-tier success counts it. A transport stand-in answers tenant 0 in 300 ms and
 * tenant 1 in 2 ms, one request at a time per tenant.
 */
import { describe, expect, it } from 'vitest';
import { rateCurve } from '../../src/bench/arrivals/rate.js';
import { ArrivalSchedule } from '../../src/bench/arrivals/schedule.js';
import { percentiles } from '../../src/bench/generator/histogram.js';
import { runOpenLoop } from '../../src/bench/generator/open-loop.js';
import { Recorder } from '../../src/bench/generator/recorder.js';
import type { WireRequest } from '../../src/bench/transports/transport.js';
import { rng } from '../../src/platform/random.js';

describe('tenants as separate clients', () => {
  it("a slow tenant's backlog does not delay or drop a fast tenant's requests", async () => {
    const durationS = 2;
    const recorder = new Recorder({ goodputMs: 50, lateMs: 10, tenants: 2 });
    let n = 0;
    const transport = {
      capacity: 1,
      send: (req: WireRequest) =>
        new Promise<{ status: number }>((resolve) =>
          setTimeout(() => resolve({ status: 200 }), req.apiKey === 'slow' ? 300 : 2),
        ),
    };
    await runOpenLoop(
      new ArrivalSchedule(
        rateCurve({ kind: 'constant', rate: 40, spacing: 'uniform' }, durationS),
        'uniform',
        rng(3),
        durationS,
      ),
      {
        transport,
        recorder,
        plan: () => {
          const tenant = n++ % 2;
          return {
            op: 'search',
            tenant,
            wire: { op: 'search', collection: 'c', body: '{}', apiKey: tenant === 0 ? 'slow' : 'fast' },
          };
        },
        durationS,
        maxRequests: 10_000,
        // Per tenant: the slow one (20/s against 3.3/s served) fills its 4 and drops the rest.
        maxInFlight: 4,
        drainMs: 5000,
      },
    );
    const r = recorder.finish();
    const [slow, fast] = r.byTenant;
    expect(fast!.dropped).toBe(0);
    expect(fast!.ok).toBe(40);
    // 2 ms each, one at a time, never behind the slow tenant's 300 ms requests (a shared queue would put
    // every fast request behind several of them).
    expect(percentiles(fast!.latency).max).toBeLessThan(100);
    expect(slow!.dropped).toBeGreaterThan(20);
    expect(slow!.dropped + slow!.count).toBe(40);
    expect(r.counts.dropped).toBe(slow!.dropped);
  });
});
