/**
 * Everything the SDK throws is a `SurgeClientError`. Answers from the server become an `ApiError` of the
 * class named after its catalogue code (`CollectionNotFoundError`, …), carrying status, code, hint,
 * details and Retry-After; failures on this side (transport, deadline, open circuit, local throttling)
 * have classes and codes of their own. `retryable` says whether trying again can help at all — whether the
 * SDK does retry also depends on the operation (docs/CLIENT.md, "Retries").
 */
import { type ErrorCode, errors, isErrorCode } from '../protocol/errors.js';
import type { ErrorEnvelope, StreamError } from '../protocol/wire.js';

export abstract class SurgeClientError extends Error {
  abstract readonly code: string;
  abstract readonly hint: string;
  /** Whether a later attempt can succeed (the SDK retries only idempotent operations). */
  abstract readonly retryable: boolean;
  /** How long the server (or the local circuit) asked to wait before trying again. */
  readonly retryAfterMs: number | undefined = undefined;
}

export interface ApiErrorInit {
  status: number;
  code: string;
  message: string;
  hint?: string | undefined;
  details?: Readonly<Record<string, unknown>> | undefined;
  retryAfterMs?: number | undefined;
  /** The endpoint that answered. */
  endpoint?: string | undefined;
}

/** Statuses that mean "not now" rather than "not this": the server was overloaded, draining or a proxy failed. */
const TRANSIENT_STATUSES = new Set([408, 429, 502, 503, 504]);

/** An error answer from the server. `code` is a catalogue code, or `HTTP_<status>` for a body without one. */
export class ApiError<C extends string = string> extends SurgeClientError {
  override readonly name: string = 'ApiError';
  readonly status: number;
  readonly code: C;
  readonly hint: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  override readonly retryAfterMs: number | undefined;
  readonly endpoint: string | undefined;

  constructor(init: ApiErrorInit & { code: C }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.hint =
      init.hint ?? (isErrorCode(init.code) ? errors[init.code].hint : `the server answered ${init.status}`);
    this.details = init.details;
    this.retryAfterMs = init.retryAfterMs;
    this.endpoint = init.endpoint;
  }

  get retryable(): boolean {
    return TRANSIENT_STATUSES.has(this.status);
  }
}

export type CatalogueErrorClass<C extends ErrorCode> = new (init: Omit<ApiErrorInit, 'code'>) => ApiError<C>;

/** COLLECTION_NOT_FOUND → CollectionNotFoundError. */
function className(code: string): string {
  return `${code
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}Error`;
}

function catalogueError<C extends ErrorCode>(code: C): CatalogueErrorClass<C> {
  const name = className(code);
  const K = class extends ApiError<C> {
    override readonly name = name;
    constructor(init: Omit<ApiErrorInit, 'code'>) {
      super({ ...init, code });
    }
  };
  Object.defineProperty(K, 'name', { value: name });
  return K;
}

/**
 * One class per catalogue code, made from the catalogue itself: a code added there has its class here at
 * once (`errorClasses.NEW_CODE`, and `isApiError(e, 'NEW_CODE')`), with no second list to keep in step.
 */
export const errorClasses = Object.fromEntries(
  (Object.keys(errors) as ErrorCode[]).map((code) => [code, catalogueError(code)]),
) as { readonly [C in ErrorCode]: CatalogueErrorClass<C> };

