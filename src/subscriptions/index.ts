/** Standing queries: the layer's public API (the server's routes use nothing else). */
export { Delivery, type Sink } from './delivery.js';
export {
  type CatchUpKind,
  type EndReason,
  NO_OBSERVER,
  type SubscriptionObserver,
  type Transport,
} from './observer.js';
export {
  type Created,
  DEFAULT_TENANT,
  type SubscriptionGauges,
  SubscriptionService,
  type SubscriptionServiceOptions,
} from './service.js';
export type {
  CloseReason,
  MatchedPoint,
  OutgoingEvent,
  ResetReason,
  SeqEvent,
  SubscriptionInfo,
  SubscriptionMode,
} from './types.js';
