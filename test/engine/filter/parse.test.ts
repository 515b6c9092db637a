import { describe, expect, it } from 'vitest';
import { MAX_FILTER_DEPTH, parseFilter } from '../../../src/engine/filter/parse.js';
import { SurgeError } from '../../../src/protocol/errors.js';

function failure(input: unknown): SurgeError {
  try {
    parseFilter(input);
  } catch (e) {
    if (e instanceof SurgeError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseFilter: accepted shapes', () => {
  it.each([
    ['empty filter', {}, {}],
    ['null clauses are dropped', { must: null, should: null, must_not: null }, {}],
    [
      'a single condition becomes a one-element clause (Qdrant: one or many)',
      { must: { key: 'city', match: { value: 'London' } } },
      { must: [{ key: 'city', match: { value: 'London' } }] },
    ],
    [
      'match value: string, integer, bool',
      {
        must: [
          { key: 'a', match: { value: 'x' } },
          { key: 'b', match: { value: -3 } },
          { key: 'c', match: { value: false } },
        ],
      },
      {
        must: [
          { key: 'a', match: { value: 'x' } },
          { key: 'b', match: { value: -3 } },
          { key: 'c', match: { value: false } },
        ],
      },
    ],
    [
      'bigint match value (exact JSON parser)',
      { must: { key: 'n', match: { value: 7n } } },
      {
        must: [{ key: 'n', match: { value: 7 } }],
      },
    ],
    [
      'any / except of strings or of integers, empty allowed',
      {
        should: [
          { key: 'a', match: { any: ['x', 'y'] } },
          { key: 'a', match: { except: [1, 2n] } },
          { key: 'a', match: { any: [] } },
        ],
      },
      {
        should: [
          { key: 'a', match: { any: ['x', 'y'] } },
          { key: 'a', match: { except: [1, 2] } },
          { key: 'a', match: { any: [] } },
        ],
      },
    ],
    [
      'range: null bounds dropped, floats kept',
      { must: { key: 'p', range: { gt: null, gte: 1.5, lt: 10, lte: null } } },
      { must: [{ key: 'p', range: { gte: 1.5, lt: 10 } }] },
    ],
    [
      'match and range together (Qdrant ORs them)',
      { must: { key: 'p', match: { value: 1 }, range: { gt: 5 } } },
      { must: [{ key: 'p', match: { value: 1 }, range: { gt: 5 } }] },
    ],
    [
      'is_empty / is_null / has_id / nested filter',
      {
        must_not: [
          { is_empty: { key: 'a.b' } },
          { is_null: { key: 'c[]' } },
          { has_id: [1, '550e8400-e29b-41d4-a716-446655440000'] },
          { should: [{ key: 'x', match: { value: 'y' } }] },
          {},
        ],
      },
      {
        must_not: [
          { is_empty: { key: 'a.b' } },
          { is_null: { key: 'c[]' } },
          { has_id: [1, '550e8400-e29b-41d4-a716-446655440000'] },
          { should: [{ key: 'x', match: { value: 'y' } }] },
          {},
        ],
      },
    ],
    [
      "keys in Qdrant's path grammar",
      {
        must: [
          { key: 'country.cities[].population', range: { gte: 9 } },
          { key: 'a[0].b-c_d', match: { value: 1 } },
          { key: '"dotted.key".x', match: { value: 1 } },
          { key: 'città', match: { value: 1 } },
        ],
      },
      undefined,
    ],
  ])('%s', (_name, input, expected) => {
    const out = parseFilter(input);
    if (expected !== undefined) expect(out).toEqual(expected);
  });

  it('keeps should: [] (it matches nothing, unlike an absent should)', () => {
    expect(parseFilter({ should: [] })).toEqual({ should: [] });
  });

  it(`accepts ${MAX_FILTER_DEPTH} nested levels and refuses one more`, () => {
    const nest = (levels: number): Record<string, unknown> => {
      let f: Record<string, unknown> = { must: [{ key: 'a', match: { value: 1 } }] };
      for (let i = 1; i < levels; i++) f = { must: [f] };
      return f;
    };
    expect(() => parseFilter(nest(MAX_FILTER_DEPTH))).not.toThrow();
    const e = failure(nest(MAX_FILTER_DEPTH + 1));
    expect(e.code).toBe('INVALID_FILTER');
    expect(e.message).toMatch(/^filter(\.must\[0\]){32}: filters nest deeper than 32 levels$/);
  });
});

describe('parseFilter: invalid input names the JSON path', () => {
  it.each([
    [null, 'filter: expected a filter object'],
    [[], 'filter: expected a filter object'],
    [{ muts: [] }, 'filter.muts: unknown field'],
    [{ must: 3 }, 'filter.must: expected a condition, an array of conditions or null'],
    [{ must: [{ key: 'a', match: { value: 1 } }, 'x'] }, 'filter.must[1]: expected a condition object'],
    [{ must: [{}, { key: 'a', range: { gt: 'x' } }] }, 'filter.must[1].range.gt: expected a number'],
    [{ must: { key: 'a', range: { gt: 1, between: 2 } } }, 'filter.must.range.between: unknown field'],
    [{ must: { key: 'a', range: [1, 2] } }, 'filter.must.range: expected an object with gt, gte, lt or lte'],
    [{ must: [{ key: 'a' }] }, 'filter.must[0]: a field condition needs "match" or "range"'],
    [{ must: [{ key: 'a', match: null }] }, 'filter.must[0]: a field condition needs "match" or "range"'],
    [{ must: [{ key: 3, match: { value: 1 } }] }, 'filter.must[0].key: expected a string'],
    [{ must: [{ key: '', match: { value: 1 } }] }, 'filter.must[0].key: must not be empty'],
    [{ must: [{ key: 'a..b', match: { value: 1 } }] }, 'filter.must[0].key: invalid payload key "a..b"'],
    [{ must: [{ key: 'a b', match: { value: 1 } }] }, 'filter.must[0].key: invalid payload key "a b"'],
    [{ must: [{ key: 'a[x]', match: { value: 1 } }] }, 'filter.must[0].key: invalid payload key "a[x]"'],
    [{ must: [{ key: 'a', mtch: { value: 1 } }] }, 'filter.must[0].mtch: unknown field'],
    [
      { must: [{ key: 'a', match: { value: 1.5 } }] },
      'filter.must[0].match.value: expected a string, an integer or a boolean (floats cannot be matched exactly: use a range)',
    ],
    [{ must: [{ key: 'a', match: { value: 1.5 } }] }, /match\.value: .*floats cannot be matched/],
    [
      { must: [{ key: 'a', match: { value: null } }] },
      'filter.must[0].match.value: expected a string, an integer or a boolean (floats cannot be matched exactly: use a range)',
    ],
    [
      { must: [{ key: 'a', match: {} }] },
      'filter.must[0].match: expected exactly one of "value", "any" or "except"',
    ],
    [
      { must: [{ key: 'a', match: { value: 1, any: [1] } }] },
      'filter.must[0].match: expected exactly one of "value", "any" or "except"',
    ],
    [{ must: [{ key: 'a', match: { valeu: 1 } }] }, 'filter.must[0].match.valeu: unknown field'],
    [
      { must: [{ key: 'a', match: { any: ['x', 1] } }] },
      'filter.must[0].match.any[1]: expected a string (a list holds strings or integers, not both)',
    ],
    [
      { must: [{ key: 'a', match: { except: [1, 'x'] } }] },
      'filter.must[0].match.except[1]: expected an integer (a list holds strings or integers, not both)',
    ],
    [
      { must: [{ key: 'a', match: { any: [1, 2.5] } }] },
      'filter.must[0].match.any[1]: expected an integer (a list holds strings or integers, not both)',
    ],
    [
      { must: [{ key: 'a', match: { any: 'x' } }] },
      'filter.must[0].match.any: expected an array of strings or of integers',
    ],
    [{ should: [{ is_empty: { key: 5 } }] }, 'filter.should[0].is_empty.key: expected a string'],
    [{ should: [{ is_empty: 'a' }] }, 'filter.should[0].is_empty: expected an object like {"key": "…"}'],
    [{ should: [{ is_null: { key: 'a', x: 1 } }] }, 'filter.should[0].is_null.x: unknown field'],
    [{ should: [{ is_null: { key: 'a' }, extra: 1 }] }, 'filter.should[0].extra: unknown field'],
    [{ should: [{ has_id: 5 }] }, 'filter.should[0].has_id: expected an array of point ids'],
    [{ should: [{ has_id: [1, -1] }] }, /^filter\.should\[0\]\.has_id\[1\]: invalid point id -1/],
    [{ should: [{ has_id: ['nope'] }] }, /^filter\.should\[0\]\.has_id\[0\]: invalid point id "nope"/],
    [{ must_not: [{ foo: 1 }] }, /^filter\.must_not\[0\]: unknown condition/],
    [{ must_not: [{ must: [], bar: 1 }] }, /^filter\.must_not\[0\]: unknown condition/],
    [
      { must: [{ must: { key: 'a', range: { lt: true } } }] },
      'filter.must[0].must.range.lt: expected a number',
    ],
    [{ must: [{ key: 'a', range: { gte: 'soon' } }] }, 'filter.must[0].range.gte: expected a number'],
  ])('%j → %s', (input, message) => {
    const e = failure(input);
    expect(e.code).toBe('INVALID_FILTER');
    expect(e.status).toBe(400);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });

  it('uses the given root name and reports the path in details', () => {
    try {
      parseFilter({ must: [{ key: 'a', range: { gt: 'x' } }] }, 'selector.filter');
      expect.unreachable();
    } catch (e) {
      expect((e as SurgeError).message).toBe('selector.filter.must[0].range.gt: expected a number');
      expect((e as SurgeError).details).toEqual({ path: 'selector.filter.must[0].range.gt' });
    }
  });
});

describe('parseFilter: Qdrant features surgevec does not support', () => {
  it.each([
    [{ must: [{ key: 'loc', geo_radius: { center: { lon: 0, lat: 0 }, radius: 1 } }] }, 'geo_radius'],
    [{ must: [{ key: 'loc', geo_bounding_box: {} }] }, 'geo_bounding_box'],
    [{ must: [{ key: 'loc', geo_polygon: {} }] }, 'geo_polygon'],
    [{ must: [{ key: 'tags', values_count: { gt: 1 } }] }, 'values_count'],
    [{ must: [{ key: 'tags', is_empty: true }] }, 'is_empty'],
    [{ must: [{ key: 'title', match: { text: 'hello' } }] }, 'match.text'],
    [{ must: [{ key: 'title', match: { phrase: 'hello world' } }] }, 'match.phrase'],
    [{ must: [{ key: 'title', match: { text_any: 'a b' } }] }, 'match.text_any'],
    [{ must: [{ key: 'at', range: { gte: '2024-01-01T00:00:00Z' } }] }, 'range'],
    [{ must: [{ nested: { key: 'diet', filter: {} } }] }, 'nested'],
    [{ must: [{ has_vector: 'image' }] }, 'has_vector'],
    [{ min_should: { conditions: [], min_count: 1 } }, 'min_should'],
    [{ should: [{ min_should: { conditions: [], min_count: 1 } }] }, 'min_should'],
  ])('%j → %s', (input, feature) => {
    const e = failure(input);
    expect(e.code).toBe('UNSUPPORTED_FEATURE');
    expect(e.status).toBe(400);
    expect(e.message).toContain(`filter condition "${feature}" is not supported`);
    expect(e.details?.feature).toBe(feature);
  });

  it('names the path of the unsupported part', () => {
    const e = failure({ must: [{}, { key: 'loc', geo_radius: {} }] });
    expect(e.message).toBe(
      'filter condition "geo_radius" is not supported by surgevec (at filter.must[1].geo_radius)',
    );
    const d = failure({ must: { key: 'at', range: { lt: '2024-05-01' } } });
    expect(d.message).toBe(
      'filter condition "range" is not supported by surgevec with datetime bounds (at filter.must.range.lt)',
    );
  });
});
