/**
 * Semantics tables. Where a case comes from Qdrant, the comment names the source:
 *  [QC]  lib/segment/src/payload_storage/query_checker.rs, test_condition_checker
 *  [CC]  lib/segment/src/payload_storage/condition_checker.rs (ValueChecker for Match / Range, check_is_empty…)
 *  [UT]  lib/segment/src/common/utils.rs (check_is_empty: all values null or []; check_is_null: any value null)
 *  [DOC] qdrant.tech/documentation/concepts/filtering
 *  [554] github.com/qdrant/qdrant/issues/554 (should: [] matches nothing; closed as wontfix)
 *  [SV]  a surgevec decision (dotted keys visit array elements; `a[].b` ≡ `a.b`)
 */
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../src/engine/filter/evaluate.js';
import { parseFilter } from '../../../src/engine/filter/parse.js';
import type { Condition, Filter } from '../../../src/engine/filter/types.js';
import type { Payload } from '../../../src/engine/types.js';

const one = (c: Condition) => compileFilter(parseFilter({ must: [c] }));
const test = (c: Condition, p: Payload | undefined, key = '1') => one(c)(p, key);

// [QC] the payload of Qdrant's own condition-checker test.
const QDRANT_PAYLOAD: Payload = {
  location: { lon: 13.404954, lat: 52.520008 },
  price: 499.9,
  amount: 10,
  rating: [3, 7, 9, 9],
  color: 'red',
  has_delivery: true,
  shipped_at: '2020-02-15T00:00:00Z',
  parts: [],
  packaging: null,
  not_null: [null],
};

describe("Qdrant's condition-checker test payload [QC]", () => {
  it.each<[string, Condition, boolean]>([
    ['is_empty price', { is_empty: { key: 'price' } }, false],
    ['is_empty missing key', { is_empty: { key: 'something_new' } }, true],
    ['is_empty []', { is_empty: { key: 'parts' } }, true],
    ['is_empty [null]', { is_empty: { key: 'not_null' } }, false],
    ['is_null number', { is_null: { key: 'amount' } }, false],
    ['is_null []', { is_null: { key: 'parts' } }, false],
    ['is_null missing key', { is_null: { key: 'something_else' } }, false],
    ['is_null null', { is_null: { key: 'packaging' } }, true],
    ['is_null [null]', { is_null: { key: 'not_null' } }, false],
    ['match red', { key: 'color', match: { value: 'red' } }, true],
    ['match blue', { key: 'color', match: { value: 'blue' } }, false],
    ['match bool', { key: 'has_delivery', match: { value: true } }, true],
    ['range over array: some element <= 5', { key: 'rating', range: { lte: 5 } }, true],
    ['nested object key', { key: 'location.lon', range: { gt: 13, lt: 14 } }, true],
  ])('%s', (_n, c, expected) => {
    expect(test(c, QDRANT_PAYLOAD)).toBe(expected);
  });

  it('must / must_not / should combinations [QC]', () => {
    const red = { key: 'color', match: { value: 'red' } };
    const blue = { key: 'color', match: { value: 'blue' } };
    const delivery = { key: 'has_delivery', match: { value: true } };
    const f = (x: unknown) => compileFilter(parseFilter(x))(QDRANT_PAYLOAD, '0');
    expect(f({ must_not: [blue] })).toBe(true);
    expect(f({ must_not: [red] })).toBe(false);
    expect(f({ should: [red, blue], must: [delivery] })).toBe(true);
    expect(f({ should: [{ must: [red, delivery] }, { must: [blue] }] })).toBe(true);
    expect(
      f({ should: [{ must: [blue, delivery] }, { must: [red, { key: 'amount', match: { value: 11 } }] }] }),
    ).toBe(false);
    expect(f({ must_not: [{ key: 'rating', range: { lte: 5 } }] })).toBe(false);
  });

  it('has_id [QC]', () => {
    const notIn = compileFilter(parseFilter({ must_not: [{ has_id: [1, 2, 3] }] }));
    expect(notIn(QDRANT_PAYLOAD, '2')).toBe(false);
    expect(notIn(QDRANT_PAYLOAD, '10')).toBe(true);
    expect(compileFilter(parseFilter({ must: [{ has_id: [1, 2, 3] }] }))(QDRANT_PAYLOAD, '2')).toBe(true);
  });
});

