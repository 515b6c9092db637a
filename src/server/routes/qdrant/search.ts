/** Search, batch search and the universal query API (the vector / point-id subset). */
import type { FastifyInstance } from 'fastify';
import type { EngineApi, Filter, ScoredPoint, SearchRequest, WithPayload } from '../../../engine/index.js';
import { SurgeError } from '../../../protocol/errors.js';
import {
  parseBody,
  pointIdSchema,
  queryBody,
  searchBatchBody,
  searchBody,
} from '../../../protocol/qdrant.js';
import { ok } from '../../envelope.js';
import type { SearchBatcher } from '../../search-batcher.js';
import { collectionParam } from './params.js';
import { wantVector } from './points.js';

function searchRequest(body: unknown, where = 'body'): SearchRequest {
  const b = parseBody(searchBody, body, where);
  if (b.vector !== null && typeof b.vector === 'object' && !Array.isArray(b.vector)) {
    throw new SurgeError('UNSUPPORTED_FEATURE', `${where}.vector: named or sparse vectors are not supported`);
  }
  return {
    vector: b.vector as number[],
    limit: b.limit,
    offset: b.offset ?? 0,
    filter: (b.filter ?? null) as Filter | null,
    score_threshold: b.score_threshold ?? null,
    with_payload: (b.with_payload ?? false) as WithPayload,
    with_vector: wantVector(b.with_vector),
    params: b.params ? { hnsw_ef: b.params.hnsw_ef ?? null, exact: b.params.exact ?? null } : null,
  };
}

const UNSUPPORTED_QUERIES = [
  'recommend',
  'discover',
  'context',
  'order_by',
  'fusion',
  'sample',
  'formula',
  'rrf',
];

/** Turns a universal-query body into a search (or a scroll when there is no query). */
async function runQuery(
  engine: EngineApi,
  batcher: SearchBatcher,
  name: string,
  body: unknown,
  where = 'body',
) {
  const b = parseBody(queryBody, body, where);
  for (const what of ['prefetch', 'lookup_from', 'using'] as const) {
    if (b[what] !== undefined)
      throw new SurgeError('UNSUPPORTED_FEATURE', `query "${what}" is not supported`);
  }
  let q: unknown = b.query;
  if (q !== null && typeof q === 'object' && !Array.isArray(q)) {
    const kind = Object.keys(q)[0] ?? '';
    if (kind !== 'nearest') {
      throw new SurgeError(
        UNSUPPORTED_QUERIES.includes(kind) ? 'UNSUPPORTED_FEATURE' : 'INVALID_REQUEST',
        `query "${kind}" is not supported; use a vector, {"nearest": vector}, or a point id`,
      );
    }
    q = (q as { nearest: unknown }).nearest;
  }
  const limit = b.limit ?? 10;
  const with_payload = (b.with_payload ?? false) as WithPayload;
  const with_vector = wantVector(b.with_vector);
  let filter = (b.filter ?? null) as Filter | null;
  if (q === undefined) {
    // No query: points in id order, as Qdrant does.
    const page = await engine.scroll(name, {
      filter,
      limit: limit + (b.offset ?? 0),
      with_payload,
      with_vector,
    });
    return page.points.slice(b.offset ?? 0).map((p) => ({ ...p, version: 0, score: 0 }));
  }
  if (!Array.isArray(q)) {
    const id = pointIdSchema.safeParse(q);
    if (!id.success)
      throw new SurgeError(
        'INVALID_REQUEST',
        `${where}.query must be a vector, {"nearest": …} or a point id`,
      );
    const [point] = await engine.retrieve(name, [id.data], false, true);
    if (!point) throw new SurgeError('POINT_NOT_FOUND', `No point with id ${String(id.data)} found`);
    // Searching by a point's id never returns that point (Qdrant's behaviour).
    const exclude = { has_id: [id.data] };
    filter = filter ? { must: [filter], must_not: [exclude] } : { must_not: [exclude] };
    q = point.vector;
  }
  return batcher.search(name, {
    vector: q as number[],
    limit,
    offset: b.offset ?? 0,
    filter,
    score_threshold: b.score_threshold ?? null,
    with_payload,
    with_vector,
    params: b.params ? { hnsw_ef: b.params.hnsw_ef ?? null, exact: b.params.exact ?? null } : null,
  });
}

export async function searchRoutes(app: FastifyInstance): Promise<void> {
  const { engine, batcher } = app.surge;

  app.post('/collections/:name/points/search', async (req) => {
    const request = searchRequest(req.body);
    return ok(await batcher.search(collectionParam(req), request), req.startedAt);
  });

  app.post('/collections/:name/points/search/batch', async (req) => {
    const b = parseBody(searchBatchBody, req.body);
    const requests = b.searches.map((s, i) => searchRequest(s, `body.searches[${i}]`));
    return ok(await engine.searchBatch(collectionParam(req), requests), req.startedAt);
  });

  app.post('/collections/:name/points/query', async (req) => {
    const points: ScoredPoint[] = await runQuery(engine, batcher, collectionParam(req), req.body);
    return ok({ points }, req.startedAt);
  });

  app.post('/collections/:name/points/query/batch', async (req) => {
    const b = parseBody(searchBatchBody, req.body);
    const name = collectionParam(req);
    const results = await Promise.all(
      b.searches.map((s, i) => runQuery(engine, batcher, name, s, `body.searches[${i}]`)),
    );
    return ok(
      results.map((points) => ({ points })),
      req.startedAt,
    );
  });
}
