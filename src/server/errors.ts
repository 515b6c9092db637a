/**
 * The one place where anything thrown while serving becomes a catalogue error. Fastify's own errors
 * (body parsing, limits, timeouts) are mapped by their code; anything unknown is INTERNAL (and logged).
 */
import { SurgeError } from '../protocol/errors.js';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

export function toSurgeError(e: unknown): SurgeError {
  if (e instanceof SurgeError) return e;
  const f = (e ?? {}) as FastifyLikeError;
  switch (f.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SurgeError('BODY_TOO_LARGE', 'the request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new SurgeError('UNSUPPORTED_MEDIA_TYPE', f.message ?? 'unsupported content type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SurgeError('INVALID_JSON', 'the body is empty; a JSON object is expected');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new SurgeError('INVALID_JSON', f.message ?? 'malformed JSON');
  }
  if (e instanceof SyntaxError) return new SurgeError('INVALID_JSON', `malformed JSON: ${e.message}`);
  if (f.statusCode === 408 || f.code === 'FST_ERR_REQUEST_TIMEOUT') {
    return new SurgeError('REQUEST_TIMEOUT', 'the request did not arrive in time');
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return new SurgeError('INVALID_REQUEST', f.message ?? 'bad request');
  }
  return new SurgeError('INTERNAL', e instanceof Error ? e.message : String(e));
}
