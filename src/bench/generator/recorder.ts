/**
 * The one stream of samples a run produces (style.md §9), folded as it arrives into hdr histograms and
 * per-second series; every view (console, JSON, Markdown, HTML) reads what this returns.
 *
 * Times are ms on the generator's clock from the run's start. Latency = done − intended (the user's view:
 * queueing in the client included, so a stalled server shows), service = done − dispatch (the server's view),
 * timer lag = tick − intended (the generator's own lateness: its health, not the server's). Latency and
 * service histograms hold successful requests only: a refused connection answers in 0.1 ms and would make
 * an outage look fast; failures are counted (by status, code, class and second) and judged by the error rate.
 *
 * Latency percentiles per second are by *intended* second (what users arriving then experienced), closed
 * once every request intended in that second has finished; counts of completions, errors and goodput are by
 * completion second (what the server delivered then).
 */
import type { Op, Outcome } from '../transports/transport.js';
import { type Histogram, newHistogram, recordMs } from './histogram.js';

export type ErrorClass =
  | 'throttled_429'
  | 'overloaded_503'
  | 'client_4xx'
  | 'server_5xx'
  | 'timeout'
  | 'network';
export const ERROR_CLASSES: readonly ErrorClass[] = [
  'throttled_429',
  'overloaded_503',
  'client_4xx',
  'server_5xx',
  'timeout',
  'network',
];

export function errorClass(o: Outcome): ErrorClass | undefined {
  if (o.status >= 200 && o.status < 300) return undefined;
  if (o.status === 429) return 'throttled_429';
  if (o.status === 503) return 'overloaded_503';
  if (o.status >= 400 && o.status < 500) return 'client_4xx';
  if (o.status >= 500) return 'server_5xx';
  return o.code === 'TIMEOUT' ? 'timeout' : 'network';
}

export interface Completion {
  intended: number;
  dispatch: number;
  done: number;
  outcome: Outcome;
  op: Op;
  /** Index into the scenario's tenants, -1 without tenants. */
  tenant: number;
}

export interface Series {
  /** Second index (run time) of each column. */
  t: number[];
  offered: number[];
  dropped: number[];
  late: number[];
  lat_p50: (number | null)[];
  lat_p90: (number | null)[];
  lat_p99: (number | null)[];
  lat_max: (number | null)[];
  svc_p99: (number | null)[];
  completed: number[];
  ok: number[];
  goodput: number[];
  errors: number[];
  errors_by_class: Record<ErrorClass, number[]>;
  recall: (number | null)[];
  /** Requests queued in the generator or in flight, sampled once a second. */
  in_flight: (number | null)[];
}

export interface Breakdown {
  count: number;
  ok: number;
  errors: number;
  latency: Histogram;
  /** Successes within the SLO p99 (goodput). */
  goodput: number;
  /** Latency of the 429/503 answers: a refusal should be fast, and is judged apart from successes. */
  refusals: Histogram;
  /** Arrivals never sent (over max_in_flight, or still queued at the end): they count against success. */
  dropped: number;
}

function breakdown(): Breakdown {
  return {
    count: 0,
    ok: 0,
    errors: 0,
    latency: newHistogram(),
    goodput: 0,
    refusals: newHistogram(),
    dropped: 0,
  };
}

/** 429 and 503: the server said "not now" on purpose (quota, overload, shedding), with Retry-After. */
export function isRefusal(cls: ErrorClass | undefined): boolean {
  return cls === 'throttled_429' || cls === 'overloaded_503';
}

export interface Recorded {
  latency: Histogram;
  service: Histogram;
  timerLag: Histogram;
  counts: {
    scheduled: number;
    dropped: number;
    unsent: number;
    sent: number;
    completed: number;
    ok: number;
    errors: number;
    late: number;
    goodput: number;
  };
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  retryAfter: { count: number; sumS: number; maxS: number };
  recall: { count: number; sum: number; min: number };
  byOp: Partial<Record<Op, Breakdown>>;
  byTenant: Breakdown[];
  /** 429/503 answers: latency (from the intended start), service time (from dispatch) and the server's own time. */
  refusals: { latency: Histogram; service: Histogram; server: Histogram };
  series: Series;
  /** First and last completion times (ms), for throughput over the active span. */
  firstDone: number;
  lastDone: number;
}

