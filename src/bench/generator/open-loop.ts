/**
 * The open-loop generator: every request has an intended start from the arrival schedule and is started then,
 * whether or not earlier ones have answered (Gil Tene's coordinated omission: a closed loop waits for the
 * server and so stops sending exactly when the server is slow, hiding the stall it should measure).
 *
 * When the transport is full (connections × pipelining on the wire) arrivals wait in the generator's own
 * queue, their wait counted in latency. Each tenant is its own client — its own connections (the transports
 * keep a pool per API key) and its own queue — so one tenant's backlog never delays another's requests in
 * the generator, as it would not between real clients; past `maxInFlight` (queued + on the wire, per tenant) an arrival is dropped and
 * counted, like k6's dropped_iterations — never silently skipped. The run is bounded three ways: the schedule
 * ends at `durationS`, at most `maxRequests` are scheduled, and after scheduling stops the generator waits at
 * most `drainMs` for answers (requests still queued are counted `unsent`, those on the wire `ABANDONED`).
 *
 * The timer fires at the next intended start (setTimeout: ≈1 ms resolution); every arrival due by then is
 * issued in that tick, and how late the tick was is recorded as timer lag (the generator's health).
 */
import type { ArrivalSchedule } from '../arrivals/schedule.js';
import type { Op, Outcome, Transport, WireRequest } from '../transports/transport.js';
import type { Recorder } from './recorder.js';

export interface PlannedRequest {
  wire: WireRequest;
  op: Op;
  tenant: number;
  /** Scores a successful answer's result (recall in [0, 1]); undefined when not sampled. */
  score?: ((result: unknown) => number | undefined) | undefined;
}

export interface GeneratorOptions {
  transport: Pick<Transport, 'send' | 'capacity'>;
  plan: () => PlannedRequest;
  recorder: Recorder;
  durationS: number;
  maxRequests: number;
  maxInFlight: number;
  drainMs: number;
  /** Called about once a second with the run time in ms (progress line, scheduled events). */
  onSecond?: (elapsedMs: number) => void;
  /** Checked every tick: true stops scheduling (capacity search, Ctrl-C). */
  shouldStop?: () => boolean;
  /** Completions, for scenario phases that watch outcomes (failover recovery). */
  onOutcome?: (intendedMs: number, doneMs: number, o: Outcome) => void;
  /** ms; performance.now by default. */
  clock?: () => number;
}

export interface GeneratorResult {
  /** performance.now() and wall-clock time of the run's t = 0. */
  t0: number;
  startedAt: string;
  elapsedMs: number;
  stoppedEarly: boolean;
  /** Fraction of the generator's event loop busy over the run (≥ 0.9: the generator is the bottleneck). */
  eventLoopUtilization: number;
}

interface Item {
  intended: number;
  req: PlannedRequest;
}

/** One client: a tenant's queue and its requests on the wire (at most the transport's capacity). */
interface Lane {
  queue: Item[];
  head: number;
  active: number;
}

export function runOpenLoop(schedule: ArrivalSchedule, o: GeneratorOptions): Promise<GeneratorResult> {
  return new Driver(o).open(schedule);
}

export function runClosedLoop(concurrency: number, o: GeneratorOptions): Promise<GeneratorResult> {
  return new Driver(o).closed(concurrency);
}

class Driver {
  private readonly clock: () => number;
  private t0 = 0;
  private readonly lanes = new Map<number, Lane>();
  private waiting = 0;
  private readonly active = new Set<Item>();
  private scheduled = 0;
  private schedulingDone = false;
  private stoppedEarly = false;
  private finished = false;
  private onFinish: () => void = () => {};
  private onScheduled: () => void = () => {};
  private readonly drained = new Promise<void>((r) => {
    this.onFinish = r;
  });
  private readonly scheduling = new Promise<void>((r) => {
    this.onScheduled = r;
  });

  constructor(private readonly o: GeneratorOptions) {
    this.clock = o.clock ?? (() => performance.now());
  }

  private now(): number {
    return this.clock() - this.t0;
  }

  private queued(): number {
    return this.waiting;
  }

  private lane(tenant: number): Lane {
    let l = this.lanes.get(tenant);
    if (!l) {
      l = { queue: [], head: 0, active: 0 };
      this.lanes.set(tenant, l);
    }
    return l;
  }

  private enqueue(item: Item): void {
    this.lane(item.req.tenant).queue.push(item);
    this.waiting++;
  }

  private start(): { startedAt: string; elu: ReturnType<typeof performance.eventLoopUtilization> } {
    this.t0 = this.clock();
    return { startedAt: new Date().toISOString(), elu: performance.eventLoopUtilization() };
  }

  private async finish(
    startedAt: string,
    elu0: ReturnType<typeof performance.eventLoopUtilization>,
    ticker: NodeJS.Timeout,
  ): Promise<GeneratorResult> {
    await this.scheduling;
    const drain = setTimeout(() => this.abandon(), this.o.drainMs);
    this.maybeFinish();
    await this.drained;
    clearTimeout(drain);
    clearInterval(ticker);
    const elapsedMs = this.now();
    this.o.recorder.scheduledUntil(Number.POSITIVE_INFINITY);
    return {
      t0: this.t0,
      startedAt,
      elapsedMs,
      stoppedEarly: this.stoppedEarly,
      eventLoopUtilization: performance.eventLoopUtilization(elu0).utilization,
    };
  }

