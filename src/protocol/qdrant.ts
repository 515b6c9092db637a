/**
 * Request bodies of Qdrant's REST API that surgevec serves, as zod schemas. Lenient where Qdrant is (extra
 * fields are ignored, nulls mean "absent"); value checks that need collection state (dimensions, ids,
 * payload limits, filters) happen in the engine, which owns those rules.
 */
import { z } from 'zod';
import { SurgeError } from './errors.js';

const opt = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);

export const pointIdSchema = z.union([z.number(), z.bigint(), z.string()]);
const anyJson = z.unknown();
/**
 * A JSON object handed on as sent. z.record would copy it and silently drop a "__proto__" key, so a payload
 * `{"__proto__": 1}` would be stored as `{}` and a filter `{"__proto__": …}` would match every point; the
 * engine, which owns payload and filter rules, must see the key to refuse it.
 */
const jsonObject = z.custom<Record<string, unknown>>(
  (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  { error: 'expected an object' },
);
const filter = opt(jsonObject);
const withPayload = opt(
  z.union([
    z.boolean(),
    z.array(z.string()),
    z.looseObject({ include: z.array(z.string()).optional(), exclude: z.array(z.string()).optional() }),
  ]),
);
const withVector = opt(z.union([z.boolean(), z.array(z.string())]));

const hnswConfig = z.looseObject({
  m: opt(z.int()),
  ef_construct: opt(z.int()),
  full_scan_threshold: opt(z.int()),
  max_indexing_threads: opt(z.int()),
  on_disk: opt(z.boolean()),
  payload_m: opt(z.int()),
});

export const createCollectionBody = z.looseObject({
  vectors: z.unknown(),
  hnsw_config: opt(hnswConfig),
  shard_number: opt(z.int()),
  replication_factor: opt(z.int()),
  write_consistency_factor: opt(z.int()),
  on_disk_payload: opt(z.boolean()),
  optimizers_config: opt(z.unknown()),
  wal_config: opt(z.unknown()),
  quantization_config: opt(z.unknown()),
  sparse_vectors: opt(z.unknown()),
  sharding_method: opt(z.string()),
  init_from: opt(z.unknown()),
});

export const vectorParams = z.looseObject({
  size: z.int(),
  distance: z.string(),
  hnsw_config: opt(hnswConfig),
  quantization_config: opt(z.unknown()),
  on_disk: opt(z.boolean()),
  multivector_config: opt(z.unknown()),
  datatype: opt(z.string()),
});

export const aliasesBody = z.looseObject({ actions: z.array(z.record(z.string(), anyJson)) });

export const createIndexBody = z.looseObject({
  field_name: z.string().min(1),
  field_schema: z.union([z.string(), z.looseObject({ type: z.string() })]),
});

export const upsertBody = z
  .looseObject({
    points: opt(
      z.array(z.looseObject({ id: pointIdSchema, vector: z.unknown(), payload: opt(z.unknown()) })),
    ),
    batch: opt(
      z.looseObject({
        ids: z.array(pointIdSchema),
        vectors: z.unknown(),
        payloads: opt(z.array(z.unknown().nullable())),
      }),
    ),
  })
  .refine((b) => (b.points === undefined) !== (b.batch === undefined), {
    message: 'give either "points": [...] or "batch": {ids, vectors, payloads}',
  });

export const retrieveBody = z.looseObject({
  ids: z.array(pointIdSchema),
  with_payload: withPayload,
  with_vector: withVector,
});

export const selectorBody = z.looseObject({
  points: opt(z.array(pointIdSchema)),
  filter,
});

export const setPayloadBody = z.looseObject({
  payload: jsonObject,
  points: opt(z.array(pointIdSchema)),
  filter,
  key: opt(z.string()),
});

export const deletePayloadBody = z.looseObject({
  keys: z.array(z.string()),
  points: opt(z.array(pointIdSchema)),
  filter,
});

export const scrollBody = z.looseObject({
  offset: opt(pointIdSchema),
  limit: opt(z.int()),
  filter,
  with_payload: withPayload,
  with_vector: withVector,
  order_by: opt(z.unknown()),
});

export const countBody = z.looseObject({ filter, exact: opt(z.boolean()) });

const searchParams = opt(
  z.looseObject({
    hnsw_ef: opt(z.int()),
    exact: opt(z.boolean()),
    quantization: opt(z.unknown()),
    indexed_only: opt(z.boolean()),
  }),
);

export const searchBody = z.looseObject({
  vector: z.unknown(),
  filter,
  params: searchParams,
  limit: z.int(),
  offset: opt(z.int()),
  with_payload: withPayload,
  with_vector: withVector,
  score_threshold: opt(z.number()),
});

export const queryBody = z.looseObject({
  query: opt(z.unknown()),
  using: opt(z.string()),
  prefetch: opt(z.unknown()),
  filter,
  params: searchParams,
  limit: opt(z.int()),
  offset: opt(z.int()),
  with_payload: withPayload,
  with_vector: withVector,
  score_threshold: opt(z.number()),
  lookup_from: opt(z.unknown()),
});

export const searchBatchBody = z.looseObject({ searches: z.array(z.unknown()) });

/** Validates `body` or throws INVALID_REQUEST naming the first bad field by its JSON path. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, where = 'body'): z.output<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.length ? `${where}.${issue.path.map(String).join('.')}` : where;
  throw new SurgeError('INVALID_REQUEST', `${path}: ${issue.message}`);
}