function emptySeries(): Series {
  const byClass = {} as Record<ErrorClass, number[]>;
  for (const c of ERROR_CLASSES) byClass[c] = [];
  return {
    t: [],
    offered: [],
    dropped: [],
    late: [],
    lat_p50: [],
    lat_p90: [],
    lat_p99: [],
    lat_max: [],
    svc_p99: [],
    completed: [],
    ok: [],
    goodput: [],
    errors: [],
    errors_by_class: byClass,
    recall: [],
    in_flight: [],
  };
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export interface RecorderOptions {
  /** Goodput counts successes at or under this latency (the SLO's p99). */
  goodputMs: number;
  lateMs: number;
  tenants: number;
}

interface OpenSecond {
  outstanding: number;
  latency: Histogram;
  service: Histogram;
}

export class Recorder {
  readonly latency = newHistogram();
  readonly service = newHistogram();
  readonly timerLag = newHistogram();
  private readonly counts: Recorded['counts'] = {
    scheduled: 0,
    dropped: 0,
    unsent: 0,
    sent: 0,
    completed: 0,
    ok: 0,
    errors: 0,
    late: 0,
    goodput: 0,
  };
  private readonly byStatus: Record<string, number> = {};
  private readonly byCode: Record<string, number> = {};
  private readonly retryAfter = { count: 0, sumS: 0, maxS: 0 };
  private readonly recallAgg = { count: 0, sum: 0, min: 1 };
  private readonly recallSec: { sum: number; n: number }[] = [];
  private readonly byOp: Partial<Record<Op, Breakdown>> = {};
  private readonly byTenant: Breakdown[];
  private readonly refusals = { latency: newHistogram(), service: newHistogram(), server: newHistogram() };
  private readonly s = emptySeries();
  private readonly open = new Map<number, OpenSecond>();
  private readonly spare: OpenSecond[] = [];
  /** Seconds below this are closed (their percentile columns are final). */
  private closedBelow = 0;
  /** Every arrival intended before this second has been scheduled. */
  private scheduledBelow = 0;
  private firstDone = Number.POSITIVE_INFINITY;
  private lastDone = 0;

  constructor(private readonly o: RecorderOptions) {
    this.byTenant = Array.from({ length: o.tenants }, breakdown);
  }

  private grow(sec: number): void {
    const s = this.s;
    while (s.t.length <= sec) {
      s.t.push(s.t.length);
      s.offered.push(0);
      s.dropped.push(0);
      s.late.push(0);
      s.lat_p50.push(null);
      s.lat_p90.push(null);
      s.lat_p99.push(null);
      s.lat_max.push(null);
      s.svc_p99.push(null);
      s.completed.push(0);
      s.ok.push(0);
      s.goodput.push(0);
      s.errors.push(0);
      for (const c of ERROR_CLASSES) s.errors_by_class[c].push(0);
      s.recall.push(null);
      s.in_flight.push(null);
      this.recallSec.push({ sum: 0, n: 0 });
    }
  }

  private second(sec: number): OpenSecond {
    let o = this.open.get(sec);
    if (!o) {
      o = this.spare.pop() ?? { outstanding: 0, latency: newHistogram(), service: newHistogram() };
      this.open.set(sec, o);
    }
    return o;
  }

  scheduled(intended: number): void {
    const sec = Math.floor(intended / 1000);
    this.grow(sec);
    this.counts.scheduled++;
    this.s.offered[sec]!++;
    this.second(sec).outstanding++;
  }

  /** An arrival not sent: over max_in_flight (`cap`), or still queued when the run ended (`unsent`). */
  dropped(intended: number, why: 'cap' | 'unsent', tenant = -1): void {
    const sec = Math.floor(intended / 1000);
    if (why === 'cap') this.counts.dropped++;
    else this.counts.unsent++;
    const t = this.byTenant[tenant];
    if (t) t.dropped++;
    this.s.dropped[sec]!++;
    this.settle(sec);
  }

  /** The generator handled the arrival at `tick` (after its timer fired). */
  ticked(intended: number, tick: number): void {
    const lag = tick - intended;
    recordMs(this.timerLag, Math.max(0, lag));
    if (lag > this.o.lateMs) {
      this.counts.late++;
      this.s.late[Math.floor(intended / 1000)]!++;
    }
  }

  dispatched(): void {
    this.counts.sent++;
  }

  completed(c: Completion): void {
    const lat = c.done - c.intended;
    const svc = c.done - c.dispatch;
    const sec = Math.floor(c.intended / 1000);
    const doneSec = Math.floor(c.done / 1000);
    this.grow(doneSec);
    const cls = errorClass(c.outcome);
    const ok = cls === undefined;
    this.counts.completed++;
    this.firstDone = Math.min(this.firstDone, c.done);
    this.lastDone = Math.max(this.lastDone, c.done);
    const open = this.second(sec);
    if (ok) {
      recordMs(this.latency, lat);
      recordMs(this.service, svc);
      recordMs(open.latency, lat);
      recordMs(open.service, svc);
    }
    const s = this.s;
    s.completed[doneSec]!++;
    const good = ok && lat <= this.o.goodputMs;
    const refused = isRefusal(cls);
    if (refused) {
      recordMs(this.refusals.latency, lat);
      recordMs(this.refusals.service, svc);
      if (c.outcome.serverMs !== undefined) recordMs(this.refusals.server, c.outcome.serverMs);
    }
    if (ok) {
      this.counts.ok++;
      s.ok[doneSec]!++;
      if (good) {
        this.counts.goodput++;
        s.goodput[doneSec]!++;
      }
    } else {
      this.counts.errors++;
      s.errors[doneSec]!++;
      s.errors_by_class[cls][doneSec]!++;
      const status = String(c.outcome.status);
      this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
      const code = c.outcome.code ?? `HTTP_${c.outcome.status}`;
      this.byCode[code] = (this.byCode[code] ?? 0) + 1;
      if (c.outcome.retryAfterS !== undefined) {
        this.retryAfter.count++;
        this.retryAfter.sumS += c.outcome.retryAfterS;
        this.retryAfter.maxS = Math.max(this.retryAfter.maxS, c.outcome.retryAfterS);
      }
    }
    let op = this.byOp[c.op];
    if (!op) {
      op = breakdown();
      this.byOp[c.op] = op;
    }
    tally(op, ok, good, refused, lat);
    const tenant = this.byTenant[c.tenant];
    if (tenant) tally(tenant, ok, good, refused, lat);
    this.settle(sec);
  }

  recall(doneMs: number, value: number): void {
    const sec = Math.floor(doneMs / 1000);
    this.grow(sec);
    this.recallAgg.count++;
    this.recallAgg.sum += value;
    this.recallAgg.min = Math.min(this.recallAgg.min, value);
    const r = this.recallSec[sec]!;
    r.sum += value;
    r.n++;
  }

  /** Once a second: requests queued in the generator plus in flight. */
  gauge(nowMs: number, inFlight: number): void {
    const sec = Math.floor(nowMs / 1000);
    this.grow(sec);
    this.s.in_flight[sec] = inFlight;
  }

  /** The scheduler has issued every arrival intended before `ms`. */
  scheduledUntil(ms: number): void {
    // Infinity (the run is over): every second that has a column.
    const sec = Number.isFinite(ms) ? Math.floor(ms / 1000) : this.s.t.length;
    this.scheduledBelow = Math.max(this.scheduledBelow, sec);
    this.closeReady();
  }

  private settle(sec: number): void {
    const o = this.open.get(sec);
    if (o) o.outstanding--;
    this.closeReady();
  }

  private closeReady(): void {
    while (this.closedBelow < this.scheduledBelow) {
      const o = this.open.get(this.closedBelow);
      if (o && o.outstanding > 0) return;
      if (o) this.close(this.closedBelow);
      this.closedBelow++;
    }
  }

  private close(sec: number): void {
    const o = this.open.get(sec);
    if (!o) return;
    this.open.delete(sec);
    const s = this.s;
    if (o.latency.totalCount > 0) {
      s.lat_p50[sec] = r3(o.latency.getValueAtPercentile(50) / 1000);
      s.lat_p90[sec] = r3(o.latency.getValueAtPercentile(90) / 1000);
      s.lat_p99[sec] = r3(o.latency.getValueAtPercentile(99) / 1000);
      s.lat_max[sec] = r3(o.latency.maxValue / 1000);
      s.svc_p99[sec] = r3(o.service.getValueAtPercentile(99) / 1000);
    }
    o.latency.reset();
    o.service.reset();
    o.outstanding = 0;
    this.spare.push(o);
  }

  /** For live views: counts so far and the series (columns below `closedSeconds` are final). */
  snapshot(): { counts: Readonly<Recorded['counts']>; series: Readonly<Series>; closedSeconds: number } {
    return { counts: this.counts, series: this.s, closedSeconds: this.closedBelow };
  }

  /** Closes every second (requests still open at the end have been counted by the generator). */
  finish(): Recorded {
    for (const sec of [...this.open.keys()].sort((a, b) => a - b)) this.close(sec);
    const s = this.s;
    for (let i = 0; i < this.recallSec.length; i++) {
      const r = this.recallSec[i]!;
      s.recall[i] = r.n > 0 ? r3(r.sum / r.n) : null;
    }
    return {
      latency: this.latency,
      service: this.service,
      timerLag: this.timerLag,
      counts: { ...this.counts },
      byStatus: { ...this.byStatus },
      byCode: { ...this.byCode },
      retryAfter: { ...this.retryAfter },
      recall: { ...this.recallAgg },
      byOp: this.byOp,
      byTenant: this.byTenant,
      refusals: this.refusals,
      series: s,
      firstDone: Number.isFinite(this.firstDone) ? this.firstDone : 0,
      lastDone: this.lastDone,
    };
  }
}

function tally(b: Breakdown, ok: boolean, good: boolean, refused: boolean, latMs: number): void {
  b.count++;
  if (ok) {
    b.ok++;
    recordMs(b.latency, latMs);
    if (good) b.goodput++;
  } else {
    b.errors++;
    if (refused) recordMs(b.refusals, latMs);
  }
}
