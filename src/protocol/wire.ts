/**
 * The shapes on the wire, as TypeScript types: request bodies (what `qdrant.ts` validates), results inside
 * Qdrant's envelope, error bodies, and the streaming extensions' lines and frames (docs/API.md). The server
 * builds these from engine values; the client reads and writes them. `test/client/wire-types.test.ts`
 * checks at compile time that every request type here is accepted by its zod schema in `qdrant.ts`, and
 * at run time that sample bodies pass those schemas. Object shapes are type aliases, not interfaces: only
 * aliases are assignable to the index-signature objects (`looseObject`, `Record`) those schemas take.
 */
import type { ErrorCode } from './errors.js';

// ------------------------------------------------------------------ values

/** Unsigned 64-bit integer (number up to 2^53-1, bigint above) or a UUID string, as in Qdrant. */
export type PointId = number | bigint | string;

export type PayloadValue =
  | string
  | number
  | boolean
  | null
  | PayloadValue[]
  | { [key: string]: PayloadValue };
export type Payload = { [key: string]: PayloadValue };

export type Distance = 'Cosine' | 'Euclid' | 'Dot';
export type PayloadSchemaType = 'keyword' | 'integer' | 'float' | 'bool';

/** Qdrant's filter language, the subset surgevec supports (docs/API.md, "Filters"). */
export type Filter = {
  must?: Condition | Condition[] | null;
  should?: Condition | Condition[] | null;
  must_not?: Condition | Condition[] | null;
};
export type Match =
  | { value: string | number | boolean }
  | { any: (string | number)[] }
  | { except: (string | number)[] };
export type Range = {
  gt?: number | null;
  gte?: number | null;
  lt?: number | null;
  lte?: number | null;
};
export type FieldCondition = {
  key: string;
  match?: Match;
  range?: Range;
};
export type Condition =
  | FieldCondition
  | { is_empty: { key: string } }
  | { is_null: { key: string } }
  | { has_id: PointId[] }
  | Filter;

export type WithPayload = boolean | string[] | { include?: string[]; exclude?: string[] };
export type WithVector = boolean | string[];

// ------------------------------------------------------------------ requests

export type HnswConfigDiff = {
  m?: number;
  ef_construct?: number;
  full_scan_threshold?: number;
};

export type VectorParams = {
  size: number;
  distance: Distance;
  hnsw_config?: HnswConfigDiff;
  on_disk?: boolean;
};

export type CreateCollectionRequest = {
  vectors: VectorParams;
  hnsw_config?: HnswConfigDiff;
  /** Accepted and ignored (one shard, one replica), as the rest of Qdrant's cluster parameters. */
  shard_number?: number;
  replication_factor?: number;
  on_disk_payload?: boolean;
};

export type AliasOperation =
  | { create_alias: { alias_name: string; collection_name: string } }
  | { delete_alias: { alias_name: string } }
  | { rename_alias: { old_alias_name: string; new_alias_name: string } };

export type AliasesRequest = {
  actions: AliasOperation[];
};

export type CreateIndexRequest = {
  field_name: string;
  field_schema: PayloadSchemaType | { type: PayloadSchemaType };
};

export type PointStruct = {
  id: PointId;
  vector: number[];
  payload?: Payload | null;
};

export type UpsertRequest =
  | { points: PointStruct[] }
  | { batch: { ids: PointId[]; vectors: number[][]; payloads?: (Payload | null)[] | null } };

/** Qdrant's PointsSelector: by ids, or by filter. */
export type PointsSelector = { points: PointId[] } | { filter: Filter };

export type RetrieveRequest = {
  ids: PointId[];
  with_payload?: WithPayload;
  with_vector?: WithVector;
};

export type SetPayloadRequest = { payload: Payload; key?: string } & PointsSelector;
export type OverwritePayloadRequest = { payload: Payload } & PointsSelector;
export type DeletePayloadRequest = { keys: string[] } & PointsSelector;

export type ScrollRequest = {
  offset?: PointId | null;
  limit?: number;
  filter?: Filter | null;
  with_payload?: WithPayload;
  with_vector?: WithVector;
};

export type CountRequest = {
  filter?: Filter | null;
  exact?: boolean;
};

export type SearchParams = {
  hnsw_ef?: number | null;
  exact?: boolean | null;
};

export type SearchRequest = {
  vector: number[];
  limit: number;
  offset?: number;
  filter?: Filter | null;
  params?: SearchParams | null;
  with_payload?: WithPayload;
  with_vector?: WithVector;
  score_threshold?: number | null;
};

export type SearchBatchRequest = {
  searches: SearchRequest[];
};

/** A dense vector, `{nearest: vector}`, or a point id (search by that point's vector). */
export type QueryInput = number[] | { nearest: number[] | PointId } | PointId;

export type QueryRequest = {
  query?: QueryInput | null;
  limit?: number;
  offset?: number;
  filter?: Filter | null;
  params?: SearchParams | null;
  with_payload?: WithPayload;
  with_vector?: WithVector;
  score_threshold?: number | null;
};

export type QueryBatchRequest = {
  searches: QueryRequest[];
};

// ------------------------------------------------------------------ results

/** Qdrant's success envelope. */
export type Envelope<T> = {
  result: T;
  status: 'ok';
  time: number;
};

