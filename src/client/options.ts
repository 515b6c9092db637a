/**
 * Client options (what a caller may give) and their resolved form (every default filled in). Each policy
 * can be tuned or switched off with `false`; the query cache is off unless asked for.
 */
import type { Registry } from 'prom-client';
import { defaultQueryCache, type QueryCacheOptions } from './cache/query-cache.js';
import { type Clock, type Random, systemClock, systemRandom } from './clock.js';
import { type AdaptiveThrottleOptions, defaultAdaptiveThrottle } from './policy/adaptive-throttle.js';
import type { BackoffPolicy } from './policy/backoff.js';
import { type CircuitBreakerOptions, defaultCircuitBreaker } from './policy/circuit-breaker.js';
import { defaultEndpointHealth, type EndpointHealthOptions } from './policy/endpoint-health.js';
import { defaultRetryBudget, type RetryBudgetOptions } from './policy/retry-budget.js';
import type { PoolOptions } from './transport.js';

export interface RetryOptions extends BackoffPolicy {
  /** Attempts per call, the first included (1 = never retry). */
  maxAttempts: number;
  /** A Retry-After longer than this is not waited for: the call fails with the server's answer. */
  maxRetryAfterMs: number;
}

export const defaultRetry: RetryOptions = {
  maxAttempts: 4,
  baseMs: 50,
  capMs: 5_000,
  maxRetryAfterMs: 30_000,
};

export interface CacheOptions extends QueryCacheOptions {
  /** Collections whose change feed the client follows, to see other writers' changes at once. */
  followChanges: string[];
}

export interface ClientOptions {
  /** One endpoint URL or several (health-scored selection between them). Default http://127.0.0.1:6333. */
  url?: string | readonly string[];
  /** Sent with every request (e.g. an `api-key`). */
  headers?: Record<string, string>;
  /** Keep-alive connections per endpoint (undici Pool). Default 16. */
  connections?: number;
  /** Requests pipelined per connection. Default 1 (no pipelining: a slow answer blocks the ones behind). */
  pipelining?: number;
  keepAliveTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Default deadline of a call, ms (per call: `timeoutMs`). Default 30 s; Infinity for none. */
  timeoutMs?: number;
  retry?: Partial<RetryOptions> | false;
  retryBudget?: Partial<RetryBudgetOptions> | false;
  throttle?: Partial<AdaptiveThrottleOptions> | false;
  breaker?: Partial<CircuitBreakerOptions> | false;
  health?: Partial<EndpointHealthOptions>;
  /** Opt-in query cache: `true` for the defaults. */
  cache?: Partial<CacheOptions> | boolean;
  /** Record client metrics on this prom-client registry (no global registry is touched). */
  metrics?: { registry: Registry; prefix?: string };
  clock?: Clock;
  random?: Random;
}

export interface ResolvedOptions {
  urls: string[];
  headers: Record<string, string>;
  pool: PoolOptions;
  timeoutMs: number;
  retry: RetryOptions | false;
  retryBudget: RetryBudgetOptions | false;
  throttle: AdaptiveThrottleOptions | false;
  breaker: CircuitBreakerOptions | false;
  health: EndpointHealthOptions;
  cache: CacheOptions | false;
  metrics: { registry: Registry; prefix: string } | undefined;
  clock: Clock;
  random: Random;
}

function policy<T extends object>(given: Partial<T> | false | undefined, defaults: T): T | false {
  return given === false ? false : { ...defaults, ...given };
}

export function resolveOptions(o: ClientOptions = {}): ResolvedOptions {
  const urls =
    o.url === undefined ? ['http://127.0.0.1:6333'] : typeof o.url === 'string' ? [o.url] : [...o.url];
  for (const u of urls) {
    const p = new URL(u).protocol;
    if (p !== 'http:' && p !== 'https:') throw new RangeError(`endpoint ${u}: only http and https URLs`);
  }
  return {
    urls,
    headers: { ...o.headers },
    pool: {
      connections: o.connections ?? 16,
      pipelining: o.pipelining ?? 1,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? 30_000,
      connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    },
    timeoutMs: o.timeoutMs ?? 30_000,
    retry: policy(o.retry, defaultRetry),
    retryBudget: policy(o.retryBudget, defaultRetryBudget),
    throttle: policy(o.throttle, defaultAdaptiveThrottle),
    breaker: policy(o.breaker, defaultCircuitBreaker),
    health: { ...defaultEndpointHealth, ...o.health },
    cache:
      o.cache === undefined || o.cache === false
        ? false
        : { ...defaultQueryCache, followChanges: [], ...(o.cache === true ? {} : o.cache) },
    metrics: o.metrics
      ? { registry: o.metrics.registry, prefix: o.metrics.prefix ?? 'surgevec_client_' }
      : undefined,
    clock: o.clock ?? systemClock,
    random: o.random ?? systemRandom,
  };
}
