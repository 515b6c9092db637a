/**
 * Compiles a (parsed) filter into one closure tree: evaluation allocates nothing and re-reads nothing but
 * the payload. Semantics are Qdrant's condition checker (`lib/segment/src/payload_storage/condition_checker.rs`,
 * `query_checker.rs`, `common/utils.rs`), verified against its source:
 *
 * - must = all, must_not = none, should = at least one. An absent or null `should` is no constraint, but an
 *   empty `should: []` matches nothing (`conditions.iter().any(..)` over nothing; qdrant/qdrant#554, wontfix).
 * - A field condition looks at every value at the key path; a value that is an array matches when any element
 *   does (one level: arrays inside arrays are not flattened). No value at all → false.
 * - match.value: strings and bools by equality; integers only against numbers that are integers
 *   (`as_i64()`; JSON `2.0` is indistinguishable from `2` in JavaScript, so it matches 2 here).
 * - match.except, per value: string → not in the list (always true against an integer list); number → not in
 *   the list when it is an integer, true otherwise; null → false; bool, object, nested array → true.
 *   Arrays: some element passes (so `[]` fails). Missing field → false.
 * - match + range in one condition: either may match (Qdrant ORs the parts of a FieldCondition).
 * - range: any number (integer or float) within every given bound; non-numbers never match.
 * - is_empty: every value at the path is null or [] (vacuously true when the path has no value).
 * - is_null: some value at the path is null; `[null]` is an array, not null → false.
 * - has_id: the point key is in the set.
 */
import { pointKey } from '../point-id.js';
import type { Payload, PayloadValue } from '../types.js';
import { compileAnyValue, parseKeyPath, type ValueTest } from './json-path.js';
import type { Condition, FieldCondition, Filter, Match, Range } from './types.js';

export type FilterPredicate = (payload: Payload | undefined, key: string) => boolean;

const EMPTY: Payload = Object.freeze({}) as Payload;

export function compileFilter(f: Filter): FilterPredicate {
  const must = clause(f.must).map(compileCondition);
  const should =
    f.should === undefined || f.should === null ? undefined : clause(f.should).map(compileCondition);
  const mustNot = clause(f.must_not).map(compileCondition);

  if (should === undefined && mustNot.length === 0) {
    if (must.length === 0) return () => true;
    if (must.length === 1) return must[0]!;
    if (must.length === 2) {
      const [a, b] = must as [FilterPredicate, FilterPredicate];
      return (p, k) => a(p, k) && b(p, k);
    }
  }
  if (should !== undefined && should.length === 0) return () => false;
  const nMust = must.length;
  const nShould = should?.length ?? 0;
  const nNot = mustNot.length;
  return (p, k) => {
    for (let i = 0; i < nMust; i++) if (!must[i]!(p, k)) return false;
    for (let i = 0; i < nNot; i++) if (mustNot[i]!(p, k)) return false;
    if (nShould === 0) return true;
    for (let i = 0; i < nShould; i++) if (should![i]!(p, k)) return true;
    return false;
  };
}

function clause(c: Condition | Condition[] | null | undefined): Condition[] {
  if (c === undefined || c === null) return [];
  return Array.isArray(c) ? c : [c];
}

export function compileCondition(c: Condition): FilterPredicate {
  if ('key' in c) return compileFieldCondition(c);
  if ('is_empty' in c) {
    const hasNonEmpty = anyAt(c.is_empty.key, (v) => !(v === null || (Array.isArray(v) && v.length === 0)));
    return (p) => !hasNonEmpty(p ?? EMPTY);
  }
  if ('is_null' in c) {
    const hasNull = anyAt(c.is_null.key, (v) => v === null);
    return (p) => p !== undefined && hasNull(p);
  }
  if ('has_id' in c) {
    const ids = new Set(c.has_id.map(pointKey));
    if (ids.size === 0) return () => false;
    if (ids.size === 1) {
      const only = ids.values().next().value as string;
      return (_p, k) => k === only;
    }
    return (_p, k) => ids.has(k);
  }
  return compileFilter(c);
}

function anyAt(key: string, test: ValueTest): (p: Payload) => boolean {
  const path = parseKeyPath(key);
  // Unparsable keys cannot come out of parseFilter; a hand-built filter with one simply has no values there.
  return path ? compileAnyValue(path, test) : () => false;
}

export function compileFieldCondition(c: FieldCondition): FilterPredicate {
  const test = valueTest(c);
  const any = anyAt(c.key, test);
  return (p) => p !== undefined && any(p);
}

/** The per-value check of a field condition (Qdrant's `ValueChecker::check`), arrays included. */
export function valueTest(c: FieldCondition): ValueTest {
  const m = c.match ? matchTest(c.match) : undefined;
  const r = c.range ? rangeTest(c.range) : undefined;
  if (m && r) return (v) => m(v) || r(v);
  return m ?? r ?? (() => false);
}

type ScalarTest = (x: PayloadValue) => boolean;

/** Some element of an array value, or the value itself, passes. */
function lift(t: ScalarTest): ValueTest {
  return (v) => {
    if (!Array.isArray(v)) return t(v);
    for (let i = 0; i < v.length; i++) if (t(v[i]!)) return true;
    return false;
  };
}

function matchTest(m: Match): ValueTest {
  if ('value' in m) {
    const target = m.value;
    return (v) => {
      if (v === target) return true;
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) if (v[i] === target) return true;
      return false;
    };
  }
  if ('any' in m) {
    const set = new Set<string | number>(m.any);
    if (set.size === 0) return () => false;
    return lift((x) => (typeof x === 'string' || typeof x === 'number') && set.has(x));
  }
  const list = m.except;
  const set = new Set<string | number>(list);
  // Qdrant's AnyVariants: an empty list deserialises as strings; for `except` both kinds then agree.
  const ints = list.length > 0 && typeof list[0] === 'number';
  return lift((x) => {
    if (x === null) return false;
    if (typeof x === 'string') return ints || !set.has(x);
    if (typeof x === 'number') return !ints || !Number.isInteger(x) || !set.has(x);
    return true;
  });
}

function rangeTest(r: Range): ValueTest {
  const gt = r.gt ?? Number.NEGATIVE_INFINITY;
  const gte = r.gte ?? Number.NEGATIVE_INFINITY;
  const lt = r.lt ?? Number.POSITIVE_INFINITY;
  const lte = r.lte ?? Number.POSITIVE_INFINITY;
  // Payload numbers are finite, so the open defaults never exclude one.
  return lift((x) => typeof x === 'number' && x > gt && x >= gte && x < lt && x <= lte);
}
