/**
 * The endpoints a client talks to: per endpoint an undici Pool (keep-alive connections), a circuit breaker
 * and an adaptive throttle, and across them the health-scored choice of the next one. The throttle is per
 * endpoint, as the SRE book keeps it per backend: one overloaded endpoint must not make the client shed
 * requests a healthy one would serve — a request the throttle rejects for one endpoint is offered to the
 * others first. A "lease" is one call's hold on an endpoint; it ends with a verdict (`succeeded`,
 * `failed`) or none (`released`: cancelled calls, and 429s, which are about the caller's quota).
 */
import type { EventEmitter } from 'node:events';
import { Pool } from 'undici';
import type { Clock, Random } from './clock.js';
import { CircuitOpenError, ThrottledError, TransportError } from './errors.js';
import type { ClientEventMap } from './events.js';
import { AdaptiveThrottle, type AdaptiveThrottleOptions } from './policy/adaptive-throttle.js';
import { type BreakerTicket, CircuitBreaker, type CircuitBreakerOptions } from './policy/circuit-breaker.js';
import { EndpointHealth, type EndpointHealthOptions } from './policy/endpoint-health.js';

export interface PoolOptions {
  connections: number;
  pipelining: number;
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
}

export class Endpoint {
  readonly pool: Pool;
  /** Path prefix of the endpoint's URL (e.g. behind a proxy at `/surgevec`), without a trailing slash. */
  readonly prefix: string;

  constructor(
    readonly index: number,
    readonly url: string,
    pool: PoolOptions,
    readonly breaker: CircuitBreaker | undefined,
    readonly throttle: AdaptiveThrottle | undefined,
  ) {
    const u = new URL(url);
    this.prefix = u.pathname.replace(/\/+$/, '');
    this.pool = new Pool(u.origin, {
      connections: pool.connections,
      pipelining: pool.pipelining,
      keepAliveTimeout: pool.keepAliveTimeoutMs,
      connect: { timeout: pool.connectTimeoutMs },
    });
  }

  /** The WebSocket URL of a path on this endpoint. */
  wsUrl(path: string): string {
    const u = new URL(this.url);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = this.prefix + path;
    return u.toString();
  }
}

export interface Lease {
  readonly endpoint: Endpoint;
  readonly ticket: BreakerTicket | null;
  readonly startedAt: number;
  /** Admitted by the endpoint's adaptive throttle (a REST call), so its outcome counts there. */
  readonly admitted: boolean;
}

export class Endpoints {
  readonly list: Endpoint[];
  private readonly health: EndpointHealth;

  constructor(
    urls: readonly string[],
    pool: PoolOptions,
    breaker: CircuitBreakerOptions | false,
    throttle: AdaptiveThrottleOptions | false,
    health: EndpointHealthOptions,
    private readonly clock: Clock,
    random: Random,
    private readonly events: EventEmitter<ClientEventMap>,
  ) {
    if (urls.length === 0) throw new RangeError('a client needs at least one endpoint URL');
    this.list = urls.map((url, i) => {
      const b = breaker
        ? new CircuitBreaker(breaker, clock, (from, to, event) =>
            events.emit('breaker', { endpoint: url, from, to, event }),
          )
        : undefined;
      const t = throttle ? new AdaptiveThrottle(throttle, clock, random) : undefined;
      return new Endpoint(i, url, pool, b, t);
    });
    this.health = new EndpointHealth(urls.length, health, clock, random, (e) =>
      events.emit('health', { ...e, endpoint: this.list[e.endpoint]!.url }),
    );
  }

  /**
   * Takes an endpoint for one call, or throws: ThrottledError when every endpoint that could be tried
   * rejected it locally, CircuitOpenError when none may be tried now. `route` (for events) and adaptive
   * throttling apply to REST calls; streams pass no route: they are neither throttled nor counted by the
   * throttle (its requests are the ones it admitted or rejected).
   */
  acquire(route?: string): Lease {
    const passed = new Set<number>();
    let throttled: number | undefined;
    for (;;) {
      const i = this.health.pick((j) => !passed.has(j) && (this.list[j]!.breaker?.canAttempt() ?? true));
      const endpoint = i === undefined ? undefined : this.list[i];
      if (!endpoint) break;
      if (route !== undefined && endpoint.throttle && !endpoint.throttle.admit()) {
        passed.add(endpoint.index);
        throttled = Math.max(throttled ?? 0, endpoint.throttle.rejectProbability());
        this.events.emit('throttled', {
          route,
          endpoint: endpoint.url,
          probability: endpoint.throttle.rejectProbability(),
        });
        continue;
      }
      const ticket = endpoint.breaker ? endpoint.breaker.allow() : null;
      if (endpoint.breaker && !ticket) {
        passed.add(endpoint.index);
        continue;
      }
      this.health.start(endpoint.index);
      return { endpoint, ticket, startedAt: this.clock.now(), admitted: route !== undefined };
    }
    if (throttled !== undefined) {
      throw new ThrottledError(
        `rejected locally: the server refused most recent requests (p=${throttled.toFixed(3)})`,
        throttled,
      );
    }
    const wait = Math.min(...this.list.map((e) => e.breaker?.retryAfterMs() ?? 0));
    throw new CircuitOpenError(
      `no endpoint may be tried now (circuits open or endpoints ejected); next try in ${Math.ceil(wait)} ms`,
      Math.max(1, wait),
    );
  }

  /** The endpoint served the call (a 4xx answer included: the endpoint worked, the request was wrong). */
  succeeded(lease: Lease): void {
    this.health.success(lease.endpoint.index, this.clock.now() - lease.startedAt);
    if (lease.ticket) lease.endpoint.breaker!.record(lease.ticket, 'success');
    if (lease.admitted) lease.endpoint.throttle?.onOutcome(true);
  }

  /**
   * The endpoint failed the call: no answer, or a 5xx. `shed` (503, no answer) means it did not serve it,
   * which is what adaptive throttling counts; a 500 was served, badly.
   */
  failed(lease: Lease, shed = true): void {
    this.health.failure(lease.endpoint.index);
    if (lease.ticket) lease.endpoint.breaker!.record(lease.ticket, 'failure');
    if (lease.admitted) lease.endpoint.throttle?.onOutcome(!shed);
  }

  /**
   * No verdict on the endpoint's health. `slow`: the call was given up at its deadline, so the time waited
   * is a latency floor. `quota`: a 429, the caller's quota — refused, for the throttle.
   */
  released(lease: Lease, how: { slow?: boolean; quota?: boolean } = {}): void {
    if (how.slow) this.health.slow(lease.endpoint.index, this.clock.now() - lease.startedAt);
    else this.health.release(lease.endpoint.index);
    if (lease.ticket) lease.endpoint.breaker!.record(lease.ticket, 'ignored');
    if (how.quota && lease.admitted) lease.endpoint.throttle?.onOutcome(false);
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((e) => e.pool.close()));
  }
}

/** Error codes of a connection that was never made: nothing reached the server. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Wraps what undici threw (anything but our own abort reasons) as a TransportError. */
export function transportError(e: unknown, endpoint: Endpoint, phase: 'request' | 'answer'): TransportError {
  const code = (e as { code?: unknown }).code;
  const notSent = phase === 'request' && typeof code === 'string' && NOT_CONNECTED.has(code);
  const what = e instanceof Error ? e.message : String(e);
  return new TransportError(`${endpoint.url}: ${what}`, !notSent, endpoint.url, { cause: e });
}
