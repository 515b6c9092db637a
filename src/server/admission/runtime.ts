/**
 * The admission policies of one server, wired together: the state the hooks consult on every request and
 * the periodic `tick` (the server's timer, style.md §6) that feeds them their windows — queue sweeps, the
 * drain estimate, p99 for the ef controller and the ladder, memory. Nothing here knows Fastify; the hooks
 * in plugin.ts translate requests into calls.
 */
import {
  AdmissionGate,
  DrainEstimate,
  type DropReason,
  EfController,
  type GcraLimit,
  GradientLimit,
  IngestBudget,
  initialLadder,
  type LadderOptions,
  type LadderState,
  type Level,
  LocalQuotaStore,
  ladderStep,
  PRIORITIES,
  type Priority,
  type PriorityRank,
  type QuotaStore,
  ResultCache,
  sustainableRate,
  type TenantRecord,
} from '../../admission/index.js';
import type { Config } from '../../config/index.js';
import type { EngineApi } from '../../engine/index.js';
import type { SearchBatcher } from '../search-batcher.js';
import { LatencyWindow } from './latency-window.js';
import { AdminKey } from './principal.js';
import { TenantStore } from './tenant-store.js';

export type RejectReason =
  | 'unauthorized'
  | 'forbidden'
  | 'quota_reads'
  | 'quota_points'
  | 'queue_full'
  | 'sojourn'
  | 'deadline'
  | 'shed'
  | 'ingest_bytes'
  | 'ingest_ops'
  | 'memory';

export const REJECT_REASONS: readonly RejectReason[] = [
  'unauthorized',
  'forbidden',
  'quota_reads',
  'quota_points',
  'queue_full',
  'sojourn',
  'deadline',
  'shed',
  'ingest_bytes',
  'ingest_ops',
  'memory',
];

/** A request waiting in the gate: the hook's continuation and its refusal. */
export interface Waiter {
  admit(): void;
  drop(reason: DropReason): void;
}

export interface RuntimeDeps {
  config: Readonly<Config>;
  engine: EngineApi;
  batcher: SearchBatcher;
  /** Milliseconds, monotonic. Tests pass a fake clock. */
  now: () => number;
  /** Resident set size in bytes (tests may fake memory pressure). */
  rss?: () => number;
  log?: { info(o: object, msg: string): void };
}

export interface QuotaPlan {
  reads?: GcraLimit;
  points?: GcraLimit;
}

export class AdmissionRuntime {
  readonly cfg: Readonly<Config['admission']>;
  readonly store: TenantStore;
  readonly adminKey: AdminKey;
  readonly quotas: QuotaStore;
  readonly limit: GradientLimit;
  readonly gate: AdmissionGate<Waiter>;
  readonly drain: DrainEstimate;
  readonly ef: EfController;
  readonly ingest: IngestBudget;
  readonly cache: ResultCache<unknown> | undefined;
  readonly now: () => number;
  ladder: LadderState;
  /** Observers for metrics. */
  onReject: ((reason: RejectReason, priority: Priority) => void) | undefined;

  private readonly ladderOptions: LadderOptions;
  private readonly openLadder: LadderOptions;
  private readonly window = new LatencyWindow();
  private windowStart: number;
  lastP99Ms = 0;
  /** The last window's average share of the limit in use. */
  lastUtilisation = 0;
  private busyMs = 0;
  /** The gate refused requests (queue full, waits past their bound) in the last window. */
  lastRefusing = false;
  private gateRefused = 0;
  lastShedFraction = 0;
  private offered = 0;
  private shedByLevel = 0;
  private completed = 0;
  readonly rejections = new Map<RejectReason, number>(REJECT_REASONS.map((r) => [r, 0]));
  rssBytes = 0;
  private rssAt = Number.NEGATIVE_INFINITY;
  memoryRatio = 0;
  private readonly rssOf: () => number;
  private readonly batchMax: number;
  private ticks = 0;
  private readonly wakers = new Set<() => void>();
  private readonly quotaPlans = new WeakMap<TenantRecord, QuotaPlan>();

