/**
 * Fuzzing every route of the app (as Fastify lists them) with random and mutated requests. For every answer:
 * status < 500 (501 only as UNSUPPORTED_ENDPOINT), a well-formed Qdrant envelope with a catalogue `code` on
 * errors, the server still answers /healthz, nothing reached Object.prototype, and a 4xx changed no data.
 * Accepted writes must leave only valid data behind (depth limit, no prototype keys, finite vectors).
 * Seeded: a failure prints the seed and fast-check's path, so `fc.assert(…, { seed, path })` replays it.
 * Other seeds and longer runs: FUZZ_SEED=7 FUZZ_RUNS=5000 npx vitest run test/server/fuzz.test.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance, HTTPMethods, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { Engine, type EngineApi, WorkerEngine } from '../../src/engine/index.js';
import { errors, isErrorCode } from '../../src/protocol/errors.js';
import { buildApp } from '../../src/server/app.js';
import { stringifyJson } from '../../src/server/json.js';
import { appRoutes } from './app-routes.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2024);
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

const DIM = 4;
const U64_MAX = 18446744073709551615n;
const UUID = '550e8400-e29b-41d4-a716-446655440000';
const V = [0.5, -1, 2, 0.25];
const METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

const root = mkdtempSync(join(tmpdir(), 'surgevec-fuzz-'));
let engine: EngineApi;
let app: FastifyInstance;
let baseline: string;
const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();
const arrayProtoNames = Object.getOwnPropertyNames(Array.prototype).sort();

// ---------------------------------------------------------------- fixture and fingerprint

async function seedFixture(): Promise<void> {
  for (const name of await engine.listCollections()) await engine.dropCollection(name);
  await engine.createCollection('c', { size: DIM, distance: 'Dot' });
  await engine.upsert(
    'c',
    [
      ...Array.from({ length: 10 }, (_, i) => ({
        id: i + 1,
        vector: [i, 1, -i, 0.5],
        payload: { n: i, tag: i % 2 ? 'x' : 'y', f: i / 3, nested: { a: [i, { b: `s${i}` }] }, ok: i > 4 },
      })),
      { id: UUID, vector: V, payload: { tag: 'uuid' } },
      { id: U64_MAX, vector: V, payload: null },
    ],
    { wait: true },
  );
  await engine.createPayloadIndex('c', 'n', 'integer', { wait: true });
  await engine.createPayloadIndex('c', 'tag', 'keyword', { wait: true });
  // g searches its HNSW graph (full_scan_threshold 0), c scans exactly.
  await engine.createCollection('g', { size: DIM, distance: 'Cosine', hnsw: { full_scan_threshold: 0 } });
  await engine.upsert(
    'g',
    Array.from({ length: 24 }, (_, i) => ({ id: i, vector: [1, i, i % 3, -i], payload: { n: i } })),
    { wait: true },
  );
  await engine.whenIndexed();
  await engine.updateAliases([{ create_alias: { alias_name: 'a', collection_name: 'c' } }]);
}

async function fingerprint(): Promise<string> {
  const out: unknown[] = [await engine.listAliases()];
  for (const name of await engine.listCollections()) {
    const info = await engine.collectionInfo(name);
    out.push(name, info.config, info.payload_schema, await engine.count(name));
    out.push(await engine.scroll(name, { limit: 10_000, with_payload: true, with_vector: true }));
  }
  return stringifyJson(out);
}

/**
 * What an accepted write may leave behind: payloads within the depth limit and without prototype keys, finite
 * vectors. (A set_payload under a 50,000-part key was accepted and then broke every later read and replay.)
 */
async function expectStoredDataValid(): Promise<void> {
  const maxDepth = defaultConfig().engine.max_payload_depth;
  const depthOf = (v: unknown, d: number): number => {
    if (d > maxDepth + 1 || v === null || typeof v !== 'object') return d;
    let max = d;
    for (const [k, x] of Object.entries(v)) {
      expect(['__proto__', 'constructor', 'prototype']).not.toContain(k);
      max = Math.max(max, depthOf(x, d + 1));
    }
    return max;
  };
  for (const name of await engine.listCollections()) {
    const page = await engine.scroll(name, { limit: 10_000, with_payload: true, with_vector: true });
    for (const p of page.points) {
      if (p.payload)
        expect(depthOf(p.payload, 1), `payload of ${String(p.id)}`).toBeLessThanOrEqual(maxDepth);
      expect(p.vector?.every(Number.isFinite), `vector of ${String(p.id)}`).toBe(true);
    }
  }
}

