/** Small request helpers shared by the Qdrant routes. */
import type { FastifyRequest } from 'fastify';
import type { PointsSelector, WriteOptions } from '../../../engine/index.js';
import { SurgeError } from '../../../protocol/errors.js';

export function collectionParam(req: FastifyRequest): string {
  return (req.params as { name: string }).name;
}

/** Qdrant's `?wait=` query flag (default false: answer once durable, "acknowledged"). */
export function writeOptions(req: FastifyRequest): WriteOptions {
  const wait = (req.query as { wait?: string }).wait;
  if (wait === undefined || wait === 'false' || wait === '0') return { wait: false };
  if (wait === 'true' || wait === '1' || wait === '') return { wait: true };
  throw new SurgeError('INVALID_REQUEST', `wait must be true or false, got ${JSON.stringify(wait)}`);
}

/** Qdrant's PointsSelector: `{points: [...]}` or `{filter: {...}}`. */
export function selector(body: { points?: unknown[] | undefined; filter?: unknown }): PointsSelector {
  if (body.points !== undefined && body.filter !== undefined) {
    throw new SurgeError('INVALID_REQUEST', 'select points with either "points" or "filter", not both');
  }
  if (body.points !== undefined)
    return { points: body.points as PointsSelector extends { points: infer P } ? P : never };
  if (body.filter !== undefined) return { filter: body.filter as never };
  throw new SurgeError('INVALID_REQUEST', 'select points with {"points": [ids]} or {"filter": {...}}');
}
