/**
 * The matcher of one collection: the engine's change feed (with vectors) in, per-subscription events out,
 * in seq order.
 *
 * Pipeline: events queue up as the engine applies them (it never waits for us); one batch at a time — all
 * that queued while the previous one was scored, up to `batch_points` points — goes to the scorer as one
 * matrix product against every subscription of the collection (threshold bars, and each top-k
 * subscription's entry bar). The candidates come back point-major and are applied op by op: threshold
 * matches become `match` events, top-k reserves are updated and their changes become `topk` events.
 *
 * Bounded: past `matcher_queue_points` queued points the queue is dropped and the matcher reads the WAL
 * from where it stands until it has caught up, then hands over to the live queue without gap or
 * duplicate (the change feed's technique). Ingest is never slowed; deliveries lag instead.
 *
 * Top-k refreshes (creation, a reserve run dry, ops whose effect on a filter is unknown) query the
 * collection between batches while the pipeline waits; see reconcile.ts for how a search taken during
 * writes becomes the exact state at a known seq.
 */
import type { Config } from '../config/index.js';
import {
  type ChangeEvent,
  type EngineApi,
  pointKey,
  type ScoredPoint,
  selectPayload,
} from '../engine/index.js';
import { SurgeError } from '../protocol/errors.js';
import { Arrivals } from './arrivals.js';
import { Metric } from './metric.js';
import type { SubscriptionObserver } from './observer.js';
import { reconcile } from './reconcile.js';
import type { Candidates } from './score-matrix.js';
import type { Scorer } from './scorer.js';
import { type LiveSubscription, TopKSubscription } from './subscription.js';
import type { Member } from './top-k.js';
import type { MatchedPoint, SeqEvent } from './types.js';

const PAGE = 1000;
const REFRESH_ATTEMPTS = 4;
const REFRESH_RETRY_MS = 10;

export interface MatcherLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface MatcherOptions {
  engine: EngineApi;
  scorer: Scorer;
  space: number;
  name: string;
  distance: Metric['distance'];
  dim: number;
  /** The collection's seq when the matcher starts: events after it are matched. */
  seq: number;
  limits: Config['subscriptions'];
  maxSearchLimit: number;
  log: MatcherLog;
  observer: SubscriptionObserver;
  /** The collection is gone (dropped, or dropped and created again). */
  onDropped: () => void;
}

type Mode = 'wal' | 'live';

export class CollectionMatcher {
  readonly name: string;
  readonly metric: Metric;
  private readonly engine: EngineApi;
  private readonly scorer: Scorer;
  private readonly space: number;
  private mode: Mode = 'wal';
  private queue: ChangeEvent[] = [];
  private head = 0;
  private queuedPoints = 0;
  /** The queue was dropped since this flag was last cleared. */
  private overflowed = false;
  /** Every event with seq <= processedSeq has been matched and published. */
  processedSeq: number;
  /** Seq of the last event handed to the scorer (= processedSeq between batches). */
  private sentSeq: number;
  private running = false;
  private closed = false;
  private readonly subs = new Map<string, LiveSubscription>();
  private readonly bySlot: (LiveSubscription | undefined)[] = [];
  private free: number[] = [];
  /** Slots freed while a batch was out: it may still report them, so they are reused after it is back. */
  private freeAfterBatch: number[] = [];
  private inFlight = false;
  private scored = 0;
  private readonly topk = new Set<TopKSubscription>();
  /** Point key → top-k subscriptions whose reserve holds it (updates and deletes of members). */
  private readonly members = new Map<string, Set<TopKSubscription>>();
  private readonly refreshQueue = new Set<TopKSubscription>();
  private readonly deferred = new Set<TopKSubscription>();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly kernelBars = new Map<TopKSubscription, number | undefined>();
  private unsubscribe: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Highest seq received from the live feed. */
  private lastSeen = 0;
  private readonly arrivals = new Arrivals();
  /** Batches scored and their sizes (observability, tests). */
  readonly stats = { batches: 0, points: 0, candidates: 0, walPages: 0, overflows: 0, refreshes: 0 };

  constructor(private readonly o: MatcherOptions) {
    this.name = o.name;
    this.engine = o.engine;
    this.scorer = o.scorer;
    this.space = o.space;
    this.metric = new Metric(o.distance, o.dim);
    this.processedSeq = o.seq;
    this.sentSeq = o.seq;
    this.scorer.open(this.space, o.distance, o.dim);
  }

