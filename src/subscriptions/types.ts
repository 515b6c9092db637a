/** Standing queries: what a subscription is, and the events it produces (docs/API.md, "Standing queries"). */
import type { Filter, Payload, PointId, WithPayload } from '../engine/index.js';

export type SubscriptionMode = 'threshold' | 'top_k';

/** A subscription as stored: everything needed to rebuild it after a restart. */
export interface SubscriptionSpec {
  id: string;
  tenant: string;
  /** The collection's own name (an alias given at creation is resolved). */
  collection: string;
  /** As the collection stores vectors (cosine: normalised). */
  vector: Float32Array;
  filter: Filter | null;
  score_threshold: number | null;
  /** Set: live top-k mode; null: threshold mode. */
  top_k: number | null;
  with_payload: WithPayload;
  /** Events have seq > this: the collection's seq at creation (threshold mode: from_seq − 1 if given). */
  seq: number;
  created_at: string;
}

/** What GET …/subscriptions answers (no vector: 10,000 of them would be megabytes). */
export interface SubscriptionInfo {
  id: string;
  tenant: string;
  collection: string;
  mode: SubscriptionMode;
  score_threshold: number | null;
  top_k: number | null;
  filter: Filter | null;
  with_payload: WithPayload;
  seq: number;
  created_at: string;
}

export interface MatchedPoint {
  id: PointId;
  /** Seq of the write that gave the point this vector/payload. */
  version: number;
  score: number;
  payload?: Payload;
}

/** Why a stream starts over (top-k: with the full current membership). */
export type ResetReason = 'initial' | 'beyond_retention' | 'beyond_history';

/** Events that carry a seq: the SSE `id`, what a client resumes from. */
export type SeqEvent =
  | { event: 'match'; subscription: string; seq: number; points: MatchedPoint[] }
  | { event: 'topk'; subscription: string; seq: number; enter: MatchedPoint[]; leave: PointId[] }
  | {
      event: 'reset';
      subscription: string;
      seq: number;
      reason: ResetReason;
      /** Threshold mode beyond the WAL's retention: seqs from_seq … oldest_seq − 1 are gone. */
      from_seq?: number;
      oldest_seq?: number;
      /** Top-k mode: the current top-k, best first. */
      points?: MatchedPoint[];
    };

export type CloseReason = 'too_slow' | 'deleted' | 'collection_dropped' | 'shutdown' | 'error';

/** Everything a delivery sends: seq events, plus `lagged` and `closed` notices. */
export type OutgoingEvent =
  | SeqEvent
  | { event: 'lagged'; subscription: string; last_seq: number }
  | { event: 'closed'; subscription: string; reason: CloseReason; message?: string };

export function infoOf(s: SubscriptionSpec): SubscriptionInfo {
  return {
    id: s.id,
    tenant: s.tenant,
    collection: s.collection,
    mode: s.top_k === null ? 'threshold' : 'top_k',
    score_threshold: s.score_threshold,
    top_k: s.top_k,
    filter: s.filter,
    with_payload: s.with_payload,
    seq: s.seq,
    created_at: s.created_at,
  };
}
