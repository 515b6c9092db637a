/**
 * Safety: the bench only loads a target it was explicitly given, and only a loopback one unless the user says
 * `--allow-remote` — a load generator pointed at someone else's host by a typo is an attack.
 */
import { isIP } from 'node:net';
import { SurgeError } from '../../protocol/errors.js';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The normalised target URL (no trailing slash), or TARGET_NOT_ALLOWED. */
export function checkTarget(target: string, allowRemote: boolean): string {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new SurgeError(
      'INVALID_SCENARIO',
      `--target ${JSON.stringify(target)} is not a URL (e.g. http://127.0.0.1:6333)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SurgeError('INVALID_SCENARIO', `--target must be http:// or https://, got ${url.protocol}`);
  if (!allowRemote && !isLoopbackHost(url.hostname)) {
    throw new SurgeError(
      'TARGET_NOT_ALLOWED',
      `${url.hostname} is not a loopback address; the bench refuses to load it without --allow-remote`,
      { host: url.hostname },
    );
  }
  return url.href.replace(/\/+$/, '');
}
