/**
 * Errors: every catalogue code has its class, built from the server's exact error bodies (REST envelope and
 * stream error objects). Wire types: every request type of protocol/wire.ts is accepted by the zod schema
 * the server validates it with — at compile time (the `Accepts` tuple fails `tsc` otherwise) and at run
 * time on sample bodies.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  AbortedError,
  ApiError,
  apiErrorFromBody,
  apiErrorFromStream,
  CircuitOpenError,
  ClientDeadlineExceededError,
  CollectionNotFoundError,
  DimensionMismatchError,
  EngineClosedError,
  errorClasses,
  isApiError,
  ThrottledError,
  TransportError,
} from '../../src/client/errors.js';
import { errors, SurgeError } from '../../src/protocol/errors.js';
import * as q from '../../src/protocol/qdrant.js';
import type * as w from '../../src/protocol/wire.js';
import { errorBody } from '../../src/server/envelope.js';

type Accepts<S extends z.ZodType, T> = [T] extends [z.input<S>] ? true : false;
const compileTimeChecks: [
  Accepts<typeof q.createCollectionBody, w.CreateCollectionRequest>,
  Accepts<typeof q.vectorParams, w.VectorParams>,
  Accepts<typeof q.aliasesBody, w.AliasesRequest>,
  Accepts<typeof q.createIndexBody, w.CreateIndexRequest>,
  Accepts<typeof q.upsertBody, w.UpsertRequest>,
  Accepts<typeof q.retrieveBody, w.RetrieveRequest>,
  Accepts<typeof q.selectorBody, w.PointsSelector>,
  Accepts<typeof q.setPayloadBody, w.SetPayloadRequest>,
  Accepts<typeof q.setPayloadBody, w.OverwritePayloadRequest>,
  Accepts<typeof q.deletePayloadBody, w.DeletePayloadRequest>,
  Accepts<typeof q.scrollBody, w.ScrollRequest>,
  Accepts<typeof q.countBody, w.CountRequest>,
  Accepts<typeof q.searchBody, w.SearchRequest>,
  Accepts<typeof q.queryBody, w.QueryRequest>,
  Accepts<typeof q.searchBatchBody, w.SearchBatchRequest>,
  Accepts<typeof q.searchBatchBody, w.QueryBatchRequest>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];

describe('wire types against the server’s schemas', () => {
  it('type-checks every request type against its schema', () => {
    expect(compileTimeChecks.every((c) => c)).toBe(true);
  });

  it('sample requests pass the server’s validation', () => {
    const filter: w.Filter = {
      must: [
        { key: 'lang', match: { value: 'en' } },
        { key: 'n', range: { gte: 1, lt: 9 } },
      ],
      should: [{ has_id: [1, 18446744073709551615n, '550e8400-e29b-41d4-a716-446655440000'] }],
      must_not: { is_empty: { key: 'tags' } },
    };
    const samples: [z.ZodType, unknown][] = [
      [
        q.createCollectionBody,
        {
          vectors: { size: 4, distance: 'Cosine' },
          hnsw_config: { m: 8 },
        } satisfies w.CreateCollectionRequest,
      ],
      [
        q.aliasesBody,
        { actions: [{ create_alias: { alias_name: 'a', collection_name: 'c' } }] } satisfies w.AliasesRequest,
      ],
      [q.createIndexBody, { field_name: 'lang', field_schema: 'keyword' } satisfies w.CreateIndexRequest],
      [q.upsertBody, { points: [{ id: 1, vector: [1, 2], payload: { a: 1 } }] } satisfies w.UpsertRequest],
      [q.upsertBody, { batch: { ids: [1n], vectors: [[1, 2]], payloads: [null] } } satisfies w.UpsertRequest],
      [
        q.retrieveBody,
        { ids: [1], with_payload: { include: ['a'] }, with_vector: true } satisfies w.RetrieveRequest,
      ],
      [q.selectorBody, { filter } satisfies w.PointsSelector],
      [q.setPayloadBody, { payload: { a: 1 }, points: [1], key: 'meta' } satisfies w.SetPayloadRequest],
      [q.deletePayloadBody, { keys: ['a'], filter } satisfies w.DeletePayloadRequest],
      [q.scrollBody, { offset: 10, limit: 5, filter, with_payload: ['a'] } satisfies w.ScrollRequest],
      [q.countBody, { filter, exact: true } satisfies w.CountRequest],
      [
        q.searchBody,
        { vector: [1, 2], limit: 3, params: { hnsw_ef: 64 }, score_threshold: 0.5 } satisfies w.SearchRequest,
      ],
      [q.queryBody, { query: { nearest: [1, 2] }, limit: 3, filter } satisfies w.QueryRequest],
      [q.queryBody, { query: 7 } satisfies w.QueryRequest],
    ];
    for (const [schema, body] of samples) expect(() => q.parseBody(schema, body)).not.toThrow();
  });
});

describe('typed errors', () => {
  it('has a class per catalogue code, named after it', () => {
    for (const code of Object.keys(errors) as (keyof typeof errors)[]) {
      const e = new errorClasses[code]({ status: errors[code].status, message: 'm' });
      expect(e).toBeInstanceOf(ApiError);
      expect([e.code, e.status, e.hint]).toEqual([code, errors[code].status, errors[code].hint]);
      expect(e.name).toMatch(/^[A-Z][A-Za-z]+Error$/);
    }
    expect(new CollectionNotFoundError({ status: 404, message: 'x' }).name).toBe('CollectionNotFoundError');
  });

  it('is built from the server’s own error body, with Retry-After', () => {
    const body = JSON.parse(
      JSON.stringify(
        errorBody(
          new SurgeError('COLLECTION_NOT_FOUND', 'Collection `nope` doesn’t exist!', { collection: 'nope' }),
          0,
        ),
      ),
    );
    const e = apiErrorFromBody(404, body, undefined, 'http://h:1');
    expect(e).toBeInstanceOf(CollectionNotFoundError);
    expect(isApiError(e, 'COLLECTION_NOT_FOUND')).toBe(true);
    expect(isApiError(e, 'POINT_NOT_FOUND')).toBe(false);
    expect({ status: e.status, code: e.code, message: e.message, hint: e.hint, details: e.details }).toEqual({
      status: 404,
      code: 'COLLECTION_NOT_FOUND',
      message: 'Not found: Collection `nope` doesn’t exist!',
      hint: errors.COLLECTION_NOT_FOUND.hint,
      details: { collection: 'nope' },
    });
    expect(e.retryable).toBe(false);
    const busy = apiErrorFromBody(
      503,
      JSON.parse(JSON.stringify(errorBody(new SurgeError('ENGINE_CLOSED', 'closed'), 0))),
      1_500,
    );
    expect(busy).toBeInstanceOf(EngineClosedError);
    expect([busy.retryable, busy.retryAfterMs]).toEqual([true, 1_500]);
  });

  it('keeps answers without a catalogue code (proxies, other servers) as ApiError HTTP_<status>', () => {
    const e = apiErrorFromBody(502, undefined, undefined);
    expect([e.constructor, e.code, e.status, e.retryable]).toEqual([ApiError, 'HTTP_502', 502, true]);
    expect(apiErrorFromBody(418, { status: { error: 'teapot' } }, undefined).message).toBe('teapot');
  });

  it('reads stream error objects (NDJSON, WebSocket, SSE)', () => {
    const e = apiErrorFromStream({ code: 'DIMENSION_MISMATCH', message: 'vector has 3', hint: 'h' });
    expect(e).toBeInstanceOf(DimensionMismatchError);
    expect([e.status, e.hint]).toEqual([400, 'h']);
  });

  it('gives client-side failures their own codes and retryability', () => {
    const cases: [Error & { code: string; retryable: boolean }, string, boolean][] = [
      [new TransportError('x', false, undefined), 'TRANSPORT', true],
      [new ClientDeadlineExceededError('x'), 'CLIENT_DEADLINE_EXCEEDED', false],
      [new AbortedError('x'), 'ABORTED', false],
      [new CircuitOpenError('x', 10), 'CIRCUIT_OPEN', true],
      [new ThrottledError('x', 0.5), 'THROTTLED', false],
    ];
    for (const [e, code, retryable] of cases) expect([e.code, e.retryable]).toEqual([code, retryable]);
  });
});
