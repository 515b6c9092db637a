/**
 * `surgevec/client`: the SDK. Imports only `protocol` (and undici, zod-free), so it can be published alone.
 * Guide: docs/CLIENT.md.
 */

export type * from '../protocol/subscriptions.js';
export { SUBSCRIPTION_EVENTS } from '../protocol/subscriptions.js';
export type * from '../protocol/wire.js';
export { CHANGE_OPS } from '../protocol/wire.js';
export { QueryCache, type QueryCacheOptions } from './cache/query-cache.js';
export type { CallOptions } from './call.js';
export { SurgeClient, type WriteOptions } from './client.js';
export { type Clock, ManualClock, type Random, systemClock, systemRandom } from './clock.js';
export * from './errors.js';
export type * from './events.js';
export type { CacheOptions, ClientOptions, ResolvedOptions, RetryOptions } from './options.js';
export { AdaptiveThrottle, type AdaptiveThrottleOptions } from './policy/adaptive-throttle.js';
export { type BackoffPolicy, fullJitter, retryDelay } from './policy/backoff.js';
export {
  type BreakerEvent,
  type BreakerState,
  CircuitBreaker,
  type CircuitBreakerOptions,
  transition,
} from './policy/circuit-breaker.js';
export { timeoutSeconds } from './policy/deadline.js';
export { EndpointHealth, type EndpointHealthOptions } from './policy/endpoint-health.js';
export { parseRetryAfter } from './policy/retry-after.js';
export { RetryBudget, type RetryBudgetOptions } from './policy/retry-budget.js';
export { recordClientMetrics } from './prometheus.js';
export { ChangeFeed, type ChangeFeedItem, type ChangeFeedOptions } from './streams/changes.js';
export type { IngestEvent, IngestOptions, IngestPoint, IngestSummary } from './streams/ndjson-ingest.js';
export { type ResumableSseOptions, resumableSse, type SseStep } from './streams/resumable-sse.js';
export type { ScrollAllOptions } from './streams/scroll.js';
export { type SseMessage, SseParser } from './streams/sse.js';
export {
  type SubscribeOptions,
  SubscriptionStream,
  type SubscriptionTransport,
} from './streams/subscription.js';
export {
  type SessionCallOptions,
  type SessionOptions,
  type SessionState,
  WsSession,
} from './streams/ws-session.js';
export { SubscriptionsApi } from './subscriptions.js';
