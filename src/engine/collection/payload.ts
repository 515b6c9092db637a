/**
 * Payload validation and the payload operations of Qdrant (set at a key path, overwrite, delete keys,
 * select on read). Payloads are trusted only after validate(): plain JSON objects, bounded in size and depth,
 * without keys that would reach Object.prototype.
 */
import { SurgeError } from '../../protocol/errors.js';
import type { Payload, WithPayload } from '../types.js';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

export interface PayloadLimits {
  max_payload_bytes: number;
  max_payload_depth: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Throws a catalogue error unless `p` is a JSON object within limits; returns a private copy of it. */
export function validatePayload(
  p: unknown,
  limits: PayloadLimits,
  where = 'payload',
  /** Levels above `p` once stored: set_payload under a dotted key nests the patch that deep. */
  outerDepth = 0,
): Payload {
  if (!isPlainObject(p)) throw new SurgeError('INVALID_PAYLOAD', `${where} must be a JSON object`);
  walk(p, 1 + outerDepth, where, limits.max_payload_depth);
  const json = JSON.stringify(p);
  const bytes = Buffer.byteLength(json);
  if (bytes > limits.max_payload_bytes) {
    throw new SurgeError(
      'PAYLOAD_TOO_LARGE',
      `${where} is ${bytes} bytes; the limit is ${limits.max_payload_bytes}`,
      { bytes, limit: limits.max_payload_bytes },
    );
  }
  // The engine keeps its own copy: a caller mutating its object later must not change stored state.
  return JSON.parse(json) as Payload;
}

function walk(v: unknown, depth: number, path: string, maxDepth: number): void {
  if (depth > maxDepth) {
    throw new SurgeError('PAYLOAD_TOO_DEEP', `${path} nests deeper than ${maxDepth} levels`, {
      limit: maxDepth,
    });
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`, maxDepth);
    return;
  }
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new SurgeError('INVALID_PAYLOAD', `${path} is not a finite number`);
    return;
  }
  if (isPlainObject(v)) {
    for (const k of Object.keys(v)) {
      if (FORBIDDEN.has(k)) {
        throw new SurgeError('FORBIDDEN_PAYLOAD_KEY', `${path} has the forbidden key "${k}"`, { key: k });
      }
      walk(v[k], depth + 1, `${path}.${k}`, maxDepth);
    }
    return;
  }
  throw new SurgeError('INVALID_PAYLOAD', `${path} holds a ${typeof v}, which JSON cannot carry`);
}

/** Qdrant's set_payload: merges top-level keys, or under `key` (a dotted path, created as needed). */
export function mergePayload(current: Payload | undefined, patch: Payload, key?: string): Payload {
  const out: Payload = structuredClone(current ?? {});
  let target: Payload = out;
  if (key) {
    for (const part of key.split('.')) {
      if (FORBIDDEN.has(part))
        throw new SurgeError('FORBIDDEN_PAYLOAD_KEY', `key path "${key}" is forbidden`);
      const next = target[part];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) target[part] = {};
      target = target[part] as Payload;
    }
  }
  for (const [k, v] of Object.entries(patch)) target[k] = structuredClone(v);
  return out;
}

/**
 * Throws FORBIDDEN_PAYLOAD_KEY when a dotted key path names `__proto__`, `constructor` or `prototype`: such a
 * path would walk from a payload into Object.prototype (`__proto__.toString` deleted it for every object).
 */
export function checkKeyPath(key: string, what = 'key'): void {
  for (const part of key.split('.')) {
    if (FORBIDDEN.has(part)) {
      throw new SurgeError('FORBIDDEN_PAYLOAD_KEY', `${what} "${key}" is forbidden`, { key: part });
    }
  }
}

/** Qdrant's delete_payload: removes each (dotted) key path that exists. */
export function deletePayloadKeys(current: Payload | undefined, keys: string[]): Payload | undefined {
  if (current === undefined) return undefined;
  const out = structuredClone(current);
  for (const key of keys) deletePath(out, key.split('.'));
  return out;
}

/** What a read returns for `with_payload` (true/false, list of keys, include/exclude; dotted paths as in Qdrant). */
export function selectPayload(p: Payload | undefined, w: WithPayload | undefined): Payload | undefined {
  if (w === undefined || w === false) return undefined;
  const payload = p ?? {};
  if (w === true) return payload;
  const include = Array.isArray(w) ? w : w.include;
  const exclude = Array.isArray(w) ? undefined : w.exclude;
  let out: Payload = payload;
  if (include) {
    out = {};
    for (const path of include) copyPath(payload, out, path.split('.'));
  }
  if (exclude) {
    out = structuredClone(out);
    for (const path of exclude) deletePath(out, path.split('.'));
  }
  return out;
}

const isObject = (v: unknown): v is Payload => v !== null && typeof v === 'object' && !Array.isArray(v);

function copyPath(from: Payload, to: Payload, parts: string[]): void {
  const [head, ...rest] = parts;
  if (head === undefined || !Object.hasOwn(from, head)) return;
  const v = from[head]!;
  if (rest.length === 0) {
    to[head] = v;
    return;
  }
  if (!isObject(v)) return;
  const next = isObject(to[head]) ? (to[head] as Payload) : {};
  copyPath(v, next, rest);
  if (Object.keys(next).length > 0) to[head] = next;
}

function deletePath(obj: Payload, parts: string[]): void {
  const [head, ...rest] = parts;
  if (head === undefined || !Object.hasOwn(obj, head)) return;
  if (rest.length === 0) delete obj[head];
  else if (isObject(obj[head])) deletePath(obj[head] as Payload, rest);
}
