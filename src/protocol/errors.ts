/**
 * The one catalogue of errors surgevec can return. Engine code throws `SurgeError(code, …)` with no idea of
 * HTTP; the server maps `status` once at the edge. `docs/errors.md` lists every code (a test enforces it).
 * Statuses follow Qdrant where Qdrant has the same failure (e.g. an existing collection is a 409 there).
 */
export const errors = {
  INVALID_REQUEST: { status: 400, hint: 'check the request body against docs/API.md' },
  INVALID_JSON: { status: 400, hint: 'the body must be valid JSON (Content-Type: application/json)' },
  BODY_TOO_LARGE: {
    status: 413,
    hint: 'split the request, or stream points with POST /collections/{name}/points/stream',
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, hint: 'send Content-Type: application/json' },
  ROUTE_NOT_FOUND: { status: 404, hint: 'see docs/API.md for the paths surgevec serves' },
  UNSUPPORTED_ENDPOINT: {
    status: 501,
    hint: 'this Qdrant endpoint is not implemented by surgevec (docs/API.md lists what is)',
  },
  REQUEST_TIMEOUT: { status: 408, hint: 'send the request faster or raise server.request_timeout_ms' },
  INVALID_NAME: {
    status: 400,
    hint: 'names may use letters, digits, "_" and "-" only, 1 to 255 characters',
  },
  COLLECTION_NOT_FOUND: { status: 404, hint: 'create it first: PUT /collections/{name}' },
  COLLECTION_EXISTS: { status: 409, hint: 'drop it first, or pick another name' },
  ALIAS_NOT_FOUND: { status: 404, hint: 'list aliases with GET /aliases' },
  ALIAS_EXISTS: { status: 400, hint: 'delete the alias first, or use a rename/swap in one request' },
  DIMENSION_MISMATCH: { status: 400, hint: 'the vector length must equal the collection size' },
  INVALID_VECTOR: {
    status: 400,
    hint: 'vectors are arrays of finite numbers (no NaN, Infinity, strings or nulls)',
  },
  INVALID_POINT_ID: {
    status: 400,
    hint: 'point ids are unsigned 64-bit integers or UUID strings',
  },
  POINT_NOT_FOUND: { status: 404, hint: 'the point does not exist (or was deleted)' },
  INVALID_PAYLOAD: { status: 400, hint: 'a payload is a JSON object' },
  PAYLOAD_TOO_LARGE: { status: 400, hint: 'keep each payload under the configured size limit' },
  PAYLOAD_TOO_DEEP: { status: 400, hint: 'flatten the payload: nesting is limited' },
  FORBIDDEN_PAYLOAD_KEY: {
    status: 400,
    hint: '"__proto__", "constructor" and "prototype" cannot be payload keys',
  },
  INVALID_FILTER: {
    status: 400,
    hint: "see Qdrant's filtering docs; the supported subset is in docs/API.md",
  },
  UNSUPPORTED_FEATURE: {
    status: 400,
    hint: 'this Qdrant feature is not supported by surgevec (docs/API.md)',
  },
  LIMIT_EXCEEDED: { status: 400, hint: 'lower limit/offset/batch size below the documented maximum' },
  ENGINE_CLOSED: { status: 503, hint: 'the engine is shutting down or not started; retry shortly' },
  SHUTTING_DOWN: { status: 503, hint: 'the server is draining before exit; retry on another instance' },
  TOO_MANY_IN_FLIGHT: {
    status: 429,
    hint: 'wait for answers before sending more on this connection (in-flight cap)',
  },
  WAL_CORRUPTED: {
    status: 500,
    hint: 'restore the named file from a backup or truncate it at the offset, then restart',
  },
  SNAPSHOT_CORRUPTED: { status: 500, hint: 'the snapshot is unreadable; remove it to recover from the WAL' },
  STORAGE_ERROR: { status: 500, hint: 'check disk space and permissions of the data directory' },
  INTERNAL: { status: 500, hint: 'this is a bug: please report it with the request id' },
  PEER_UNAVAILABLE: {
    status: 503,
    hint: 'pgvector: run `bash scripts/peers/pgvector.sh` (or pass --pg-url); LanceDB and pg: `npm install` dev deps',
  },
  INVALID_SCENARIO: {
    status: 400,
    hint: 'see docs/BENCH.md for the scenario file schema; `surgevec bench list` shows the built-in scenarios',
  },
  TARGET_NOT_ALLOWED: {
    status: 400,
    hint: 'the bench loads loopback targets only; pass --allow-remote to load a host you own',
  },
  TARGET_UNREACHABLE: {
    status: 503,
    hint: 'start the server (`surgevec serve`) or pass --target with its URL',
  },
  INVALID_RUN_FILE: {
    status: 400,
    hint: 'pass a run file written by `surgevec bench run` (results/*.json, schema surgevec.bench.run v1)',
  },
  UNAUTHORIZED: {
    status: 401,
    hint: 'send a valid API key: header "api-key: <key>" or "Authorization: Bearer <key>"',
  },
  FORBIDDEN: {
    status: 403,
    hint: 'this key may not do that: /admin needs the admin key (admission.admin_key in the config file)',
  },
  OVER_QUOTA: {
    status: 429,
    hint: 'slow down: retry after the Retry-After header (Retry-After-Ms has the exact wait)',
  },
  OVERLOADED: {
    status: 503,
    hint: 'the server is shedding load: retry after the Retry-After header, with jitter',
  },
  DEADLINE_EXCEEDED: {
    status: 503,
    hint: 'the request waited past its deadline (timeout parameter or x-surgevec-timeout-ms); retry after Retry-After',
  },
  TENANT_NOT_FOUND: { status: 404, hint: 'list tenants with GET /admin/tenants' },
  TENANT_EXISTS: {
    status: 409,
    hint: 'pick another id, or change the tenant with PATCH /admin/tenants/{id}',
  },
  SUBSCRIPTION_NOT_FOUND: {
    status: 404,
    hint: 'list subscriptions with GET /collections/{name}/subscriptions (a tenant sees only its own)',
  },
  TOO_MANY_SUBSCRIPTIONS: {
    status: 429,
    hint: 'delete unused subscriptions (DELETE /collections/{name}/subscriptions/{id}) or raise subscriptions.max_per_tenant',
  },
} as const satisfies Record<string, { status: number; hint: string }>;

export type ErrorCode = keyof typeof errors;

export class SurgeError extends Error {
  override readonly name = 'SurgeError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }

  get hint(): string {
    return errors[this.code].hint;
  }

  get status(): number {
    return errors[this.code].status;
  }

  /** Plain form that survives structured clone (worker threads) and JSON. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, details: this.details };
  }

  static from(e: SerializedError): SurgeError {
    return new SurgeError(e.code, e.message, e.details);
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: Readonly<Record<string, unknown>> | undefined;
}

export function isSurgeError(e: unknown): e is SurgeError {
  return e instanceof SurgeError;
}

export function isErrorCode(s: unknown): s is ErrorCode {
  return typeof s === 'string' && Object.hasOwn(errors, s);
}