  /**
   * Subscribes to the change feed and catches up from the WAL first: with a worker engine the feed
   * starts a message later than the call, and the WAL covers that moment.
   */
  start(): void {
    this.unsubscribe = this.engine.onChange((e) => this.onEvent(e), { points: true });
    this.kick();
  }

  get subscriptions(): number {
    return this.subs.size;
  }

  add(sub: LiveSubscription): void {
    this.subs.set(sub.id, sub);
    sub.slot = this.free.pop() ?? this.bySlot.length;
    this.bySlot[sub.slot] = sub;
    if (sub instanceof TopKSubscription) {
      // Scored only once its first refresh has built the reserve.
      this.topk.add(sub);
      this.queueRefresh(sub);
      this.kick();
    } else {
      sub.liveFrom = (this.inFlight ? this.sentSeq : this.processedSeq) + 1;
      this.scorer.set(this.space, sub.slot, sub.spec.vector, sub.threshold);
      this.scored++;
    }
  }

  remove(sub: LiveSubscription): void {
    if (this.subs.get(sub.id) !== sub) return;
    this.subs.delete(sub.id);
    this.bySlot[sub.slot] = undefined;
    if (sub instanceof TopKSubscription) {
      this.topk.delete(sub);
      this.refreshQueue.delete(sub);
      this.deferred.delete(sub);
      if (sub.initialised) this.scored--;
      if (this.kernelBars.delete(sub) || sub.initialised) this.scorer.remove(this.space, sub.slot);
      sub.state.reset([], false);
      sub.fail(new SurgeError('SUBSCRIPTION_NOT_FOUND', `subscription ${sub.id} was deleted`));
    } else {
      this.scored--;
      this.scorer.remove(this.space, sub.slot);
    }
    (this.inFlight ? this.freeAfterBatch : this.free).push(sub.slot);
  }

  /** The seq a top-k subscription's state reflects. */
  stateSeq(sub: TopKSubscription): number {
    return sub.stateSeq(this.processedSeq);
  }

  /** When the change event of `seq` reached this matcher (performance.now()), if it is recent. */
  receivedAt(seq: number): number | undefined {
    return this.arrivals.at(seq);
  }

  /** Work received and not yet matched: points queued, and seqs behind the live feed (metrics). */
  get backlog(): { points: number; seqs: number } {
    return { points: this.queuedPoints, seqs: Math.max(0, this.lastSeen - this.processedSeq) };
  }

  /** Resolves once every event received so far is processed (tests, benchmarks). */
  whenIdle(): Promise<void> {
    if (
      !this.running &&
      this.pendingEvents() === 0 &&
      this.refreshQueue.size === 0 &&
      this.deferred.size === 0
    ) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.unsubscribe?.();
    this.queue = [];
    this.head = 0;
    this.scorer.drop(this.space);
    for (const sub of this.topk) if (!sub.initialised) sub.fail(new SurgeError('SHUTTING_DOWN', 'closing'));
    for (const w of this.idleWaiters.splice(0)) w();
  }

  // ---------------------------------------------------------------- input

  private onEvent(e: ChangeEvent): void {
    if (e.collection !== this.name || this.closed) return;
    if (this.mode === 'live' && e.seq <= this.lastSeen) {
      // Live events never go backwards: the collection was dropped and created again.
      this.closed || this.o.onDropped();
      return;
    }
    if (e.seq > this.lastSeen) this.lastSeen = e.seq;
    this.arrivals.record(e.seq, performance.now());
    this.queue.push(e);
    if (e.op === 'upsert') this.queuedPoints += e.ids?.length ?? 0;
    if (this.queuedPoints > this.o.limits.matcher_queue_points || this.pendingEvents() > 4 * PAGE * 16) {
      // Drop it all and read the WAL instead: memory stays bounded whatever the ingest rate.
      this.queue = [];
      this.head = 0;
      this.queuedPoints = 0;
      this.overflowed = true;
      this.mode = 'wal';
      this.stats.overflows++;
      this.o.observer.catchUp('matcher_wal');
    }
    this.kick();
  }

  private pendingEvents(): number {
    return this.queue.length - this.head;
  }

