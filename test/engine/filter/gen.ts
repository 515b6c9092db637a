/** Shared generators for the filter tests: small vocabularies, so random filters actually hit random payloads. */
import fc from 'fast-check';
import { type PathStep, parseKeyPath } from '../../../src/engine/filter/json-path.js';
import type { Condition, FieldCondition, Filter, Range } from '../../../src/engine/filter/types.js';
import type { Payload, PayloadValue } from '../../../src/engine/types.js';

export const KEYS = ['a', 'b', 'c'] as const;
export const STRINGS = ['x', 'y', 'z'] as const;
export const PATHS = ['a', 'b', 'c', 'a.b', 'a.c', 'b.a', 'a[].b', 'c[]', 'a.b.c', 'a[0]', 'a[1].b'] as const;

const scalar: fc.Arbitrary<PayloadValue> = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.integer({ min: -2, max: 3 }),
  fc.constantFrom(0.5, 1.5, -0.5, 2.5),
  fc.boolean(),
  fc.constant(null),
);

const tree = fc.letrec<{ value: PayloadValue; array: PayloadValue[]; object: Payload }>((tie) => ({
  value: fc.oneof({ maxDepth: 3, depthIdentifier: 'payload' }, scalar, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 3, depthIdentifier: 'payload' }),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 3, depthIdentifier: 'payload' }),
}));

export const payloadArb: fc.Arbitrary<Payload | undefined> = fc.option(
  fc.dictionary(fc.constantFrom(...KEYS), tree.value, { maxKeys: 3 }),
  { nil: undefined, freq: 8 },
);

/**
 * Payloads built along `path` so that it usually has values there (a key may be reached through an object or
 * an array of objects, `[]`/`[N]` through arrays), mixed with generic ones. Without this, random paths and
 * random payloads rarely meet and index properties would mostly compare empty sets.
 */
export function payloadAlongArb(path: string): fc.Arbitrary<Payload | undefined> {
  const steps = parseKeyPath(path)!.steps;
  const leaf: fc.Arbitrary<PayloadValue> = fc.oneof(
    { weight: 3, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  );
  const along = (i: number): fc.Arbitrary<PayloadValue> => {
    if (i === steps.length) return leaf;
    const step = steps[i] as PathStep;
    const rest = along(i + 1);
    if (step.kind === 'key') {
      const obj = rest.map((v) => ({ [step.key]: v }) as Payload);
      if (i === 0) return obj;
      return fc.oneof(
        { weight: 3, arbitrary: obj },
        { weight: 1, arbitrary: fc.array(obj, { maxLength: 3 }) },
      );
    }
    if (step.kind === 'index')
      return fc.array(rest, { minLength: step.index + 1, maxLength: step.index + 2 });
    return fc.array(rest, { maxLength: 3 });
  };
  const shaped = along(0) as fc.Arbitrary<Payload>;
  return fc.oneof({ weight: 3, arbitrary: shaped }, { weight: 1, arbitrary: payloadArb });
}

/** Payloads with values at several of `paths` at once (top-level merge of shaped payloads). */
export function payloadMixArb(paths: readonly string[]): fc.Arbitrary<Payload | undefined> {
  const one = fc.oneof(...paths.map(payloadAlongArb));
  return fc
    .array(one, { minLength: 1, maxLength: 3 })
    .map((ps) =>
      ps.every((p) => p === undefined) ? undefined : (Object.assign({}, ...ps.filter(Boolean)) as Payload),
    );
}

// Mostly one lower and one upper bound, lower below upper; sometimes all four at random (often contradictory).
const low = fc.constantFrom(-2, -1, -0.5, 0, 0.5, 1);
const high = fc.constantFrom(0.5, 1, 1.5, 2, 3);
const anyBound = fc.constantFrom(-2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3);
export const rangeArb: fc.Arbitrary<Range> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        lo: fc.option(fc.tuple(fc.constantFrom('gt', 'gte'), low), { nil: undefined }),
        hi: fc.option(fc.tuple(fc.constantFrom('lt', 'lte'), high), { nil: undefined }),
      })
      .map(
        ({ lo, hi }) => ({ ...(lo ? { [lo[0]]: lo[1] } : {}), ...(hi ? { [hi[0]]: hi[1] } : {}) }) as Range,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ gt: anyBound, gte: anyBound, lt: anyBound, lte: anyBound }, { requiredKeys: [] }),
  },
);