// Named exports for `instanceof` checks on the codes applications meet most.
export const InvalidRequestError = errorClasses.INVALID_REQUEST;
export const InvalidJsonError = errorClasses.INVALID_JSON;
export const BodyTooLargeError = errorClasses.BODY_TOO_LARGE;
export const UnsupportedMediaTypeError = errorClasses.UNSUPPORTED_MEDIA_TYPE;
export const RouteNotFoundError = errorClasses.ROUTE_NOT_FOUND;
export const UnsupportedEndpointError = errorClasses.UNSUPPORTED_ENDPOINT;
export const RequestTimeoutError = errorClasses.REQUEST_TIMEOUT;
export const InvalidNameError = errorClasses.INVALID_NAME;
export const CollectionNotFoundError = errorClasses.COLLECTION_NOT_FOUND;
export const CollectionExistsError = errorClasses.COLLECTION_EXISTS;
export const AliasNotFoundError = errorClasses.ALIAS_NOT_FOUND;
export const AliasExistsError = errorClasses.ALIAS_EXISTS;
export const DimensionMismatchError = errorClasses.DIMENSION_MISMATCH;
export const InvalidVectorError = errorClasses.INVALID_VECTOR;
export const InvalidPointIdError = errorClasses.INVALID_POINT_ID;
export const PointNotFoundError = errorClasses.POINT_NOT_FOUND;
export const InvalidPayloadError = errorClasses.INVALID_PAYLOAD;
export const PayloadTooLargeError = errorClasses.PAYLOAD_TOO_LARGE;
export const PayloadTooDeepError = errorClasses.PAYLOAD_TOO_DEEP;
export const ForbiddenPayloadKeyError = errorClasses.FORBIDDEN_PAYLOAD_KEY;
export const InvalidFilterError = errorClasses.INVALID_FILTER;
export const UnsupportedFeatureError = errorClasses.UNSUPPORTED_FEATURE;
export const LimitExceededError = errorClasses.LIMIT_EXCEEDED;
export const EngineClosedError = errorClasses.ENGINE_CLOSED;
export const ShuttingDownError = errorClasses.SHUTTING_DOWN;
export const TooManyInFlightError = errorClasses.TOO_MANY_IN_FLIGHT;
export const WalCorruptedError = errorClasses.WAL_CORRUPTED;
export const SnapshotCorruptedError = errorClasses.SNAPSHOT_CORRUPTED;
export const StorageError = errorClasses.STORAGE_ERROR;
export const InternalError = errorClasses.INTERNAL;
export type InvalidRequestError = ApiError<'INVALID_REQUEST'>;
export type InvalidJsonError = ApiError<'INVALID_JSON'>;
export type BodyTooLargeError = ApiError<'BODY_TOO_LARGE'>;
export type UnsupportedMediaTypeError = ApiError<'UNSUPPORTED_MEDIA_TYPE'>;
export type RouteNotFoundError = ApiError<'ROUTE_NOT_FOUND'>;
export type UnsupportedEndpointError = ApiError<'UNSUPPORTED_ENDPOINT'>;
export type RequestTimeoutError = ApiError<'REQUEST_TIMEOUT'>;
export type InvalidNameError = ApiError<'INVALID_NAME'>;
export type CollectionNotFoundError = ApiError<'COLLECTION_NOT_FOUND'>;
export type CollectionExistsError = ApiError<'COLLECTION_EXISTS'>;
export type AliasNotFoundError = ApiError<'ALIAS_NOT_FOUND'>;
export type AliasExistsError = ApiError<'ALIAS_EXISTS'>;
export type DimensionMismatchError = ApiError<'DIMENSION_MISMATCH'>;
export type InvalidVectorError = ApiError<'INVALID_VECTOR'>;
export type InvalidPointIdError = ApiError<'INVALID_POINT_ID'>;
export type PointNotFoundError = ApiError<'POINT_NOT_FOUND'>;
export type InvalidPayloadError = ApiError<'INVALID_PAYLOAD'>;
export type PayloadTooLargeError = ApiError<'PAYLOAD_TOO_LARGE'>;
export type PayloadTooDeepError = ApiError<'PAYLOAD_TOO_DEEP'>;
export type ForbiddenPayloadKeyError = ApiError<'FORBIDDEN_PAYLOAD_KEY'>;
export type InvalidFilterError = ApiError<'INVALID_FILTER'>;
export type UnsupportedFeatureError = ApiError<'UNSUPPORTED_FEATURE'>;
export type LimitExceededError = ApiError<'LIMIT_EXCEEDED'>;
export type EngineClosedError = ApiError<'ENGINE_CLOSED'>;
export type ShuttingDownError = ApiError<'SHUTTING_DOWN'>;
export type TooManyInFlightError = ApiError<'TOO_MANY_IN_FLIGHT'>;
export type WalCorruptedError = ApiError<'WAL_CORRUPTED'>;
export type SnapshotCorruptedError = ApiError<'SNAPSHOT_CORRUPTED'>;
export type StorageError = ApiError<'STORAGE_ERROR'>;
export type InternalError = ApiError<'INTERNAL'>;