  private endScheduling(): void {
    this.schedulingDone = true;
    this.onScheduled();
  }

  private ticker(): NodeJS.Timeout {
    return setInterval(() => {
      const now = this.now();
      this.o.recorder.gauge(now, this.queued() + this.active.size);
      this.o.onSecond?.(now);
    }, 1000);
  }

  private maybeFinish(): void {
    if (!this.finished && this.schedulingDone && this.active.size === 0 && this.queued() === 0) {
      this.finished = true;
      this.onFinish();
    }
  }

  /** The drain deadline passed: what is still queued was never sent, what is on the wire is abandoned. */
  private abandon(): void {
    if (this.finished) return;
    const rec = this.o.recorder;
    for (const l of this.lanes.values()) {
      for (let i = l.head; i < l.queue.length; i++) {
        const item = l.queue[i]!;
        rec.dropped(item.intended, 'unsent', item.req.tenant);
      }
      l.queue = [];
      l.head = 0;
    }
    this.waiting = 0;
    const now = this.now();
    for (const item of this.active) {
      rec.completed({
        intended: item.intended,
        dispatch: item.intended,
        done: now,
        outcome: { status: 0, code: 'ABANDONED' },
        op: item.req.op,
        tenant: item.req.tenant,
      });
    }
    this.active.clear();
    this.finished = true;
    this.onFinish();
  }

  private dispatch(item: Item, lane: Lane): Promise<void> {
    const rec = this.o.recorder;
    const dispatch = this.now();
    rec.dispatched();
    this.active.add(item);
    lane.active++;
    return this.o.transport.send(item.req.wire).then((outcome) => {
      lane.active--;
      // Abandoned at the drain deadline: already counted.
      if (!this.active.delete(item)) return;
      const done = this.now();
      rec.completed({
        intended: item.intended,
        dispatch,
        done,
        outcome,
        op: item.req.op,
        tenant: item.req.tenant,
      });
      this.o.onOutcome?.(item.intended, done, outcome);
      if (item.req.score && outcome.status >= 200 && outcome.status < 300) {
        const v = item.req.score(outcome.result);
        if (v !== undefined) rec.recall(done, v);
      }
    });
  }

  private pump(): void {
    for (const l of this.lanes.values()) this.pumpLane(l);
  }

  private pumpLane(l: Lane): void {
    const cap = this.o.transport.capacity;
    while (l.active < cap && l.head < l.queue.length) {
      const item = l.queue[l.head++]!;
      this.waiting--;
      void this.dispatch(item, l).then(() => {
        this.pumpLane(l);
        this.maybeFinish();
      });
    }
    if (l.head > 1024 && l.head * 2 > l.queue.length) {
      l.queue = l.queue.slice(l.head);
      l.head = 0;
    }
  }

  async open(schedule: ArrivalSchedule): Promise<GeneratorResult> {
    const { startedAt, elu } = this.start();
    const rec = this.o.recorder;
    const ticker = this.ticker();
    let next = schedule.next();
    const durationMs = this.o.durationS * 1000;
    const tick = () => {
      const now = this.now();
      if (this.o.shouldStop?.()) {
        this.stoppedEarly = true;
        next = undefined;
      }
      while (next !== undefined && next * 1000 <= now && this.scheduled < this.o.maxRequests) {
        const intended = next * 1000;
        this.scheduled++;
        rec.scheduled(intended);
        const req = this.o.plan();
        const lane = this.lane(req.tenant);
        // The bound is per client (tenant), as the connections are: a flooded tier drops its own arrivals.
        if (lane.queue.length - lane.head + lane.active >= this.o.maxInFlight) {
          rec.dropped(intended, 'cap', req.tenant);
        } else {
          rec.ticked(intended, now);
          this.enqueue({ intended, req });
        }
        next = schedule.next();
      }
      const done = next === undefined || this.scheduled >= this.o.maxRequests;
      rec.scheduledUntil(done ? Math.min(now, durationMs) : next! * 1000);
      this.pump();
      if (done) {
        this.endScheduling();
        this.maybeFinish();
        return;
      }
      setTimeout(tick, Math.max(0, next! * 1000 - this.now()));
    };
    tick();
    return this.finish(startedAt, elu, ticker);
  }

  async closed(concurrency: number): Promise<GeneratorResult> {
    const { startedAt, elu } = this.start();
    const rec = this.o.recorder;
    const ticker = this.ticker();
    const durationMs = this.o.durationS * 1000;
    const worker = async () => {
      for (;;) {
        const now = this.now();
        if (now >= durationMs || this.scheduled >= this.o.maxRequests) return;
        if (this.o.shouldStop?.()) {
          this.stoppedEarly = true;
          return;
        }
        this.scheduled++;
        // No schedule: the next request starts when the last one answered, and is measured from then.
        rec.scheduled(now);
        rec.ticked(now, now);
        rec.scheduledUntil(now);
        const req = this.o.plan();
        await this.dispatch({ intended: now, req }, this.lane(req.tenant));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    rec.scheduledUntil(this.now());
    this.endScheduling();
    return this.finish(startedAt, elu, ticker);
  }
}
