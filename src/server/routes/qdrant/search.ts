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
import type { SearchBatcher, SearchPriority } from '../../search-batcher.js';
import { collectionParam } from './params.js';
import { wantVector } from './points.js';

/** Qdrant's search `params`: the two we honour (ef and exact); quantization options are accepted and unused. */
function searchParams(p: { hnsw_ef?: number | undefined; exact?: boolean | undefined } | undefined) {
  return p ? { hnsw_ef: p.hnsw_ef ?? null, exact: p.exact ?? null } : null;
}

export function searchRequest(body: unknown, where = 'body'): SearchRequest {
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
    params: searchParams(b.params),
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

/** Object forms of Qdrant's VectorInput surgevec does not serve, by the key that tells them apart. */
const UNSUPPORTED_INPUTS: Record<string, string> = {
  indices: 'sparse vectors',
  text: 'inference (Document queries)',
  image: 'inference (Image queries)',
  object: 'inference (InferenceObject queries)',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A VectorInput: a dense vector or a point id pass through; other forms name what is missing. */
function vectorInput(v: unknown, path: string): unknown {
  if (!isObject(v)) return v;
  const keys = Object.keys(v);
  const input = keys.find((k) => k in UNSUPPORTED_INPUTS);
  if (input)
    throw new SurgeError('UNSUPPORTED_FEATURE', `${path}: ${UNSUPPORTED_INPUTS[input]} are not supported`);
  const kind = keys[0] ?? '';
  throw new SurgeError(
    UNSUPPORTED_QUERIES.includes(kind) ? 'UNSUPPORTED_FEATURE' : 'INVALID_REQUEST',
    `query "${kind}" is not supported; use a vector, {"nearest": vector}, or a point id`,
  );
}

/** `query` → a dense vector or a point id (or undefined: no query). */
function unwrapQuery(q: unknown, where: string): unknown {
  if (!isObject(q) || !('nearest' in q)) return vectorInput(q, `${where}.query`);
  for (const [k, v] of Object.entries(q)) {
    if (k === 'nearest' || v === null || v === undefined) continue;
    if (k === 'mmr') {
      throw new SurgeError('UNSUPPORTED_FEATURE', `${where}.query.mmr: MMR re-ranking is not supported`);
    }
    throw new SurgeError('INVALID_REQUEST', `${where}.query.${k}: unknown field of a nearest query`);
  }
  return vectorInput(q.nearest, `${where}.query.nearest`);
}

/** Turns a universal-query body into a search (or a scroll when there is no query). */
export async function runQuery(
  engine: EngineApi,
  batcher: SearchBatcher,
  name: string,
  body: unknown,
  where = 'body',
  priority?: SearchPriority,
) {
  const b = parseBody(queryBody, body, where);
  for (const what of ['prefetch', 'lookup_from', 'using'] as const) {
    if (b[what] !== undefined)
      throw new SurgeError('UNSUPPORTED_FEATURE', `query "${what}" is not supported`);
  }
  let q = unwrapQuery(b.query, where);
  const limit = b.limit ?? 10;
  const with_payload = (b.with_payload ?? false) as WithPayload;
  const with_vector = wantVector(b.with_vector);
  let filter = (b.filter ?? null) as Filter | null;
  if (q === undefined) {
    // No query: points in id order, as Qdrant does. The scroll checks limit + offset, not each of them.
    if (limit < 1) throw new SurgeError('INVALID_REQUEST', `${where}.limit must be an integer >= 1`);
    if ((b.offset ?? 0) < 0)
      throw new SurgeError('INVALID_REQUEST', `${where}.offset must be an integer >= 0`);
    const page = await engine.scroll(name, {
      filter,
      limit: limit + (b.offset ?? 0),
      with_payload,
      with_vector,
    });
    // Qdrant's scroll-as-query answers version 0 and score 1.0 (local_shard/scroll.rs, query_scroll).
    return page.points.slice(b.offset ?? 0).map((p) => ({ ...p, version: 0, score: 1 }));
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
  return batcher.search(
    name,
    {
      vector: q as number[],
      limit,
      offset: b.offset ?? 0,
      filter,
      score_threshold: b.score_threshold ?? null,
      with_payload,
      with_vector,
      params: searchParams(b.params),
    },
    priority,
  );
}

export async function searchRoutes(app: FastifyInstance): Promise<void> {
  const { engine, batcher } = app.surge;

  app.post('/collections/:name/points/search', async (req) => {
    const request = searchRequest(req.body);
    return ok(await batcher.search(collectionParam(req), request, req.adm?.rank), req.startedAt);
  });

  app.post('/collections/:name/points/search/batch', async (req) => {
    const b = parseBody(searchBatchBody, req.body);
    const requests = b.searches.map((s, i) => searchRequest(s, `body.searches[${i}]`));
    return ok(await engine.searchBatch(collectionParam(req), requests), req.startedAt);
  });

  app.post('/collections/:name/points/query', async (req) => {
    const points: ScoredPoint[] = await runQuery(
      engine,
      batcher,
      collectionParam(req),
      req.body,
      'body',
      req.adm?.rank,
    );
    return ok({ points }, req.startedAt);
  });

  app.post('/collections/:name/points/query/batch', async (req) => {
    const b = parseBody(searchBatchBody, req.body);
    const name = collectionParam(req);
    const results = await Promise.all(
      b.searches.map((s, i) => runQuery(engine, batcher, name, s, `body.searches[${i}]`, req.adm?.rank)),
    );
    return ok(
      results.map((points) => ({ points })),
      req.startedAt,
    );
  });
}
