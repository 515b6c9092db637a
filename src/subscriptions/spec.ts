/**
 * A create request → a SubscriptionSpec, checked with the engine's own rules (vector length and values,
 * filter syntax), so a subscription never holds what a search would refuse.
 */
import { z } from 'zod';
import type { Config } from '../config/index.js';
import {
  type CollectionInfo,
  type Filter,
  parseFilter,
  toVector,
  type WithPayload,
} from '../engine/index.js';
import { SurgeError } from '../protocol/errors.js';
import { parseBody } from '../protocol/qdrant.js';
import type { SubscriptionRequest } from '../protocol/subscriptions.js';
import type { SubscriptionSpec } from './types.js';

const withPayload = z.union([
  z.boolean(),
  z.array(z.string()),
  z.strictObject({ include: z.array(z.string()).optional(), exclude: z.array(z.string()).optional() }),
]);

export const createSubscriptionBody = z.strictObject({
  vector: z.unknown(),
  filter: z.unknown().optional(),
  score_threshold: z.number().optional().nullable(),
  top_k: z.int().min(1).optional().nullable(),
  with_payload: withPayload.optional().nullable(),
  from_seq: z.int().min(1).optional().nullable(),
});

/** Compile-time: every request the wire type allows passes this schema's shape. */
type Accepts<T extends z.input<typeof createSubscriptionBody>> = T;
export type WireRequestAccepted = Accepts<SubscriptionRequest>;

export interface SpecContext {
  id: string;
  tenant: string;
  info: CollectionInfo;
  limits: Config['subscriptions'];
  now: Date;
}

export function parseSpec(body: unknown, ctx: SpecContext, where = 'body'): SubscriptionSpec {
  const b = parseBody(createSubscriptionBody, body, where);
  const { size, distance } = ctx.info.config;
  if (b.vector === undefined) throw new SurgeError('INVALID_REQUEST', `${where}.vector is required`);
  const vector = toVector(b.vector, size, distance, `${where}.vector`);
  const filter: Filter | null =
    b.filter === undefined || b.filter === null ? null : parseFilter(b.filter, `${where}.filter`);
  const topK = b.top_k ?? null;
  if (topK !== null && topK > ctx.limits.max_top_k) {
    throw new SurgeError('LIMIT_EXCEEDED', `top_k ${topK} is above the maximum ${ctx.limits.max_top_k}`, {
      max: ctx.limits.max_top_k,
    });
  }
  if (topK !== null && b.from_seq != null) {
    throw new SurgeError(
      'INVALID_REQUEST',
      `${where}.from_seq applies to threshold subscriptions: a top-k subscription starts from the current top-k`,
    );
  }
  if (b.score_threshold != null && !Number.isFinite(b.score_threshold)) {
    throw new SurgeError('INVALID_REQUEST', `${where}.score_threshold must be a finite number`);
  }
  const current = ctx.info.seq;
  if (b.from_seq != null && b.from_seq > current + 1) {
    throw new SurgeError(
      'INVALID_REQUEST',
      `${where}.from_seq ${b.from_seq} is in the future: the collection is at seq ${current}`,
      { seq: current },
    );
  }
  return {
    id: ctx.id,
    tenant: ctx.tenant,
    collection: ctx.info.name,
    vector,
    filter,
    score_threshold: b.score_threshold ?? null,
    top_k: topK,
    with_payload: (b.with_payload ?? false) as WithPayload,
    seq: b.from_seq != null ? b.from_seq - 1 : current,
    created_at: ctx.now.toISOString(),
  };
}
