/**
 * Public value types of the engine. Request shapes follow Qdrant's field names (snake_case) so the
 * Qdrant-compatible server passes them through without a second vocabulary.
 */
import type { Filter } from './filter/types.js';

export type { Filter } from './filter/types.js';

/** Unsigned 64-bit integer (number when ≤ 2^53-1, bigint above) or a UUID string, as in Qdrant. */
export type PointId = number | bigint | string;

export type Distance = 'Cosine' | 'Euclid' | 'Dot';

export type PayloadValue =
  | string
  | number
  | boolean
  | null
  | PayloadValue[]
  | { [key: string]: PayloadValue };
export type Payload = { [key: string]: PayloadValue };

export type PayloadSchemaType = 'keyword' | 'integer' | 'float' | 'bool';

export interface HnswConfig {
  m: number;
  ef_construct: number;
  /** Search effort used when a request gives no `hnsw_ef`. */
  ef: number;
  /** Below this many KB of matching vectors the planner scans exactly instead of walking the graph (Qdrant's unit). */
  full_scan_threshold: number;
}

export interface CollectionConfig {
  size: number;
  distance: Distance;
  hnsw: HnswConfig;
  /** Points per segment: a full appendable segment is sealed and a new one opened. */
  segment_max_points: number;
  payload_indexes: Record<string, PayloadSchemaType>;
}

export interface CreateCollectionOptions {
  size: number;
  distance: Distance;
  hnsw?: Partial<HnswConfig>;
  segment_max_points?: number;
  payload_indexes?: Record<string, PayloadSchemaType>;
}

export interface PointInput {
  id: PointId;
  vector: ArrayLike<number>;
  payload?: Payload | null;
}

export interface Record_ {
  id: PointId;
  payload?: Payload;
  vector?: number[];
}
export type { Record_ as PointRecord };

export interface ScoredPoint {
  id: PointId;
  /** Collection version (seq) of the last write to this point. */
  version: number;
  score: number;
  payload?: Payload;
  vector?: number[];
}

export type WithPayload = boolean | string[] | { include?: string[]; exclude?: string[] };

export interface SearchRequest {
  vector: ArrayLike<number>;
  limit: number;
  offset?: number;
  filter?: Filter | null;
  score_threshold?: number | null;
  with_payload?: WithPayload;
  with_vector?: boolean;
  params?: { hnsw_ef?: number | null; exact?: boolean | null } | null;
}

export interface ScrollRequest {
  filter?: Filter | null;
  limit?: number;
  offset?: PointId | null;
  with_payload?: WithPayload;
  with_vector?: boolean;
}

export interface ScrollResult {
  points: Record_[];
  next_page_offset: PointId | null;
}

export interface WriteOptions {
  /** true: resolve once visible to search. false: resolve once durable in the WAL. Both are fsynced. */
  wait?: boolean;
}

export interface UpdateResult {
  operation_id: number;
  status: 'acknowledged' | 'completed';
}

export type PointsSelector = { points: PointId[] } | { filter: Filter };

export type SegmentState = 'appendable' | 'sealed';

export interface SegmentInfo {
  id: number;
  state: SegmentState;
  points: number;
  deleted: number;
  indexed: number;
}

export type CollectionStatus = 'green' | 'yellow';

export interface CollectionInfo {
  name: string;
  status: CollectionStatus;
  points_count: number;
  indexed_vectors_count: number;
  segments_count: number;
  segments: SegmentInfo[];
  /** Last applied sequence number. */
  seq: number;
  config: CollectionConfig;
  payload_schema: Record<string, { data_type: PayloadSchemaType; points: number }>;
}

export type AliasAction =
  | { create_alias: { alias_name: string; collection_name: string } }
  | { delete_alias: { alias_name: string } }
  | { rename_alias: { old_alias_name: string; new_alias_name: string } };

export interface AliasDescription {
  alias_name: string;
  collection_name: string;
}

export type ChangeOp =
  | 'upsert'
  | 'delete'
  | 'set_payload'
  | 'overwrite_payload'
  | 'delete_payload'
  | 'clear_payload'
  | 'create_index'
  | 'delete_index';

/**
 * One applied operation, as the change feed reports it (never vectors). Events mirror the WAL: a payload
 * edit refused at apply time (it named a missing point) still took its seq and still appears.
 */
export interface ChangeEvent {
  /** The collection's own name (never an alias). */
  collection: string;
  seq: number;
  op: ChangeOp;
  /** upsert: the ids written; delete and payload ops by ids: the ids named. */
  ids?: PointId[];
  /** Ops that selected points by filter. */
  filter?: Filter;
  /**
   * Points in `ids`; for an op by filter delivered live, the points it matched when applied (absent when
   * read back from the WAL, which stores the filter, not its matches).
   */
  count?: number;
  /** create_index / delete_index: the payload field. */
  field?: string;
  /** Only for listeners and reads that ask for it (`ChangeOptions.points`). */
  points?: ChangePoints;
}

/**
 * The data of an op's points, for consumers that evaluate them (standing queries). Shared with the engine:
 * read it, never mutate it.
 */
export interface ChangePoints {
  /** upsert: row i is the vector written for ids[i], as stored (cosine vectors normalised). */
  vectors?: Float32Array;
  /** upsert: the payload written for ids[i]. */
  payloads?: (Payload | null)[];
  /** Ops that select points (delete, payload edits), live only: the ids they changed when applied. */
  touched?: PointId[];
}

export interface ChangeOptions {
  /** Add `points` to events: upserts' vectors and payloads; live ops by selector, the ids they changed. */
  points?: boolean;
}

export type ChangeListener = (event: ChangeEvent) => void;

export interface ChangePage {
  events: ChangeEvent[];
  /** First seq still in the WAL (older ones were dropped after a snapshot): afterSeq + 1 < oldestSeq is a gap. */
  oldestSeq: number;
}
