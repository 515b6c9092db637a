/**
 * One REST call, start to finish: cache lookup → (retry loop: endpoint choice with its circuit and
 * adaptive throttle → HTTP exchange with the deadline's remaining time as `?timeout=` → classification)
 * → decode.
 *
 * What is retried (docs/CLIENT.md, "Retries"): an idempotent operation (reads; writes naming their points
 * by id) after any transient failure — no answer, 408/429/502/503/504; any operation when the request
 * provably did no work — the connection was refused, or the server shed it with 429/503 (surgevec refuses
 * overload before doing any work, design.md "Overload"). Each retry waits full-jitter backoff on top of any
 * Retry-After, must fit in the deadline, and must be granted by the retry budget.
 */
import type { EventEmitter } from 'node:events';
import { parseJson, stringifyJson } from '../protocol/json.js';
import type { QueryCache } from './cache/query-cache.js';
import type { Clock, Random } from './clock.js';
import {
  ApiError,
  apiErrorFromBody,
  CircuitOpenError,
  ProtocolError,
  type SurgeClientError,
  TransportError,
} from './errors.js';
import type { ClientEventMap, RequestOutcome } from './events.js';
import type { RetryOptions } from './options.js';
import { retryDelay } from './policy/backoff.js';
import { Deadline, sleep } from './policy/deadline.js';
import { retryAfterFromHeaders } from './policy/retry-after.js';
import type { RetryBudget } from './policy/retry-budget.js';
import { type Endpoints, type Lease, transportError } from './transport.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface CallSpec {
  method: HttpMethod;
  /** Path with its parameters already encoded, without the query string. */
  path: string;
  /** The route template, for metrics and events. */
  route: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Safe to repeat: a second execution leaves the same state and gives the same answer. */
  idempotent: boolean;
  /** `envelope`: Qdrant's `{result}`; `json`: the body as is; `text`: the raw text. */
  decode: 'envelope' | 'json' | 'text';
  /** Never retried (e.g. readiness probes, whose 503 is the answer). */
  noRetry?: boolean;
  /** The collection a cacheable read is about; the answer is cached under it. */
  cacheCollection?: string;
}

export interface CallOptions {
  /** Cancels the call (and its retries). */
  signal?: AbortSignal;
  /** Deadline of the whole call, retries included, ms. Overrides the client's default. */
  timeoutMs?: number;
  /** `false` skips the query cache for this call (the answer still refreshes it). */
  cache?: boolean;
}

export interface CallerDeps {
  endpoints: Endpoints;
  events: EventEmitter<ClientEventMap>;
  clock: Clock;
  random: Random;
  headers: Record<string, string>;
  timeoutMs: number;
  retry: RetryOptions | false;
  budget: RetryBudget | undefined;
  cache: QueryCache | undefined;
}

interface Answer {
  status: number;
  text: string;
}