describe('clauses', () => {
  const yes = { key: 'a', match: { value: 1 } };
  const no = { key: 'a', match: { value: 2 } };
  it.each<[string, unknown, boolean]>([
    ['empty filter matches everything', {}, true],
    ['must: [] is no constraint', { must: [] }, true],
    ['must_not: [] is no constraint', { must_not: [] }, true],
    ['should: null is no constraint', { should: null }, true],
    ['should: [] matches nothing [554]', { should: [] }, false],
    ['should: [] matches nothing even with a passing must [554]', { must: [yes], should: [] }, false],
    ['must: all', { must: [yes, no] }, false],
    ['should: at least one', { should: [no, yes] }, true],
    ['should: none passing', { should: [no, no] }, false],
    ['must_not: none may pass', { must_not: [no, yes] }, false],
    ['all three', { must: [yes], should: [no, yes], must_not: [no] }, true],
    ['nested filter inside must_not', { must_not: [{ must: [yes], must_not: [no] }] }, false],
    ['empty nested filter is true', { must: [{}] }, true],
    ['single condition, not an array', { must: yes, must_not: no }, true],
    ['must of three', { must: [yes, yes, { key: 'b', match: { value: 'x' } }] }, true],
  ])('%s', (_n, f, expected) => {
    expect(compileFilter(parseFilter(f))({ a: 1, b: 'x' }, '1')).toBe(expected);
  });
});

describe('match.value [CC]', () => {
  it.each<[string, Payload, unknown, boolean]>([
    ['string equality', { f: 'red' }, 'red', true],
    ['case-sensitive', { f: 'Red' }, 'red', false],
    ['integer equality', { f: 2 }, 2, true],
    ['negative integer', { f: -7 }, -7, true],
    ['float payload never equals an integer value (as_i64 is None)', { f: 2.5 }, 2, false],
    ['number vs string', { f: '1' }, 1, false],
    ['string vs number', { f: 1 }, '1', false],
    ['bool', { f: true }, true, true],
    ['bool vs string', { f: 'true' }, true, false],
    ['bool vs number', { f: 1 }, true, false],
    ['array: any element', { f: ['a', 'b'] }, 'b', true],
    ['array: none', { f: ['a', 'b'] }, 'c', false],
    ['empty array', { f: [] }, 'a', false],
    ['array inside array is not flattened', { f: [['a']] }, 'a', false],
    ['null', { f: null }, 'a', false],
    ['object', { f: { a: 1 } }, 'a', false],
    ['missing', { g: 'a' }, 'a', false],
  ])('%s', (_n, p, value, expected) => {
    expect(test({ key: 'f', match: { value } } as Condition, p)).toBe(expected);
  });
});

describe('match.any [CC]', () => {
  it.each<[string, Payload, (string | number)[], boolean]>([
    ['string in list', { f: 'y' }, ['x', 'y'], true],
    ['string not in list', { f: 'z' }, ['x', 'y'], false],
    ['array with one in list [DOC]', { f: ['black', 'green'] }, ['black', 'yellow'], true],
    ['integer in list', { f: 2 }, [1, 2], true],
    ['float payload', { f: 1.5 }, [1, 2], false],
    ['string payload, integer list', { f: '1' }, [1, 2], false],
    ['integer payload, string list', { f: 1 }, ['1'], false],
    ['bool payload', { f: true }, ['true'], false],
    ['empty list matches nothing', { f: 'x' }, [], false],
    ['missing', {}, ['x'], false],
  ])('%s', (_n, p, any, expected) => {
    expect(test({ key: 'f', match: { any } }, p)).toBe(expected);
  });
});

describe('match.except [CC] (a NOT IN per value; "at least one value not in the list" for arrays [DOC])', () => {
  it.each<[string, Payload, (string | number)[], boolean]>([
    ['string not in list', { f: 'green' }, ['black', 'yellow'], true],
    ['string in list', { f: 'black' }, ['black', 'yellow'], false],
    ['array with one outside the list [DOC]', { f: ['black', 'green'] }, ['black', 'yellow'], true],
    ['array all inside the list', { f: ['black', 'yellow'] }, ['black', 'yellow'], false],
    ['missing field → false (check_empty)', {}, ['x'], false],
    ['null → false', { f: null }, ['x'], false],
    ['empty array → false (no element passes)', { f: [] }, ['x'], false],
    ['[null] → false', { f: [null] }, ['x'], false],
    ['[null, "y"] → true', { f: [null, 'y'] }, ['x'], true],
    ['bool → true', { f: true }, ['x'], true],
    ['object → true', { f: { a: 1 } }, ['x'], true],
    ['array inside array → true', { f: [['x']] }, ['x'], true],
    ['number vs string list → true', { f: 3 }, ['x'], true],
    ['string vs integer list → true', { f: 'x' }, [1], true],
    ['integer in list', { f: 1 }, [1, 2], false],
    ['integer not in list', { f: 3 }, [1, 2], true],
    ['float vs integer list → true (as_i64 is None)', { f: 1.5 }, [1, 2], true],
    ['empty list: any non-null value passes', { f: 'x' }, [], true],
    ['empty list: null still fails', { f: null }, [], false],
  ])('%s', (_n, p, except, expected) => {
    expect(test({ key: 'f', match: { except } }, p)).toBe(expected);
  });
});

