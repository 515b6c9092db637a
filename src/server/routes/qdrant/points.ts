/** Point writes and reads: Qdrant paths, bodies and result shapes. */
import type { FastifyInstance } from 'fastify';
import type { PointInput, UpsertBatch, WithPayload } from '../../../engine/index.js';
import { SurgeError } from '../../../protocol/errors.js';
import {
  countBody,
  deletePayloadBody,
  parseBody,
  retrieveBody,
  scrollBody,
  selectorBody,
  setPayloadBody,
  upsertBody,
} from '../../../protocol/qdrant.js';
import { ok } from '../../envelope.js';
import { collectionParam, selector, writeOptions } from './params.js';

/** Qdrant's `with_vector` may name vectors; with one unnamed vector any non-empty list means "yes". */
export function wantVector(w: boolean | string[] | undefined): boolean {
  return Array.isArray(w) ? w.length > 0 : w === true;
}

function unnamedVector(v: unknown, where: string): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    throw new SurgeError('UNSUPPORTED_FEATURE', `${where}: named or sparse vectors are not supported`);
  }
  return v;
}

/** A Qdrant upsert body (`points` or `batch`) as the engine takes it (also used by the WebSocket route). */
export function upsertInput(body: unknown): PointInput[] | UpsertBatch {
  const b = parseBody(upsertBody, body);
  if (b.points) {
    return b.points.map((p, i) => ({
      id: p.id,
      vector: unnamedVector(p.vector, `points[${i}].vector`) as number[],
      payload: (p.payload ?? null) as PointInput['payload'],
    }));
  }
  const batch = b.batch!;
  const vectors = unnamedVector(batch.vectors, 'batch.vectors');
  if (!Array.isArray(vectors))
    throw new SurgeError('INVALID_REQUEST', 'batch.vectors must be a list of vectors');
  if (vectors.length !== batch.ids.length || (batch.payloads && batch.payloads.length !== batch.ids.length)) {
    throw new SurgeError(
      'INVALID_REQUEST',
      'batch.ids, batch.vectors and batch.payloads must have the same length',
    );
  }
  return { ids: batch.ids, vectors, payloads: (batch.payloads ?? null) as never };
}

export async function pointRoutes(app: FastifyInstance): Promise<void> {
  const { engine } = app.surge;

  app.put('/collections/:name/points', async (req) => {
    const points = upsertInput(req.body);
    return ok(await engine.upsert(collectionParam(req), points, writeOptions(req)), req.startedAt);
  });

  app.post('/collections/:name/points', async (req) => {
    const b = parseBody(retrieveBody, req.body);
    const records = await engine.retrieve(
      collectionParam(req),
      b.ids,
      b.with_payload ?? true,
      wantVector(b.with_vector),
    );
    return ok(records, req.startedAt);
  });

  app.get('/collections/:name/points/:id', async (req) => {
    const raw = (req.params as { id: string }).id;
    const id = /^\d+$/.test(raw) ? (raw.length > 15 ? BigInt(raw) : Number(raw)) : raw;
    const [record] = await engine.retrieve(collectionParam(req), [id], true, true);
    if (!record) throw new SurgeError('POINT_NOT_FOUND', `No point with id ${raw} found`, { id: raw });
    return ok(record, req.startedAt);
  });

  app.post('/collections/:name/points/delete', async (req) => {
    const b = parseBody(selectorBody, req.body);
    return ok(await engine.deletePoints(collectionParam(req), selector(b), writeOptions(req)), req.startedAt);
  });

  app.post('/collections/:name/points/payload', async (req) => {
    const b = parseBody(setPayloadBody, req.body);
    const options = { ...writeOptions(req), ...(b.key !== undefined ? { key: b.key } : {}) };
    return ok(
      await engine.setPayload(collectionParam(req), b.payload as never, selector(b), options),
      req.startedAt,
    );
  });

  app.put('/collections/:name/points/payload', async (req) => {
    const b = parseBody(setPayloadBody, req.body);
    if (b.key !== undefined) throw new SurgeError('INVALID_REQUEST', 'overwrite_payload takes no "key"');
    return ok(
      await engine.overwritePayload(collectionParam(req), b.payload as never, selector(b), writeOptions(req)),
      req.startedAt,
    );
  });

  app.post('/collections/:name/points/payload/delete', async (req) => {
    const b = parseBody(deletePayloadBody, req.body);
    return ok(
      await engine.deletePayload(collectionParam(req), b.keys, selector(b), writeOptions(req)),
      req.startedAt,
    );
  });

  app.post('/collections/:name/points/payload/clear', async (req) => {
    const b = parseBody(selectorBody, req.body);
    return ok(await engine.clearPayload(collectionParam(req), selector(b), writeOptions(req)), req.startedAt);
  });

  app.post('/collections/:name/points/scroll', async (req) => {
    const b = parseBody(scrollBody, req.body);
    if (b.order_by !== undefined)
      throw new SurgeError('UNSUPPORTED_FEATURE', 'scroll order_by is not supported');
    const result = await engine.scroll(collectionParam(req), {
      filter: b.filter as never,
      limit: b.limit ?? 10,
      offset: b.offset ?? null,
      with_payload: (b.with_payload ?? true) as WithPayload,
      with_vector: wantVector(b.with_vector),
    });
    return ok(result, req.startedAt);
  });

  app.post('/collections/:name/points/count', async (req) => {
    const b = parseBody(countBody, req.body);
    return ok(
      { count: await engine.count(collectionParam(req), (b.filter ?? null) as never) },
      req.startedAt,
    );
  });
}