  private kick(): void {
    if (this.running || this.closed) return;
    void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed) {
        if (this.refreshQueue.size > 0 && this.mode === 'live') {
          await this.refreshAll();
          continue;
        }
        if (this.mode === 'live') {
          const batch = this.takeBatch();
          if (batch.length === 0) break;
          await this.process(batch);
        } else {
          await this.walStep();
        }
      }
    } catch (e) {
      if (!this.closed) this.failed(e);
    } finally {
      this.running = false;
      if (
        !this.closed &&
        (this.pendingEvents() > 0 || (this.refreshQueue.size > 0 && this.mode === 'live'))
      ) {
        this.kick();
      } else {
        for (const w of this.idleWaiters.splice(0)) w();
      }
    }
  }

  private takeBatch(): ChangeEvent[] {
    const out: ChangeEvent[] = [];
    let points = 0;
    while (this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      if (e.seq <= this.processedSeq) {
        this.head++;
        continue;
      }
      const n = e.op === 'upsert' ? (e.ids?.length ?? 0) : 0;
      if (out.length > 0 && points + n > this.o.limits.batch_points) break;
      out.push(e);
      points += n;
      this.queuedPoints -= n;
      this.head++;
    }
    this.compact();
    return out;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** One WAL page; switches to live when the WAL has no more and the live queue continues from there. */
  private async walStep(): Promise<void> {
    this.overflowed = false;
    const page = await this.engine.readChanges(this.name, this.processedSeq, PAGE, { points: true });
    this.stats.walPages++;
    if (this.closed) return;
    if (this.processedSeq + 1 < page.oldestSeq) this.skipTo(page.oldestSeq);
    const batch = page.events.filter((e) => e.seq > this.processedSeq);
    for (let from = 0; from < batch.length; ) {
      let to = from;
      let points = 0;
      do {
        const e = batch[to]!;
        points += e.op === 'upsert' ? (e.ids?.length ?? 0) : 0;
        to++;
      } while (to < batch.length && points < this.o.limits.batch_points);
      await this.process(batch.slice(from, to));
      if (this.closed) return;
      from = to;
    }
    if (page.events.length < PAGE && !this.overflowed) {
      while (this.head < this.queue.length && this.queue[this.head]!.seq <= this.processedSeq) {
        const e = this.queue[this.head++]!;
        if (e.op === 'upsert') this.queuedPoints -= e.ids?.length ?? 0;
      }
      const next = this.queue[this.head];
      if (next === undefined || next.seq === this.processedSeq + 1) this.mode = 'live';
      this.compact();
    }
  }

  /** The WAL no longer holds seqs processedSeq+1 … oldest−1 (we fell behind a snapshot). */
  private skipTo(oldest: number): void {
    const from = this.processedSeq + 1;
    this.o.log.warn(
      { collection: this.name, from_seq: from, oldest_seq: oldest },
      'subscription matcher fell behind the WAL',
    );
    for (const sub of this.subs.values()) {
      if (sub instanceof TopKSubscription) this.queueRefresh(sub);
      else for (const t of sub.taps) t.gap(from, oldest);
    }
    this.processedSeq = oldest - 1;
    this.sentSeq = oldest - 1;
  }

  // ---------------------------------------------------------------- matching

  private async process(batch: ChangeEvent[]): Promise<void> {
    const started = performance.now();
    const dim = this.metric.dim;
    let n = 0;
    for (const e of batch) if (e.op === 'upsert' && e.points?.vectors) n += e.ids!.length;
    const last = batch[batch.length - 1]!.seq;
    const sentBars = new Map(this.kernelBars);
    let cands: Candidates | undefined;
    if (n > 0 && this.scored > 0) {
      const points = new Float32Array(n * dim);
      let at = 0;
      for (const e of batch) {
        if (e.op !== 'upsert' || !e.points?.vectors) continue;
        const rows = e.ids!.length;
        points.set(e.points.vectors.subarray(0, rows * dim), at * dim);
        at += rows;
      }
      this.sentSeq = last;
      this.inFlight = true;
      try {
        cands = await this.scorer.score(this.space, points, n);
      } finally {
        this.inFlight = false;
        if (this.freeAfterBatch.length > 0) {
          this.free.push(...this.freeAfterBatch);
          this.freeAfterBatch = [];
        }
      }
      this.stats.batches++;
      this.stats.points += n;
      this.stats.candidates += cands.length;
      if (this.closed) return;
    }
    const apply = new BatchApply(this, sentBars, cands);
    for (const e of batch) {
      if (e.seq <= this.processedSeq) {
        if (e.op === 'upsert') apply.skipRows(e.ids?.length ?? 0);
        continue;
      }
      apply.op(e);
      this.processedSeq = e.seq;
    }
    this.sentSeq = this.processedSeq;
    for (const sub of apply.changed) {
      const bar = sub.state.bar();
      if (this.kernelBars.get(sub) !== bar && this.subs.has(sub.id)) {
        this.kernelBars.set(sub, bar);
        this.scorer.setBar(this.space, sub.slot, bar);
      }
      if (sub.state.needsRefresh()) this.queueRefresh(sub);
    }
    if (n > 0) this.o.observer.matched((performance.now() - started) / 1000, n);
  }

  /** Is a top-k subscription's state advanced by the event at `seq`? */
  active(sub: TopKSubscription, seq: number): boolean {
    return sub.initialised && sub.refresh === 'none' && seq > sub.skipThrough;
  }

  topkSubscriptions(): Iterable<TopKSubscription> {
    return this.topk;
  }

  holders(key: string): Set<TopKSubscription> | undefined {
    return this.members.get(key);
  }

  bySlotAt(slot: number): LiveSubscription | undefined {
    return this.bySlot[slot];
  }

  /** Kept in step by every reserve (TopKState's `track`). */
  track = (key: string, held: boolean, sub: TopKSubscription): void => {
    let set = this.members.get(key);
    if (held) {
      if (!set) {
        set = new Set();
        this.members.set(key, set);
      }
      set.add(sub);
    } else if (set) {
      set.delete(sub);
      if (set.size === 0) this.members.delete(key);
    }
  };

  queueRefresh(sub: TopKSubscription): void {
    if (sub.refresh !== 'none' || !this.subs.has(sub.id)) return;
    if (sub.initialised) sub.pendingBefore ??= sub.state.top();
    sub.refresh = 'queued';
    this.refreshQueue.add(sub);
  }

  // ---------------------------------------------------------------- top-k refresh

  private async refreshAll(): Promise<void> {
    const subs = [...this.refreshQueue];
    this.refreshQueue.clear();
    for (const sub of subs) {
      if (this.closed || !this.subs.has(sub.id)) continue;
      if (this.mode !== 'live') {
        this.refreshQueue.add(sub);
        continue;
      }
      sub.refresh = 'running';
      this.stats.refreshes++;
      try {
        await this.refreshOne(sub);
      } catch (e) {
        if (sub.refresh === 'running') sub.refresh = 'none';
        if (isNotFound(e)) throw e;
        if (!sub.initialised) sub.fail(e);
        else this.o.log.error({ err: e, subscription: sub.id }, 'top-k refresh failed');
      }
    }
  }

  private async refreshOne(sub: TopKSubscription): Promise<void> {
    let limit = Math.min(sub.state.capacity, this.o.maxSearchLimit);
    let hits: ScoredPoint[] = [];
    let seq = 0;
    for (let attempt = 0; attempt < REFRESH_ATTEMPTS; attempt++) {
      const before = (await this.engine.collectionInfo(this.name)).seq;
      hits = await this.engine.search(this.name, {
        vector: sub.spec.vector,
        limit,
        filter: sub.spec.filter,
        score_threshold: sub.spec.score_threshold,
        with_payload: sub.spec.with_payload,
      });
      seq = (await this.engine.collectionInfo(this.name)).seq;
      if (this.closed || !this.subs.has(sub.id)) return;
      const window = this.mode === 'live' ? this.windowEvents(before, seq) : undefined;
      const r = window
        ? reconcile(
            {
              k: sub.state.k,
              capacity: sub.state.capacity,
              vector: sub.spec.vector,
              threshold: sub.spec.score_threshold,
              predicate: sub.predicate,
              withPayload: sub.spec.with_payload,
              metric: this.metric,
            },
            hits,
            limit,
            window,
          )
        : ({ ok: false, reason: 'no_points' } as const);
      if (r.ok) {
        this.settle(sub, r.members, r.exhaustive, seq);
        return;
      }
      if (r.reason === 'too_few' && limit < this.o.maxSearchLimit) {
        limit = Math.min(limit * 4, this.o.maxSearchLimit);
        continue;
      }
      if (r.reason === 'too_few') break;
      // Writes raced the search (or the live queue was dropped): never guess; try again in a moment.
      if (attempt >= 1 || r.reason === 'no_points') {
        this.defer(sub);
        return;
      }
    }
    // Even the largest search found fewer than k placeable points: they are all there is to know.
    this.settle(
      sub,
      hits.map((h) => ({
        key: pointKey(h.id),
        id: h.id,
        score: h.score,
        version: h.version,
        payload: h.payload,
      })),
      false,
      seq,
    );
  }

  /** A refresh that could not pin the state down: the subscription waits (no events) and tries again. */
  private defer(sub: TopKSubscription): void {
    sub.refresh = 'deferred';
    this.deferred.add(sub);
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      for (const s of this.deferred) {
        s.refresh = 'none';
        this.queueRefresh(s);
      }
      this.deferred.clear();
      this.kick();
    }, REFRESH_RETRY_MS);
    this.retryTimer.unref();
  }

  /** Events of (after, upTo], all present and contiguous; undefined if some are missing. */
  private windowEvents(after: number, upTo: number): ChangeEvent[] | undefined {
    const out: ChangeEvent[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      if (e.seq > after && e.seq <= upTo) out.push(e);
    }
    if (upTo <= this.processedSeq) return upTo <= after ? out : undefined;
    return out.length === upTo - Math.max(after, this.processedSeq) ? out : undefined;
  }

  private settle(sub: TopKSubscription, members: Member[], exhaustive: boolean, seq: number): void {
    const before = sub.pendingBefore ?? sub.state.top();
    sub.pendingBefore = undefined;
    sub.state.reset(members, exhaustive);
    sub.skipThrough = Math.max(seq, this.processedSeq);
    sub.refresh = 'none';
    const bar = sub.state.bar();
    this.kernelBars.set(sub, bar);
    if (!sub.initialised) {
      this.scorer.set(this.space, sub.slot, sub.spec.vector, bar);
      this.scored++;
      sub.initialise(sub.skipThrough);
      return;
    }
    this.scorer.setBar(this.space, sub.slot, bar);
    const e = sub.diff(before, sub.skipThrough);
    if (e) sub.publish(e);
  }

  // ---------------------------------------------------------------- failure

  private failed(e: unknown): void {
    if (isNotFound(e)) {
      this.o.onDropped();
      return;
    }
    this.o.log.error({ err: e, collection: this.name }, 'subscription matcher failed');
    for (const sub of this.subs.values()) {
      if (sub instanceof TopKSubscription && !sub.initialised) sub.fail(e);
      for (const t of sub.taps) t.close('error', e instanceof Error ? e.message : String(e));
    }
  }
}