export function queryString(query: CallSpec['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Whether the failed attempt certainly did no work on the server, so even a non-idempotent call may repeat. */
function didNoWork(e: SurgeClientError): boolean {
  if (e instanceof CircuitOpenError) return true;
  if (e instanceof TransportError) return !e.maybeProcessed;
  return e instanceof ApiError && (e.status === 429 || e.status === 503);
}

export class Caller {
  constructor(private readonly d: CallerDeps) {}

  async call<T>(spec: CallSpec, opts: CallOptions = {}): Promise<T> {
    const d = this.d;
    const key = d.cache && spec.cacheCollection !== undefined ? cacheKey(spec) : undefined;
    if (key !== undefined && opts.cache !== false) {
      const hit = d.cache!.get(key);
      d.events.emit('cache', { route: spec.route, hit: hit !== undefined });
      if (hit !== undefined) return decode(spec, hit) as T;
    }
    const generation = key !== undefined ? d.cache!.begin(spec.cacheCollection!) : 0;
    const deadline = new Deadline(d.clock, opts.timeoutMs ?? d.timeoutMs, opts.signal);
    d.budget?.onRequest();
    try {
      for (let attempt = 0; ; attempt++) {
        let answer: Answer;
        try {
          answer = await this.attempt(spec, deadline, attempt);
        } catch (e) {
          const err = e as SurgeClientError;
          const delay = this.retryDelay(spec, err, attempt, deadline);
          if (delay === undefined) throw err;
          d.events.emit('retry', { route: spec.route, attempt: attempt + 1, delayMs: delay, code: err.code });
          await sleep(delay, deadline.signal);
          continue;
        }
        const value = decode(spec, answer.text) as T;
        if (key !== undefined) d.cache!.set(spec.cacheCollection!, key, answer.text, generation);
        return value;
      }
    } finally {
      deadline.dispose();
    }
  }

  /** The wait before the next attempt, or undefined to give up with `err`. */
  private retryDelay(
    spec: CallSpec,
    err: SurgeClientError,
    attempt: number,
    deadline: Deadline,
  ): number | undefined {
    const r = this.d.retry;
    if (!r || spec.noRetry || !err.retryable || attempt + 1 >= r.maxAttempts) return undefined;
    if (!spec.idempotent && !didNoWork(err)) return undefined;
    const asked = err.retryAfterMs;
    if (asked !== undefined && asked > r.maxRetryAfterMs) return undefined;
    const delay = retryDelay(attempt, r, this.d.random, asked);
    if (delay >= deadline.remainingMs()) return undefined;
    if (this.d.budget && !this.d.budget.tryRetry()) {
      this.d.events.emit('retry_budget_exhausted', { route: spec.route, code: err.code });
      return undefined;
    }
    return delay;
  }

  private async attempt(spec: CallSpec, deadline: Deadline, attempt: number): Promise<Answer> {
    const d = this.d;
    if (deadline.signal.aborted) throw deadline.signal.reason;
    const lease = d.endpoints.acquire(spec.route);
    const { endpoint } = lease;
    const report = (outcome: RequestOutcome, status?: number, code?: string) =>
      d.events.emit('request', {
        endpoint: endpoint.url,
        method: spec.method,
        route: spec.route,
        status,
        code,
        outcome,
        durationMs: d.clock.now() - lease.startedAt,
        attempt,
      });
    const path =
      endpoint.prefix + spec.path + queryString({ ...spec.query, timeout: deadline.timeoutParam() });
    const headers: Record<string, string> = { accept: 'application/json', ...d.headers };
    // The same deadline to the millisecond, for surgevec's admission control (Qdrant's parameter is seconds).
    const remaining = deadline.remainingMs();
    if (Number.isFinite(remaining))
      headers['x-surgevec-timeout-ms'] = String(Math.max(1, Math.floor(remaining)));
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = stringifyJson(spec.body);
      headers['content-type'] = 'application/json';
    }
    let status: number;
    let text: string;
    let retryAfter: number | undefined;
    try {
      let phase: 'request' | 'answer' = 'request';
      try {
        const res = await endpoint.pool.request({
          method: spec.method,
          path,
          headers,
          body: body ?? null,
          signal: deadline.signal,
        });
        phase = 'answer';
        status = res.statusCode;
        retryAfter = retryAfterFromHeaders(res.headers, Date.now());
        text = await res.body.text();
      } catch (e) {
        if (deadline.signal.aborted) throw deadline.signal.reason;
        throw transportError(e, endpoint, phase);
      }
    } catch (e) {
      this.settleFailure(lease, e, report);
      throw e;
    }
    if (status < 400) {
      d.endpoints.succeeded(lease);
      report('ok', status);
      return { status, text };
    }
    const err = apiErrorFromBody(status, tryParse(text), retryAfter, endpoint.url);
    if (status >= 500) d.endpoints.failed(lease, status === 503);
    else if (status === 429) d.endpoints.released(lease, { quota: true });
    else d.endpoints.succeeded(lease);
    report('error', status, err.code);
    throw err;
  }

  private settleFailure(
    lease: Lease,
    e: unknown,
    report: (outcome: RequestOutcome, status?: number, code?: string) => void,
  ): void {
    if (e instanceof TransportError) {
      this.d.endpoints.failed(lease);
      report('transport', undefined, e.code);
      return;
    }
    // The deadline or the caller's signal: the endpoint was at least this slow, but did not fail.
    this.d.endpoints.released(lease, { slow: true });
    report('cancelled', undefined, (e as SurgeClientError).code);
  }
}

function tryParse(text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    return undefined;
  }
}

function decode(spec: CallSpec, text: string): unknown {
  if (spec.decode === 'text') return text;
  let v: unknown;
  try {
    v = parseJson(text);
  } catch (e) {
    throw new ProtocolError(`${spec.route}: the answer is not JSON (${(e as Error).message})`);
  }
  if (spec.decode === 'json') return v;
  if (v === null || typeof v !== 'object' || !('result' in v)) {
    throw new ProtocolError(`${spec.route}: the answer has no "result" (not Qdrant's envelope)`);
  }
  return (v as { result: unknown }).result;
}

/** The request, as the cache keys it (the deadline's `timeout` is not part of it). */
export function cacheKey(spec: CallSpec): string {
  return `${spec.method} ${spec.path}${queryString(spec.query)} ${spec.body === undefined ? '' : stringifyJson(spec.body)}`;
}
