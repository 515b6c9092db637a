/**
 * Validates a Qdrant filter from the wire and returns it in normal form (clauses are arrays or absent, range
 * bounds are numbers or absent). Every error names the JSON path of the problem, e.g.
 * `filter.must[1].range.gt: expected a number`.
 *
 * Shapes follow Qdrant's `segment::types` (Filter has `deny_unknown_fields`; a clause is one condition or a
 * list; `match.value` is a string, an i64 or a bool; `any`/`except` hold strings or i64s, never both). Qdrant
 * features surgevec does not implement are UNSUPPORTED_FEATURE rather than INVALID_FILTER, so a client can tell
 * "you made a mistake" from "use another engine for this".
 */
import { z } from 'zod';
import { isSurgeError, SurgeError } from '../../protocol/errors.js';
import { pointKey } from '../point-id.js';
import type { PointId } from '../types.js';
import { parseKeyPath } from './json-path.js';
import type { Condition, FieldCondition, Filter, Match, MatchValue, Range } from './types.js';

/** Nested filters deeper than this are refused: evaluation recurses, and no sane query needs more. */
export const MAX_FILTER_DEPTH = 32;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** i64 as Qdrant has it; bigints come from a JSON parser that keeps integers above 2^53 exact. */
function integer(message: string) {
  return z.union(
    [
      z.number().refine((n) => Number.isInteger(n) && Math.abs(n) <= 2 ** 63, { error: message }),
      z.bigint().refine((n) => n >= I64_MIN && n <= I64_MAX, { error: 'outside the 64-bit integer range' }),
    ],
    { error: message },
  );
}

const VALUE_MESSAGE =
  'expected a string, an integer or a boolean (floats cannot be matched exactly: use a range)';
const matchValueSchema = z.union([z.string(), z.boolean(), integer(VALUE_MESSAGE)], { error: VALUE_MESSAGE });

const bound = z.union([z.number(), z.bigint(), z.null(), z.undefined()], { error: 'expected a number' });
const rangeSchema = z.strictObject(
  { gt: bound.optional(), gte: bound.optional(), lt: bound.optional(), lte: bound.optional() },
  { error: 'expected an object with gt, gte, lt or lte' },
);

const keyedSchema = z.strictObject(
  { key: z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' }) },
  { error: 'expected an object like {"key": "…"}' },
);

const filterSchema = z.strictObject(
  { must: z.unknown().optional(), should: z.unknown().optional(), must_not: z.unknown().optional() },
  { error: 'expected a filter object' },
);

const fieldSchema = z.strictObject(
  {
    key: z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' }),
    match: z.unknown().optional(),
    range: z.unknown().optional(),
  },
  { error: 'expected a field condition' },
);

const hasIdSchema = z.array(z.unknown(), { error: 'expected an array of point ids' });

/** Qdrant features that parse in Qdrant but that surgevec does not evaluate. */
const UNSUPPORTED_FILTER_KEYS = ['min_should'] as const;
const UNSUPPORTED_CONDITIONS = ['nested', 'has_vector'] as const;
const UNSUPPORTED_FIELD_KEYS = [
  'geo_bounding_box',
  'geo_radius',
  'geo_polygon',
  'values_count',
  'is_empty',
  'is_null',
] as const;
const UNSUPPORTED_MATCH_KEYS = ['text', 'phrase', 'text_any'] as const;
/** Qdrant accepts RFC 3339 strings (and a few looser forms) as datetime range bounds. */
const DATETIME_LIKE = /^\d{4}-\d{2}-\d{2}/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function at(path: string, key: string | number | symbol): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const k = String(key);
  return IDENT.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
}

function invalid(path: string, message: string): SurgeError {
  return new SurgeError('INVALID_FILTER', `${path}: ${message}`, { path });
}

function unsupported(path: string, feature: string, extra = ''): SurgeError {
  return new SurgeError(
    'UNSUPPORTED_FEATURE',
    `filter condition "${feature}" is not supported by surgevec${extra} (at ${path})`,
    { path, feature },
  );
}

/** Runs a zod schema; the first issue becomes an INVALID_FILTER naming its JSON path. */
function check<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  let p = path;
  for (const seg of issue.path) p = at(p, seg as string | number);
  if (issue.code === 'unrecognized_keys') return throwUnknown(p, issue.keys);
  throw invalid(p, issue.message);
}

function throwUnknown(path: string, keys: readonly string[]): never {
  throw invalid(at(path, keys[0]!), 'unknown field');
}

function toNumber(v: number | bigint): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/**
 * Validates `input` as a Qdrant filter. Throws INVALID_FILTER (malformed) or UNSUPPORTED_FEATURE (a Qdrant
 * feature surgevec lacks). `root` names the input in messages (`filter`, `selector.filter`…).
 */
export function parseFilter(input: unknown, root = 'filter'): Filter {
  return parseFilterAt(input, root, 1);
}

function parseFilterAt(input: unknown, path: string, depth: number): Filter {
  if (depth > MAX_FILTER_DEPTH) throw invalid(path, `filters nest deeper than ${MAX_FILTER_DEPTH} levels`);
  if (!isObject(input)) throw invalid(path, 'expected a filter object');
  for (const k of UNSUPPORTED_FILTER_KEYS) if (k in input) throw unsupported(at(path, k), k);
  const raw = check(filterSchema, input, path);
  const out: Filter = {};
  const must = parseClause(raw.must, at(path, 'must'), depth);
  const should = parseClause(raw.should, at(path, 'should'), depth);
  const mustNot = parseClause(raw.must_not, at(path, 'must_not'), depth);
  if (must) out.must = must;
  if (should) out.should = should;
  if (mustNot) out.must_not = mustNot;
  return out;
}

