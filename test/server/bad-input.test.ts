/**
 * Bad input never causes a 500, a crash or a change of data. Every row sends one malformed or unsupported
 * request through `app.inject` and checks the answer — the catalogue code and its status, a non-empty hint,
 * Qdrant's error envelope `{status: {error}, time, result: null}` — and that the data (collections, aliases,
 * every point of `c` with payload and vector, a probe point read over HTTP) is exactly as before.
 * Rows named "regression: …" once answered 500, changed data or damaged the process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, HTTPMethods, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { Engine, type EngineApi, WorkerEngine } from '../../src/engine/index.js';
import { type ErrorCode, errors } from '../../src/protocol/errors.js';
import { buildApp } from '../../src/server/app.js';
import { stringifyJson } from '../../src/server/json.js';
import { appRoutes } from './app-routes.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-bad-input-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DIM = 4;
const U64_MAX = '18446744073709551615';
const UUID = '550e8400-e29b-41d4-a716-446655440000';
const V = [0.5, -1, 2, 0.25];
const P = '/collections/c/points';
const W = '?wait=true';

/** A body sent as this exact text (JSON.stringify cannot write 1e999, duplicate keys or `__proto__`). */
class Raw {
  constructor(readonly text: string) {}
}
const raw = (text: string) => new Raw(text);

interface Row {
  name: string;
  method: HTTPMethods;
  url: string;
  /** undefined: no body; Raw: sent verbatim; anything else: as JSON (bigints as integers). */
  body?: unknown;
  headers?: Record<string, string>;
  code: ErrorCode;
  /** Through the worker-thread engine a value too deep to structured-clone is refused at the boundary. */
  workerCode?: ErrorCode;
  /** A part of the error message (e.g. the name of the unsupported feature). */
  message?: string;
}

type Extra = Pick<Row, 'headers' | 'workerCode' | 'message'>;
type Case = [name: string, body: unknown, code: ErrorCode, extra?: Extra | string];

/** Rows for one method and url: `[name, body, code, message or extra]`. */
function rowsFor(method: HTTPMethods, url: string, cases: Case[]): Row[] {
  return cases.map(([name, body, code, extra]) => ({
    name: `${method} ${url.replace(W, '')}: ${name}`,
    method,
    url,
    body,
    code,
    ...(typeof extra === 'string' ? { message: extra } : extra),
  }));
}

const nested = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};
const deepFilter = (depth: number) =>
  `${'{"must":['.repeat(depth)}{"key":"n","match":{"value":1}}${']}'.repeat(depth)}`;