function isNotFound(e: unknown): boolean {
  return e instanceof SurgeError && e.code === 'COLLECTION_NOT_FOUND';
}

/** Applies one scored batch, op by op, and publishes each subscription's event of each op. */
class BatchApply {
  /** Top-k subscriptions whose reserve changed in this batch (bars to update, refreshes to queue). */
  readonly changed = new Set<TopKSubscription>();
  /** Top-k subscriptions whose bar fell below the one this batch was scored with: scored directly from then on. */
  private readonly direct = new Set<TopKSubscription>();
  private row = 0;
  private ci = 0;
  private readonly handled = new Set<TopKSubscription>();

  constructor(
    private readonly m: CollectionMatcher,
    private readonly sentBars: Map<TopKSubscription, number | undefined>,
    private readonly cands: Candidates | undefined,
  ) {}

  skipRows(n: number): void {
    const end = this.row + n;
    while (this.cands && this.ci < this.cands.length && this.cands.point[this.ci]! < end) this.ci++;
    this.row = end;
  }

  op(e: ChangeEvent): void {
    const before = new Map<TopKSubscription, Member[]>();
    const matches = new Map<LiveSubscription, MatchedPoint[]>();
    if (e.op === 'upsert') {
      if (e.ids && e.points?.vectors) this.upsert(e, before, matches);
    } else if (e.op === 'delete') {
      const ids = e.points?.touched ?? e.ids;
      if (ids) {
        for (const id of ids) {
          const key = pointKey(id);
          const held = this.m.holders(key);
          if (!held) continue;
          for (const sub of [...held]) {
            if (!this.m.active(sub, e.seq)) continue;
            this.touch(sub, before);
            sub.state.remove(key);
            this.afterChange(sub);
          }
        }
      } else {
        // A delete by filter read back from the WAL: which points it removed is unknown.
        for (const sub of this.m.topkSubscriptions()) if (this.m.active(sub, e.seq)) this.m.queueRefresh(sub);
      }
    } else if (e.op !== 'create_index' && e.op !== 'delete_index') {
      // Payload edits: a filtered top-k may gain or lose points; only the collection can tell which.
      if (e.points?.touched?.length !== 0) {
        for (const sub of this.m.topkSubscriptions()) {
          if (sub.predicate && this.m.active(sub, e.seq)) this.m.queueRefresh(sub);
        }
      }
    }
    for (const [sub, points] of matches)
      sub.publish({ event: 'match', subscription: sub.id, seq: e.seq, points });
    for (const [sub, prev] of before) {
      if (sub.state.needsRefresh()) {
        // A member left and no spare is known: hold the change back and publish it with the refill.
        sub.pendingBefore ??= prev;
        this.m.queueRefresh(sub);
        continue;
      }
      const ev: SeqEvent | undefined = sub.diff(prev, e.seq);
      if (ev) sub.publish(ev);
    }
  }

