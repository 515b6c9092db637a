/**
 * A top-k refresh: the collection is searched while writes go on. Between L (the collection's seq read just
 * before the search) and S (read just after), the search sees the collection at some moment T; it scores
 * each point as it was at T, and leaves out hits whose slot died before it returned (a point updated or
 * deleted meanwhile), so it may come back short. The events of (L, S] — which the matcher holds, with
 * vectors — turn it into the exact top-k at S:
 *
 * - a hit none of those events touched has the same state at S as at T;
 * - a point they upserted is scored from the event's own vector and payload; a point they deleted is gone;
 * - a point whose payload they edited is unknown to a filtered subscription (the search filtered it at T):
 *   ambiguous, the caller retries later;
 * - a full result (`limit` hits) dropped nothing, and an untouched point it did not return ranks below its
 *   last hit (the cut-off): upserted points below the cut-off cannot be placed, and fewer than k placeable
 *   points means search deeper;
 * - a short result is the whole matching set only if it could not have been cut by drops, i.e. the hits
 *   plus every touched point it does not contain are fewer than `limit`; otherwise ambiguous.
 */
import type { ChangeEvent, FilterPredicate, Payload, ScoredPoint, WithPayload } from '../engine/index.js';
import { pointKey, selectPayload } from '../engine/index.js';
import type { Metric } from './metric.js';
import type { Member } from './top-k.js';

type Touch =
  | { kind: 'upsert'; seq: number; event: ChangeEvent; row: number }
  | { kind: 'delete'; seq: number }
  | { kind: 'payload'; seq: number };

export interface RefreshTarget {
  k: number;
  capacity: number;
  vector: Float32Array;
  threshold: number | null;
  predicate: FilterPredicate | undefined;
  withPayload: WithPayload;
  metric: Metric;
}

export type Reconciled =
  | { ok: true; members: Member[]; exhaustive: boolean }
  | { ok: false; reason: 'ambiguous' | 'too_few' | 'no_points' };

/** `hits`: the search result (best first, `limit` asked); `window`: every event of (L, S], in seq order. */
export function reconcile(
  target: RefreshTarget,
  hits: ScoredPoint[],
  limit: number,
  window: readonly ChangeEvent[],
): Reconciled {
  const last = new Map<string, Touch>();
  for (const e of window) {
    if (e.op === 'upsert') {
      if (!e.points?.vectors || !e.ids) return { ok: false, reason: 'no_points' };
      for (let i = 0; i < e.ids.length; i++) {
        last.set(pointKey(e.ids[i]), { kind: 'upsert', seq: e.seq, event: e, row: i });
      }
    } else if (e.op !== 'create_index' && e.op !== 'delete_index') {
      const touched = e.points?.touched;
      if (!touched) return { ok: false, reason: 'no_points' };
      const kind = e.op === 'delete' ? 'delete' : 'payload';
      for (const id of touched) {
        const key = pointKey(id);
        // A payload edit after an upsert in the window leaves the upsert's vector, not its payload.
        if (kind === 'payload' && target.predicate) return { ok: false, reason: 'ambiguous' };
        if (kind === 'delete' || !last.has(key)) last.set(key, { kind, seq: e.seq });
      }
    }
  }
  const { metric, threshold, predicate } = target;
  const full = hits.length >= limit;
  const inHits = new Set<string>();
  for (const h of hits) inHits.add(pointKey(h.id));
  if (!full) {
    let outside = 0;
    for (const key of last.keys()) if (!inHits.has(key)) outside++;
    if (hits.length + outside >= limit) return { ok: false, reason: 'ambiguous' };
  }
  const cutoff = full ? hits[hits.length - 1]!.score : undefined;
  const trusted: Member[] = [];
  for (const h of hits) {
    const key = pointKey(h.id);
    const t = last.get(key);
    // Without a filter a payload edit changes what is shown, not who is a member.
    if (t === undefined || t.kind === 'payload') {
      trusted.push({ key, id: h.id, score: h.score, version: h.version, payload: h.payload });
    }
  }
  for (const [key, t] of last) {
    if (t.kind !== 'upsert') continue;
    const e = t.event;
    const payload = e.points!.payloads?.[t.row] ?? undefined;
    if (predicate && !predicate(payload, key)) continue;
    const score = metric.score(target.vector, e.points!.vectors!, t.row);
    if (!metric.passes(score, threshold ?? undefined)) continue;
    if (cutoff !== undefined && metric.compare(score, cutoff) > 0) continue;
    trusted.push({
      key,
      id: e.ids![t.row]!,
      score,
      version: t.seq,
      payload: selectPayload(payload as Payload | undefined, target.withPayload),
    });
  }
  if (full && trusted.length < target.k) return { ok: false, reason: 'too_few' };
  return { ok: true, members: trusted, exhaustive: !full };
}