export type ServiceInfo = {
  title: string;
  version: string;
};

export type UpdateResult = {
  /** The collection's sequence number of this write (the change feed's `seq`). */
  operation_id: number;
  status: 'acknowledged' | 'completed';
};

export type CollectionsList = {
  collections: { name: string }[];
};

export type CollectionInfo = {
  status: 'green' | 'yellow';
  optimizer_status: string;
  indexed_vectors_count: number;
  points_count: number;
  segments_count: number;
  config: {
    params: {
      vectors: { size: number; distance: Distance };
      shard_number: number;
      replication_factor: number;
      write_consistency_factor: number;
      on_disk_payload: boolean;
    };
    hnsw_config: Required<HnswConfigDiff> & { max_indexing_threads: number; on_disk: boolean };
    optimizer_config: Record<string, number | null>;
    wal_config: { wal_capacity_mb: number; wal_segments_ahead: number };
    quantization_config: null;
    strict_mode_config: null;
  };
  payload_schema: Record<string, { data_type: PayloadSchemaType; points: number }>;
  /** surgevec's, beside Qdrant's fields: the last applied sequence number. */
  seq: number;
};

export type AliasDescription = {
  alias_name: string;
  collection_name: string;
};

export type AliasesList = {
  aliases: AliasDescription[];
};

export type PointRecord = {
  id: PointId;
  payload?: Payload | null;
  vector?: number[] | null;
};

export type ScoredPoint = {
  id: PointId;
  /** Sequence number of the last write to this point. */
  version: number;
  score: number;
  payload?: Payload | null;
  vector?: number[] | null;
};

export type ScrollResult = {
  points: PointRecord[];
  next_page_offset: PointId | null;
};

export type CountResult = {
  count: number;
};

export type QueryResult = {
  points: ScoredPoint[];
};

// ------------------------------------------------------------------ errors

/** The error envelope: Qdrant's `status.error` plus surgevec's stable `code`, `hint` and `details`. */
export type ErrorEnvelope = {
  status: { error: string };
  code?: ErrorCode;
  hint?: string;
  details?: Record<string, unknown>;
  time?: number;
  result: null;
};

/** How the streaming routes report an error inside their stream (NDJSON lines, WebSocket answers, SSE). */
export type StreamError = {
  code: ErrorCode;
  message: string;
  hint: string;
};

// ------------------------------------------------------------------ NDJSON ingest (POST …/points/stream)

/** A line of the body: one point, as in an upsert. */
export type IngestLine = PointStruct;

/** A line that cannot be stored; `line` is 1-based and counts every line of the body. */
export type IngestLineError = {
  line: number;
  error: StreamError;
};

/** A batch was written (durable; visible too when `status` is "completed"). */
export type IngestBatchAck = {
  batch: number;
  points: number;
  seq: number | null;
  status: 'acknowledged' | 'completed';
};

export type IngestDone = {
  done: true;
  points: number;
  errors: number;
  last_seq: number | null;
};

/** The stream was stopped: points up to `last_seq` are stored, later lines were not. */
export type IngestStopped = {
  done: false;
  points: number;
  errors: number;
  last_seq: number | null;
  error: StreamError;
};

export type IngestAnswerLine = IngestLineError | IngestBatchAck | IngestDone | IngestStopped;

// ------------------------------------------------------------------ WebSocket (GET …/ws)

export type WsFrameId = string | number;

export type WsRequest =
  | ({ id: WsFrameId; op: 'upsert'; wait?: boolean } & UpsertRequest)
  | ({ id: WsFrameId; op: 'search' } & SearchRequest)
  | ({ id: WsFrameId; op: 'query' } & QueryRequest)
  | ({ id: WsFrameId; op: 'delete'; wait?: boolean } & PointsSelector);

export type WsOp = WsRequest['op'];

export type WsResults = {
  upsert: UpdateResult;
  search: ScoredPoint[];
  query: QueryResult;
  delete: UpdateResult;
};

export type WsAnswer =
  | { id: WsFrameId | null; result: unknown; error?: undefined }
  | { id: WsFrameId | null; error: StreamError; result?: undefined };

// ------------------------------------------------------------------ change feed (GET …/changes, SSE)

export type ChangeOp =
  | 'upsert'
  | 'delete'
  | 'set_payload'
  | 'overwrite_payload'
  | 'delete_payload'
  | 'clear_payload'
  | 'create_index'
  | 'delete_index';

export const CHANGE_OPS: readonly ChangeOp[] = [
  'upsert',
  'delete',
  'set_payload',
  'overwrite_payload',
  'delete_payload',
  'clear_payload',
  'create_index',
  'delete_index',
];

/** `data` of an SSE event named after its op; the SSE `id` is `seq`. */
export type ChangeEvent = {
  collection: string;
  seq: number;
  op: ChangeOp;
  ids?: PointId[];
  filter?: Filter;
  count?: number;
  field?: string;
};

/** `event: gap`: seqs `from_seq` … `oldest_seq - 1` are no longer in the WAL. */
export type ChangeGap = {
  from_seq: number;
  oldest_seq: number;
};

/** `event: lagged`: the reader fell behind; resume after `last_seq`. */
export type ChangeLagged = {
  last_seq: number;
};
