/**
 * One vector search system under comparison. Every peer loads the same base vectors (ids 0..n-1), builds an
 * HNSW index with the same m / ef_construction / metric, and answers k-NN queries at a settable search effort.
 * Peers are compared at equal recall, never at equal ef: the same ef buys different recall in different systems
 * (../shared/engine-bakeoff.md), so the runner sweeps each peer's own effort ladder.
 *
 * Implementations are imported lazily (`createPeer` in create-peer.ts): pgvector needs `pg` and a PostgreSQL
 * install, LanceDB its native package; the rest of the bench works without them.
 */
import { SurgeError } from '../../protocol/errors.js';

export const PEER_NAMES = ['inprocess', 'http', 'pgvector', 'lancedb'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

export type PeerMetric = 'cosine' | 'l2' | 'dot';

export interface IndexSpec {
  dim: number;
  metric: PeerMetric;
  /** HNSW links per node (M). */
  m: number;
  /** HNSW candidate list while building (ef_construction / ef_construct). */
  efConstruction: number;
}

/** One rung of a peer's effort ladder: HNSW ef, plus LanceDB's re-ranking factor where it has one. */
export interface SearchEffort {
  ef: number;
  /** LanceDB: fetch k × refineFactor candidates by quantized distance, re-rank them by exact distance. */
  refineFactor?: number;
}

export interface BuildTiming {
  /** Inserting the vectors (acknowledged by the peer). */
  loadMs: number;
  /** From the end of loading until every vector is in the HNSW graph. */
  indexMs: number;
  totalMs: number;
}

export interface Peer {
  readonly name: PeerName;
  /** Versions and mode, e.g. "pgvector 0.8.0 on PostgreSQL 15.18". Filled in by `build`. */
  readonly description: string;
  /**
   * Effort ladders for k neighbours, each ascending in cost. Most peers have one; LanceDB has one per refine
   * factor. The sweep takes the cheapest rung of each ladder that reaches the recall target, then the fastest.
   */
  ladders(k: number): SearchEffort[][];
  /** Loads `base` (n × dim floats, row i gets id i) and builds the index. Called once. */
  build(base: Float32Array, spec: IndexSpec): Promise<BuildTiming>;
  setEffort(effort: SearchEffort): Promise<void>;
  /** Ids of the k nearest base rows, nearest first. Safe to call concurrently. */
  search(query: Float32Array, k: number): Promise<number[]>;
  /** Processes and directories this peer created: tests check that `close` leaves none behind. */
  resources(): { pids: number[]; dirs: string[] };
  /** Stops what the peer started and deletes its temporary files. Idempotent. */
  close(): Promise<void>;
}

export interface PeerOptions {
  /** Parent of the peer's temporary directories (default: the OS temp dir). */
  tmpDir?: string;
  /** http: an already running surgevec (or Qdrant-compatible) server instead of starting one. */
  httpUrl?: string;
  /** pgvector: a PostgreSQL connection string instead of starting a private server. */
  pgUrl?: string;
  /** Most concurrent searches the caller will issue (sizes connection pools). Default 16. */
  maxClients?: number;
  /** Progress lines (build phases); default silent. */
  log?: (line: string) => void;
}

/** The common ef ladder: dense at the low end where recall moves fastest. pgvector caps ef_search at 1000. */
export const EF_LADDER: readonly number[] = [
  10, 16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320, 384, 512, 768, 1000,
];

export function efLadder(max = 1000): SearchEffort[] {
  return EF_LADDER.filter((ef) => ef <= max).map((ef) => ({ ef }));
}

export function effortLabel(e: SearchEffort): string {
  return e.refineFactor ? `ef ${e.ef}, refine ${e.refineFactor}` : `ef ${e.ef}`;
}

/** The cheapest way to reject a query every peer would reject differently (or, worse, silently pad). */
export function checkQuery(query: Float32Array, dim: number, k: number): void {
  if (query.length !== dim) {
    throw new SurgeError('DIMENSION_MISMATCH', `query has ${query.length} dimensions, the index ${dim}`);
  }
  if (!Number.isInteger(k) || k < 1)
    throw new SurgeError('INVALID_REQUEST', `k must be a positive integer, got ${k}`);
}

export function checkSpec(base: Float32Array, spec: IndexSpec): number {
  const { dim, m, efConstruction } = spec;
  if (!Number.isInteger(dim) || dim < 1 || base.length % dim !== 0 || base.length === 0) {
    throw new SurgeError(
      'INVALID_REQUEST',
      `base of ${base.length} floats is not a non-empty n × ${dim} matrix`,
    );
  }
  // The ranges every peer accepts: surgevec m >= 4 and ef_construct >= 8, pgvector m <= 100,
  // ef_construction <= 1000 and >= 2 m.
  if (!Number.isInteger(m) || m < 4 || m > 100)
    throw new SurgeError('INVALID_REQUEST', `m must be an integer in 4..100, got ${m}`);
  if (!Number.isInteger(efConstruction) || efConstruction < Math.max(8, 2 * m) || efConstruction > 1000) {
    throw new SurgeError(
      'INVALID_REQUEST',
      `ef_construction must be an integer in ${Math.max(8, 2 * m)}..1000 (at least 8 and 2 × m), got ${efConstruction}`,
    );
  }
  return base.length / dim;
}

/**
 * `import(specifier)` of an optional dependency, turned into a catalogue error that says what to install.
 * The specifier is a variable so bundlers and tsc leave the import lazy.
 */
export async function importOptional<T>(specifier: string, peer: PeerName): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    throw new SurgeError(
      'PEER_UNAVAILABLE',
      `peer ${peer} needs the npm package ${specifier}: ${(e as Error).message}`,
      {
        peer,
        package: specifier,
      },
    );
  }
}
