/**
 * A Server-Sent Events stream as an async iterator that survives disconnects: when the connection drops or
 * the server ends the stream (shutdown, a lagged reader cut off), it reconnects with `Last-Event-ID` set to
 * the last event the caller was given, after full-jitter backoff. The server replays from there, so the
 * caller sees every event once, in order.
 *
 * This is the extension point for every seq-numbered feed the server serves: the change feed
 * (`changes.ts`) is one `interpret` function over it, and standing-query subscriptions will be another.
 */
import type { Readable } from 'node:stream';
import { parseJson } from '../../protocol/json.js';
import type { Clock, Random } from '../clock.js';
import { AbortedError, apiErrorFromBody, type SurgeClientError } from '../errors.js';
import { type BackoffPolicy, retryDelay } from '../policy/backoff.js';
import { sleep } from '../policy/deadline.js';
import { retryAfterFromHeaders } from '../policy/retry-after.js';
import { type Endpoints, type Lease, transportError } from '../transport.js';
import { type SseMessage, SseParser } from './sse.js';

/** What one SSE message means to the feed. */
export type SseStep<T> =
  /** Give `item` to the caller; `lastEventId` is where to resume after it. */
  | { kind: 'item'; item: T; lastEventId: string | undefined }
  /** Nothing for the caller (unknown event, heartbeat-like data). */
  | { kind: 'skip' }
  /** The server ended this connection on purpose: reconnect now, resuming after `lastEventId`. */
  | { kind: 'resume'; lastEventId: string }
  /** The feed cannot go on. */
  | { kind: 'fail'; error: Error };

export interface ResumableSseOptions<T> {
  endpoints: Endpoints;
  headers: Record<string, string>;
  clock: Clock;
  random: Random;
  /** Path and query (no endpoint prefix) to connect to; `lastEventId` undefined on a first connection. */
  path: (lastEventId: string | undefined) => string;
  interpret: (message: SseMessage) => SseStep<T>;
  /** Where to resume on the first connection (sent as Last-Event-ID). */
  lastEventId?: string | undefined;
  /** Default 100 ms doubling to 5 s. */
  backoff?: BackoffPolicy | undefined;
  /** Failed connection attempts in a row before the iterator throws; default 20. */
  maxConsecutiveFailures?: number | undefined;
  /**
   * A connection with no bytes (events or heartbeats) for this long is presumed dead and replaced; default
   * 45 s, three server heartbeats (15 s).
   */
  idleTimeoutMs?: number | undefined;
  /** Ends the iteration (quietly: `for await` just stops). */
  signal?: AbortSignal | undefined;
  /** Called with the Last-Event-ID of each (re)connection. */
  onConnect?: (lastEventId: string | undefined) => void;
}

export async function* resumableSse<T>(options: ResumableSseOptions<T>): AsyncGenerator<T, void, undefined> {
  const o = {
    ...options,
    backoff: options.backoff ?? { baseMs: 100, capMs: 5_000 },
    maxConsecutiveFailures: options.maxConsecutiveFailures ?? 20,
    idleTimeoutMs: options.idleTimeoutMs ?? 45_000,
  };
  let lastEventId = o.lastEventId;
  let failures = 0;
  while (!o.signal?.aborted) {
    const connection = new AbortController();
    const stop = () => connection.abort(new AbortedError('the feed was stopped by its signal'));
    o.signal?.addEventListener('abort', stop, { once: true });
    let lease: Lease | undefined;
    try {
      lease = o.endpoints.acquire();
      const endpoint = lease.endpoint;
      let res: Awaited<ReturnType<typeof endpoint.pool.request>>;
      try {
        res = await endpoint.pool.request({
          method: 'GET',
          path: endpoint.prefix + o.path(lastEventId),
          headers: {
            accept: 'text/event-stream',
            ...o.headers,
            ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}),
          },
          signal: connection.signal,
          headersTimeout: o.idleTimeoutMs,
          bodyTimeout: o.idleTimeoutMs,
        });
      } catch (e) {
        if (connection.signal.aborted) throw connection.signal.reason;
        throw transportError(e, endpoint, 'request');
      }
      if (res.statusCode !== 200) {
        const text = await res.body.text().catch(() => '');
        let body: unknown;
        try {
          body = parseJson(text);
        } catch {}
        const err = apiErrorFromBody(
          res.statusCode,
          body,
          retryAfterFromHeaders(res.headers, Date.now()),
          endpoint.url,
        );
        if (res.statusCode >= 500) o.endpoints.failed(lease);
        else o.endpoints.succeeded(lease);
        lease = undefined;
        throw err;
      }
      o.endpoints.succeeded(lease);
      lease = undefined;
      failures = 0;
      o.onConnect?.(lastEventId);
      const parser = new SseParser();
      const decoder = new TextDecoder();
      let resume = false;
      try {
        for await (const chunk of res.body as Readable & AsyncIterable<Uint8Array>) {
          for (const m of parser.push(decoder.decode(chunk, { stream: true }))) {
            const step = o.interpret(m);
            if (step.kind === 'skip') continue;
            if (step.kind === 'fail') throw step.error;
            if (step.kind === 'resume') {
              lastEventId = step.lastEventId;
              resume = true;
              break;
            }
            if (step.lastEventId !== undefined) lastEventId = step.lastEventId;
            yield step.item;
          }
          if (resume) break;
        }
      } catch (e) {
        if (connection.signal.aborted || !isTransport(e)) throw e;
        // Cut mid-stream: count it, then reconnect after a backoff like a failed connection.
        throw transportError(e, endpoint, 'answer');
      }
      // The server ended the stream (shutdown, lagged): reconnect at once from where we are.
    } catch (e) {
      if (lease) o.endpoints.failed(lease);
      if (o.signal?.aborted) return;
      const err = e as SurgeClientError;
      if (!('retryable' in (err as object)) || !err.retryable) throw e;
      if (++failures > o.maxConsecutiveFailures) throw e;
      try {
        // An open circuit's retryAfterMs is its remaining cooldown: waiting less would only fail again.
        await sleep(retryDelay(failures - 1, o.backoff, o.random, err.retryAfterMs), o.signal);
      } catch {
        return;
      }
    } finally {
      o.signal?.removeEventListener('abort', stop);
      connection.abort();
    }
  }
}

/** Errors undici raises when a body stream breaks (as opposed to an error of ours thrown through it). */
function isTransport(e: unknown): boolean {
  return !(e !== null && typeof e === 'object' && 'retryable' in e);
}
