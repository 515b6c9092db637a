/**
 * NDJSON ingest (`POST /collections/{name}/points/stream`) from any iterable or async iterable of points.
 *
 * Backpressure end to end: the request body is pulled from the source only as fast as the socket takes it,
 * and the server stops reading while its engine is busy, so a fast source waits on TCP instead of filling
 * memory. On top, at most `maxUnsettled` lines may be sent and not yet settled (acked or refused) — that is
 * also all the client keeps for resending.
 *
 * Resumable: when the connection breaks (server killed, restarted, network), the ingest reconnects with
 * backoff and sends again exactly the lines not yet settled (see `ingest-tracker.ts`), then carries on with
 * the source. Acked lines are never sent again; unacked ones may be written twice, which upserts with
 * explicit ids make harmless: the final state is the one of sending every line once, in order.
 */
import { Readable } from 'node:stream';
import { parseJson, stringifyJson } from '../../protocol/json.js';
import type { IngestAnswerLine, Payload, PointId } from '../../protocol/wire.js';
import type { QueryCache } from '../cache/query-cache.js';
import type { Clock, Random } from '../clock.js';
import {
  AbortedError,
  type ApiError,
  apiErrorFromBody,
  apiErrorFromStream,
  ProtocolError,
  type SurgeClientError,
  TransportError,
} from '../errors.js';
import { type BackoffPolicy, retryDelay } from '../policy/backoff.js';
import { sleep } from '../policy/deadline.js';
import { retryAfterFromHeaders } from '../policy/retry-after.js';
import { type Endpoints, type Lease, transportError } from '../transport.js';
import { IngestTracker } from './ingest-tracker.js';
import { textLines } from './lines.js';

/** A point to ingest; a Float32Array vector is written without an intermediate array. */
export interface IngestPoint {
  id: PointId;
  vector: number[] | Float32Array;
  payload?: Payload | null;
}

export type IngestEvent =
  | {
      type: 'ack';
      batch: number;
      points: number;
      seq: number | null;
      status: 'acknowledged' | 'completed';
      /** Source positions below this are settled: stored or refused. */
      settled: number;
    }
  | { type: 'refused'; index: number; error: ApiError }
  | {
      type: 'reconnect';
      /** Connection about to be opened (2 = the first reconnection). */
      connection: number;
      /** Source position the resent lines start at. */
      resumeAt: number;
      delayMs: number;
      error: SurgeClientError;
    };

export interface IngestOptions {
  /** `?wait=true`: acks mean visible to search ("completed"), not only durable. */
  wait?: boolean;
  /** Stops the ingest; it rejects with AbortedError (acked lines stay stored). */
  signal?: AbortSignal;
  /**
   * Lines sent and not yet settled before the source is read further. Must exceed the server's
   * `server.stream_batch_points` (default 1000), which acks only full batches. Default 20,000.
   */
  maxUnsettled?: number;
  /**
   * How long the ingest keeps reconnecting without a single ack before it gives up, ms. A time, not a count
   * of attempts: a restarting server is back after seconds whatever the backoff. Default 60 s.
   */
  maxOutageMs?: number;
  backoff?: BackoffPolicy;
  onEvent?: (e: IngestEvent) => void;
}

export interface IngestSummary {
  /** Points stored (each source line counted once). */
  points: number;
  /** Lines the server refused; the first 100 are in `refusals`. */
  refused: number;
  refusals: { index: number; error: ApiError }[];
  lastSeq: number | null;
  /** Connections used (1 when nothing broke). */
  connections: number;
  /** Lines sent more than once because a connection broke before they were acked. */
  resent: number;
}

export interface IngestDeps {
  endpoints: Endpoints;
  headers: Record<string, string>;
  clock: Clock;
  random: Random;
  cache: QueryCache | undefined;
}

/** One JSON line; vectors are joined directly (a Float32Array would otherwise stringify as an object). */
export function encodePoint(p: IngestPoint): string {
  const payload =
    p.payload === undefined || p.payload === null ? '' : `,"payload":${stringifyJson(p.payload)}`;
  return `{"id":${stringifyJson(p.id)},"vector":[${p.vector.join(',')}]${payload}}`;
}