  private upsert(
    e: ChangeEvent,
    before: Map<TopKSubscription, Member[]>,
    matches: Map<LiveSubscription, MatchedPoint[]>,
  ): void {
    const c = this.cands;
    for (let i = 0; i < e.ids!.length; i++, this.row++) {
      const key = pointKey(e.ids![i]!);
      this.handled.clear();
      while (c && this.ci < c.length && c.point[this.ci]! === this.row) {
        const sub = this.m.bySlotAt(c.slot[this.ci]!);
        const score = c.score[this.ci]!;
        this.ci++;
        if (!sub) continue;
        if (sub instanceof TopKSubscription) {
          if (this.direct.has(sub)) continue;
          this.handled.add(sub);
          this.topk(sub, e, i, key, score, before);
        } else if (e.seq >= sub.liveFrom) {
          const mp = sub.matchRow(this.m.metric, e, i, score);
          if (mp) {
            const list = matches.get(sub);
            if (list) list.push(mp);
            else matches.set(sub, [mp]);
          }
        }
      }
      // Members the kernel did not report: their new score fell below the bar, but they must move or leave.
      const held = this.m.holders(key);
      if (held) {
        for (const sub of [...held]) {
          if (!this.handled.has(sub) && !this.direct.has(sub)) this.topk(sub, e, i, key, undefined, before);
        }
      }
      for (const sub of this.direct) this.topk(sub, e, i, key, undefined, before);
    }
  }