/** Narrows an unknown error to the ApiError of one catalogue code. */
export function isApiError<C extends ErrorCode>(e: unknown, code: C): e is ApiError<C> {
  return e instanceof ApiError && e.code === code;
}

/** Builds the typed error for an error answer (`body` parsed JSON, or undefined when it was not JSON). */
export function apiErrorFromBody(
  status: number,
  body: unknown,
  retryAfterMs: number | undefined,
  endpoint?: string,
): ApiError {
  const b = (body !== null && typeof body === 'object' ? body : {}) as Partial<ErrorEnvelope>;
  const message =
    typeof b.status === 'object' && b.status && typeof b.status.error === 'string'
      ? b.status.error
      : `the server answered ${status}`;
  const common = { status, message, hint: b.hint, details: b.details, retryAfterMs, endpoint };
  if (isErrorCode(b.code)) return new errorClasses[b.code](common);
  return new ApiError({ ...common, code: `HTTP_${status}` });
}

/** Builds the typed error for an error reported inside a stream (NDJSON line, WebSocket answer, SSE event). */
export function apiErrorFromStream(e: StreamError, endpoint?: string): ApiError {
  const init = { message: e.message, hint: e.hint, endpoint };
  if (isErrorCode(e.code)) return new errorClasses[e.code]({ ...init, status: errors[e.code].status });
  return new ApiError({ ...init, status: 500, code: String(e.code) });
}

// ------------------------------------------------------------------ failures on this side

/** The request did not get an answer: connection refused or reset, socket closed mid-answer, bad TLS… */
export class TransportError extends SurgeClientError {
  override readonly name = 'TransportError';
  readonly code = 'TRANSPORT';
  readonly hint = 'the server could not be reached or closed the connection; check that it is running';
  readonly retryable = true;
  constructor(
    message: string,
    /** False only when the request provably never left (connection refused): safe to retry any write. */
    readonly maybeProcessed: boolean,
    readonly endpoint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The call's deadline passed on this side (its `timeoutMs`, or the client's default) before an answer came.
 * (A server that drops a request for its deadline answers the catalogue's DEADLINE_EXCEEDED instead.)
 */
export class ClientDeadlineExceededError extends SurgeClientError {
  override readonly name = 'ClientDeadlineExceededError';
  readonly code = 'CLIENT_DEADLINE_EXCEEDED';
  readonly hint = 'raise timeoutMs, or make the request cheaper (smaller limit, a filter, lower hnsw_ef)';
  readonly retryable = false;
}

/** The caller's AbortSignal fired. */
export class AbortedError extends SurgeClientError {
  override readonly name = 'AbortedError';
  readonly code = 'ABORTED';
  readonly hint = 'the call was cancelled by its AbortSignal';
  readonly retryable = false;
}

/** No endpoint may be tried now: every circuit is open (or every endpoint ejected). Nothing was sent. */
export class CircuitOpenError extends SurgeClientError {
  override readonly name = 'CircuitOpenError';
  readonly code = 'CIRCUIT_OPEN';
  readonly hint = 'the server failed repeatedly; the client waits before trying it again (retryAfterMs)';
  readonly retryable = true;
  constructor(
    message: string,
    override readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** Rejected locally by adaptive throttling: the server has been refusing most requests lately. */
export class ThrottledError extends SurgeClientError {
  override readonly name = 'ThrottledError';
  readonly code = 'THROTTLED';
  readonly hint = 'the server is overloaded; the client sheds load locally until it accepts more again';
  readonly retryable = false;
  constructor(
    message: string,
    readonly probability: number,
  ) {
    super(message);
  }
}

/** The server's answer could not be understood (not JSON, wrong shape, a broken stream protocol). */
export class ProtocolError extends SurgeClientError {
  override readonly name = 'ProtocolError';
  readonly code = 'BAD_RESPONSE';
  readonly hint = 'the endpoint may not be a surgevec/Qdrant server, or a proxy altered the answer';
  readonly retryable = false;
}
