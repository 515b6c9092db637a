/**
 * A collection: segments + WAL + payload indexes + the background indexer/optimizer.
 *
 * Write path: validate → assign seq → WAL append (group commit, fsynced) → apply in seq order → ack.
 * Nothing invalid reaches the WAL, and nothing is visible before it is durable.
 * Read path: the planner picks an exact scan of the (estimated few) matching points or a graph walk per
 * segment with the filter applied during traversal — both in the native core, off this thread, with the
 * filter handed over as a bitset; unindexed tails are always scanned exactly here, so recall never depends on
 * how far the indexer has got.
 */

import type { EngineConfig } from '../../config/index.js';
import { SurgeError } from '../../protocol/errors.js';
import type { FilterPlan, PlannerContext } from '../filter/index.js';
import { PayloadIndex, parseFilter, parseKeyPath, planFilter } from '../filter/index.js';
import { distanceFn } from '../index/distance.js';
import { TopK } from '../index/top-k.js';
import type { IndexHits, IndexSpace, SlotSet } from '../index/vector-index.js';
import { slotSet, slotSetAdd } from '../index/vector-index.js';
import { compareKeys, keyToId, pointKey } from '../point-id.js';
import { Segment } from '../segment/segment.js';
import {
  captureSegment,
  readLatestSnapshot,
  type SnapshotState,
  writeSnapshot,
} from '../snapshot/snapshot.js';
import type {
  ChangeOptions,
  ChangePage,
  CollectionConfig,
  CollectionInfo,
  Filter,
  Payload,
  PayloadSchemaType,
  PointId,
  PointInput,
  PointRecord,
  PointsSelector,
  ScoredPoint,
  ScrollRequest,
  ScrollResult,
  SearchRequest,
  UpdateResult,
  WithPayload,
  WriteOptions,
} from '../types.js';
import { Wal } from '../wal/index.js';
import { type ChangeHub, changeEvent, changePoints } from './changes.js';
import { decodeOp, encodeOp, type Op, type Selector } from './ops.js';
import { checkKeyPath, deletePayloadKeys, mergePayload, selectPayload, validatePayload } from './payload.js';
import { toVector, writeVector } from './vectors.js';

export interface UpsertBatch {
  ids: PointId[];
  vectors: ArrayLike<number>[] | Float32Array;
  payloads?: (Payload | null | undefined)[] | null;
}

interface PendingWrite {
  seq: number;
  op: Op;
  durable: boolean;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface CollectionStats {
  seq: number;
  pendingWrites: number;
  unindexed: number;
  snapshots: number;
  /** Snapshots that failed (the WAL then keeps growing until one succeeds: alert on it). */
  snapshotFailures: number;
  lastSnapshotMs: number;
  wal: ReturnType<Wal['stats']>;
  memoryBytes: number;
  /** Searches answered by each planner path (observability, and tests prove which path ran). */
  searches: { exact: number; graph: number };
}

export class Collection {
  private readonly segments = new Map<number, Segment>();
  private appendable!: Segment;
  private nextSegmentId = 0;
  private readonly idMap = new Map<string, number>();
  private readonly indexes = new Map<string, PayloadIndex>();
  private readonly pending: PendingWrite[] = [];
  private seqAssigned = 0;
  private seqApplied = 0;
  private sortedKeys: string[] | null = null;
  private readonly space: IndexSpace;
  private readonly distance;
  private failure: SurgeError | null = null;
  private closed = false;
  private closing = false;
  /** Indexing or vacuum changed the layout since the last snapshot (worth saving at close: no rebuild on start). */
  private reorganised = false;
  private indexerScheduled = false;
  private indexingPaused = false;
  /** The indexer's batch in flight on the native core, awaited by close(). */
  private indexing: Promise<void> | null = null;
  private snapshotRunning: Promise<void> | null = null;
  private opsSinceSnapshot = 0;
  private lastSnapshotAt = Date.now();
  private snapshotCount = 0;
  private readonly searches = { exact: 0, graph: 0 };
  private lastSnapshotMs = 0;
  private snapshotFailures = 0;
  /** Resolvers waiting for the indexer to go idle (tests and benchmarks). */
  private idleWaiters: (() => void)[] = [];

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly config: CollectionConfig,
    private readonly engineConfig: EngineConfig,
    private readonly wal: Wal,
    private readonly changes: ChangeHub,
  ) {
    this.space = config.distance === 'Euclid' ? 'l2' : 'ip';
    this.distance = distanceFn(this.space);
  }

  /** Opens (or initialises) the collection stored in `dir`: newest snapshot, then the WAL tail. */
  static async open(
    name: string,
    dir: string,
    config: CollectionConfig,
    engineConfig: EngineConfig,
    changes: ChangeHub,
  ) {
    const wal = await Wal.open(`${dir}/wal`, {
      segmentBytes: engineConfig.storage.wal_segment_bytes,
      fsync: engineConfig.storage.fsync,
    });
    const c = new Collection(name, dir, config, engineConfig, wal, changes);
    try {
      const snap = readLatestSnapshot(`${dir}/snapshots`, (p) => c.segmentParams(p.id));
      if (snap) c.restore(snap);
      else c.appendable = c.newSegment();
      c.seqAssigned = c.seqApplied;
      for await (const rec of wal.replay(c.seqApplied)) {
        c.apply(decodeOp(rec.op, rec.seq), rec.seq);
        c.seqAssigned = rec.seq;
      }
      if (wal.lastSeq > c.seqAssigned) c.seqAssigned = wal.lastSeq;
    } catch (e) {
      await wal.close();
      throw e;
    }
    c.scheduleIndexing();
    return c;
  }