const DEEP = 50_000;
const deepArray = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`;
const tooDeep: Extra = { workerCode: 'INVALID_REQUEST' };
const up = (point: Record<string, unknown>) => ({ points: [{ id: 100, vector: V, ...point }] });
const upRaw = (point: string) => raw(`{"points":[{${point}}]}`);
const search = (extra: Record<string, unknown>) => ({ vector: V, limit: 3, ...extra });
const create = { vectors: { size: DIM, distance: 'Dot' } };
const createWith = (extra: Record<string, unknown>, vectors: Record<string, unknown> = {}) => ({
  vectors: { ...create.vectors, ...vectors },
  ...extra,
});

const rows: Row[] = [
  // ------------------------------------------------------------ malformed JSON, empty bodies, content types
  ...rowsFor('PUT', P + W, [
    ['truncated JSON', raw('{"points": [{"id": 1'), 'INVALID_JSON'],
    ['trailing garbage', raw('{"points": []}}'), 'INVALID_JSON'],
    ['single quotes', raw("{'points': []}"), 'INVALID_JSON'],
    ['malformed with a u64 literal (lossless parser)', raw(`{"points": [{"id": ${U64_MAX}}`), 'INVALID_JSON'],
    [
      'deep nesting with a u64 literal (lossless parser)',
      upRaw(`"id":${U64_MAX},"vector":${deepArray}`),
      'INVALID_JSON',
    ],
    [
      'deeply nested arrays as a vector',
      upRaw(`"id":100,"vector":${deepArray}`),
      'DIMENSION_MISMATCH',
      tooDeep,
    ],
    ['body an array', [1, 2], 'INVALID_REQUEST'],
    ['empty body', raw(''), 'INVALID_REQUEST'],
    ['no body', undefined, 'INVALID_REQUEST'],
  ]),
  ...rowsFor('POST', `${P}/search`, [
    ['bare word', raw('nul'), 'INVALID_JSON'],
    ['body a string', 'x', 'INVALID_REQUEST'],
    ['empty body', raw(''), 'INVALID_REQUEST'],
  ]),
  ...rowsFor('POST', `${P}/delete${W}`, [['body null', raw('null'), 'INVALID_REQUEST']]),
  ...(
    [
      ['PUT', '/collections/fresh'],
      ['POST', P],
      ['POST', `${P}/search/batch`],
      ['POST', `${P}/delete${W}`],
      ['POST', `${P}/payload${W}`],
      ['PUT', `${P}/payload${W}`],
      ['POST', `${P}/payload/delete${W}`],
      ['POST', `${P}/payload/clear${W}`],
      ['PUT', `/collections/c/index${W}`],
      ['POST', '/collections/aliases'],
      ['POST', `${P}/query/batch`],
    ] as const
  ).flatMap(([method, url]) =>
    rowsFor(method, url, [['empty body where one is required', undefined, 'INVALID_REQUEST']]),
  ),
  ...[
    'text/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    ';;;',
    '',
  ].flatMap((type) =>
    rowsFor('PUT', P + W, [
      [`content type "${type}"`, up({}), 'UNSUPPORTED_MEDIA_TYPE', { headers: { 'content-type': type } }],
    ]),
  ),

  // ------------------------------------------------------------ create collection
  ...rowsFor('PUT', '/collections/fresh', [
    ['vectors missing', { hnsw_config: {} }, 'INVALID_REQUEST'],
    ['vectors a string', { vectors: 'x' }, 'INVALID_REQUEST'],
    ['vectors an array', { vectors: [4] }, 'INVALID_REQUEST'],
    ['size a string', createWith({}, { size: '4' }), 'INVALID_REQUEST'],
    ['size 0', createWith({}, { size: 0 }), 'INVALID_REQUEST'],
    ['size negative', createWith({}, { size: -4 }), 'INVALID_REQUEST'],
    ['size a float', createWith({}, { size: 1.5 }), 'INVALID_REQUEST'],
    ['size 1e300', createWith({}, { size: 1e300 }), 'INVALID_REQUEST'],
    ['size 1e999', raw('{"vectors":{"size":1e999,"distance":"Dot"}}'), 'INVALID_REQUEST'],
    ['size above 2^64', createWith({}, { size: 2n ** 70n }), 'INVALID_REQUEST'],
    ['size above the maximum', createWith({}, { size: 65537 }), 'INVALID_REQUEST'],
    ['distance a number', createWith({}, { distance: 1 }), 'INVALID_REQUEST'],
    ['unknown distance', createWith({}, { distance: 'Hamming' }), 'INVALID_REQUEST'],
    ['hnsw_config an array', createWith({ hnsw_config: [] }), 'INVALID_REQUEST'],
    ['hnsw m a string', createWith({ hnsw_config: { m: '16' } }), 'INVALID_REQUEST'],
    ['hnsw m huge', createWith({ hnsw_config: { m: 1e9 } }), 'INVALID_REQUEST'],
    ['ef_construct negative', createWith({}, { hnsw_config: { ef_construct: -1 } }), 'INVALID_REQUEST'],
    ['on_disk_payload a string', createWith({ on_disk_payload: 'yes' }), 'INVALID_REQUEST'],
    ['shard_number a float', createWith({ shard_number: 1.5 }), 'INVALID_REQUEST'],
    ['named vectors', { vectors: { image: create.vectors } }, 'UNSUPPORTED_FEATURE', 'named vectors'],
    [
      'quantization_config',
      createWith({ quantization_config: { scalar: {} } }),
      'UNSUPPORTED_FEATURE',
      'quantization_config',
    ],
    [
      'quantization in vectors',
      createWith({}, { quantization_config: { binary: {} } }),
      'UNSUPPORTED_FEATURE',
      'quantization_config',
    ],
    ['sparse_vectors', createWith({ sparse_vectors: { s: {} } }), 'UNSUPPORTED_FEATURE', 'sparse_vectors'],
    [
      'multivector',
      createWith({}, { multivector_config: { comparator: 'max_sim' } }),
      'UNSUPPORTED_FEATURE',
      'multivector',
    ],
    ['Manhattan', createWith({}, { distance: 'Manhattan' }), 'UNSUPPORTED_FEATURE', 'Manhattan'],
    [
      'prototype keys around a bad size',
      raw(
        '{"vectors":{"size":0,"distance":"Dot"},"constructor":{"prototype":{"polluted":1}},"hnsw_config":{"__proto__":{"polluted":1}}}',
      ),
      'INVALID_REQUEST',
    ],
  ]),
  ...rowsFor('PUT', '/collections/c', [['collection exists', create, 'COLLECTION_EXISTS']]),
  ...rowsFor('PUT', '/collections/c_alias', [
    ['regression: a collection named like an alias', create, 'ALIAS_EXISTS'],
  ]),
  ...rowsFor('PATCH', '/collections/c', [
    ['update parameters', { optimizers_config: {} }, 'UNSUPPORTED_FEATURE'],
  ]),
  // Invalid names. '..' never reaches a route: the URL is normalised to '/'.
  ...['..', '%2E%2E', 'a/..'].flatMap((name) =>
    rowsFor('PUT', `/collections/${name}`, [['dot segments', create, 'ROUTE_NOT_FOUND']]),
  ),
  ...[
    'a%2Fb',
    'a%20b',
    'a%00b',
    'x'.repeat(256),
    'x'.repeat(300),
    '%C3%A9t%C3%A9',
    'a.b',
    '%2F..%2F..%2Ftmp',
  ].flatMap((name) => rowsFor('PUT', `/collections/${name}`, [['invalid name', create, 'INVALID_NAME']])),

  // ------------------------------------------------------------ upsert
  ...rowsFor('PUT', P + W, [
    ['points an object', { points: { id: 1 } }, 'INVALID_REQUEST'],
    ['a point a number', { points: [1] }, 'INVALID_REQUEST'],
    ['points and batch', { ...up({}), batch: { ids: [1], vectors: [V] } }, 'INVALID_REQUEST'],
    ['id missing', { points: [{ vector: V }] }, 'INVALID_REQUEST'],
    ['id null', up({ id: null }), 'INVALID_REQUEST'],
    ['id a boolean', up({ id: true }), 'INVALID_REQUEST'],
    ['id an object', up({ id: { n: 1 } }), 'INVALID_REQUEST'],
    ['id a float', up({ id: 1.5 }), 'INVALID_POINT_ID'],
    ['id 1e400 (Infinity)', upRaw('"id":1e400,"vector":[1,2,3,4]'), 'INVALID_REQUEST'],
    ['id negative', upRaw('"id":-1,"vector":[1,2,3,4]'), 'INVALID_POINT_ID'],
    ['id -(2^64-1)', upRaw(`"id":-${U64_MAX},"vector":[1,2,3,4]`), 'INVALID_POINT_ID'],
    ['id 2^64', upRaw('"id":18446744073709551616,"vector":[1,2,3,4]'), 'INVALID_POINT_ID'],
    ['id 10^30', upRaw(`"id":1${'0'.repeat(30)},"vector":[1,2,3,4]`), 'INVALID_POINT_ID'],
    ['id 1e20 (a float above 2^53)', upRaw('"id":1e20,"vector":[1,2,3,4]'), 'INVALID_POINT_ID'],
    ['id not a UUID', up({ id: 'abc' }), 'INVALID_POINT_ID'],
    ['id a digit string', up({ id: '7' }), 'INVALID_POINT_ID'],
    ['vector missing', { points: [{ id: 100 }] }, 'INVALID_REQUEST'],
    ['vector a string', up({ vector: '1,2,3,4' }), 'INVALID_VECTOR'],
    ['vector null', up({ vector: null }), 'INVALID_VECTOR'],
    ['vector a number', up({ vector: 4 }), 'INVALID_VECTOR'],
    ['named vectors', up({ vector: { image: V } }), 'UNSUPPORTED_FEATURE', 'named'],
    ['sparse vector', up({ vector: { indices: [1], values: [1] } }), 'UNSUPPORTED_FEATURE', 'sparse'],
    ['wrong dimension', up({ vector: [1, 2, 3] }), 'DIMENSION_MISMATCH'],
    ['empty vector', up({ vector: [] }), 'DIMENSION_MISMATCH'],
    ['a null in the vector', up({ vector: [1, null, 3, 4] }), 'INVALID_VECTOR'],
    ['a string in the vector', up({ vector: [1, '2', 3, 4] }), 'INVALID_VECTOR'],
    ['a vector of vectors', up({ vector: [V, V, V, V] }), 'INVALID_VECTOR'],
    ['1e999 parses to Infinity', upRaw('"id":100,"vector":[1,1e999,3,4]'), 'INVALID_VECTOR'],
    ['-1e999', upRaw('"id":100,"vector":[-1e999,1,3,4]'), 'INVALID_VECTOR'],
    ['above float32', upRaw('"id":100,"vector":[1e39,1,3,4]'), 'INVALID_VECTOR'],
    ['a u64 literal in the vector', upRaw(`"id":100,"vector":[${U64_MAX},1,3,4]`), 'INVALID_VECTOR'],
    [
      'a bad third point applies nothing',
      {
        points: [
          { id: 100, vector: V },
          { id: 1, vector: V, payload: { n: 9 } },
          { id: 101, vector: [1, 2] },
        ],
      },
      'DIMENSION_MISMATCH',
    ],
    ['payload an array', up({ payload: [1] }), 'INVALID_PAYLOAD'],
    ['payload a string', up({ payload: 'x' }), 'INVALID_PAYLOAD'],
    ['payload with Infinity', upRaw('"id":100,"vector":[1,2,3,4],"payload":{"x":1e999}'), 'INVALID_PAYLOAD'],
    [
      'payload with a u64 literal',
      upRaw(`"id":100,"vector":[1,2,3,4],"payload":{"x":${U64_MAX}}`),
      'INVALID_PAYLOAD',
    ],
    ['payload nested 100 deep', up({ payload: nested(100) }), 'PAYLOAD_TOO_DEEP'],
    [
      'payload arrays nested 100 deep',
      upRaw(`"id":100,"vector":[1,2,3,4],"payload":{"a":${'['.repeat(100)}${']'.repeat(100)}}`),
      'PAYLOAD_TOO_DEEP',
    ],
    [
      'payload nested 50,000 deep',
      upRaw(`"id":100,"vector":[1,2,3,4],"payload":{"a":${deepArray}}`),
      'PAYLOAD_TOO_DEEP',
      tooDeep,
    ],
    ['payload above 1 MiB', up({ payload: { big: 'x'.repeat((1 << 20) + 10) } }), 'PAYLOAD_TOO_LARGE'],
    [
      'payload key __proto__',
      upRaw('"id":100,"vector":[1,2,3,4],"payload":{"__proto__":{"polluted":1}}'),
      'FORBIDDEN_PAYLOAD_KEY',
    ],
    [
      'nested key __proto__',
      upRaw('"id":100,"vector":[1,2,3,4],"payload":{"a":[{"__proto__":{"polluted":1}}]}'),
      'FORBIDDEN_PAYLOAD_KEY',
    ],
    [
      'payload key constructor',
      upRaw('"id":100,"vector":[1,2,3,4],"payload":{"constructor":{"prototype":{"polluted":1}}}'),
      'FORBIDDEN_PAYLOAD_KEY',
    ],
    ['payload key prototype', up({ payload: { a: { prototype: 1 } } }), 'FORBIDDEN_PAYLOAD_KEY'],
    ['batch ids a string', { batch: { ids: '1', vectors: [V] } }, 'INVALID_REQUEST'],
    ['batch ids floats', { batch: { ids: [1.25], vectors: [V] } }, 'INVALID_POINT_ID'],
    ['batch lengths differ', { batch: { ids: [100, 101], vectors: [V] } }, 'INVALID_REQUEST'],
    ['batch payloads longer', { batch: { ids: [100], vectors: [V], payloads: [{}, {}] } }, 'INVALID_REQUEST'],
    ['batch vectors an object', { batch: { ids: [100], vectors: { a: [V] } } }, 'UNSUPPORTED_FEATURE'],
    ['batch vectors a number', { batch: { ids: [100], vectors: 5 } }, 'INVALID_REQUEST'],
    ['batch payloads an object', { batch: { ids: [100], vectors: [V], payloads: {} } }, 'INVALID_REQUEST'],
    [
      '__proto__ at the top of the body',
      raw('{"__proto__":{"points":[{"id":100,"vector":[1,2,3,4]}]}}'),
      'INVALID_REQUEST',
    ],
  ]),
  ...rowsFor('PUT', `${P}?wait=maybe`, [['wait=maybe', up({}), 'INVALID_REQUEST']]),
  ...rowsFor('PUT', `${P}?wait=true&wait=false`, [['wait given twice', up({}), 'INVALID_REQUEST']]),
  ...rowsFor('PUT', '/collections/c_alias/points?wait=true', [
    ['wrong dimension through the alias', up({ vector: [1] }), 'DIMENSION_MISMATCH'],
  ]),

  // ------------------------------------------------------------ retrieve
  ...rowsFor('POST', P, [
    ['ids a string', { ids: '1' }, 'INVALID_REQUEST'],
    ['ids floats', { ids: [1.5] }, 'INVALID_POINT_ID'],
    ['an id above 2^64', raw('{"ids":[18446744073709551616]}'), 'INVALID_POINT_ID'],
    ['a negative id', raw('{"ids":[-5]}'), 'INVALID_POINT_ID'],
    ['an id nested 50,000 deep', raw(`{"ids":[${deepArray}]}`), 'INVALID_REQUEST'],
    ['with_payload a number', { ids: [1], with_payload: 1 }, 'INVALID_REQUEST'],
    ['with_vector a string', { ids: [1], with_vector: 'yes' }, 'INVALID_REQUEST'],
  ]),
  ...(
    [
      ['abc', 'INVALID_POINT_ID'],
      ['-1', 'INVALID_POINT_ID'],
      ['1.5', 'INVALID_POINT_ID'],
      ['18446744073709551616', 'INVALID_POINT_ID'],
      ['999', 'POINT_NOT_FOUND'],
      // Fastify's own "bad URL" answer had no envelope and no catalogue code.
      ['%zz', 'INVALID_REQUEST'],
      ['%E0%A4%A', 'INVALID_REQUEST'],
    ] as const
  ).flatMap(([id, code]) =>
    rowsFor('GET', `${P}/${id}`, [
      [id.startsWith('%') ? 'regression: bad %-escape' : 'bad id', undefined, code],
    ]),
  ),

  // ------------------------------------------------------------ delete points
  ...rowsFor('POST', `${P}/delete${W}`, [
    ['points an object', { points: { id: 1 } }, 'INVALID_REQUEST'],
    ['neither points nor filter', {}, 'INVALID_REQUEST'],
    ['points and filter', { points: [1], filter: {} }, 'INVALID_REQUEST'],
    ['ids floats', { points: [1, 2.5] }, 'INVALID_POINT_ID'],
    ['a negative id', raw('{"points":[1,-2]}'), 'INVALID_POINT_ID'],
    ['an id above 2^64', raw('{"points":[1,36893488147419103232]}'), 'INVALID_POINT_ID'],
    ['filter an array', { filter: [{ has_id: [1] }] }, 'INVALID_REQUEST'],
    ['filter a string', { filter: 'n > 1' }, 'INVALID_REQUEST'],
    ['filter with an unknown field', { filter: { must: [{ has_id: [1] }], mus: [] } }, 'INVALID_FILTER'],
    ['has_id floats', { filter: { must: [{ has_id: [1.5] }] } }, 'INVALID_FILTER'],
    ['has_id negative', raw('{"filter":{"must":[{"has_id":[1,-1]}]}}'), 'INVALID_FILTER'],
    ['has_id above 2^64', raw('{"filter":{"must":[{"has_id":[1,18446744073709551616]}]}}'), 'INVALID_FILTER'],
    [
      'regression: has_id nested 50,000 deep',
      raw(`{"filter":{"must":[{"has_id":[${deepArray}]}]}}`),
      'INVALID_FILTER',
      tooDeep,
    ],
    ['match on a float', { filter: { must: [{ key: 'n', match: { value: 1.5 } }] } }, 'INVALID_FILTER'],
    ['filter nested 100 deep', raw(`{"filter":${deepFilter(100)}}`), 'INVALID_FILTER'],
    ['filter nested 20,000 deep', raw(`{"filter":${deepFilter(20_000)}}`), 'INVALID_FILTER', tooDeep],
    [
      'geo filter',
      { filter: { must: [{ key: 'l', geo_radius: { center: { lon: 0, lat: 0 }, radius: 1 } }] } },
      'UNSUPPORTED_FEATURE',
      'geo_radius',
    ],
    // The schema copied the filter and dropped "__proto__": `{}` is left, which matches (deletes) every point.
    [
      'regression: a filter behind __proto__',
      raw('{"filter":{"__proto__":{"must":[{"has_id":[1]}]}}}'),
      'INVALID_FILTER',
      '__proto__',
    ],
    [
      'constructor in a filter',
      raw('{"filter":{"must":[{"constructor":{"prototype":{"polluted":1}}}]}}'),
      'INVALID_FILTER',
    ],
  ]),

  // ------------------------------------------------------------ payload edits
  ...rowsFor('POST', `${P}/payload${W}`, [
    ['payload an array', { payload: [1], points: [1] }, 'INVALID_REQUEST'],
    ['payload a string', { payload: 'x', points: [1] }, 'INVALID_REQUEST'],
    ['key a number', { payload: { a: 1 }, points: [1], key: 5 }, 'INVALID_REQUEST'],
    ['a missing point applies nothing', { payload: { a: 1 }, points: [1, 999] }, 'POINT_NOT_FOUND'],
    ['no selector', { payload: { a: 1 } }, 'INVALID_REQUEST'],
    ['above 1 MiB', { payload: { big: 'y'.repeat(1 << 20) }, points: [1] }, 'PAYLOAD_TOO_LARGE'],
    ['nested 100 deep', { payload: nested(100), points: [1] }, 'PAYLOAD_TOO_DEEP'],
    // The schema dropped a top-level "__proto__" key and stored the rest.
    [
      'regression: top-level __proto__ key',
      raw('{"payload":{"__proto__":1,"b":2},"points":[1]}'),
      'FORBIDDEN_PAYLOAD_KEY',
    ],
    [
      'regression: top-level __proto__ object',
      raw('{"payload":{"__proto__":{"polluted":1},"b":2},"filter":{}}'),
      'FORBIDDEN_PAYLOAD_KEY',
    ],
    [
      'constructor key',
      raw('{"payload":{"constructor":{"prototype":{"polluted":1}}},"points":[1]}'),
      'FORBIDDEN_PAYLOAD_KEY',
    ],
    // Refused only while applying: the collection then failed every later write (and every WAL replay).
    [
      'regression: at key __proto__',
      { payload: { polluted: 1 }, points: [1], key: '__proto__' },
      'FORBIDDEN_PAYLOAD_KEY',
    ],
    [
      'regression: at key a.constructor.prototype',
      { payload: { polluted: 1 }, points: [1], key: 'a.constructor.prototype' },
      'FORBIDDEN_PAYLOAD_KEY',
    ],
    // The key's parts nest the patch: 50,000 of them made a payload too deep to clone, snapshot or replay.
    [
      'regression: under a key 40 parts deep',
      { payload: { x: 1 }, points: [1], key: Array(40).fill('k').join('.') },
      'PAYLOAD_TOO_DEEP',
    ],
    [
      'regression: under a key 50,000 parts deep',
      { payload: { x: 1 }, points: [1], key: Array(50_000).fill('k').join('.') },
      'PAYLOAD_TOO_DEEP',
    ],
  ]),
  ...rowsFor('PUT', `${P}/payload${W}`, [
    ['key given', { payload: { a: 1 }, points: [1], key: 'a' }, 'INVALID_REQUEST'],
    ['__proto__ key', raw('{"payload":{"__proto__":{"polluted":1}},"points":[1]}'), 'FORBIDDEN_PAYLOAD_KEY'],
    ['a missing point', { payload: {}, points: [999] }, 'POINT_NOT_FOUND'],
  ]),
  ...rowsFor('POST', `${P}/payload/delete${W}`, [
    ['keys a string', { keys: 'n', points: [1] }, 'INVALID_REQUEST'],
    ['keys numbers', { keys: [1], points: [1] }, 'INVALID_REQUEST'],
    // The key path walked into Object.prototype and deleted valueOf from every object of the process.
    [
      'regression: key __proto__.valueOf',
      { keys: ['__proto__.valueOf'], points: [1] },
      'FORBIDDEN_PAYLOAD_KEY',
    ],
    [
      'regression: key __proto__.toString by filter',
      { keys: ['n', '__proto__.toString'], filter: {} },
      'FORBIDDEN_PAYLOAD_KEY',
    ],
  ]),
  ...rowsFor('POST', `${P}/payload/clear${W}`, [
    ['points a string', { points: 'all' }, 'INVALID_REQUEST'],
    ['filter an array', { filter: [] }, 'INVALID_REQUEST'],
  ]),

  // ------------------------------------------------------------ payload indexes
  ...rowsFor('PUT', `/collections/c/index${W}`, [
    ['field_name a number', { field_name: 5, field_schema: 'keyword' }, 'INVALID_REQUEST'],
    ['field_schema a number', { field_name: 'tag', field_schema: 5 }, 'INVALID_REQUEST'],
    ['geo', { field_name: 'loc', field_schema: 'geo' }, 'UNSUPPORTED_FEATURE', 'geo'],
    ['full text', { field_name: 'tag', field_schema: { type: 'text' } }, 'UNSUPPORTED_FEATURE', 'text'],
    // Refused only while applying (a TypeError): the collection then failed every write and every restart.
    ['regression: invalid key path "a b"', { field_name: 'a b', field_schema: 'keyword' }, 'INVALID_REQUEST'],
    ['regression: invalid key path "a.["', { field_name: 'a.[', field_schema: 'integer' }, 'INVALID_REQUEST'],
    ['regression: __proto__', { field_name: '__proto__', field_schema: 'keyword' }, 'FORBIDDEN_PAYLOAD_KEY'],
  ]),

  // ------------------------------------------------------------ scroll and count
  ...rowsFor('POST', `${P}/scroll`, [
    ['limit a string', { limit: '10' }, 'INVALID_REQUEST'],
    ['limit 0', { limit: 0 }, 'INVALID_REQUEST'],
    ['limit negative', { limit: -1 }, 'INVALID_REQUEST'],
    ['limit a float', { limit: 2.5 }, 'INVALID_REQUEST'],
    ['limit above the maximum', { limit: 10_001 }, 'LIMIT_EXCEEDED'],
    ['limit a u64', raw(`{"limit":${U64_MAX}}`), 'INVALID_REQUEST'],
    ['limit 1e999', raw('{"limit":1e999}'), 'INVALID_REQUEST'],
    ['offset an object', { offset: {} }, 'INVALID_REQUEST'],
    ['offset not an id', { offset: 'abc' }, 'INVALID_POINT_ID'],
    ['offset negative', raw('{"offset":-3}'), 'INVALID_POINT_ID'],
    ['filter an array', { filter: [] }, 'INVALID_REQUEST'],
    ['order_by', { order_by: 'n' }, 'UNSUPPORTED_FEATURE', 'order_by'],
    ['with_payload a number', { with_payload: 3 }, 'INVALID_REQUEST'],
  ]),
  ...rowsFor('POST', `${P}/count`, [
    ['single quotes', raw("{'filter': null}"), 'INVALID_JSON'],
    ['filter a string', { filter: 'x' }, 'INVALID_REQUEST'],
    ['exact a string', { exact: 'yes' }, 'INVALID_REQUEST'],
    [
      'geo_bounding_box',
      { filter: { must: [{ key: 'l', geo_bounding_box: {} }] } },
      'UNSUPPORTED_FEATURE',
      'geo_bounding_box',
    ],
    [
      'full-text match',
      { filter: { must: [{ key: 'tag', match: { text: 't' } }] } },
      'UNSUPPORTED_FEATURE',
      'match.text',
    ],
    ['nested', { filter: { must: [{ nested: { key: 'a', filter: {} } }] } }, 'UNSUPPORTED_FEATURE', 'nested'],
    ['range with a string bound', { filter: { must: [{ key: 'n', range: { gt: 'x' } }] } }, 'INVALID_FILTER'],
    ['range -1e999', raw('{"filter":{"must":[{"key":"n","range":{"gt":-1e999}}]}}'), 'INVALID_FILTER'],
    [
      '__proto__ inside match',
      raw('{"filter":{"must":[{"key":"n","match":{"value":1,"__proto__":{"x":1}}}]}}'),
      'INVALID_FILTER',
    ],
  ]),

  // ------------------------------------------------------------ search and query
  ...rowsFor('POST', `${P}/search`, [
    ['limit missing', { vector: V }, 'INVALID_REQUEST'],
    ['limit a string', search({ limit: '3' }), 'INVALID_REQUEST'],
    ['limit 0', search({ limit: 0 }), 'INVALID_REQUEST'],
    ['limit negative', search({ limit: -3 }), 'INVALID_REQUEST'],
    ['limit above the maximum', search({ limit: 1_000_000 }), 'LIMIT_EXCEEDED'],
    ['limit 2^60', raw('{"vector":[1,2,3,4],"limit":1152921504606846976}'), 'INVALID_REQUEST'],
    ['limit 1e308', raw('{"vector":[1,2,3,4],"limit":1e308}'), 'INVALID_REQUEST'],
    ['offset negative', search({ offset: -1 }), 'INVALID_REQUEST'],
    ['offset above the maximum', search({ offset: 20_000 }), 'LIMIT_EXCEEDED'],
    ['vector missing', { limit: 3 }, 'INVALID_REQUEST'],
    ['vector a string', search({ vector: 'x' }), 'INVALID_VECTOR'],
    ['named vector', search({ vector: { name: 'image', vector: V } }), 'UNSUPPORTED_FEATURE', 'named'],
    ['wrong dimension', search({ vector: [1, 2, 3, 4, 5] }), 'DIMENSION_MISMATCH'],
    ['1e999', raw('{"vector":[1,2,3,1e999],"limit":3}'), 'INVALID_VECTOR'],
    ['vector nested 50,000 deep', raw(`{"vector":${deepArray},"limit":3}`), 'DIMENSION_MISMATCH', tooDeep],
    ['hnsw_ef a string', search({ params: { hnsw_ef: 'x' } }), 'INVALID_REQUEST'],
    ['hnsw_ef 0', search({ params: { hnsw_ef: 0 } }), 'INVALID_REQUEST'],
    ['exact a number', search({ params: { exact: 1 } }), 'INVALID_REQUEST'],
    ['score_threshold a string', search({ score_threshold: 'high' }), 'INVALID_REQUEST'],
    [
      'score_threshold 1e999',
      raw('{"vector":[1,2,3,4],"limit":3,"score_threshold":1e999}'),
      'INVALID_REQUEST',
    ],
    ['filter an array', search({ filter: [{ key: 'n' }] }), 'INVALID_REQUEST'],
    [
      'geo_polygon',
      search({ filter: { should: { key: 'l', geo_polygon: {} } } }),
      'UNSUPPORTED_FEATURE',
      'geo_polygon',
    ],
    [
      'filter __proto__',
      raw('{"vector":[1,2,3,4],"limit":3,"filter":{"__proto__":{"polluted":1}}}'),
      'INVALID_FILTER',
    ],
    [
      'with_vector a number',
      search({ params: { quantization: { rescore: true } }, with_vector: 1 }),
      'INVALID_REQUEST',
    ],
  ]),
  ...rowsFor('POST', `${P}/search/batch`, [
    ['searches an object', { searches: {} }, 'INVALID_REQUEST'],
    ['a search a number', { searches: [search({}), 5] }, 'INVALID_REQUEST'],
    ['a bad limit', { searches: [search({}), search({ limit: -1 })] }, 'INVALID_REQUEST'],
  ]),
  ...rowsFor('POST', `${P}/query`, [
    ['recommend', { query: { recommend: { positive: [1] } } }, 'UNSUPPORTED_FEATURE', 'recommend'],
    ['fusion', { query: { fusion: 'rrf' } }, 'UNSUPPORTED_FEATURE', 'fusion'],
    ['unknown kind', { query: { nope: 1 } }, 'INVALID_REQUEST'],
    ['prefetch', { prefetch: [{ query: V }], query: V }, 'UNSUPPORTED_FEATURE', 'prefetch'],
    ['using a named vector', { query: V, using: 'image' }, 'UNSUPPORTED_FEATURE', 'using'],
    ['nearest a string (not an id)', { query: { nearest: 'x' } }, 'INVALID_POINT_ID'],
    ['by a missing point', { query: 999 }, 'POINT_NOT_FOUND'],
    ['by a negative id', raw('{"query":-1}'), 'INVALID_POINT_ID'],
    ['by an id above 2^64', raw('{"query":18446744073709551616}'), 'INVALID_POINT_ID'],
    ['by a float id', { query: 2.5 }, 'INVALID_POINT_ID'],
    ['query a boolean', { query: true }, 'INVALID_REQUEST'],
    ['query nested 50,000 deep', raw(`{"query":${deepArray}}`), 'DIMENSION_MISMATCH', tooDeep],
    ['limit a string', { query: V, limit: 'x' }, 'INVALID_REQUEST'],
    ['limit 0', { query: V, limit: 0 }, 'INVALID_REQUEST'],
    // Without a query the answer is a scroll of limit + offset, sliced at offset: -1 returned the last point.
    ['regression: no query, offset negative', { offset: -1 }, 'INVALID_REQUEST'],
    ['regression: no query, limit 0', { limit: 0, offset: 2 }, 'INVALID_REQUEST'],
    ['no query, limit above the maximum', { limit: 10_001 }, 'LIMIT_EXCEEDED'],
  ]),
  ...rowsFor('POST', `${P}/query/batch`, [
    [
      'discover',
      { searches: [{ query: V }, { query: { discover: {} } }] },
      'UNSUPPORTED_FEATURE',
      'discover',
    ],
    ['searches a string', { searches: 'x' }, 'INVALID_REQUEST'],
  ]),

  // ------------------------------------------------------------ aliases
  ...rowsFor('POST', '/collections/aliases', [
    ['actions an object', { actions: {} }, 'INVALID_REQUEST'],
    ['an action a number', { actions: [1] }, 'INVALID_REQUEST'],
    ['unknown action', { actions: [{ make_alias: {} }] }, 'INVALID_REQUEST'],
    ['regression: create_alias null', { actions: [{ create_alias: null }] }, 'INVALID_REQUEST'],
    ['regression: delete_alias a number', { actions: [{ delete_alias: 5 }] }, 'INVALID_REQUEST'],
    ['regression: rename_alias empty', { actions: [{ rename_alias: {} }] }, 'INVALID_REQUEST'],
    [
      'alias_name a number',
      { actions: [{ create_alias: { alias_name: 1, collection_name: 'c' } }] },
      'INVALID_REQUEST',
    ],
    [
      'invalid alias name',
      { actions: [{ create_alias: { alias_name: '../x', collection_name: 'c' } }] },
      'INVALID_NAME',
    ],
    [
      'alias of a missing collection',
      { actions: [{ create_alias: { alias_name: 'a2', collection_name: 'no' } }] },
      'COLLECTION_NOT_FOUND',
    ],
    [
      'alias shadowing a collection',
      { actions: [{ create_alias: { alias_name: 'c', collection_name: 'c' } }] },
      'ALIAS_EXISTS',
    ],
    [
      'regression: rename an alias to a collection name',
      { actions: [{ rename_alias: { old_alias_name: 'c_alias', new_alias_name: 'c' } }] },
      'ALIAS_EXISTS',
    ],
    ['delete a missing alias', { actions: [{ delete_alias: { alias_name: 'nope' } }] }, 'ALIAS_NOT_FOUND'],
    [
      'a bad second action applies nothing',
      {
        actions: [
          { delete_alias: { alias_name: 'c_alias' } },
          { create_alias: { alias_name: 'a3', collection_name: 'zz' } },
        ],
      },
      'COLLECTION_NOT_FOUND',
    ],
    [
      '__proto__ action',
      raw('{"actions":[{"__proto__":{"create_alias":{"alias_name":"p","collection_name":"c"}}}]}'),
      'INVALID_REQUEST',
    ],
  ]),

  // ------------------------------------------------------------ unsupported endpoints, unknown routes
  ...rowsFor('POST', `${P}/recommend`, [
    ['recommend', { positive: [1], limit: 3 }, 'UNSUPPORTED_ENDPOINT', 'recommend'],
  ]),
  ...rowsFor('POST', `${P}/recommend/batch`, [
    ['recommend batch', { searches: [] }, 'UNSUPPORTED_ENDPOINT', 'recommend'],
  ]),
  ...rowsFor('POST', `${P}/discover`, [['discover', {}, 'UNSUPPORTED_ENDPOINT', 'discover']]),
  ...rowsFor('POST', `${P}/search/groups`, [['search groups', {}, 'UNSUPPORTED_ENDPOINT', 'groups']]),
  ...rowsFor('POST', '/collections/c/snapshots', [
    ['snapshots', undefined, 'UNSUPPORTED_ENDPOINT', 'snapshots'],
  ]),
  ...rowsFor('GET', '/cluster', [['cluster', undefined, 'UNSUPPORTED_ENDPOINT', 'cluster']]),
  ...rowsFor('GET', '/nope', [['unknown route', undefined, 'ROUTE_NOT_FOUND']]),
  ...rowsFor('POST', '/collections', [['unknown method on a known path', {}, 'ROUTE_NOT_FOUND']]),
  ...rowsFor('POST', `${P}/search/nope`, [['unknown sub-route', {}, 'ROUTE_NOT_FOUND']]),
  ...rowsFor('OPTIONS', '/collections/c', [['OPTIONS', undefined, 'ROUTE_NOT_FOUND']]),
];

/** A valid request for each collection route: with a missing collection each must answer COLLECTION_NOT_FOUND. */
const VALID: Record<string, Pick<Row, 'body' | 'headers'>> = {
  'GET /collections/:name': {},
  'GET /collections/:name/aliases': {},
  'PUT /collections/:name/index': { body: { field_name: 'n', field_schema: 'integer' } },
  'DELETE /collections/:name/index/:field': {},
  'PUT /collections/:name/points': { body: { points: [{ id: 1, vector: V }] } },
  'POST /collections/:name/points': { body: { ids: [1] } },
  'GET /collections/:name/points/:id': {},
  'POST /collections/:name/points/delete': { body: { points: [1] } },
  'POST /collections/:name/points/payload': { body: { payload: { a: 1 }, points: [1] } },
  'PUT /collections/:name/points/payload': { body: { payload: { a: 1 }, points: [1] } },
  'POST /collections/:name/points/payload/delete': { body: { keys: ['a'], points: [1] } },
  'POST /collections/:name/points/payload/clear': { body: { points: [1] } },
  'POST /collections/:name/points/scroll': { body: {} },
  'POST /collections/:name/points/count': { body: {} },
  'POST /collections/:name/points/search': { body: { vector: V, limit: 1 } },
  'POST /collections/:name/points/search/batch': { body: { searches: [{ vector: V, limit: 1 }] } },
  'POST /collections/:name/points/query': { body: { query: V } },
  'POST /collections/:name/points/query/batch': { body: { searches: [{ query: V }] } },
  'POST /collections/:name/points/stream': {
    body: raw(`${JSON.stringify({ id: 1, vector: V })}\n`),
    headers: { 'content-type': 'application/x-ndjson' },
  },
  'GET /collections/:name/changes': {},
  'GET /collections/:name/ws': {},
  'POST /collections/:name/subscriptions': { body: { vector: V, score_threshold: 0.5 } },
  'GET /collections/:name/subscriptions': {},
  'GET /collections/:name/subscriptions/:id': {},
  'DELETE /collections/:name/subscriptions/:id': {},
  'GET /collections/:name/subscriptions/:id/events': {},
};
/** Collection routes that do not answer 404 for a missing collection, as in Qdrant. */
const NOT_404: Record<string, string> = {
  'PUT /collections/:name': 'creates the collection',
  'DELETE /collections/:name': 'Qdrant answers result: false',
  'GET /collections/:name/exists': 'answers exists: false',
  'PATCH /collections/:name': 'UNSUPPORTED_FEATURE whatever the name',
};

// ---------------------------------------------------------------- harness

interface Fixture {
  engine: EngineApi;
  app: FastifyInstance;
}

type Opener = (config: ReturnType<typeof defaultConfig>) => Promise<EngineApi>;

async function open(
  dir: string,
  server: { body_limit_bytes?: number } = {},
  openEngine: Opener = (c) => Engine.open(c),
): Promise<Fixture> {
  const config = defaultConfig({ server, storage: { data_dir: join(root, dir), fsync: false } });
  const engine = await openEngine(config);
  const app = await buildApp({ engine, config });
  await engine.createCollection('c', { size: DIM, distance: 'Dot' });
  await engine.upsert(
    'c',
    [
      ...[1, 2, 3, 4, 5].map((id) => ({
        id,
        vector: [id, 1, -id, 0.5],
        payload: { n: id, tag: `t${id % 2}` },
      })),
      { id: UUID, vector: V, payload: { nested: { a: [1, { b: 'x' }] } } },
      { id: BigInt(U64_MAX), vector: V, payload: null },
    ],
    { wait: true },
  );
  await engine.createPayloadIndex('c', 'n', 'integer', { wait: true });
  await engine.updateAliases([{ create_alias: { alias_name: 'c_alias', collection_name: 'c' } }]);
  return { engine, app };
}

function send(app: FastifyInstance, r: Pick<Row, 'method' | 'url' | 'body' | 'headers'>) {
  const payload =
    r.body === undefined ? undefined : r.body instanceof Raw ? r.body.text : stringifyJson(r.body);
  return app.inject({
    method: r.method,
    url: r.url,
    ...(payload === undefined ? {} : { payload }),
    headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...r.headers },
  });
}

/** Everything a request could change: collections, aliases, and every point of `c` with payload and vector. */
async function fingerprint(engine: EngineApi): Promise<string> {
  const info = await engine.collectionInfo('c');
  return stringifyJson({
    collections: await engine.listCollections(),
    aliases: await engine.listAliases(),
    count: await engine.count('c'),
    points: await engine.scroll('c', { limit: 10_000, with_payload: true, with_vector: true }),
    indexes: info.payload_schema,
  });
}

/** The status is the code's catalogue status; the body is Qdrant's error envelope plus our code and hint. */
function expectError(res: LightMyRequestResponse, code: ErrorCode, message?: string) {
  const where = `${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, where).toBe(errors[code].status);
  expect(res.headers['content-type'], where).toMatch(/^application\/json/);
  const body = res.json() as Record<string, unknown>;
  expect(body.code, where).toBe(code);
  expect(body.hint, where).toBe(errors[code].hint);
  expect(errors[code].hint.length).toBeGreaterThan(0);
  expect(body.result, where).toBeNull();
  expect(typeof body.time, where).toBe('number');
  const s = body.status as { error?: unknown };
  expect(typeof s?.error === 'string' && s.error.length > 0, where).toBe(true);
  if (message !== undefined) expect(s.error as string, where).toContain(message);
}

function expectProcessIntact() {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(typeof Object.prototype.valueOf).toBe('function');
  expect(typeof Object.prototype.toString).toBe('function');
}

// ---------------------------------------------------------------- tests

// The server runs the engine in a worker thread: every row goes through both.
describe.each([
  ['Engine', (c) => Engine.open(c)],
  ['WorkerEngine', (c) => WorkerEngine.open(c)],
] as [string, Opener][])('bad input (%s)', (kind, openEngine) => {
  let f: Fixture;
  let before: string;
  beforeAll(async () => {
    f = await open(`main-${kind}`, {}, openEngine);
    before = await fingerprint(f.engine);
  });
  afterAll(async () => {
    await f.app.close();
    await f.engine.close();
  });

  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const probe = await send(f.app, { method: 'GET', url: `${P}/1` });
    const res = await send(f.app, row);
    expectError(res, (kind === 'WorkerEngine' && row.workerCode) || row.code, row.message);
    expect(await fingerprint(f.engine)).toBe(before);
    expect((await send(f.app, { method: 'GET', url: `${P}/1` })).json().result).toEqual(probe.json().result);
    expectProcessIntact();
    expect((await send(f.app, { method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('created no collection', async () => {
    expect(await f.engine.listCollections()).toEqual(['c']);
    const res = await send(f.app, { method: 'GET', url: '/collections/fresh/exists' });
    expect(res.json().result).toEqual({ exists: false });
  });

  it('every collection route answers COLLECTION_NOT_FOUND for a missing collection', async () => {
    const routes = appRoutes(f.app).filter((r) => r.path.includes(':name') && r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(20);
    let checked = 0;
    for (const { method, path } of routes) {
      const key = `${method} ${path}`;
      if (key in NOT_404) continue;
      const url = `${path.replace(/:\w+/g, (p) => (p === ':name' ? 'missing' : p === ':field' ? 'n' : '1')).replace('*', 'x')}${W}`;
      const res = await send(f.app, { method: method as HTTPMethods, url, ...VALID[key] });
      if (key in VALID) {
        expectError(res, 'COLLECTION_NOT_FOUND', 'missing');
        checked++;
      } else {
        // Everything else under a collection is an endpoint surgevec does not implement.
        expect(res.json().code, `${key}: ${res.body}`).toBe('UNSUPPORTED_ENDPOINT');
        expectError(res, 'UNSUPPORTED_ENDPOINT');
      }
    }
    expect(checked).toBe(Object.keys(VALID).length);
    expect(await fingerprint(f.engine)).toBe(before);
  });

  it('reads through invalid names are 404, never a file path', async () => {
    for (const name of ['a%2Fb', '..%2F..', 'x'.repeat(300), '%00']) {
      expectError(await send(f.app, { method: 'GET', url: `/collections/${name}` }), 'COLLECTION_NOT_FOUND');
      const res = await send(f.app, { method: 'POST', url: `/collections/${name}/points/count`, body: {} });
      expectError(res, 'COLLECTION_NOT_FOUND');
    }
    expect(await fingerprint(f.engine)).toBe(before);
  });
});

describe('bodies above server.body_limit_bytes', () => {
  let f: Fixture;
  let before: string;
  beforeAll(async () => {
    f = await open('small', { body_limit_bytes: 4096 });
    before = await fingerprint(f.engine);
  });
  afterAll(async () => {
    await f.app.close();
    await f.engine.close();
  });

  it.each([
    ['application/json', 'PUT', `${P}${W}`],
    ['text/plain', 'PUT', `${P}${W}`],
    ['application/json', 'POST', `${P}/search`],
    ['application/json', 'PUT', '/collections/big'],
  ] as const)('%s %s %s → BODY_TOO_LARGE', async (type, method, url) => {
    const points = Array.from({ length: 100 }, (_, i) => ({ id: 1000 + i, vector: V, payload: { i } }));
    const res = await send(f.app, { method, url, body: { points }, headers: { 'content-type': type } });
    expectError(res, 'BODY_TOO_LARGE');
    expect(res.statusCode).toBe(413);
    expect(await fingerprint(f.engine)).toBe(before);
  });

  it('a body just under the limit is served', async () => {
    const res = await send(f.app, {
      method: 'POST',
      url: `${P}/count`,
      body: raw(`{"filter":null${' '.repeat(4000)}}`),
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('regressions that were answered 500 or broke the collection', () => {
  it('delete by has_id with u64 ids above 2^53 works and survives a restart', async () => {
    const f = await open('u64');
    const filter = `{"should":[{"has_id":[${U64_MAX}, 1]}, {"must":{"has_id":[12345678901234567890]}}]}`;
    const res = await send(f.app, {
      method: 'POST',
      url: `${P}/delete${W}`,
      body: raw(`{"filter":${filter}}`),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await f.engine.count('c')).toBe(5);
    const after = await fingerprint(f.engine);
    await f.app.close();
    await f.engine.close();
    const engine = await Engine.open(
      defaultConfig({ storage: { data_dir: join(root, 'u64'), fsync: false } }),
    );
    expect(await fingerprint(engine)).toBe(after);
    await engine.close();
  });

  it('the WAL replays a has_id filter holding a bigint (no snapshot in between)', async () => {
    const config = defaultConfig({ storage: { data_dir: join(root, 'u64-wal'), fsync: false } });
    const engine = await Engine.open(config);
    await engine.createCollection('c', { size: 2, distance: 'Dot' });
    const points = [
      { id: BigInt(U64_MAX), vector: [1, 2] },
      { id: 1, vector: [1, 2] },
    ];
    await engine.upsert('c', points, { wait: true });
    await engine.deletePoints('c', { filter: { must: [{ has_id: [BigInt(U64_MAX)] }] } }, { wait: true });
    // No close(): as after a crash, the delete is in the WAL only. Drop the lock as a dead process would.
    rmSync(join(root, 'u64-wal', 'LOCK'));
    const again = await Engine.open(config);
    expect((await again.scroll('c')).points.map((p) => p.id)).toEqual([1]);
    await again.close();
  });

  it('an invalid index field, a forbidden or too deep key path leave the collection writable and openable', async () => {
    const f = await open('brick');
    for (const field_name of ['a b', 'x[']) {
      const body = { field_name, field_schema: 'keyword' };
      expectError(
        await send(f.app, { method: 'PUT', url: `/collections/c/index${W}`, body }),
        'INVALID_REQUEST',
      );
    }
    const body = { payload: { a: 1 }, points: [1], key: 'x.__proto__' };
    expectError(
      await send(f.app, { method: 'POST', url: `${P}/payload${W}`, body }),
      'FORBIDDEN_PAYLOAD_KEY',
    );
    const deep = { payload: { a: 1 }, points: [1], key: Array(50_000).fill('k').join('.') };
    expectError(
      await send(f.app, { method: 'POST', url: `${P}/payload${W}`, body: deep }),
      'PAYLOAD_TOO_DEEP',
    );
    const merge = { payload: { b: 2 }, points: [1] };
    expect((await send(f.app, { method: 'POST', url: `${P}/payload${W}`, body: merge })).statusCode).toBe(
      200,
    );
    const ok = await send(f.app, {
      method: 'PUT',
      url: `${P}${W}`,
      body: { points: [{ id: 42, vector: V }] },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    await f.app.close();
    await f.engine.close();
    // A bad op in the WAL would fail every replay.
    const engine = await Engine.open(
      defaultConfig({ storage: { data_dir: join(root, 'brick'), fsync: false } }),
    );
    expect(await engine.count('c')).toBe(8);
    await engine.close();
  });

  it('many short vectors in a small body are refused before n × dim floats are allocated', async () => {
    const f = await open('wide');
    await f.engine.createCollection('wide', { size: 65_536, distance: 'Dot' });
    const ids = Array.from({ length: 100_000 }, (_, i) => i);
    for (const body of [
      { batch: { ids, vectors: ids.map(() => []) } },
      { points: ids.map((id) => ({ id, vector: [] })) },
    ]) {
      const res = await send(f.app, { method: 'PUT', url: `/collections/wide/points${W}`, body });
      expectError(res, 'DIMENSION_MISMATCH');
    }
    expect(await f.engine.count('wide')).toBe(0);
    await f.app.close();
    await f.engine.close();
  });

  it('delete_payload through __proto__ leaves Object.prototype alone', async () => {
    const f = await open('proto');
    const body = { keys: ['__proto__.valueOf', '__proto__.hasOwnProperty'], filter: {} };
    expectError(
      await send(f.app, { method: 'POST', url: `${P}/payload/delete${W}`, body }),
      'FORBIDDEN_PAYLOAD_KEY',
    );
    expectProcessIntact();
    expect(typeof Object.prototype.hasOwnProperty).toBe('function');
    await f.app.close();
    await f.engine.close();
  });
});
