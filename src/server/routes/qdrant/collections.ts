/** Collections, aliases and payload indexes: Qdrant paths, bodies and result shapes. */
import type { FastifyInstance } from 'fastify';
import type {
  CollectionInfo,
  CreateCollectionOptions,
  Distance,
  PayloadSchemaType,
} from '../../../engine/index.js';
import { SurgeError } from '../../../protocol/errors.js';
import {
  aliasesBody,
  createCollectionBody,
  createIndexBody,
  parseBody,
  vectorParams,
} from '../../../protocol/qdrant.js';
import { ok } from '../../envelope.js';
import { collectionParam, writeOptions } from './params.js';

const DISTANCES: Record<string, Distance> = { Cosine: 'Cosine', Euclid: 'Euclid', Dot: 'Dot' };

function createOptions(body: unknown): CreateCollectionOptions {
  const b = parseBody(createCollectionBody, body);
  if (b.vectors === undefined || b.vectors === null) {
    throw new SurgeError('INVALID_REQUEST', 'body.vectors is required: {"size": N, "distance": "Cosine"}');
  }
  if (typeof b.vectors === 'object' && !Array.isArray(b.vectors) && !('size' in b.vectors)) {
    throw new SurgeError('UNSUPPORTED_FEATURE', 'named vectors are not supported: use one unnamed vector');
  }
  const v = parseBody(vectorParams, b.vectors, 'body.vectors');
  const distance = DISTANCES[v.distance];
  if (!distance) {
    throw new SurgeError(
      v.distance === 'Manhattan' ? 'UNSUPPORTED_FEATURE' : 'INVALID_REQUEST',
      `distance ${JSON.stringify(v.distance)} is not supported; use Cosine, Euclid or Dot`,
    );
  }
  for (const [what, value] of [
    ['quantization_config', b.quantization_config ?? v.quantization_config],
    ['sparse_vectors', b.sparse_vectors],
    ['multivector_config', v.multivector_config],
    ['init_from', b.init_from],
  ] as const) {
    if (value !== undefined) throw new SurgeError('UNSUPPORTED_FEATURE', `${what} is not supported`);
  }
  const hnsw = { ...(b.hnsw_config ?? {}), ...(v.hnsw_config ?? {}) };
  return {
    size: v.size,
    distance,
    hnsw: {
      ...(hnsw.m !== undefined ? { m: hnsw.m } : {}),
      ...(hnsw.ef_construct !== undefined ? { ef_construct: hnsw.ef_construct } : {}),
      ...(hnsw.full_scan_threshold !== undefined ? { full_scan_threshold: hnsw.full_scan_threshold } : {}),
    },
  };
}

/** Qdrant's CollectionInfo shape, filled from ours. */
function qdrantInfo(info: CollectionInfo) {
  const c = info.config;
  return {
    status: info.status,
    optimizer_status: 'ok',
    indexed_vectors_count: info.indexed_vectors_count,
    points_count: info.points_count,
    segments_count: info.segments_count,
    config: {
      params: {
        vectors: { size: c.size, distance: c.distance },
        shard_number: 1,
        replication_factor: 1,
        write_consistency_factor: 1,
        on_disk_payload: false,
      },
      hnsw_config: {
        m: c.hnsw.m,
        ef_construct: c.hnsw.ef_construct,
        full_scan_threshold: c.hnsw.full_scan_threshold,
        max_indexing_threads: 1,
        on_disk: false,
      },
      optimizer_config: {
        deleted_threshold: 0.2,
        vacuum_min_vector_number: 0,
        default_segment_number: 0,
        max_segment_size: c.segment_max_points,
        memmap_threshold: null,
        indexing_threshold: 0,
        flush_interval_sec: 0,
        max_optimization_threads: 1,
      },
      wal_config: { wal_capacity_mb: 64, wal_segments_ahead: 0 },
      quantization_config: null,
      strict_mode_config: null,
    },
    // Qdrant omits `params` when an index has none (skip_serializing_if = "Option::is_none").
    payload_schema: Object.fromEntries(
      Object.entries(info.payload_schema).map(([k, v]) => [k, { data_type: v.data_type, points: v.points }]),
    ),
    // Ours, beside Qdrant's: the last applied sequence number (read-after-write tokens, change feed).
    seq: info.seq,
  };
}

const SCHEMAS: Record<string, PayloadSchemaType> = {
  keyword: 'keyword',
  integer: 'integer',
  float: 'float',
  bool: 'bool',
};

export async function collectionRoutes(app: FastifyInstance): Promise<void> {
  const { engine } = app.surge;

  app.get('/collections', async (req) => {
    const names = await engine.listCollections();
    return ok({ collections: names.map((name) => ({ name })) }, req.startedAt);
  });

  app.put('/collections/:name', async (req) => {
    await engine.createCollection(collectionParam(req), createOptions(req.body));
    return ok(true, req.startedAt);
  });

  app.patch('/collections/:name', async () => {
    throw new SurgeError('UNSUPPORTED_FEATURE', 'updating collection parameters is not supported');
  });

  app.get('/collections/:name', async (req) =>
    ok(qdrantInfo(await engine.collectionInfo(collectionParam(req))), req.startedAt),
  );

  app.delete('/collections/:name', async (req) =>
    ok(await engine.dropCollection(collectionParam(req)), req.startedAt),
  );

  app.get('/collections/:name/exists', async (req) =>
    ok({ exists: await engine.collectionExists(collectionParam(req)) }, req.startedAt),
  );

  app.post('/collections/aliases', async (req) => {
    const b = parseBody(aliasesBody, req.body);
    await engine.updateAliases(b.actions as never);
    return ok(true, req.startedAt);
  });

  app.get('/aliases', async (req) => ok({ aliases: await engine.listAliases() }, req.startedAt));

  app.get('/collections/:name/aliases', async (req) =>
    ok({ aliases: await engine.listAliases(collectionParam(req)) }, req.startedAt),
  );

  app.put('/collections/:name/index', async (req) => {
    const b = parseBody(createIndexBody, req.body);
    const type = typeof b.field_schema === 'string' ? b.field_schema : b.field_schema.type;
    const schema = SCHEMAS[type];
    if (!schema) {
      throw new SurgeError('UNSUPPORTED_FEATURE', `payload index type "${type}" is not supported`, {
        supported: Object.keys(SCHEMAS),
      });
    }
    return ok(
      await engine.createPayloadIndex(collectionParam(req), b.field_name, schema, writeOptions(req)),
      req.startedAt,
    );
  });

  app.delete('/collections/:name/index/:field', async (req) => {
    const field = (req.params as { field: string }).field;
    return ok(await engine.deletePayloadIndex(collectionParam(req), field, writeOptions(req)), req.startedAt);
  });
}