/** Serialises pulls from the source across connections; a pull that lands after its connection died is kept. */
class SourceReader<T> {
  private readonly iterator: Iterator<T> | AsyncIterator<T>;
  private stash: T[] = [];
  private busy: Promise<unknown> = Promise.resolve();
  done = false;

  constructor(source: Iterable<T> | AsyncIterable<T>) {
    this.iterator =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
        : (source as Iterable<T>)[Symbol.iterator]();
  }

  /** The next item for a connection, or 'stale' when that connection died while waiting for it. */
  next(live: () => boolean): Promise<IteratorResult<T> | 'stale'> {
    const p = this.busy.then(async (): Promise<IteratorResult<T> | 'stale'> => {
      const r = this.stash.length
        ? { done: false as const, value: this.stash.shift()! }
        : await this.iterator.next();
      if (r.done) this.done = true;
      else if (!live()) {
        this.stash.unshift(r.value);
        return 'stale';
      }
      return r;
    });
    this.busy = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

/** A one-shot broadcast: `wait()` resolves at the next `notify()`. */
class Notifier {
  private waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
  notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export async function ingest(
  deps: IngestDeps,
  collection: string,
  source: Iterable<IngestPoint> | AsyncIterable<IngestPoint>,
  options: IngestOptions = {},
): Promise<IngestSummary> {
  const maxUnsettled = options.maxUnsettled ?? 20_000;
  const maxOutageMs = options.maxOutageMs ?? 60_000;
  const backoff = options.backoff ?? { baseMs: 100, capMs: 2_000 };
  const signal = options.signal;
  const emit = options.onEvent ?? (() => {});
  const path = `/collections/${encodeURIComponent(collection)}/points/stream${options.wait ? '?wait=true' : ''}`;

  const tracker = new IngestTracker();
  const reader = new SourceReader(source);
  const window = new Notifier();
  const summary: IngestSummary = {
    points: 0,
    refused: 0,
    refusals: [],
    lastSeq: null,
    connections: 0,
    resent: 0,
  };
  let nextIndex = 0;
  let sourceError: { error: unknown } | undefined;
  let failures = 0;
  let progressAt = deps.clock.now();

  try {
    for (;;) {
      if (signal?.aborted) throw new AbortedError('the ingest was aborted by its signal');
      const again = tracker.restart();
      summary.connections++;
      const connection = new AbortController();
      const onAbort = () => connection.abort(new AbortedError('the ingest was aborted by its signal'));
      signal?.addEventListener('abort', onAbort, { once: true });
      let live = true;
      const isLive = () => live;
      // Resent lines count once the server has answered the connection: a refused one sent nothing.
      let answered = false;
      let resending = 0;

      async function* body(): AsyncGenerator<string> {
        for (const e of again) {
          if (!live) return;
          if (answered) summary.resent++;
          else resending++;
          yield `${e.text}\n`;
        }
        while (live) {
          while (live && tracker.unsettled >= maxUnsettled) await window.wait();
          if (!live) return;
          let r: IteratorResult<IngestPoint> | 'stale';
          try {
            r = await reader.next(isLive);
          } catch (e) {
            // Thrown on: undici aborts the request with it, and the ingest rethrows it below.
            sourceError = { error: e };
            throw e;
          }
          if (r === 'stale' || r.done) return;
          const text = encodePoint(r.value);
          tracker.send(nextIndex++, text);
          yield `${text}\n`;
        }
      }

      let lease: Lease | undefined;
      let acked = false;
      try {
        lease = deps.endpoints.acquire();
        const endpoint = lease.endpoint;
        let res: Awaited<ReturnType<typeof endpoint.pool.request>>;
        try {
          res = await endpoint.pool.request({
            method: 'POST',
            path: endpoint.prefix + path,
            headers: {
              'content-type': 'application/x-ndjson',
              accept: 'application/x-ndjson',
              ...deps.headers,
            },
            body: Readable.from(body(), { objectMode: false }),
            signal: connection.signal,
            // Paced by the source and the engine, not by a clock: a slow source is not a dead server.
            headersTimeout: 0,
            bodyTimeout: 0,
          });
        } catch (e) {
          if (sourceError) throw sourceError.error;
          if (connection.signal.aborted) throw connection.signal.reason;
          throw transportError(e, endpoint, 'request');
        }
        if (res.statusCode !== 200) {
          const text = await res.body.text().catch(() => '');
          let parsed: unknown;
          try {
            parsed = parseJson(text);
          } catch {}
          if (res.statusCode >= 500) deps.endpoints.failed(lease);
          else deps.endpoints.succeeded(lease);
          lease = undefined;
          throw apiErrorFromBody(
            res.statusCode,
            parsed,
            retryAfterFromHeaders(res.headers, Date.now()),
            endpoint.url,
          );
        }
        deps.endpoints.succeeded(lease);
        lease = undefined;
        answered = true;
        summary.resent += resending;
        let finished = false;
        try {
          for await (const line of textLines(res.body as AsyncIterable<Uint8Array>)) {
            if (line === '') continue;
            let m: IngestAnswerLine;
            try {
              m = parseJson(line) as IngestAnswerLine;
            } catch {
              throw new ProtocolError(`ingest: an answer line is not JSON: ${line.slice(0, 80)}`);
            }
            if ('line' in m) {
              const e = tracker.refuse(m.line);
              if (!e)
                throw new ProtocolError(`ingest: the server refused line ${m.line}, which was not pending`);
              const error = apiErrorFromStream(m.error, endpoint.url);
              summary.refused++;
              if (summary.refusals.length < 100) summary.refusals.push({ index: e.index, error });
              emit({ type: 'refused', index: e.index, error });
            } else if ('batch' in m) {
              if (!tracker.ack(m.points)) {
                throw new ProtocolError(`ingest: batch ${m.batch} acked more points than were pending`);
              }
              acked = true;
              failures = 0;
              progressAt = deps.clock.now();
              summary.points += m.points;
              if (m.seq !== null) {
                summary.lastSeq = Math.max(summary.lastSeq ?? 0, m.seq);
                deps.cache?.observeSeq(collection, m.seq);
              }
              window.notify();
              const settled = tracker.firstUnsettled ?? nextIndex;
              emit({ type: 'ack', batch: m.batch, points: m.points, seq: m.seq, status: m.status, settled });
            } else if (m.done) {
              finished = true;
            } else {
              throw apiErrorFromStream(m.error, endpoint.url);
            }
          }
        } catch (e) {
          if (sourceError) throw sourceError.error;
          if (connection.signal.aborted) throw connection.signal.reason;
          if (e instanceof Error && 'retryable' in e) throw e;
          throw transportError(e, endpoint, 'answer');
        }
        if (!finished) {
          throw new TransportError(
            `${endpoint.url}: the answer ended before its summary line`,
            true,
            endpoint.url,
          );
        }
        if (tracker.unsettled !== 0 || !reader.done) {
          throw new ProtocolError(`ingest: the server finished with ${tracker.unsettled} line(s) unsettled`);
        }
        return summary;
      } catch (e) {
        if (lease) deps.endpoints.failed(lease);
        live = false;
        window.notify();
        connection.abort();
        if (sourceError) throw sourceError.error;
        if (signal?.aborted) throw new AbortedError('the ingest was aborted by its signal');
        const err = e as SurgeClientError;
        if (!(e instanceof Error) || !('retryable' in e) || !err.retryable) throw e;
        if (!acked) failures++;
        const delayMs = retryDelay(failures, backoff, deps.random, err.retryAfterMs);
        if (deps.clock.now() + delayMs - progressAt > maxOutageMs) throw e;
        emit({
          type: 'reconnect',
          connection: summary.connections + 1,
          resumeAt: tracker.firstUnsettled ?? nextIndex,
          delayMs,
          error: err,
        });
        await sleep(delayMs, signal).catch(() => {
          throw new AbortedError('the ingest was aborted by its signal');
        });
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
  } finally {
    if (!reader.done) await reader.close().catch(() => undefined);
  }
}