describe('range [CC]', () => {
  it.each<[string, Payload, object, boolean]>([
    ['gt', { f: 5 }, { gt: 4 }, true],
    ['gt boundary', { f: 4 }, { gt: 4 }, false],
    ['gte boundary', { f: 4 }, { gte: 4 }, true],
    ['lt boundary', { f: 4 }, { lt: 4 }, false],
    ['lte boundary', { f: 4 }, { lte: 4 }, true],
    ['float payload', { f: 4.5 }, { gt: 4, lt: 5 }, true],
    ['all four bounds apply', { f: 4.5 }, { gt: 4, gte: 4.6, lt: 5 }, false],
    ['contradictory bounds', { f: 3 }, { gt: 3, lt: 3 }, false],
    ['empty range: any number', { f: -1e9 }, {}, true],
    ['empty range: not a string', { f: '5' }, {}, false],
    ['numeric string never matches', { f: '5' }, { gt: 1 }, false],
    ['bool never matches', { f: true }, { gte: 0 }, false],
    ['null never matches', { f: null }, { gte: 0 }, false],
    ['array: any element', { f: [1, 10] }, { gt: 5 }, true],
    ['array: none', { f: [1, 2] }, { gt: 5 }, false],
    ['missing', {}, { gt: 5 }, false],
  ])('%s', (_n, p, range, expected) => {
    expect(test({ key: 'f', range } as Condition, p)).toBe(expected);
  });

  it('match and range in one condition: either part may match (FieldCondition::check_match ORs) [CC]', () => {
    const c = { key: 'f', match: { value: 1 }, range: { gt: 10 } };
    expect(test(c, { f: 1 })).toBe(true);
    expect(test(c, { f: 11 })).toBe(true);
    expect(test(c, { f: 5 })).toBe(false);
  });
});

describe('is_empty / is_null over several values [UT]', () => {
  it.each<[string, string, Payload | undefined, boolean, boolean]>([
    // key, payload, is_empty, is_null
    ['null', 'f', { f: null }, true, true],
    ['missing', 'f', {}, true, false],
    ['no payload at all', 'f', undefined, true, false],
    ['[]', 'f', { f: [] }, true, false],
    ['[null]', 'f', { f: [null] }, false, false],
    ['{}', 'f', { f: {} }, false, false],
    ['""', 'f', { f: '' }, false, false],
    ['0', 'f', { f: 0 }, false, false],
    ['false', 'f', { f: false }, false, false],
    ['a[] on [null]: the values are [null]', 'f[]', { f: [null] }, true, true],
    ['a[] on []: no values', 'f[]', { f: [] }, true, false],
    ['some null among values [UT comment]', 'a.b', { a: [{ b: 1 }, { b: null }] }, false, true],
    ['all null or [] among values', 'a.b', { a: [{ b: null }, { b: [] }, { c: 1 }] }, true, true],
    ['no values through an array of non-objects', 'a.b', { a: [1, 'x'] }, true, false],
  ])('%s', (_n, key, p, empty, isNull) => {
    expect(test({ is_empty: { key } }, p)).toBe(empty);
    expect(test({ is_null: { key } }, p)).toBe(isNull);
  });
});

