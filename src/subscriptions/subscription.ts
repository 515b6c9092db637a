/**
 * A subscription at run time: its spec, compiled filter, the matcher slot it scores in, and the deliveries
 * (taps) attached to it. Threshold mode keeps no other state (its events follow from the WAL); top-k mode
 * keeps its reserve and a bounded history of its events.
 */
import {
  type ChangeEvent,
  compileFilter,
  type FilterPredicate,
  type Payload,
  type PointId,
  pointKey,
  selectPayload,
} from '../engine/index.js';
import { EventHistory } from './history.js';
import type { Metric } from './metric.js';
import { type Member, TopKState } from './top-k.js';
import type { MatchedPoint, SeqEvent, SubscriptionSpec } from './types.js';

export interface Tap {
  /** A live event of this subscription, in seq order. */
  push(e: SeqEvent): void;
  /** The live stream skipped seqs (the matcher fell behind the WAL's retention). */
  gap(fromSeq: number, oldestSeq: number): void;
  close(reason: 'deleted' | 'collection_dropped' | 'shutdown' | 'error', message?: string): void;
}

export class LiveSubscription {
  readonly predicate: FilterPredicate | undefined;
  readonly taps = new Set<Tap>();
  slot = -1;
  /** Live events are complete for seq >= liveFrom (set when the matcher starts scoring it). */
  liveFrom = Number.POSITIVE_INFINITY;

  constructor(readonly spec: SubscriptionSpec) {
    this.predicate = spec.filter ? compileFilter(spec.filter) : undefined;
  }

  get id(): string {
    return this.spec.id;
  }

  /** The score bar the kernel starts from: the threshold (top-k: refined by its reserve). */
  get threshold(): number | undefined {
    return this.spec.score_threshold ?? undefined;
  }

  publish(e: SeqEvent): void {
    for (const t of this.taps) t.push(e);
  }

  /** The matched point `row` of an upsert event, or undefined if it does not match. */
  matchRow(metric: Metric, e: ChangeEvent, row: number, score?: number): MatchedPoint | undefined {
    const payload = (e.points!.payloads?.[row] ?? undefined) as Payload | undefined;
    const id = e.ids![row]!;
    if (this.predicate && !this.predicate(payload, pointKey(id))) return undefined;
    const s = score ?? metric.score(this.spec.vector, e.points!.vectors!, row);
    if (!metric.passes(s, this.threshold)) return undefined;
    const out: MatchedPoint = { id, version: e.seq, score: s };
    const p = selectPayload(payload, this.spec.with_payload);
    if (p !== undefined) out.payload = p;
    return out;
  }

  /** Threshold mode: this subscription's event for one op (undefined: nothing matched). */
  matchEvent(metric: Metric, e: ChangeEvent): SeqEvent | undefined {
    if (e.op !== 'upsert' || !e.ids || !e.points?.vectors) return undefined;
    let points: MatchedPoint[] | undefined;
    for (let i = 0; i < e.ids.length; i++) {
      const m = this.matchRow(metric, e, i);
      if (!m) continue;
      points ??= [];
      points.push(m);
    }
    return points ? { event: 'match', subscription: this.id, seq: e.seq, points } : undefined;
  }
}

/** `deferred`: the last attempt could not pin the state down (writes raced it); tried again shortly. */
export type RefreshState = 'none' | 'queued' | 'running' | 'deferred';

export class TopKSubscription extends LiveSubscription {
  readonly state: TopKState;
  readonly history: EventHistory;
  /** Events up to this seq are already in the state (a refresh saw the collection at this seq). */
  skipThrough = 0;
  refresh: RefreshState = 'none';
  /** Resolved when the first refresh has built the state (creation waits for it). */
  readonly ready: Promise<number>;
  private resolveReady!: (seq: number) => void;
  private rejectReady!: (e: unknown) => void;
  initialised = false;

  constructor(
    spec: SubscriptionSpec,
    metric: Metric,
    reserve: number,
    historyEvents: number,
    track: (key: string, held: boolean, sub: TopKSubscription) => void,
  ) {
    super(spec);
    const k = spec.top_k!;
    this.state = new TopKState(k, k + reserve, metric, (key, held) => track(key, held, this));
    this.history = new EventHistory(historyEvents, spec.seq);
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Creation may be abandoned (server closing) before anyone awaits it.
    this.ready.catch(() => {});
  }

  /** The seq the state reflects, given the matcher's position. */
  stateSeq(processed: number): number {
    return Math.max(processed, this.skipThrough);
  }

  initialise(seq: number): void {
    this.initialised = true;
    this.history.restart(seq);
    this.resolveReady(seq);
  }

  fail(e: unknown): void {
    this.rejectReady(e);
  }

  override publish(e: SeqEvent): void {
    this.history.push(e);
    super.publish(e);
  }

  /**
   * The top-k as last published, while a refill is pending (a member left and the reserve ran dry): the
   * leave is held back and published together with the refill, as one event.
   */
  pendingBefore: Member[] | undefined;

  /** The top-k clients have been told about (what a reset snapshot shows). */
  visibleTop(): Member[] {
    return this.pendingBefore ?? this.state.top();
  }

  /** A top-k event from the top-k before a change and the state after it (undefined: no change). */
  diff(before: Member[], seq: number): SeqEvent | undefined {
    const prev = new Set<string>();
    for (const m of before) prev.add(m.key);
    const enter: MatchedPoint[] = [];
    const afterKeys = new Set<string>();
    for (const m of this.state.top()) {
      afterKeys.add(m.key);
      if (!prev.has(m.key)) enter.push(matched(m));
    }
    const leave: PointId[] = [];
    for (const m of before) if (!afterKeys.has(m.key)) leave.push(m.id);
    if (enter.length === 0 && leave.length === 0) return undefined;
    return { event: 'topk', subscription: this.id, seq, enter, leave };
  }
}

export function matched(m: Member): MatchedPoint {
  const out: MatchedPoint = { id: m.id, version: m.version, score: m.score };
  if (m.payload !== undefined) out.payload = m.payload;
  return out;
}
