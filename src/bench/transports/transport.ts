/**
 * How a request reaches the target. The generator only sees `send` → Outcome; HTTP/1.1, HTTP/2 and WebSocket
 * all answer the same shape, so every view of a run (errors by status and code, Retry-After, recall) is the
 * same whatever the transport.
 */
export type Op = 'search' | 'search_batch' | 'upsert';

export interface WireRequest {
  op: Op;
  collection: string;
  /** The JSON body as the REST API takes it (already a string: built once, never re-serialised). */
  body: string;
  /** upsert: wait=true (visible before the answer). */
  wait?: boolean;
  /** Sent as the `api-key` header (per connection on WebSocket). */
  apiKey?: string | undefined;
  /** Parse and return the result (recall sampling); otherwise the body is drained unread. */
  wantResult?: boolean;
}

export interface Outcome {
  /** HTTP status; on WebSocket the catalogue status of the error code (200 on success); 0 = no answer. */
  status: number;
  /** Error code: the catalogue code from the body, `HTTP_<status>` without one, or a network code (ECONNREFUSED, TIMEOUT…). */
  code?: string;
  /** Seconds, from a Retry-After header on 429/503. */
  retryAfterS?: number;
  /** Parsed `result` when `wantResult` was set and the request succeeded. */
  result?: unknown;
  /**
   * The server's own time for an error answer, ms: the envelope's `time` (Qdrant's, in seconds). For a
   * refusal it is how long the server took to decide, without the time the request waited to be read.
   */
  serverMs?: number;
}

/** The envelope's `time` (seconds) of a JSON answer, in ms; undefined without one. */
export function envelopeMs(text: string): number | undefined {
  const m = /"time"\s*:\s*([0-9.eE+-]+)/.exec(text);
  if (!m) return undefined;
  const s = Number(m[1]);
  return Number.isFinite(s) ? s * 1000 : undefined;
}

export interface Transport {
  readonly kind: 'http1' | 'http2' | 'websocket';
  /** Requests the transport can have on the wire at once; the generator queues the rest itself. */
  readonly capacity: number;
  send(req: WireRequest): Promise<Outcome>;
  close(): Promise<void>;
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(v: string | string[] | undefined, now = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(s)) return Number(s);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, (t - now) / 1000);
}

/** A network failure's code: undici and Node errors carry `code`; a timeout is TIMEOUT whatever layer saw it. */
export function networkCode(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code =
    typeof err.code === 'string' ? err.code : typeof err.cause?.code === 'string' ? err.cause.code : '';
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    err.name === 'TimeoutError' ||
    err.name === 'AbortError'
  )
    return 'TIMEOUT';
  return code || 'NETWORK_ERROR';
}

/** The error code in a JSON error body (surgevec's `code`), else HTTP_<status>. */
export function errorCode(status: number, text: string): string {
  const m = /"code"\s*:\s*"([A-Z0-9_]+)"/.exec(text);
  return m ? m[1]! : `HTTP_${status}`;
}