// ---------------------------------------------------------------- routes

// ---------------------------------------------------------------- bodies

/** JSON text inserted verbatim (numbers JSON.parse turns into Infinity, deep nesting, …). */
class Raw {
  constructor(readonly text: string) {}
}
/** An object written pair by pair: duplicate keys and `__proto__` survive to the wire. */
class Entries {
  constructor(readonly pairs: [string, unknown][]) {}
}

function toText(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Entries)
    return `{${v.pairs.map(([k, x]) => `${JSON.stringify(k)}:${toText(x)}`).join(',')}}`;
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(toText).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .map((k) => `${JSON.stringify(k)}:${toText(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const filterT = {
  must: [
    { key: 'n', range: { gte: 1, lt: 8 } },
    { key: 'tag', match: { any: ['x', 'y'] } },
  ],
  should: [{ has_id: [1, 2, UUID, U64_MAX] }, { is_empty: { key: 'f' } }],
  must_not: { key: 'nested.a[].b', match: { value: 's3' } },
};
const searchT = {
  vector: V,
  limit: 3,
  offset: 1,
  filter: filterT,
  params: { hnsw_ef: 16, exact: false },
  with_payload: { include: ['n', 'nested'] },
  with_vector: true,
  score_threshold: -100,
};

/** A dotted key path of `n` parts. */
const deepKey = (n: number) => Array(n).fill('k').join('.');

/** Valid bodies per route, the seeds of mutation. Routes without an entry start from `{}`. */
const TEMPLATES: Record<string, unknown[]> = {
  'PUT /collections/:name': [
    { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: { m: 8, ef_construct: 16 } },
    { vectors: { size: 2, distance: 'Euclid', on_disk: true }, on_disk_payload: true, shard_number: 1 },
  ],
  'PATCH /collections/:name': [{ optimizers_config: { indexing_threshold: 1 } }],
  'POST /collections/aliases': [
    {
      actions: [
        { create_alias: { alias_name: 'b', collection_name: 'c' } },
        { rename_alias: { old_alias_name: 'a', new_alias_name: 'z' } },
        { delete_alias: { alias_name: 'b' } },
      ],
    },
  ],
  'PUT /collections/:name/index': [
    { field_name: 'f', field_schema: 'float' },
    { field_name: 'nested.a[].b', field_schema: { type: 'keyword' } },
    { field_name: deepKey(40), field_schema: 'integer' },
  ],
  'PUT /collections/:name/points': [
    {
      points: [
        { id: 1, vector: V, payload: { n: 100, tag: 'z', nested: { a: [1] } } },
        { id: UUID, vector: [1, 2, 3, 4] },
        { id: U64_MAX, vector: V, payload: null },
      ],
    },
    { batch: { ids: [30, 31], vectors: [V, V], payloads: [{ n: 1 }, null] } },
  ],
  'POST /collections/:name/points': [
    { ids: [1, UUID, U64_MAX, 999], with_payload: ['n'], with_vector: true },
  ],
  'POST /collections/:name/points/delete': [{ points: [1, UUID] }, { filter: filterT }],
  'POST /collections/:name/points/payload': [
    { payload: { x: 1, y: [1, 'a'] }, points: [1, 2], key: 'nested.c' },
    { payload: { x: { y: null } }, filter: filterT },
    { payload: { x: 1 }, points: [1], key: deepKey(31) },
  ],
  'PUT /collections/:name/points/payload': [{ payload: { sole: true }, points: [3] }],
  'POST /collections/:name/points/payload/delete': [
    { keys: ['n', 'nested.a'], points: [1] },
    { keys: [deepKey(40), 'constructor.name'], filter: filterT },
  ],
  'POST /collections/:name/points/payload/clear': [{ points: [1] }, { filter: filterT }],
  'POST /collections/:name/points/scroll': [
    { limit: 5, offset: 2, filter: filterT, with_payload: { exclude: ['nested'] }, with_vector: ['x'] },
  ],
  'POST /collections/:name/points/count': [{ filter: filterT, exact: true }],
  'POST /collections/:name/points/search': [searchT],
  'POST /collections/:name/points/search/batch': [{ searches: [searchT, { vector: V, limit: 1 }] }],
  'POST /collections/:name/points/query': [
    { query: V, limit: 3, filter: filterT, with_payload: true },
    { query: { nearest: V }, offset: 1, params: { exact: true } },
    { query: 2, limit: 2 },
    { filter: filterT, limit: 4, offset: 1 },
  ],
  'POST /collections/:name/points/stream': [
    new Raw(
      [
        JSON.stringify({ id: 40, vector: V, payload: { n: 1 } }),
        `{"id": ${U64_MAX}, "vector": [1, 2, 3, 4]}`,
        JSON.stringify({ id: UUID, vector: V }),
        '',
      ].join('\n'),
    ),
  ],
  'GET /collections/:name/changes': [null],
  'POST /collections/:name/points/query/batch': [{ searches: [{ query: V }, { query: UUID }, {}] }],
};

const ODD_NUMBERS = [
  '1e999',
  '-1e999',
  '1e-400',
  '-0',
  '0.1e1',
  '18446744073709551615',
  '18446744073709551616',
  '-9223372036854775809',
  '9007199254740993',
  '123456789012345678901234567890',
  '1.7976931348623157e308',
  '3.5e38',
  '4294967296',
  '-1',
  '0',
  '2.5',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];
/** Payload key paths (set_payload `key`, delete_payload `keys`, index fields, filter keys) that go wrong. */
const KEY_PATHS = [
  'a.b',
  'nested.a[].b',
  'a..b',
  'a[',
  'a b',
  '"quoted.key".c',
  '__proto__.polluted',
  'constructor.prototype.polluted',
  'x.__proto__',
  deepKey(40),
  deepKey(5000),
];
// Long values as JSON text, built once (long strings; arrays of the right length for a vector, or far longer).
const LONG_STRINGS = [0, 256, 70_000, 300_000].map((n) => JSON.stringify('x'.repeat(n)));
const LONG_ARRAYS = [4, 5, 1000, 100_001].map((n) =>
  JSON.stringify(Array.from({ length: n }, (_, i) => i % 7)),
);

/** Every place in a value a mutation may touch: [container, key] pairs (root = [holder, 'v']). */
function slots(holder: { v: unknown }): [Record<string | number, unknown>, string | number][] {
  const out: [Record<string | number, unknown>, string | number][] = [[holder, 'v']];
  const visit = (v: unknown) => {
    if (v === null || typeof v !== 'object' || v instanceof Raw || v instanceof Entries) return;
    const o = v as Record<string | number, unknown>;
    const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(o);
    for (const k of keys) {
      out.push([o, k]);
      visit(o[k]);
    }
  };
  visit(holder.v);
  return out;
}

function deep(kind: number, depth: number): Raw {
  if (kind === 0) return new Raw(`${'['.repeat(depth)}${']'.repeat(depth)}`);
  if (kind === 1) return new Raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  return new Raw(`${'{"must":['.repeat(depth)}{"has_id":[1]}${']}'.repeat(depth)}`);
}

type Gen = fc.GeneratorValue;

/** One UTF-16 code unit, weighted towards the troublesome: lone surrogates, controls, quotes, path syntax. */
const codeUnit = fc
  .oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0xd800, max: 0xdfff }),
    fc.integer({ min: 0, max: 0xffff }),
    fc.constantFrom(0, 0x0a, 0x22, 0x25, 0x2e, 0x2f, 0x5b, 0x5c, 0x5d, 0xfeff, 0x2028),
  )
  .map((c) => String.fromCharCode(c));
// Built once per length (fc.string with unit 'binary' stalled for seconds on a first use here).
const BINARY = new Map<number, fc.Arbitrary<string>>();
function binary(maxLength: number): fc.Arbitrary<string> {
  let a = BINARY.get(maxLength);
  if (!a) {
    a = fc.array(codeUnit, { maxLength }).map((units) => units.join(''));
    BINARY.set(maxLength, a);
  }
  return a;
}

/** A fresh value each time: mutations edit values in place, and constantFrom hands out shared instances. */
function oddValue(g: Gen): unknown {
  const v = oddValueShared(g);
  return v instanceof Raw || v instanceof Entries ? v : structuredClone(v);
}

function oddValueShared(g: Gen): unknown {
  switch (g(fc.nat, { max: 10 })) {
    case 0:
      return new Raw(g(fc.constantFrom, ...ODD_NUMBERS));
    case 1:
      return deep(g(fc.nat, { max: 2 }), g(fc.constantFrom, 5, 33, 101, 2000, 20_000));
    case 2:
      return new Raw(LONG_STRINGS[g(fc.nat, { max: LONG_STRINGS.length - 1 })]!);
    case 3:
      return g(binary, 40);
    case 4:
      return g(fc.jsonValue, { maxDepth: 3 });
    case 5:
      return new Entries([[g(fc.constantFrom, ...PROTO_KEYS), { polluted: true, must: [] }]]);
    case 6:
      return g(fc.constantFrom, null, true, false, [], {}, '', 'NaN', 'Infinity', V, [V], { vector: V });
    case 7:
      return g(fc.constantFrom, UUID, U64_MAX, -1, 1.5, 2 ** 53 + 2, `urn:uuid:${UUID}`, UUID.toUpperCase());
    case 8:
      return new Raw(LONG_ARRAYS[g(fc.nat, { max: LONG_ARRAYS.length - 1 })]!);
    case 9:
      return g(fc.constantFrom, ...KEY_PATHS);
    default:
      return g(fc.double);
  }
}

/** One mutation of `holder.v`, in place. */
function mutate(g: Gen, holder: { v: unknown }): void {
  const all = slots(holder);
  const [obj, key] = all[g(fc.nat, { max: all.length - 1 })]!;
  const target = obj[key];
  const isObj = target !== null && typeof target === 'object' && !Array.isArray(target);
  switch (g(fc.nat, { max: 6 })) {
    case 0: // drop
      if (Array.isArray(obj)) obj.splice(key as number, 1);
      else delete obj[key];
      return;
    case 1: // duplicate a key (the second value wins in JSON.parse)
      if (isObj && !(target instanceof Raw) && !(target instanceof Entries)) {
        const pairs = Object.entries(target as object);
        if (pairs.length > 0) {
          const [k, x] = pairs[g(fc.nat, { max: pairs.length - 1 })]!;
          pairs.push([k, g(fc.boolean) ? x : oddValue(g)]);
          obj[key] = new Entries(pairs);
        }
      }
      return;
    case 2: // a prototype key inside an object
      if (isObj && !(target instanceof Raw) && !(target instanceof Entries)) {
        const pairs = Object.entries(target as object);
        pairs.splice(g(fc.nat, { max: pairs.length }), 0, [g(fc.constantFrom, ...PROTO_KEYS), oddValue(g)]);
        obj[key] = new Entries(pairs);
        return;
      }
      obj[key] = oddValue(g);
      return;
    case 3: // an unknown (possibly unicode) field
      if (isObj && !(target instanceof Raw) && !(target instanceof Entries)) {
        (target as Record<string, unknown>)[g(binary, 8)] = oddValue(g);
        return;
      }
      obj[key] = oddValue(g);
      return;
    case 4: // wrap in an array, or unwrap an array
      obj[key] = Array.isArray(target) ? target[0] : [target];
      return;
    default: // retype
      obj[key] = oddValue(g);
  }
}

interface Request {
  method: HTTPMethods;
  url: string;
  payload?: string;
  headers: Record<string, string>;
}

/** Percent-encodes every UTF-8 byte outside the unreserved set (lone surrogates become U+FFFD). */
function encodeSegment(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function segment(g: Gen, kind: 'name' | 'id' | 'field' | 'rest'): string {
  const common = g(fc.nat, { max: 9 });
  if (common === 0) return encodeSegment(g(binary, 300));
  if (common === 1)
    return g(
      fc.constantFrom,
      '%',
      '%zz',
      '%E0%A4%A',
      '..',
      '.',
      '%2E%2E',
      'a%2Fb',
      '%00',
      ' ',
      'x'.repeat(2000),
    );
  switch (kind) {
    case 'name':
      return g(
        fc.constantFrom,
        'c',
        'c',
        'c',
        'c',
        'a',
        'a',
        'g',
        'g',
        'missing',
        '__proto__',
        'constructor',
        'fresh',
      );
    case 'id':
      return g(
        fc.constantFrom,
        '1',
        '0',
        '999',
        String(U64_MAX),
        String(U64_MAX + 1n),
        '-1',
        '1.5',
        UUID,
        'abc',
      );
    case 'field':
      return g(fc.constantFrom, 'n', 'tag', 'nope', '__proto__', 'a.b');
    default:
      return g(fc.constantFrom, 'x', 'matrix', 'batch', 'pairs');
  }
}

function queryString(g: Gen): string {
  return g(
    fc.constantFrom,
    '',
    '',
    '?wait=true',
    '?wait=false',
    '?wait=',
    '?wait=1',
    '?wait=0',
    '?wait=yes',
    '?wait=true&wait=false',
    '?wait[]=1',
    '?__proto__[polluted]=1&__proto__=x',
    '?constructor[prototype][polluted]=1',
    `?wait=${encodeSegment('\ud800é\u0000')}`,
    '?%zz=1',
    '?from_seq=0',
    '?from_seq=-1',
    '?from_seq=abc',
    '?from_seq=1e999',
    '?from_seq=99999999999999999999999',
  );
}

function contentType(g: Gen): string | undefined {
  if (g(fc.nat, { max: 9 }) < 8) return 'application/json';
  return g(
    fc.constantFrom,
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'text/plain',
    'application/json; charset=latin1',
    'application/json; boundary',
    'application/x-ndjson',
    'application/x-ndjson',
    'text/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    ';;;',
    '',
    undefined,
  );
}

function makeRequest(g: Gen, routes: { method: HTTPMethods; path: string }[]): Request {
  // Routes that do something (those with templates) are picked more often than the 501 stubs.
  const served = routes.filter((r) => `${r.method} ${r.path}` in TEMPLATES);
  const pool = g(fc.nat, { max: 3 }) === 0 ? routes : served;
  const route = pool[g(fc.nat, { max: pool.length - 1 })]!;
  const method = g(fc.nat, { max: 9 }) === 0 ? g(fc.constantFrom, ...METHODS) : route.method;
  let path = route.path.replace(/:(\w+)|\*/g, (_, param?: string) =>
    segment(g, param === 'name' ? 'name' : param === 'id' ? 'id' : param === 'field' ? 'field' : 'rest'),
  );
  if (g(fc.nat, { max: 19 }) === 0) path += `/${segment(g, 'rest')}`;
  const url = path + queryString(g);

  let text: string | undefined;
  const templates = TEMPLATES[`${route.method} ${route.path}`] ?? [{}];
  switch (g(fc.nat, { max: 9 })) {
    case 0:
      text = undefined;
      break;
    case 1:
      text = JSON.stringify(g(fc.jsonValue, { maxDepth: 4 }));
      break;
    case 2:
      text = g(binary, 100);
      break;
    case 3: // a valid body, untouched
      text = toText(templates[g(fc.nat, { max: templates.length - 1 })]);
      break;
    default: {
      const holder = { v: structuredClone(templates[g(fc.nat, { max: templates.length - 1 })]) };
      const n = g(fc.integer, { min: 1, max: 4 });
      for (let i = 0; i < n; i++) mutate(g, holder);
      text = toText(holder.v);
    }
  }
  if (text !== undefined && g(fc.nat, { max: 9 }) === 0)
    text = text.slice(0, g(fc.nat, { max: text.length }));
  const type = contentType(g);
  const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
  if (g(fc.nat, { max: 9 }) === 0) {
    headers['last-event-id'] = g(fc.constantFrom, '3', '-1', 'abc', '1e999', '99999999999999999999', '');
  }
  return { method, url, ...(text === undefined ? {} : { payload: text }), headers };
}

// ---------------------------------------------------------------- checks

/** Streaming responses (the SSE change feed) never end on success: cut them after a moment. */
const STREAMING = /\/changes(?:[/?]|$)/;

/** inject, aborted after a bound: a streaming route may stay open, any other request must finish. */
async function injectBounded(req: Request): Promise<LightMyRequestResponse | 'stream'> {
  const streaming = req.method === 'GET' && STREAMING.test(req.url);
  const signal = AbortSignal.timeout(streaming ? 100 : 10_000);
  try {
    return await app.inject({ ...req, signal });
  } catch (e) {
    if (signal.aborted && streaming) return 'stream';
    if (signal.aborted) throw new Error('no answer within 10 s');
    throw e;
  }
}

function describeRequest(req: Request): string {
  const text = req.payload ?? '';
  const body = req.payload === undefined ? '(no body)' : JSON.stringify(text.slice(0, 400));
  const more = text.length > 400 ? `… (${text.length} chars)` : '';
  return `${req.method} ${req.url.slice(0, 300)} content-type=${req.headers['content-type']} body=${body}${more}`;
}

function checkResponse(req: Request, res: LightMyRequestResponse): void {
  const where = `${req.method} ${req.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
  const type = String(res.headers['content-type'] ?? '');
  if (res.statusCode >= 500) {
    expect(res.statusCode, where).toBe(501);
  }
  if (req.method === 'HEAD') return;
  if (res.statusCode >= 400) {
    expect(type, where).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(isErrorCode(body.code), where).toBe(true);
    const code = body.code as keyof typeof errors;
    expect(errors[code].status, where).toBe(res.statusCode);
    if (res.statusCode === 501) expect(code, where).toBe('UNSUPPORTED_ENDPOINT');
    expect(body.hint, where).toBe(errors[code].hint);
    expect(body.result, where).toBeNull();
    expect(typeof body.time, where).toBe('number');
    const status = body.status as { error?: unknown } | null;
    expect(typeof status?.error === 'string' && status.error.length > 0, where).toBe(true);
    return;
  }
  if (type.startsWith('application/json')) {
    const body = JSON.parse(res.body) as Record<string, unknown>;
    if ('result' in body) {
      expect(body.status, where).toBe('ok');
      expect(typeof body.time, where).toBe('number');
    }
  }
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

// In-process, and in a worker thread as `surgevec serve` runs it (values cross by structured clone).
describe.each([
  ['Engine', (c) => Engine.open(c)],
  ['WorkerEngine', (c) => WorkerEngine.open(c)],
] as [string, (c: ReturnType<typeof defaultConfig>) => Promise<EngineApi>][])('%s', (kind, openEngine) => {
  beforeAll(async () => {
    const config = defaultConfig({ storage: { data_dir: join(root, kind), fsync: false } });
    engine = await openEngine(config);
    app = await buildApp({ engine, config });
    await seedFixture();
    baseline = await fingerprint();
  });

  afterAll(async () => {
    await app.close();
    await engine.close();
  });

  it(
    `fuzzes every route (seed ${SEED}, ${NUM_RUNS} runs): no 5xx, well-formed errors, no change on 4xx`,
    fuzz,
  );
});

async function fuzz(): Promise<void> {
  const routes = appRoutes(app);
  expect(routes.length).toBeGreaterThan(40);
  const statuses = new Map<number, number>();
  let reseeds = 0;
  let streams = 0;
  const started = performance.now();
  try {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        // A previous run's successful write may have changed the data: start each run from the fixture.
        let before = await fingerprint();
        if (before !== baseline) {
          await seedFixture();
          reseeds++;
          before = await fingerprint();
          expect(before).toBe(baseline);
        }
        const req = makeRequest(g, routes);
        try {
          const res = await injectBounded(req);
          if (res === 'stream') {
            streams++;
            return;
          }
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          checkResponse(req, res);
          const health = await app.inject({ method: 'GET', url: '/healthz' });
          expect(health.statusCode).toBe(200);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoNames);
          expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayProtoNames);
          if (res.statusCode >= 400) {
            const what = `${res.statusCode} ${res.body.slice(0, 200)} changed data`;
            expect(await fingerprint(), what).toBe(before);
          } else {
            await expectStoredDataValid();
          }
        } catch (e) {
          throw new Error(`${describeRequest(req)}\n  ${(e as Error).message}`);
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  } catch (e) {
    const cause = (e as Error).cause instanceof Error ? `\n${((e as Error).cause as Error).message}` : '';
    throw new Error(`fuzz failed with seed ${SEED} (numRuns ${NUM_RUNS}): ${(e as Error).message}${cause}`);
  }
  const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
  console.info(
    `fuzz: seed ${SEED}, ${NUM_RUNS} runs in ${Math.round(performance.now() - started)} ms: ${summary.join(' ')}` +
      ` (fixture restored ${reseeds}×, streams cut ${streams}×)`,
  );
  // The mix must reach the engine, not only the parser: some successes and some of each error family.
  expect(statuses.get(200) ?? 0).toBeGreaterThan(NUM_RUNS / 20);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(NUM_RUNS / 10);
  expect(statuses.get(404) ?? 0).toBeGreaterThan(0);
}
