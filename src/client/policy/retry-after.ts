/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Dates are compared with the wall clock
 * passed in; a date in the past means "now". Anything unreadable is ignored (undefined), not guessed.
 */
export function parseRetryAfter(value: string | string[] | undefined, wallNowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const text = v.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - wallNowMs);
}

/**
 * The wait a refusal asks for, in ms: surgevec's `Retry-After-Ms` (exact) when present, else the standard
 * `Retry-After` (whole seconds, or a date).
 */
export function retryAfterFromHeaders(
  headers: Record<string, string | string[] | undefined>,
  wallNowMs: number,
): number | undefined {
  const ms = headers['retry-after-ms'];
  const exact = Array.isArray(ms) ? ms[0] : ms;
  if (exact !== undefined && /^\d+(\.\d+)?$/.test(exact.trim())) return Number(exact.trim());
  return parseRetryAfter(headers['retry-after'], wallNowMs);
}
