/**
 * What standing queries report as they run, for the server's Prometheus metrics (docs/API.md, "Standing
 * queries", Metrics). An interface, so this layer stays free of prom-client and of the server; levels
 * (subscriptions, subscribers, backlog) are read at scrape time from `SubscriptionService.gauges()`.
 * Every method is called on a hot path: implementations only count.
 */
import type { CloseReason } from './types.js';

export type Transport = 'sse' | 'ws';

/** How a delivery or a matcher went back to the WAL (or the top-k history) instead of the live events. */
export type CatchUpKind = 'wal' | 'history' | 'reset' | 'matcher_wal';

/** `disconnected`: the client went away (no `closed` event was sent). */
export type EndReason = CloseReason | 'disconnected';

export interface SubscriptionObserver {
  /** One seq event written to a client's transport. */
  delivered(transport: Transport): void;
  /** Seconds from the write's change event reaching the matcher (≈ its ack) to its event being written. */
  deliveryLatency(transport: Transport, seconds: number): void;
  /** A client's queue overflowed: it was told `lagged`, and `dropped` queued events were discarded. */
  lagged(transport: Transport, dropped: number): void;
  catchUp(kind: CatchUpKind): void;
  ended(transport: Transport, reason: EndReason): void;
  /** One ingest batch matched against every subscription of a collection (scoring and applying). */
  matched(seconds: number, points: number): void;
}

export const NO_OBSERVER: SubscriptionObserver = {
  delivered() {},
  deliveryLatency() {},
  lagged() {},
  catchUp() {},
  ended() {},
  matched() {},
};