  // ---------------------------------------------------------------- writes

  upsert(points: PointInput[] | UpsertBatch, options: WriteOptions = {}): Promise<UpdateResult> {
    this.assertWritable();
    const { size: dim, distance } = this.config;
    const batch = Array.isArray(points) ? undefined : points;
    const n = batch ? batch.ids.length : (points as PointInput[]).length;
    if (!Number.isInteger(n)) throw new SurgeError('INVALID_REQUEST', 'points must be a list');
    if (n > this.engineConfig.max_batch) {
      throw new SurgeError(
        'LIMIT_EXCEEDED',
        `${n} points in one request; the limit is ${this.engineConfig.max_batch}`,
      );
    }
    // Vector lengths first: n × dim floats are allocated below, and n short vectors (`[]`) in a small body
    // must not make that a multi-gigabyte allocation (it failed as a 500 above 2^32 floats).
    if (!(batch?.vectors instanceof Float32Array)) {
      for (let i = 0; i < n; i++) {
        const p = batch ? undefined : (points as unknown[])[i];
        if (!batch && (p === null || typeof p !== 'object')) continue; // reported below, in order
        const v = batch ? (batch.vectors as unknown[])[i] : (p as { vector?: unknown }).vector;
        if ((v as { length?: unknown } | null | undefined)?.length !== dim) {
          writeVector(v, dim, distance, new Float32Array(dim), 0, `points[${i}].vector`);
        }
      }
    }
    const keys: string[] = new Array(n);
    const payloads: (Payload | null)[] = new Array(n);
    const vectors = new Float32Array(n * dim);
    const seen = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const where = `points[${i}]`;
      let id: unknown;
      let vector: unknown;
      let payload: unknown;
      if (batch) {
        id = batch.ids[i];
        vector =
          batch.vectors instanceof Float32Array
            ? batch.vectors.subarray(i * dim, (i + 1) * dim)
            : batch.vectors[i];
        payload = batch.payloads?.[i];
      } else {
        const p = (points as PointInput[])[i];
        if (p === null || typeof p !== 'object')
          throw new SurgeError('INVALID_REQUEST', `${where} must be an object`);
        ({ id, vector, payload } = p as unknown as Record<string, unknown>);
      }
      keys[i] = pointKey(id);
      writeVector(vector, dim, distance, vectors, i, `${where}.vector`);
      payloads[i] = payload == null ? null : validatePayload(payload, this.engineConfig, `${where}.payload`);
      // Qdrant applies duplicates in order: the last one wins. Keep only it so the op stays small.
      const prev = seen.get(keys[i]!);
      if (prev !== undefined) keys[prev] = '';
      seen.set(keys[i]!, i);
    }
    const op = compactUpsert(keys, vectors, payloads, dim);
    return this.submit(op, options);
  }

  delete(selector: PointsSelector, options: WriteOptions = {}): Promise<UpdateResult> {
    this.assertWritable();
    return this.submit({ type: 'delete', selector: this.parseSelector(selector) }, options);
  }

  setPayload(
    payload: Payload,
    selector: PointsSelector,
    options: WriteOptions & { key?: string | undefined } = {},
  ): Promise<UpdateResult> {
    this.assertWritable();
    if (options.key !== undefined && (typeof options.key !== 'string' || options.key === '')) {
      throw new SurgeError('INVALID_REQUEST', 'key must be a non-empty dotted path');
    }
    // Before the WAL: mergePayload refusing it while applying would fail the collection for good.
    if (options.key !== undefined) checkKeyPath(options.key);
    // The patch lands under the key's parts: they count towards the depth limit (a 50,000-part key made
    // a payload too deep to clone, snapshot or replay).
    const outer = options.key === undefined ? 0 : options.key.split('.').length;
    const p = validatePayload(payload, this.engineConfig, 'payload', outer);
    const sel = this.parseSelector(selector);
    return this.submit({ type: 'set_payload', selector: sel, payload: p, key: options.key }, options);
  }

  overwritePayload(
    payload: Payload,
    selector: PointsSelector,
    options: WriteOptions = {},
  ): Promise<UpdateResult> {
    this.assertWritable();
    const p = validatePayload(payload, this.engineConfig);
    const sel = this.parseSelector(selector);
    return this.submit({ type: 'overwrite_payload', selector: sel, payload: p }, options);
  }

  deletePayload(
    fields: string[],
    selector: PointsSelector,
    options: WriteOptions = {},
  ): Promise<UpdateResult> {
    this.assertWritable();
    if (!Array.isArray(fields) || fields.some((k) => typeof k !== 'string')) {
      throw new SurgeError('INVALID_REQUEST', 'keys must be a list of strings');
    }
    for (const k of fields) checkKeyPath(k);
    const sel = this.parseSelector(selector);
    return this.submit({ type: 'delete_payload', selector: sel, fields }, options);
  }

  clearPayload(selector: PointsSelector, options: WriteOptions = {}): Promise<UpdateResult> {
    this.assertWritable();
    return this.submit({ type: 'clear_payload', selector: this.parseSelector(selector) }, options);
  }

  createPayloadIndex(field: string, schema: PayloadSchemaType, options: WriteOptions = {}) {
    this.assertWritable();
    if (typeof field !== 'string' || field === '')
      throw new SurgeError('INVALID_REQUEST', 'field_name is required');
    // Checked here, not when applied: a bad path in the WAL would fail the collection on every replay.
    if (!parseKeyPath(field)) {
      throw new SurgeError(
        'INVALID_REQUEST',
        `field_name ${JSON.stringify(field)} is not a valid payload key`,
      );
    }
    checkKeyPath(field, 'field_name');
    if (!['keyword', 'integer', 'float', 'bool'].includes(schema)) {
      throw new SurgeError('UNSUPPORTED_FEATURE', `payload index type "${String(schema)}" is not supported`, {
        supported: ['keyword', 'integer', 'float', 'bool'],
      });
    }
    return this.submit({ type: 'create_index', field, schema }, options);
  }

  deletePayloadIndex(field: string, options: WriteOptions = {}) {
    this.assertWritable();
    return this.submit({ type: 'delete_index', field }, options);
  }

  private parseSelector(selector: PointsSelector): Selector {
    if (selector && typeof selector === 'object') {
      if ('points' in selector && Array.isArray(selector.points)) {
        return { keys: selector.points.map((id) => pointKey(id)) };
      }
      if ('filter' in selector && selector.filter) return { filter: parseFilter(selector.filter) };
    }
    throw new SurgeError('INVALID_REQUEST', 'select points with {"points": [ids]} or {"filter": {...}}');
  }

  private submit(op: Op, options: WriteOptions): Promise<UpdateResult> {
    // Encode first: an op that cannot be encoded must not consume a seq.
    const bytes = encodeOp(op);
    const seq = ++this.seqAssigned;
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pending.push({ seq, op, durable: false, done, resolve, reject });
    this.wal.append(seq, bytes).then(
      () => {
        const entry = this.pending.find((p) => p.seq === seq);
        if (entry) entry.durable = true;
        this.drain();
      },
      (e: unknown) => this.fail(e),
    );
    return done.then(() => ({
      operation_id: seq,
      status: options.wait === false ? 'acknowledged' : 'completed',
    }));
  }

  /** Applies durable writes strictly in seq order. */
  private drain(): void {
    while (this.pending.length > 0 && this.pending[0]!.durable) {
      const w = this.pending.shift()!;
      try {
        const { refused, touched, keys } = this.apply(w.op, w.seq);
        // Before the write settles: whoever awaits a write can count on its event having been dispatched.
        if (this.changes.active) {
          this.changes.emit(changeEvent(this.name, w.seq, w.op, touched), () => changePoints(w.op, keys));
        }
        if (refused) w.reject(refused);
        else w.resolve();
      } catch (e) {
        // Validated ops cannot fail to apply; if one does, stop accepting writes rather than diverge from the WAL.
        this.fail(e);
        w.reject(this.failure);
        return;
      }
    }
    this.afterWrites();
  }

  private fail(e: unknown): void {
    this.failure =
      e instanceof SurgeError ? e : new SurgeError('STORAGE_ERROR', `collection ${this.name}: ${String(e)}`);
    for (const w of this.pending.splice(0)) w.reject(this.failure);
  }

  private afterWrites(): void {
    this.scheduleIndexing();
    const s = this.engineConfig.storage;
    if (
      this.opsSinceSnapshot >= s.snapshot_interval_ops ||
      (this.opsSinceSnapshot > 0 && Date.now() - this.lastSnapshotAt >= s.snapshot_interval_ms)
    ) {
      void this.snapshot().catch(() => {});
    }
  }

  // ---------------------------------------------------------------- apply (in seq order; also WAL replay)

  /**
   * Applies one op. A payload edit that names a missing point is refused as a whole (returned, not thrown):
   * it is checked here, in seq order, so pipelined writes see their predecessors, and replay refuses it too.
   */
  private apply(
    op: Op,
    seq: number,
  ): { refused: SurgeError | undefined; touched: number; keys?: string[] | undefined } {
    let refused: SurgeError | undefined;
    if (
      (op.type === 'set_payload' || op.type === 'overwrite_payload' || op.type === 'delete_payload') &&
      'keys' in op.selector
    ) {
      const missing = op.selector.keys.find((k) => !this.idMap.has(k));
      if (missing !== undefined) {
        refused = new SurgeError('POINT_NOT_FOUND', `No point with id ${missing} found`, { id: missing });
        op = { ...op, selector: { keys: [] } };
      }
    }
    const slots = 'selector' in op ? this.resolve(op.selector) : [];
    // Read before a delete removes them: standing queries need to know which points an op changed.
    const keys = 'selector' in op && this.changes.wantsPoints ? slots.map((s) => this.keyOf(s)) : undefined;
    switch (op.type) {
      case 'upsert':
        this.applyUpsert(op.keys, op.vectors, op.payloads, seq);
        break;
      case 'delete':
        for (const slot of slots) this.removeSlot(slot);
        break;
      case 'set_payload':
        for (const slot of slots) {
          this.replacePayload(slot, mergePayload(this.payloadOf(slot), op.payload, op.key), seq);
        }
        break;
      case 'overwrite_payload':
        for (const slot of slots) this.replacePayload(slot, structuredClone(op.payload), seq);
        break;
      case 'delete_payload':
        for (const slot of slots) {
          this.replacePayload(slot, deletePayloadKeys(this.payloadOf(slot), op.fields), seq);
        }
        break;
      case 'clear_payload':
        for (const slot of slots) this.replacePayload(slot, undefined, seq);
        break;
      case 'create_index':
        this.buildPayloadIndex(op.field, op.schema);
        break;
      case 'delete_index':
        this.indexes.delete(op.field);
        delete this.config.payload_indexes[op.field];
        break;
      default: {
        const never: never = op;
        throw new SurgeError('INTERNAL', `unknown op ${JSON.stringify(never)}`);
      }
    }
    this.seqApplied = seq;
    this.opsSinceSnapshot++;
    return { refused, touched: slots.length, keys };
  }

  private keyOf(slot: number): string {
    const seg = this.segmentOf(slot)!;
    return seg.keys[slot - seg.base]!;
  }

  private applyUpsert(
    keys: string[],
    vectors: Float32Array,
    payloads: (Payload | null)[],
    seq: number,
  ): void {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const old = this.idMap.get(key);
      if (old !== undefined) this.removeSlot(old);
      else this.sortedKeys = null;
      const payload = payloads[i] ?? undefined;
      const slot = this.appendPoint(key, vectors, i, payload, seq);
      this.idMap.set(key, slot);
    }
  }

  private appendPoint(
    key: string,
    src: Float32Array,
    row: number,
    payload: Payload | undefined,
    seq: number,
  ) {
    if (this.appendable.full) this.appendable = this.newSegment();
    const slot = this.appendable.append(key, src, row, payload, seq);
    if (payload) for (const idx of this.indexes.values()) idx.add(slot, payload);
    return slot;
  }

  private removeSlot(slot: number): void {
    const seg = this.segmentOf(slot);
    if (!seg?.isAlive(slot)) return;
    const off = slot - seg.base;
    const payload = seg.payloads[off];
    if (payload) for (const idx of this.indexes.values()) idx.remove(slot, payload);
    this.idMap.delete(seg.keys[off]!);
    this.sortedKeys = null;
    seg.kill(slot);
  }

  private replacePayload(slot: number, next: Payload | undefined, seq: number): void {
    const seg = this.segmentOf(slot)!;
    const off = slot - seg.base;
    const prev = seg.payloads[off];
    if (prev) for (const idx of this.indexes.values()) idx.remove(slot, prev);
    seg.payloads[off] = next;
    seg.versions[off] = seq;
    if (next) for (const idx of this.indexes.values()) idx.add(slot, next);
  }

  private buildPayloadIndex(field: string, schema: PayloadSchemaType): void {
    const idx = new PayloadIndex(field, schema);
    this.eachMatch(undefined, (seg, off) => {
      const p = seg.payloads[off];
      if (p) idx.add(seg.base + off, p);
    });
    this.indexes.set(field, idx);
    this.config.payload_indexes[field] = schema;
  }

  /** Slots a selector names, resolved against the current state (hence deterministic in seq order). */
  private resolve(sel: Selector): number[] {
    if ('keys' in sel) {
      const out: number[] = [];
      for (const k of sel.keys) {
        const slot = this.idMap.get(k);
        if (slot !== undefined) out.push(slot);
      }
      return out;
    }
    return this.matching(this.plan(sel.filter));
  }

  // ---------------------------------------------------------------- reads

  /**
   * Applied ops with seq > afterSeq, oldest first, at most `limit`, read back from the WAL. Ops durable but
   * not yet applied are left out: the live feed delivers them once they are.
   */
  async readChanges(afterSeq: number, limit: number, options?: ChangeOptions): Promise<ChangePage> {
    this.assertReadable();
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
      throw new SurgeError('INVALID_REQUEST', 'afterSeq must be an integer >= 0');
    }
    this.checkLimit(limit, 'limit', 1);
    for (let attempt = 1; ; attempt++) {
      const upTo = this.seqApplied;
      try {
        const oldestSeq = this.oldestWalSeq(upTo);
        const events: ChangePage['events'] = [];
        if (afterSeq < upTo) {
          for await (const rec of this.wal.replay(afterSeq)) {
            if (rec.seq > upTo) break;
            const op = decodeOp(rec.op, rec.seq);
            const e = changeEvent(this.name, rec.seq, op);
            const points = options?.points ? changePoints(op) : undefined;
            events.push(points ? { ...e, points } : e);
            if (events.length >= limit) break;
          }
        }
        return { events, oldestSeq };
      } catch (e) {
        // A snapshot may delete a WAL file between listing and opening it: read again from the new start.
        if (attempt >= 3 || !(e instanceof SurgeError) || e.code !== 'STORAGE_ERROR') throw e;
      }
    }
  }

  /** Seq of the first record the WAL still holds; upTo + 1 when it holds none. */
  private oldestWalSeq(upTo: number): number {
    return this.wal.firstSeq ?? upTo + 1;
  }

  retrieve(ids: PointId[], withPayload: WithPayload = true, withVector = false): PointRecord[] {
    this.assertReadable();
    if (!Array.isArray(ids)) throw new SurgeError('INVALID_REQUEST', 'ids must be a list');
    const out: PointRecord[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      const key = pointKey(id);
      if (seen.has(key)) continue;
      seen.add(key);
      const slot = this.idMap.get(key);
      if (slot !== undefined) out.push(this.record(slot, withPayload, withVector));
    }
    return out;
  }

  count(filter?: Filter | null): number {
    this.assertReadable();
    if (!filter) return this.idMap.size;
    return this.matching(this.plan(parseFilter(filter))).length;
  }

  scroll(req: ScrollRequest = {}): ScrollResult {
    this.assertReadable();
    const limit = req.limit ?? 10;
    this.checkLimit(limit, 'limit', 1);
    const keys = this.sorted();
    let i = 0;
    if (req.offset !== undefined && req.offset !== null) {
      const start = pointKey(req.offset);
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareKeys(keys[mid]!, start) < 0) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    const plan = req.filter ? this.plan(parseFilter(req.filter)) : undefined;
    const points: PointRecord[] = [];
    let next: PointId | null = null;
    for (; i < keys.length; i++) {
      const slot = this.idMap.get(keys[i]!)!;
      if (plan && !plan.predicate(this.payloadOf(slot), keys[i]!)) continue;
      if (points.length === limit) {
        next = keyToId(keys[i]!);
        break;
      }
      points.push(this.record(slot, req.with_payload ?? true, req.with_vector ?? false));
    }
    return { points, next_page_offset: next };
  }

  async search(req: SearchRequest): Promise<ScoredPoint[]> {
    this.assertReadable();
    if (req === null || typeof req !== 'object')
      throw new SurgeError('INVALID_REQUEST', 'search needs a body');
    const { size: dim, distance, hnsw } = this.config;
    const limit = req.limit;
    const offset = req.offset ?? 0;
    this.checkLimit(limit, 'limit', 1);
    this.checkLimit(offset, 'offset', 0);
    const k = limit + offset;
    const query = toVector(req.vector, dim, distance);
    const ef = req.params?.hnsw_ef ?? hnsw.ef;
    if (!Number.isInteger(ef) || ef < 1)
      throw new SurgeError('INVALID_REQUEST', 'params.hnsw_ef must be a positive integer');
    const plan = req.filter ? this.plan(parseFilter(req.filter)) : undefined;
    const kbPerPoint = (dim * 4) / 1024;
    const estimate = plan ? plan.estimate : this.idMap.size;
    const exact = req.params?.exact === true || estimate * kbPerPoint < hnsw.full_scan_threshold;

    this.searches[exact ? 'exact' : 'graph']++;
    // The native walk yields to this thread, and the indexer may vacuum a segment (moving its points) or a
    // write may delete a hit meanwhile: hits gone stale are dropped, and the search runs again asking for as
    // many more as went stale, so they do not cost the caller results (twice at most).
    let hits: { slot: number; distance: number }[] = [];
    let extra = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const want = k + extra;
      const found = (await this.indexSearch(query, want, Math.max(ef, want), plan, exact)).result();
      const r = this.rescored(query, found);
      hits = r.hits.slice(0, k);
      // Enough live hits beyond the stale ones: the top k among them is the answer.
      if (r.stale <= extra) break;
      extra += r.stale;
    }
    const out: ScoredPoint[] = [];
    const threshold = req.score_threshold;
    for (let i = offset; i < hits.length; i++) {
      const { slot, distance: d } = hits[i]!;
      const seg = this.segmentOf(slot);
      if (!seg?.isAlive(slot)) continue;
      const score = this.toScore(d);
      if (
        threshold !== undefined &&
        threshold !== null &&
        (distance === 'Euclid' ? score > threshold : score < threshold)
      ) {
        break;
      }
      const { id, ...rest } = this.record(slot, req.with_payload ?? false, req.with_vector ?? false);
      out.push({ id, version: seg.versions[slot - seg.base]!, score, ...rest });
    }
    return out;
  }

  /**
   * The k winners that are still live, scored again here from our own copy of each vector, and ordered by
   * (distance, slot): the native core's SIMD sums round differently from this scan of the unindexed tail, so
   * without this the same point could score a few ulps apart depending on which path found it — and equal
   * scores would come back in whichever order the paths met them.
   */
  private rescored(query: Float32Array, hits: IndexHits) {
    const dim = this.config.size;
    const out: { slot: number; distance: number }[] = [];
    const seen = new Set<number>();
    let stale = 0;
    for (const slot of hits.slots) {
      if (seen.has(slot)) continue; // found by the graph and by the tail scan (see indexSearch)
      seen.add(slot);
      const seg = this.segmentOf(slot);
      if (!seg?.isAlive(slot)) {
        stale++;
        continue;
      }
      out.push({ slot, distance: this.distance(query, 0, seg.vectors, (slot - seg.base) * dim, dim) });
    }
    return { hits: out.sort((a, b) => a.distance - b.distance || a.slot - b.slot), stale };
  }

  private toScore(d: number): number {
    // Index distances: 'ip' = 1 - dot, 'l2' = squared L2. Qdrant reports similarity / euclidean distance.
    return this.space === 'ip' ? 1 - d : Math.sqrt(Math.max(0, d));
  }

  /** A visitor that scores a point against `query` into `top`. */
  private scorer(query: Float32Array, top: TopK): (seg: Segment, off: number) => void {
    const dim = this.config.size;
    return (seg, off) => top.push(seg.base + off, this.distance(query, 0, seg.vectors, off * dim, dim));
  }

  /** Visits the live offsets in [from, to) of a segment that the plan's predicate admits. */
  private scan(
    seg: Segment,
    from: number,
    to: number,
    plan: FilterPlan | undefined,
    visit: (seg: Segment, off: number) => void,
  ): void {
    for (let off = from; off < to; off++) {
      if (seg.alive[off] !== 1) continue;
      if (plan && !plan.predicate(seg.payloads[off], seg.keys[off]!)) continue;
      visit(seg, off);
    }
  }

  /** Visits every live point the plan admits: among its candidates when it has them, else everywhere. */
  private eachMatch(plan: FilterPlan | undefined, visit: (seg: Segment, off: number) => void): void {
    if (plan?.candidates) {
      for (const slot of plan.candidates) {
        const seg = this.segmentOf(slot);
        if (seg) this.scan(seg, slot - seg.base, slot - seg.base + 1, plan, visit);
      }
    } else {
      for (const seg of this.segments.values()) this.scan(seg, 0, seg.count, plan, visit);
    }
  }

  /**
   * Per segment: the native index for indexed offsets — a graph walk with the filter (as a bitset) applied
   * during traversal, or, when the planner chose `exact`, a SIMD scan of the allowed points; ef grows until k
   * matches are found or the graph is exhausted — plus a scan of the not-yet-indexed tail here.
   */
  private async indexSearch(
    query: Float32Array,
    k: number,
    ef: number,
    plan: FilterPlan | undefined,
    exact: boolean,
  ) {
    // 2k: a batch being added (Segment.indexSome) is in the graph already and still scanned as the tail, so a
    // point may come twice; the top 2k entries always hold the top k distinct points (rescored dedupes).
    const top = new TopK(2 * k);
    const score = this.scorer(query, top);
    for (const seg of this.segments.values()) {
      const indexed = seg.indexed;
      const allow = plan ? this.allowedIn(seg, indexed, plan) : undefined;
      const reachable = Math.min(k, allow ? allow.size : seg.index.size());
      if (reachable > 0) {
        let e = ef;
        for (;;) {
          const hits = await seg.index.search(query, reachable, { ef: e, allow, exact });
          if (exact || hits.slots.length >= reachable || e >= seg.index.size()) {
            for (let i = 0; i < hits.slots.length; i++) top.push(hits.slots[i]!, hits.distances[i]!);
            break;
          }
          e = Math.min(seg.index.size(), e * 4);
        }
      }
      this.scan(seg, indexed, seg.count, plan, score);
    }
    return top;
  }

  /** The live, indexed points of a segment the plan admits, as the bitset the index filters with. */
  private allowedIn(seg: Segment, indexed: number, plan: FilterPlan): SlotSet {
    const set = slotSet(seg.base, indexed);
    const admit = (off: number): void => {
      if (seg.alive[off] !== 1) return;
      if (!plan.candidatesExact && !plan.predicate(seg.payloads[off], seg.keys[off]!)) return;
      slotSetAdd(set, seg.base + off);
    };
    if (plan.candidates) {
      for (const slot of plan.candidates) {
        const off = slot - seg.base;
        if (off >= 0 && off < indexed) admit(off);
      }
    } else {
      for (let off = 0; off < indexed; off++) admit(off);
    }
    return set;
  }

  private plan(filter: Filter): FilterPlan {
    return planFilter(filter, this.plannerContext());
  }

  private plannerContext(): PlannerContext {
    return {
      indexes: this.indexes,
      liveCount: this.idMap.size,
      sampleLive: (n) => this.sampleLive(n),
      payloadOf: (slot) => this.payloadOf(slot),
      slotOf: (key) => this.idMap.get(key),
      keyOf: (slot) => {
        const seg = this.segmentOf(slot)!;
        return seg.keys[slot - seg.base]!;
      },
    };
  }

  /** Evenly strided sample of live slots: deterministic, so the same query gets the same plan. */
  private *sampleLive(n: number): Iterable<number> {
    const total = this.idMap.size;
    if (total === 0) return;
    const stride = Math.max(1, Math.floor(total / n));
    let i = 0;
    let taken = 0;
    for (const seg of this.segments.values()) {
      for (let off = 0; off < seg.count && taken < n; off++) {
        if (seg.alive[off] !== 1) continue;
        if (i++ % stride === 0) {
          taken++;
          yield seg.base + off;
        }
      }
    }
  }

  private matching(plan: FilterPlan): number[] {
    const out: number[] = [];
    this.eachMatch(plan, (seg, off) => out.push(seg.base + off));
    return out;
  }

  private record(slot: number, withPayload: WithPayload, withVector: boolean): PointRecord {
    const seg = this.segmentOf(slot)!;
    const off = slot - seg.base;
    const r: PointRecord = { id: keyToId(seg.keys[off]!) };
    const payload = selectPayload(seg.payloads[off], withPayload);
    if (payload !== undefined) r.payload = payload;
    if (withVector) {
      const dim = this.config.size;
      r.vector = Array.from(seg.vectors.subarray(off * dim, (off + 1) * dim));
    }
    return r;
  }

  private sorted(): string[] {
    // Rebuilt only after ids were added or removed: paging through a stable collection stays O(page).
    this.sortedKeys ??= Array.from(this.idMap.keys()).sort(compareKeys);
    return this.sortedKeys;
  }

  private payloadOf(slot: number): Payload | undefined {
    const seg = this.segmentOf(slot);
    return seg ? seg.payloads[slot - seg.base] : undefined;
  }

  private segmentOf(slot: number): Segment | undefined {
    return this.segments.get(Math.floor(slot / this.config.segment_max_points));
  }

  private checkLimit(v: unknown, what: string, min: number): void {
    const max = this.engineConfig.max_search_limit;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new SurgeError('INVALID_REQUEST', `${what} must be an integer >= ${min}`);
    }
    if (v > max) throw new SurgeError('LIMIT_EXCEEDED', `${what} ${v} is above the maximum ${max}`, { max });
  }

  info(): CollectionInfo {
    const segments = [...this.segments.values()].map((s) => s.info());
    const unindexed = this.unindexed();
    const payload_schema: CollectionInfo['payload_schema'] = {};
    for (const [field, idx] of this.indexes)
      payload_schema[field] = { data_type: idx.type, points: idx.size };
    return {
      name: this.name,
      status: unindexed > 0 ? 'yellow' : 'green',
      points_count: this.idMap.size,
      indexed_vectors_count: segments.reduce((s, x) => s + x.indexed, 0),
      segments_count: segments.length,
      segments,
      seq: this.seqApplied,
      config: structuredClone(this.config),
      payload_schema,
    };
  }

  stats(): CollectionStats {
    let memoryBytes = 0;
    for (const s of this.segments.values()) memoryBytes += s.memoryBytes();
    return {
      seq: this.seqApplied,
      pendingWrites: this.pending.length,
      unindexed: this.unindexed(),
      snapshots: this.snapshotCount,
      snapshotFailures: this.snapshotFailures,
      lastSnapshotMs: this.lastSnapshotMs,
      wal: this.wal.stats(),
      memoryBytes,
      searches: { ...this.searches },
    };
  }

  // ---------------------------------------------------------------- background: indexing, vacuum, snapshots

  private unindexed(): number {
    let n = 0;
    for (const s of this.segments.values()) n += s.count - s.indexed;
    return n;
  }

  /** The degradation ladder's pause: no new indexing or vacuum batch starts until resumed. */
  setIndexingPaused(paused: boolean): void {
    this.indexingPaused = paused;
    if (!paused) this.scheduleIndexing();
  }

  private scheduleIndexing(): void {
    if (this.indexerScheduled || this.indexing || this.closed || this.closing || this.failure) return;
    // A snapshot writes the graphs as captured; it schedules indexing again when done.
    if (this.snapshotRunning) return;
    if (this.indexingPaused) return;
    if (this.unindexed() === 0 && !this.vacuumCandidate()) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.indexerScheduled = true;
    // setImmediate: requests queued meanwhile are served before the next batch starts.
    setImmediate(() => {
      this.indexerScheduled = false;
      if (this.closed || this.closing || this.snapshotRunning) return;
      this.indexing = this.indexStep()
        // A batch can only fail on a native fault (e.g. out of memory): stop writes rather than grow a backlog.
        .catch((e: unknown) => this.fail(e))
        .finally(() => {
          this.indexing = null;
          this.scheduleIndexing();
        });
    });
  }

  private async indexStep(): Promise<void> {
    this.reorganised = true;
    const slice = this.engineConfig.index_slice_points;
    for (const seg of this.segments.values()) {
      if (seg.indexed < seg.count) {
        await seg.indexSome(slice);
        return;
      }
    }
    const victim = this.vacuumCandidate();
    if (victim) this.vacuum(victim);
  }

  private vacuumCandidate(): Segment | undefined {
    for (const seg of this.segments.values()) {
      if (
        seg !== this.appendable &&
        seg.count > 0 &&
        seg.deleted / seg.count >= this.engineConfig.vacuum_deleted_ratio
      ) {
        return seg;
      }
    }
    return undefined;
  }

  /** Moves a segment's live points into the appendable segment and drops it (frees vectors and graph). */
  private vacuum(seg: Segment): void {
    for (let off = 0; off < seg.count; off++) {
      if (seg.alive[off] !== 1) continue;
      const oldSlot = seg.base + off;
      const payload = seg.payloads[off];
      if (payload) for (const idx of this.indexes.values()) idx.remove(oldSlot, payload);
      const slot = this.appendPoint(seg.keys[off]!, seg.vectors, off, payload, seg.versions[off]!);
      this.idMap.set(seg.keys[off]!, slot);
    }
    this.segments.delete(seg.id);
  }

  /** Resolves when every applied point is in a graph and no vacuum is due. */
  whenIndexed(): Promise<void> {
    if (this.unindexed() === 0 && !this.vacuumCandidate()) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.scheduleIndexing();
    });
  }

  /**
   * Persists the current state (at the last applied seq) and drops WAL files it covers. Reads and writes go
   * on while the files are written; index builds wait, so each graph file holds exactly what was captured.
   */
  snapshot(): Promise<void> {
    if (this.snapshotRunning) return this.snapshotRunning;
    const run = async () => {
      const t0 = performance.now();
      await this.indexing;
      const state = this.snapshotState();
      const ops = this.opsSinceSnapshot;
      this.reorganised = false;
      await writeSnapshot(`${this.dir}/snapshots`, state);
      this.opsSinceSnapshot -= ops;
      this.lastSnapshotAt = Date.now();
      this.snapshotCount++;
      this.lastSnapshotMs = performance.now() - t0;
      await this.wal.truncateUpTo(state.seq);
    };
    this.snapshotRunning = run()
      .catch((e: unknown) => {
        this.snapshotFailures++;
        throw e;
      })
      .finally(() => {
        this.snapshotRunning = null;
        this.scheduleIndexing();
      });
    return this.snapshotRunning;
  }

  private snapshotState(): SnapshotState {
    return {
      seq: this.seqApplied,
      nextSegmentId: this.nextSegmentId,
      appendableId: this.appendable.id,
      payloadIndexes: { ...this.config.payload_indexes },
      segments: [...this.segments.values()].map(captureSegment),
    };
  }

  private restore(snap: ReturnType<typeof readLatestSnapshot> & object): void {
    this.seqApplied = snap.seq;
    this.nextSegmentId = snap.nextSegmentId;
    for (const seg of snap.segments) {
      this.segments.set(seg.id, seg);
      for (let off = 0; off < seg.count; off++)
        if (seg.alive[off] === 1) this.idMap.set(seg.keys[off]!, seg.base + off);
    }
    this.appendable = this.segments.get(snap.appendableId) ?? this.newSegment();
    for (const [field, schema] of Object.entries(snap.payloadIndexes)) this.buildPayloadIndex(field, schema);
  }

  private segmentParams(id: number) {
    return {
      id,
      dim: this.config.size,
      capacity: this.config.segment_max_points,
      space: this.space,
      m: this.config.hnsw.m,
      efConstruction: this.config.hnsw.ef_construct,
    };
  }

  private newSegment(): Segment {
    const seg = new Segment(this.segmentParams(this.nextSegmentId++));
    this.segments.set(seg.id, seg);
    return seg;
  }

  // ---------------------------------------------------------------- lifecycle

  private assertReadable(): void {
    if (this.closed) throw new SurgeError('ENGINE_CLOSED', `collection ${this.name} is closed`);
  }

  private assertWritable(): void {
    this.assertReadable();
    if (this.closing) throw new SurgeError('ENGINE_CLOSED', `collection ${this.name} is closing`);
    if (this.failure) throw this.failure;
  }

  /** Waits for in-flight writes, snapshots (unless `snapshot: false`), closes the WAL. */
  async close(options: { snapshot?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    await Promise.allSettled(this.pending.map((p) => p.done));
    await this.indexing;
    if (options.snapshot !== false && !this.failure && (this.opsSinceSnapshot > 0 || this.reorganised)) {
      await this.snapshot();
    }
    await this.snapshotRunning;
    this.closed = true;
    for (const w of this.idleWaiters.splice(0)) w();
    await this.wal.close();
  }
}

/** Drops entries blanked as earlier duplicates. */
function compactUpsert(keys: string[], vectors: Float32Array, payloads: (Payload | null)[], dim: number): Op {
  if (!keys.includes('')) return { type: 'upsert', keys, vectors, payloads };
  const idx = keys.flatMap((k, i) => (k === '' ? [] : [i]));
  const v = new Float32Array(idx.length * dim);
  for (let to = 0; to < idx.length; to++)
    v.set(vectors.subarray(idx[to]! * dim, (idx[to]! + 1) * dim), to * dim);
  return {
    type: 'upsert',
    keys: idx.map((i) => keys[i]!),
    vectors: v,
    payloads: idx.map((i) => payloads[i]!),
  };
}
