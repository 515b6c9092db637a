/**
 * Standing queries on the wire (docs/API.md, "Standing queries"): the create request, what the REST routes
 * answer, the events a subscription's stream carries (SSE `data:`, and WebSocket frames) and the WebSocket's
 * `subscribe`/`unsubscribe` ops. Types only, so the client SDK imports them without server code; the server
 * checks create requests with the zod schema in `subscriptions/spec.ts`.
 */
import type { Filter, Payload, PointId, WithPayload } from './wire.js';

export type SubscriptionMode = 'threshold' | 'top_k';

/** `POST /collections/{name}/subscriptions`: with `top_k` a live top-k subscription, else threshold mode. */
export type SubscriptionRequest = {
  vector: number[];
  filter?: Filter | null;
  score_threshold?: number | null;
  top_k?: number | null;
  with_payload?: WithPayload | null;
  /** Threshold mode: replay matches from this seq on (within the WAL's retention). */
  from_seq?: number | null;
};

/** What creation answers. Events have seq > `seq` (top-k: the seq its initial top-k was taken at). */
export type SubscriptionCreated = {
  id: string;
  seq: number;
};

/** `GET …/subscriptions/{id}` and the list's items (no vector: 10,000 of them would be megabytes). */
export type SubscriptionInfo = {
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
};

/** `GET /collections/{name}/subscriptions`: the caller's tenant's subscriptions, oldest first. */
export type SubscriptionsList = {
  subscriptions: SubscriptionInfo[];
};

export type MatchedPoint = {
  id: PointId;
  /** Seq of the write that gave the point this vector/payload. */
  version: number;
  score: number;
  payload?: Payload;
};

/** Why a stream starts over (top-k: with the full current membership). */
export type ResetReason = 'initial' | 'beyond_retention' | 'beyond_history';

/** Events that carry a seq: the SSE `id`, what a client resumes from and dedupes by. */
export type SubscriptionSeqEvent =
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

export type SubscriptionCloseReason = 'too_slow' | 'deleted' | 'collection_dropped' | 'shutdown' | 'error';

/** `lagged`: the server dropped this client's queue; it catches up from `last_seq` on the same stream. */
export type SubscriptionLagged = { event: 'lagged'; subscription: string; last_seq: number };

/** `closed`: the server ends this subscription's stream (`shutdown`: reconnect and resume). */
export type SubscriptionClosed = {
  event: 'closed';
  subscription: string;
  reason: SubscriptionCloseReason;
  message?: string;
};

/** Everything a subscription's stream carries: seq events, plus `lagged` and `closed` notices. */
export type SubscriptionEvent = SubscriptionSeqEvent | SubscriptionLagged | SubscriptionClosed;

export type SubscriptionEventName = SubscriptionEvent['event'];

export const SUBSCRIPTION_EVENTS: readonly SubscriptionEventName[] = [
  'match',
  'topk',
  'reset',
  'lagged',
  'closed',
];

/**
 * WebSocket (`GET /collections/{name}/ws`): `subscribe` creates a subscription (the fields of
 * SubscriptionRequest) or attaches an existing one (`subscription`), resuming after `last_seq`; the answer
 * is WsSubscribed, then the subscription's events arrive as unsolicited frames (SubscriptionEvent).
 */
export type WsSubscribeFrame =
  | ({ id: string | number; op: 'subscribe' } & SubscriptionRequest)
  | { id: string | number; op: 'subscribe'; subscription: string; last_seq?: number | null };

export type WsUnsubscribeFrame = {
  id: string | number;
  op: 'unsubscribe';
  subscription: string;
  /** Also delete the subscription (else it stays, and can be attached again). */
  delete?: boolean;
};

export type WsSubscribed = {
  subscription: string;
  seq: number;
};