  /** Last applied seq per collection (from the engine's change events) and alias → collection, for the cache. */
  readonly seqs = new Map<string, number>();
  aliases = new Map<string, string>();
  /** Bumped whenever names change meaning (create, drop, alias edits): cache keys carry it. */
  epoch = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: RuntimeDeps) {
    const a = deps.config.admission;
    this.cfg = a;
    this.now = deps.now;
    this.rssOf = deps.rss ?? (() => process.memoryUsage.rss());
    this.store = new TenantStore(deps.config);
    this.adminKey = new AdminKey(a.admin_key);
    this.quotas = new LocalQuotaStore();
    this.limit = new GradientLimit({
      initial: a.limit.initial,
      min: a.limit.min,
      max: a.limit.max,
      tolerance: a.limit.tolerance,
      smoothing: a.limit.smoothing,
      queueSize: a.limit.queue_size,
      longWindow: a.limit.long_window,
      warmup: a.limit.warmup,
      windowMs: a.limit.window_ms,
      windowSamples: a.limit.window_samples,
    });
    // Open mode (fixed at start: without an admin key no tenant can be added) has one tier and nobody to
    // keep room for: no ceilings, and its requests may wait out a burst as long as premium ones would.
    const open = this.open;
    this.gate = new AdmissionGate<Waiter>(
      a.shares,
      { targetMs: a.queue.target_ms, intervalMs: a.queue.interval_ms, capacity: a.queue.capacity },
      { admit: (w) => w.admit(), drop: (w, why) => w.drop(why) },
      a.idle_share_ms,
      open ? undefined : a.ceilings,
      a.queue.high_target_ms,
      open ? undefined : a.queue.burst_wait_ms,
    );
    this.drain = new DrainEstimate({ alpha: 0.3, minMs: a.retry_after.min_ms, maxMs: a.retry_after.max_ms });
    this.ef = new EfController({
      floor: a.ef.floor,
      ceiling: a.ef.ceiling,
      initial: deps.config.engine.hnsw.ef,
      targetP99Ms: a.ef.target_p99_ms,
      raiseBelowRatio: a.ef.raise_below,
      step: a.ef.step,
      minSamples: a.ef.min_samples,
    });
    this.ingest = new IngestBudget({
      maxBytes: a.ingest.max_bytes,
      maxOps: a.ingest.max_ops,
      memoryFactor: a.ingest.memory_factor,
    });
    this.cache = a.cache.enabled
      ? new ResultCache({ maxEntries: a.cache.max_entries, ttlMs: a.cache.ttl_ms })
      : undefined;
    this.ladderOptions = {
      targetP99Ms: a.ef.target_p99_ms,
      calmP99Ratio: a.ladder.calm_p99_ratio,
      calmShedFraction: a.ladder.calm_shed_fraction,
      calmUtilisation: a.ladder.calm_utilisation,
      shedUtilisation: a.ladder.shed_utilisation,
      escalateMs: a.ladder.escalate_ms,
      recoverMs: a.ladder.recover_ms,
      maxLevel: 3,
    };
    this.openLadder = { ...this.ladderOptions, maxLevel: 2 };
    const t = this.now();
    this.ladder = initialLadder(t);
    this.windowStart = t;
    this.batchMax = deps.batcher.max;
  }

  /** Loads the alias map; the cache's invalidation starts with it when it serves at every level. */
  async start(): Promise<void> {
    await this.refreshAliases();
    this.cacheActive(this.ladder.level);
  }

  stopped = false;

  stop(): void {
    this.stopped = true;
    // A paused indexer must not outlive the level that paused it (the engine may be closed right after).
    if (this.ladder.level >= 1) this.deps.engine.setIndexingPaused(false).catch(() => undefined);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const w of this.wakers) w();
  }

  /**
   * The cache is in use only from `cache.from_level` up, and only then are the engine's change events
   * followed (the engine thread posts them only while someone listens, so normal operation pays nothing).
   * A collection with no event since the subscription has not changed since, so its seq is "unknown but
   * stable" (-1) until its first event; leaving the cache levels forgets everything, as tracking stops.
   */
  private cacheActive(level: Level): void {
    if (!this.cache) return;
    const active = level >= this.cfg.cache.from_level;
    if (active && this.unsubscribe === undefined && !this.stopped) {
      this.unsubscribe = this.deps.engine.onChange((e) => {
        this.seqs.set(e.collection, e.seq);
      });
    } else if (!active && this.unsubscribe !== undefined) {
      this.unsubscribe();
      this.unsubscribe = undefined;
      this.seqs.clear();
      this.cache.clear();
    }
  }

  async refreshAliases(): Promise<void> {
    if (!this.cache) return;
    const list = await this.deps.engine.listAliases();
    this.aliases = new Map(list.map((a) => [a.alias_name, a.collection_name]));
  }

  /** Open mode: no key of any kind configured, every caller is the anonymous tenant of `open_tier`. */
  get open(): boolean {
    return !this.adminKey.configured && this.store.registry.size === 0;
  }

  get level(): Level {
    return this.ladder.level;
  }

  /** A priority this level refuses outright: low from level 2, normal too at level 3. */
  shedsAt(r: PriorityRank): boolean {
    const l = this.ladder.level;
    return (l >= 2 && r === 3) || (l === 3 && r === 2);
  }

  /** The GCRA limits of a tenant (its quotas over its tier's), computed once per tenant record. */
  quotaPlan(t: TenantRecord): QuotaPlan {
    let plan = this.quotaPlans.get(t);
    if (plan) return plan;
    const tier = this.cfg.tiers[t.tier];
    const reads = t.quotas.reads_per_s ?? tier.reads_per_s;
    const points = t.quotas.points_per_s ?? tier.points_per_s;
    plan = {
      ...(reads
        ? { reads: { ratePerSec: reads, burst: t.quotas.reads_burst ?? tier.reads_burst ?? reads } }
        : {}),
      ...(points
        ? { points: { ratePerSec: points, burst: t.quotas.points_burst ?? tier.points_burst ?? points } }
        : {}),
    };
    this.quotaPlans.set(t, plan);
    return plan;
  }

  reject(reason: RejectReason, r: PriorityRank): void {
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
    if (reason === 'shed') this.shedByLevel++;
    else if (reason === 'sojourn' || reason === 'queue_full' || reason === 'deadline') this.gateRefused++;
    this.onReject?.(reason, PRIORITIES[r]!);
  }

  /** Counts a data-plane request for the shed fraction the ladder watches. */
  offer(): void {
    this.offered++;
  }

  /** Retry-After for a 503: the time for the work ahead of priority r, plus this request, to drain. */
  retryAfterMs(r: PriorityRank): number {
    return this.drain.retryAfterMs(this.gate.queuedAhead(r) + this.gate.limiter.total + 1, this.drainRate());
  }

  /**
   * Completions per ms to predict waits with. While requests were queued at the last tick the server was
   * saturated, and what it completed is what it can: the measured rate. Otherwise that rate only says how
   * much it was offered, and the limit over the recent request time is used when higher (sustainableRate).
   */
  drainRate(): number | undefined {
    if (this.saturated && this.drain.rate !== undefined) return this.drain.rate;
    return sustainableRate(this.drain.rate, this.limit.limit, this.limit.lastRtt || this.limit.longRttMs);
  }

  /** Requests were waiting for a slot at the last tick. */
  private saturated = false;

  /** A read request that held a slot finished (or was abandoned). */
  readDone(r: PriorityRank, admittedAt: number, search: boolean): void {
    const now = this.now();
    const rtt = now - admittedAt;
    this.limit.update({ rttMs: rtt, inflight: this.gate.limiter.total }, now);
    if (search) this.window.record(rtt);
    this.busyMs += rtt;
    this.completed++;
    this.gate.release(r, now, this.limit.limit);
  }

  /** Resident memory, re-read at most every 10 ms: writes check it, and reading it is a syscall. */
  memory(now: number): number {
    const budget = this.cfg.memory_budget_bytes;
    if (budget === 0) return 0;
    if (now - this.rssAt >= 10) {
      this.rssAt = now;
      this.rssBytes = this.rssOf();
      this.memoryRatio = this.rssBytes / budget;
      // Hysteresis: writes stop at memory_high of the budget and resume below memory_low.
      if (this.memoryRatio >= this.cfg.ingest.memory_high) this.ingest.closed = true;
      else if (this.memoryRatio < this.cfg.ingest.memory_low) this.ingest.closed = false;
      if (!this.ingest.closed) this.wake();
    }
    return this.memoryRatio;
  }

  /** Resident memory left below the write mark (Infinity without a budget). */
  headroom(now: number): number {
    const budget = this.cfg.memory_budget_bytes;
    if (budget === 0) return Number.POSITIVE_INFINITY;
    this.memory(now);
    return this.cfg.ingest.memory_high * budget - this.rssBytes;
  }

  releaseIngest(bytes: number): void {
    this.ingest.release(bytes);
    this.wake();
  }

  /** Resolves at the next tick or ingest release: a stream waiting for the budget, the level or memory. */
  nextWake(): Promise<void> {
    return new Promise((resolve) => this.wakers.add(resolve));
  }

  private wake(): void {
    if (this.wakers.size === 0) return;
    const ws = [...this.wakers];
    this.wakers.clear();
    for (const w of ws) w();
  }

  /** Between ticks, while requests wait: stale and expired waiters are answered promptly. */
  sweepQueues(): void {
    this.gate.sweep(this.now(), this.limit.limit);
  }

  /** The server's periodic step. */
  tick(): void {
    const now = this.now();
    const limit = this.limit.limit;
    this.saturated = this.gate.queuedAhead(3) > 0;
    this.drain.update(this.completed, now, this.gate.limiter.total > 0 || this.saturated);
    this.completed = 0;
    this.gate.sweep(now, limit);
    this.memory(now);
    if (now - this.windowStart >= this.cfg.ef.window_ms) {
      const w = this.window.close();
      this.lastP99Ms = w.p99Ms;
      // Average slots in use over the window (Little's law: the time requests held them / the window).
      this.lastUtilisation = limit > 0 ? this.busyMs / ((now - this.windowStart) * limit) : 1;
      this.busyMs = 0;
      this.lastRefusing = this.gateRefused > 0;
      this.gateRefused = 0;
      // At level ≥ 1 searches run at the floor: their latency says nothing about the controller's ef.
      if (this.ladder.level === 0) this.ef.update(w);
      this.lastShedFraction = this.offered === 0 ? 0 : this.shedByLevel / this.offered;
      this.offered = 0;
      this.shedByLevel = 0;
      this.windowStart = now;
    }
    const before = this.ladder.level;
    this.ladder = ladderStep(
      this.ladder,
      {
        p99Ms: this.lastP99Ms,
        queueOverloaded: this.gate.anyOverloaded(),
        shedFraction: this.lastShedFraction,
        // The window's average, or now if busier: an instant alone is mostly 0 under light, spread-out load.
        utilisation: Math.max(this.lastUtilisation, limit > 0 ? this.gate.limiter.total / limit : 1),
        refusing: this.lastRefusing,
      },
      now,
      this.open ? this.openLadder : this.ladderOptions,
    );
    if (this.ladder.level !== before) this.applyLevel(before, now);
    if (++this.ticks % 100 === 0 && this.quotas instanceof LocalQuotaStore) this.quotas.sweep(now);
    this.wake();
  }

  /** What each level changes outside the per-request checks. */
  private applyLevel(from: Level, now: number): void {
    const level = this.ladder.level;
    this.cacheActive(level);
    if (level === 0) this.ef.resume();
    // Level 1 and up: background indexing and vacuum give their CPU to searches (unindexed points stay
    // searchable exactly); they resume once the level is back to 0.
    if ((from === 0) !== (level === 0)) {
      this.deps.engine.setIndexingPaused(level >= 1).catch((e: unknown) => {
        this.deps.log?.info({ err: e }, 'could not change background indexing');
      });
    }
    this.deps.batcher.max =
      level >= 1 ? Math.min(this.batchMax, this.cfg.ladder.level1_batch_max) : this.batchMax;
    // Waiters of a priority the new level sheds are answered now rather than at the end of their wait.
    if (level >= 2) this.gate.shed(level === 3 ? 2 : 3, now, 'shed');
    this.deps.log?.info(
      { from, to: level, p99_ms: this.lastP99Ms, limit: this.limit.limit },
      'degradation level changed',
    );
  }

  /** The current collection behind a name (alias or not) and its seq, for cache keys. */
  seqOf(name: string): number {
    return this.seqs.get(this.aliases.get(name) ?? name) ?? -1;
  }
}