function parseClause(v: unknown, path: string, depth: number): Condition[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((c, i) => parseCondition(c, at(path, i), depth));
  if (isObject(v)) return [parseCondition(v, path, depth)];
  throw invalid(path, 'expected a condition, an array of conditions or null');
}

function parseCondition(v: unknown, path: string, depth: number): Condition {
  if (!isObject(v)) throw invalid(path, 'expected a condition object');
  if ('key' in v) return parseFieldCondition(v, path);
  if ('is_empty' in v) {
    const { key } = check(z.strictObject({ is_empty: keyedSchema }), v, path).is_empty;
    return { is_empty: { key: checkKey(key, at(at(path, 'is_empty'), 'key')) } };
  }
  if ('is_null' in v) {
    const { key } = check(z.strictObject({ is_null: keyedSchema }), v, path).is_null;
    return { is_null: { key: checkKey(key, at(at(path, 'is_null'), 'key')) } };
  }
  if ('has_id' in v) {
    const ids = check(z.strictObject({ has_id: hasIdSchema }), v, path).has_id;
    return { has_id: ids.map((id, i) => checkId(id, at(at(path, 'has_id'), i))) };
  }
  for (const k of UNSUPPORTED_CONDITIONS) if (k in v) throw unsupported(at(path, k), k);
  if (Object.keys(v).every((k) => k === 'must' || k === 'should' || k === 'must_not' || k === 'min_should')) {
    return parseFilterAt(v, path, depth + 1);
  }
  throw invalid(
    path,
    'unknown condition: expected one of "key", "is_empty", "is_null", "has_id" or a nested filter ' +
      '("must", "should", "must_not")',
  );
}

function checkKey(key: string, path: string): string {
  if (!parseKeyPath(key)) throw invalid(path, `invalid payload key ${JSON.stringify(key)}`);
  return key;
}

function checkId(id: unknown, path: string): PointId {
  try {
    pointKey(id);
  } catch (e) {
    if (isSurgeError(e)) throw invalid(path, e.message);
    throw e;
  }
  return id as PointId;
}

function parseFieldCondition(v: Record<string, unknown>, path: string): FieldCondition {
  for (const k of UNSUPPORTED_FIELD_KEYS) if (k in v) throw unsupported(at(path, k), k);
  const raw = check(fieldSchema, v, path);
  const key = checkKey(raw.key, at(path, 'key'));
  const out: FieldCondition = { key };
  if (raw.match !== undefined && raw.match !== null) out.match = parseMatch(raw.match, at(path, 'match'));
  if (raw.range !== undefined && raw.range !== null) out.range = parseRange(raw.range, at(path, 'range'));
  // Qdrant: "At least one field condition must be specified".
  if (!out.match && !out.range) throw invalid(path, 'a field condition needs "match" or "range"');
  return out;
}

function parseMatch(v: unknown, path: string): Match {
  if (!isObject(v)) throw invalid(path, 'expected an object with "value", "any" or "except"');
  for (const k of UNSUPPORTED_MATCH_KEYS) if (k in v) throw unsupported(at(path, k), `match.${k}`);
  const keys = Object.keys(v);
  const known = keys.filter((k) => k === 'value' || k === 'any' || k === 'except');
  const unknown = keys.filter((k) => k !== 'value' && k !== 'any' && k !== 'except');
  if (unknown.length > 0) throwUnknown(path, unknown);
  if (known.length !== 1) {
    throw invalid(path, 'expected exactly one of "value", "any" or "except"');
  }
  const kind = known[0]!;
  if (kind === 'value') {
    const value = check(matchValueSchema, v.value, at(path, 'value'));
    return { value: typeof value === 'bigint' ? Number(value) : (value as MatchValue) };
  }
  const list = parseList(v[kind], at(path, kind));
  return kind === 'any' ? { any: list } : { except: list };
}

/** `any`/`except`: Qdrant's AnyVariants, a list of strings or a list of integers. */
function parseList(v: unknown, path: string): string[] | number[] {
  if (!Array.isArray(v)) throw invalid(path, 'expected an array of strings or of integers');
  if (v.length === 0) return [];
  if (typeof v[0] === 'string') {
    return check(
      z.array(z.string({ error: 'expected a string (a list holds strings or integers, not both)' })),
      v,
      path,
    );
  }
  const ints = check(
    z.array(integer('expected an integer (a list holds strings or integers, not both)')),
    v,
    path,
  );
  return ints.map(toNumber);
}

function parseRange(v: unknown, path: string): Range {
  if (isObject(v)) {
    for (const k of ['gt', 'gte', 'lt', 'lte'] as const) {
      const b = v[k];
      if (typeof b === 'string' && DATETIME_LIKE.test(b)) {
        throw unsupported(at(path, k), 'range', ' with datetime bounds');
      }
    }
  }
  const raw = check(rangeSchema, v, path);
  const out: Range = {};
  if (raw.gt !== undefined && raw.gt !== null) out.gt = toNumber(raw.gt);
  if (raw.gte !== undefined && raw.gte !== null) out.gte = toNumber(raw.gte);
  if (raw.lt !== undefined && raw.lt !== null) out.lt = toNumber(raw.lt);
  if (raw.lte !== undefined && raw.lte !== null) out.lte = toNumber(raw.lte);
  return out;
}
