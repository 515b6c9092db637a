/**
 * Qdrant's response envelopes: `{result, status: "ok", time}` and, for errors,
 * `{status: {error}, time, result: null}` — plus our stable `code` and `hint` (extra fields clients ignore).
 */
import { errors, type SurgeError } from '../protocol/errors.js';

export function ok(result: unknown, startedAt: number) {
  return { result, status: 'ok' as const, time: (performance.now() - startedAt) / 1000 };
}

/** Qdrant prefixes messages by kind ("Not found: …", "Wrong input: …"); clients and tools grep for them. */
function qdrantMessage(e: SurgeError): string {
  const status = errors[e.code].status;
  if (status === 404) return `Not found: ${e.message}`;
  if (status >= 500) return `Service internal error: ${e.message}`;
  if (status === 400) return `Wrong input: ${e.message}`;
  return e.message;
}

export function errorBody(e: SurgeError, startedAt: number) {
  return {
    status: { error: qdrantMessage(e) },
    code: e.code,
    hint: e.hint,
    ...(e.details ? { details: e.details } : {}),
    time: (performance.now() - startedAt) / 1000,
    result: null,
  };
}