  private topk(
    sub: TopKSubscription,
    e: ChangeEvent,
    row: number,
    key: string,
    score: number | undefined,
    before: Map<TopKSubscription, Member[]>,
  ): void {
    if (!this.m.active(sub, e.seq)) return;
    const metric = this.m.metric;
    const payload = e.points!.payloads?.[row] ?? undefined;
    let member: Member | undefined;
    if (!sub.predicate || sub.predicate(payload, key)) {
      const s = score ?? metric.score(sub.spec.vector, e.points!.vectors!, row);
      if (metric.passes(s, sub.threshold)) {
        member = { key, id: e.ids![row]!, score: s, version: e.seq };
        const p = selectPayload(payload, sub.spec.with_payload);
        if (p !== undefined) member.payload = p;
      }
    }
    if (!member && !sub.state.has(key)) return;
    this.touch(sub, before);
    sub.state.upsert(key, member);
    this.afterChange(sub);
  }

  private touch(sub: TopKSubscription, before: Map<TopKSubscription, Member[]>): void {
    if (!before.has(sub)) before.set(sub, sub.state.top());
  }

  private afterChange(sub: TopKSubscription): void {
    this.changed.add(sub);
    if (this.direct.has(sub) || !this.sentBars.has(sub)) return;
    if (admitsMore(this.m.metric, this.sentBars.get(sub), sub.state.bar())) this.direct.add(sub);
  }
}

/** Does bar `now` let through a score that bar `sent` did not? (undefined = no bar) */
function admitsMore(metric: Metric, sent: number | undefined, now: number | undefined): boolean {
  if (sent === undefined) return false;
  if (now === undefined) return true;
  return metric.lowerIsBetter ? now > sent : now < sent;
}