describe('key paths', () => {
  const nested: Payload = {
    country: {
      name: 'Japan',
      cities: [
        { name: 'Tokyo', population: 9.3, sightseeing: ['Tokyo Tower', 'Tokyo Skytree'] },
        { name: 'Osaka', population: 2.7, sightseeing: ['Osaka Castle'] },
      ],
    },
  };
  it.each<[string, Condition, Payload, boolean]>([
    ['dot notation [DOC]', { key: 'country.name', match: { value: 'Japan' } }, nested, true],
    ['[] projection [DOC]', { key: 'country.cities[].population', range: { gte: 9 } }, nested, true],
    [
      'array leaf through [] [DOC]',
      { key: 'country.cities[].sightseeing', match: { value: 'Osaka Castle' } },
      nested,
      true,
    ],
    [
      'a.b crosses the array like a[].b [SV]',
      { key: 'country.cities.population', range: { gte: 9 } },
      nested,
      true,
    ],
    ['a.b crosses arrays: no match', { key: 'country.cities.population', range: { gte: 10 } }, nested, false],
    [
      'a.b yields every element value [SV]',
      { key: 'a.b', match: { value: 2 } },
      { a: [{ b: 1 }, { b: 2 }] },
      true,
    ],
    ['a[].b on an object equals a.b [SV]', { key: 'a[].b', match: { value: 1 } }, { a: { b: 1 } }, true],
    [
      'arrays of arrays are not crossed by a key',
      { key: 'a.b', match: { value: 1 } },
      { a: [[{ b: 1 }]] },
      false,
    ],
    ['index step', { key: 'a[1].b', match: { value: 2 } }, { a: [{ b: 1 }, { b: 2 }] }, true],
    ['index step picks one', { key: 'a[0].b', match: { value: 2 } }, { a: [{ b: 1 }, { b: 2 }] }, false],
    ['index out of bounds', { key: 'a[5]', match: { value: 2 } }, { a: [2] }, false],
    ['index on a non-array', { key: 'a[0]', match: { value: 2 } }, { a: 2 }, false],
    [
      '[] then [] flattens arrays of arrays',
      { key: 'a[][]', match: { value: 3 } },
      { a: [[1], [2, 3]] },
      true,
    ],
    ['quoted key with a dot', { key: '"a.b".c', match: { value: 1 } }, { 'a.b': { c: 1 } }, true],
    ['dotted key is not a quoted key', { key: 'a.b', match: { value: 1 } }, { 'a.b': 1 }, false],
    ['key through a scalar', { key: 'a.b', match: { value: 1 } }, { a: 1 }, false],
    ['key through null', { key: 'a.b', match: { value: 1 } }, { a: null }, false],
    [
      'deep path',
      { key: 'a.b.c', match: { value: 'z' } },
      { a: { b: [{ c: 'x' }, { c: ['y', 'z'] }] } },
      true,
    ],
    ['Object.prototype names are not payload keys', { key: 'toString', match: { value: 'x' } }, {}, false],
    ['constructor is not a value', { key: 'constructor.name', match: { value: 'Object' } }, {}, false],
    ['__proto__ has no values', { key: '__proto__.x', match: { value: 1 } }, {}, false],
    [
      'keys of a null-prototype payload',
      { key: 'a', match: { value: 1 } },
      Object.assign(Object.create(null), { a: 1 }),
      true,
    ],
  ])('%s', (_n, c, p, expected) => {
    expect(test(c, p)).toBe(expected);
  });

  it('is_empty on Object.prototype names and __proto__ sees nothing there', () => {
    expect(test({ is_empty: { key: 'toString' } }, {})).toBe(true);
    expect(test({ is_empty: { key: '__proto__' } }, {})).toBe(true);
    expect(test({ is_null: { key: 'hasOwnProperty' } }, {})).toBe(false);
  });
});

describe('has_id', () => {
  it('compares canonical point keys', () => {
    const f = compileFilter(
      parseFilter({ must: [{ has_id: [5, 'urn:uuid:550E8400-E29B-41D4-A716-446655440000'] }] }),
    );
    expect(f(undefined, '5')).toBe(true);
    expect(f(undefined, '550e8400-e29b-41d4-a716-446655440000')).toBe(true);
    expect(f(undefined, '6')).toBe(false);
    expect(compileFilter(parseFilter({ must: [{ has_id: [] }] }))(undefined, '5')).toBe(false);
    expect(
      compileFilter(parseFilter({ must: [{ has_id: [12345678901234567890n] }] }))({}, '12345678901234567890'),
    ).toBe(true);
  });
});

describe('field conditions without a payload', () => {
  it('never match, and must_not of them always does', () => {
    const f: Filter = { must_not: [{ key: 'a', match: { except: ['x'] } }] };
    expect(compileFilter(f)(undefined, '1')).toBe(true);
    expect(test({ key: 'a', range: {} }, undefined)).toBe(false);
  });
});
