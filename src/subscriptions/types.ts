/** Standing queries: what a subscription is, and the events it produces (docs/API.md, "Standing queries"). */
import type { Filter, WithPayload } from '../engine/index.js';
import type { SubscriptionInfo } from '../protocol/subscriptions.js';

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

/**
 * The wire contract lives in protocol/subscriptions.ts (the client SDK imports it from there); these are
 * the names this layer has always used for it.
 */
export type {
  MatchedPoint,
  ResetReason,
  SubscriptionCloseReason as CloseReason,
  SubscriptionEvent as OutgoingEvent,
  SubscriptionInfo,
  SubscriptionMode,
  SubscriptionSeqEvent as SeqEvent,
} from '../protocol/subscriptions.js';

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