const ints = fc.integer({ min: -2, max: 3 });
const strs = fc.constantFrom(...STRINGS);

export const matchArb = fc.oneof(
  fc.record({ value: fc.oneof(strs, ints, fc.boolean()) }),
  fc.record({ any: fc.oneof(fc.array(strs, { maxLength: 3 }), fc.array(ints, { maxLength: 3 })) }),
  fc.record({ except: fc.oneof(fc.array(strs, { maxLength: 3 }), fc.array(ints, { maxLength: 3 })) }),
);

export function fieldConditionArb(paths: readonly string[] = PATHS): fc.Arbitrary<FieldCondition> {
  const key = fc.constantFrom(...paths);
  return fc.oneof(
    fc.record({ key, match: matchArb }),
    fc.record({ key, range: rangeArb }),
    fc.record({ key, match: matchArb, range: rangeArb }),
  ) as fc.Arbitrary<FieldCondition>;
}

export function filterArb(ids: readonly number[], paths: readonly string[] = PATHS): fc.Arbitrary<Filter> {
  const leaf: fc.Arbitrary<Condition> = fc.oneof(
    { weight: 6, arbitrary: fieldConditionArb(paths) },
    { weight: 1, arbitrary: fc.record({ is_empty: fc.record({ key: fc.constantFrom(...paths) }) }) },
    { weight: 1, arbitrary: fc.record({ is_null: fc.record({ key: fc.constantFrom(...paths) }) }) },
    {
      weight: 1,
      arbitrary: fc.record({ has_id: fc.subarray(ids.length > 0 ? [...ids] : [0], { maxLength: 5 }) }),
    },
  );
  const t = fc.letrec<{ filter: Filter; cond: Condition }>((tie) => ({
    cond: fc.oneof({ maxDepth: 2, depthIdentifier: 'filter' }, leaf, leaf, tie('filter')),
    filter: fc.record(
      {
        must: fc.array(tie('cond'), { maxLength: 3, depthIdentifier: 'filter' }),
        should: fc.oneof(
          fc.constant(null),
          fc.array(tie('cond'), { maxLength: 3, depthIdentifier: 'filter' }),
        ),
        must_not: fc.array(tie('cond'), { maxLength: 2, depthIdentifier: 'filter' }),
      },
      { requiredKeys: [] },
    ),
  }));
  return t.filter;
}

/** Filters a planner can use: a `must` of one or two field conditions, sometimes a lone `should` or a `must_not`. */
export function plannableFilterArb(paths: readonly string[]): fc.Arbitrary<Filter> {
  const key = fc.constantFrom(...paths);
  // Conditions some index type can answer (value, any, or a range alone), plus any field condition.
  const field = fc.oneof(
    fc.record({ key, match: fc.record({ value: fc.oneof(strs, ints, fc.boolean()) }) }),
    fc.record({
      key,
      match: fc.record({ any: fc.oneof(fc.array(strs, { maxLength: 3 }), fc.array(ints, { maxLength: 3 })) }),
    }),
    fc.record({ key, range: rangeArb }),
    fieldConditionArb(paths),
  ) as fc.Arbitrary<FieldCondition>;
  const rarely = (a: fc.Arbitrary<Condition[]>) => fc.option(a, { nil: undefined, freq: 3 });
  return fc
    .record({
      must: fc.oneof(
        { weight: 3, arbitrary: fc.tuple(field) },
        { weight: 1, arbitrary: fc.tuple(field, field) },
      ),
      should: rarely(fc.tuple(field)),
      must_not: rarely(fc.tuple(field)),
    })
    .map(({ must, should, must_not }) => ({
      must,
      ...(should ? { should } : {}),
      ...(must_not ? { must_not } : {}),
    }));
}

/** The project's seeded PRNG (mulberry32), re-exported under the name these tests use. */
export { rng as prng } from '../../../src/platform/random.js';

/** Up to n distinct members of `live`, uniformly (partial Fisher–Yates on a copy). */
export function sampler(live: readonly number[], rand: () => number): (n: number) => number[] {
  return (n) => {
    const a = [...live];
    const k = Math.min(n, a.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rand() * (a.length - i));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a.slice(0, k);
  };
}
