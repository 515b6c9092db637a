/**
 * Payload key paths as Qdrant writes them — `a.b`, `a[].b`, `a[0]`, `"dotted.key".c` — parsed once into steps.
 *
 * Grammar: Qdrant's `lib/segment/src/json_path/parse.rs` (raw keys are alphanumeric, `_` or `-`; other keys are
 * double-quoted without escapes; `[N]` picks an element, `[]` every element).
 *
 * Traversal deliberately differs from Qdrant's JsonPath v2 in one way (a surgevec decision): a key step that
 * meets an array visits every element, so `a.b` on `{a: [{b: 1}, {b: 2}]}` yields 1 and 2, exactly like `a[].b`.
 * A `[]` followed by a key is therefore dropped while parsing: both spellings compile to the same steps and the
 * same canonical string (which is how payload indexes are found for a filter key). Arrays nested directly in
 * arrays are not flattened by a key step (Qdrant: "Array inside array is not flattened").
 */
import type { Payload, PayloadValue } from '../types.js';

export type PathStep =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'each' };

export interface KeyPath {
  readonly steps: readonly PathStep[];
  /** Normal form: `a[].b` and `a.b` both print as `a.b`. */
  readonly canonical: string;
}

const RAW_CHAR = /[\p{Alphabetic}\p{N}_-]/u;
const RAW_KEY = /^[\p{Alphabetic}\p{N}_-]+$/u;

/** Parses a Qdrant payload key; undefined when it is not a valid path. */
export function parseKeyPath(key: string): KeyPath | undefined {
  const raw: PathStep[] = [];
  let i = 0;
  const n = key.length;

  const readName = (): string | undefined => {
    if (key[i] === '"') {
      const end = key.indexOf('"', i + 1);
      if (end < 0) return undefined;
      const name = key.slice(i + 1, end);
      if (name.includes('\\')) return undefined;
      i = end + 1;
      return name;
    }
    const start = i;
    while (i < n) {
      // Surrogate pairs: test the whole code point.
      const cp = key.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      if (!RAW_CHAR.test(ch)) break;
      i += ch.length;
    }
    return i > start ? key.slice(start, i) : undefined;
  };

  const first = readName();
  if (first === undefined) return undefined;
  raw.push({ kind: 'key', key: first });
  while (i < n) {
    const c = key[i];
    if (c === '.') {
      i++;
      const name = readName();
      if (name === undefined) return undefined;
      raw.push({ kind: 'key', key: name });
    } else if (c === '[') {
      if (key[i + 1] === ']') {
        raw.push({ kind: 'each' });
        i += 2;
        continue;
      }
      const close = key.indexOf(']', i);
      const digits = close < 0 ? '' : key.slice(i + 1, close);
      if (!/^\d+$/.test(digits)) return undefined;
      const index = Number(digits);
      if (!Number.isSafeInteger(index)) return undefined;
      raw.push({ kind: 'index', index });
      i = close + 1;
    } else {
      return undefined;
    }
  }

  const steps: PathStep[] = [];
  for (let s = 0; s < raw.length; s++) {
    const step = raw[s]!;
    if (step.kind === 'each' && raw[s + 1]?.kind === 'key') continue;
    steps.push(step);
  }
  return { steps, canonical: printPath(steps) };
}

function printPath(steps: readonly PathStep[]): string {
  let out = '';
  for (const s of steps) {
    if (s.kind === 'key') {
      const name = RAW_KEY.test(s.key) ? s.key : `"${s.key}"`;
      out += out === '' ? name : `.${name}`;
    } else if (s.kind === 'index') {
      out += `[${s.index}]`;
    } else {
      out += '[]';
    }
  }
  return out;
}

/** Canonical form of a key, or the key itself when it does not parse (it then matches nothing anyway). */
export function canonicalKey(key: string): string {
  return parseKeyPath(key)?.canonical ?? key;
}

export type ValueTest = (v: PayloadValue) => boolean;

/** Compiles `path` into "does some value at the path pass `test`?" — Qdrant's `get_value(..).any(..)`. */
export function compileAnyValue(path: KeyPath, test: ValueTest): (payload: Payload) => boolean {
  const steps = path.steps;
  // `__proto__` cannot be a payload key (payload validation forbids it), but reading it would reach
  // Object.prototype: such a path has no values.
  if (steps.some((s) => s.kind === 'key' && s.key === '__proto__')) return () => false;
  const n = steps.length;
  const head = steps[0] as { kind: 'key'; key: string };
  const k0 = head.key;
  if (n === 1) {
    return (p) => {
      const v = (p as Record<string, unknown>)[k0];
      // A function here is an Object.prototype member (`toString`…), never a JSON value.
      return v !== undefined && typeof v !== 'function' && test(v as PayloadValue);
    };
  }

  const walk = (v: unknown, i: number): boolean => {
    if (i === n) return test(v as PayloadValue);
    const s = steps[i]!;
    if (s.kind === 'key') {
      const k = s.key;
      if (Array.isArray(v)) {
        for (let j = 0; j < v.length; j++) {
          const el = v[j];
          if (el === null || typeof el !== 'object' || Array.isArray(el)) continue;
          const c = (el as Record<string, unknown>)[k];
          if (c !== undefined && typeof c !== 'function' && walk(c, i + 1)) return true;
        }
        return false;
      }
      if (v === null || typeof v !== 'object') return false;
      const c = (v as Record<string, unknown>)[k];
      return c !== undefined && typeof c !== 'function' && walk(c, i + 1);
    }
    if (!Array.isArray(v)) return false;
    if (s.kind === 'index') return s.index < v.length && walk(v[s.index], i + 1);
    for (let j = 0; j < v.length; j++) if (walk(v[j], i + 1)) return true;
    return false;
  };
  return (p) => {
    const v = (p as Record<string, unknown>)[k0];
    return v !== undefined && typeof v !== 'function' && walk(v, 1);
  };
}
