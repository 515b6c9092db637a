/**
 * Point ids as Qdrant has them: u64 integers (the whole range; JSON above 2^53 arrives as bigint) or UUIDs.
 * Internally every id is a string key: decimal digits for integers, canonical lowercase UUID otherwise.
 * The two forms cannot collide (a UUID key always holds '-').
 */
import { SurgeError } from '../protocol/errors.js';
import type { PointId } from './types.js';

const U64_MAX = (1n << 64n) - 1n;
const UUID_HYPHENATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_SIMPLE = /^[0-9a-f]{32}$/i;
const URN = /^urn:uuid:/i;

function bad(id: unknown, why: string): SurgeError {
  let shown: string;
  try {
    shown = typeof id === 'bigint' ? `${id}` : (JSON.stringify(id) ?? String(id));
  } catch {
    // Too deep for JSON.stringify (String() would recurse as deep): name the kind only.
    shown = Array.isArray(id) ? '[…]' : typeof id === 'object' && id !== null ? '{…}' : String(id);
  }
  return new SurgeError('INVALID_POINT_ID', `invalid point id ${shown.slice(0, 80)}: ${why}`);
}

/** Validates and canonicalises an id; throws INVALID_POINT_ID. */
export function pointKey(id: unknown): string {
  if (typeof id === 'number') {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw bad(
        id,
        Number.isInteger(id) && id > 0
          ? 'integers above 2^53 must be sent as bigint'
          : 'not an unsigned integer',
      );
    }
    return String(id);
  }
  if (typeof id === 'bigint') {
    if (id < 0n || id > U64_MAX) throw bad(id, 'outside the unsigned 64-bit range');
    return id.toString();
  }
  if (typeof id === 'string') {
    const s = id.replace(URN, '');
    if (UUID_HYPHENATED.test(s)) return s.toLowerCase();
    if (UUID_SIMPLE.test(s)) {
      const h = s.toLowerCase();
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    throw bad(id, 'strings must be UUIDs');
  }
  throw bad(id, 'expected an unsigned integer or a UUID string');
}

export function isUuidKey(key: string): boolean {
  return key.length === 36 && key.charCodeAt(8) === 45;
}

/** Back from key to the public form: number when it is exact in a double, bigint above, UUID string. */
export function keyToId(key: string): PointId {
  if (isUuidKey(key)) return key;
  if (key.length < 16) return Number(key);
  const n = BigInt(key);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** Qdrant's order: all integer ids ascending, then UUIDs in byte order (= lowercase hex order). */
export function compareKeys(a: string, b: string): number {
  const ua = isUuidKey(a);
  const ub = isUuidKey(b);
  if (ua !== ub) return ua ? 1 : -1;
  if (!ua && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
