/**
 * pgvector 0.8 on PostgreSQL 15: a private server started on loopback (or a given one), the vectors in a plain
 * table, an HNSW index with the same m / ef_construction, `SET hnsw.ef_search` per connection (pgvector caps it
 * at 1000), one prepared `ORDER BY embedding <=> $1 LIMIT k` per query.
 */
import { availableParallelism } from 'node:os';
import type { Pool, PoolClient } from 'pg';
import { SurgeError } from '../../protocol/errors.js';
import {
  type BuildTiming,
  checkQuery,
  checkSpec,
  efLadder,
  type IndexSpec,
  importOptional,
  type Peer,
  type PeerMetric,
  type PeerOptions,
  type SearchEffort,
} from './peer.js';
import { type PostgresServer, startPostgres } from './postgres-server.js';

const LOAD_BATCH = 1000;
const EF_SEARCH_MAX = 1000;

const OPERATOR: Record<PeerMetric, { ops: string; op: string }> = {
  cosine: { ops: 'vector_cosine_ops', op: '<=>' },
  l2: { ops: 'vector_l2_ops', op: '<->' },
  dot: { ops: 'vector_ip_ops', op: '<#>' },
};

/**
 * Server settings for a benchmark of search, not of durability: no fsync (as for a bulk load), no
 * checkpoints during the load, no JIT (it only adds planning time to these queries), enough shared buffers to
 * hold table and index, and the HNSW build in memory (pgvector falls back to a much slower on-disk build when
 * the graph exceeds maintenance_work_mem).
 */
export const PGVECTOR_BENCH_SETTINGS = {
  shared_buffers: '1GB',
  maintenance_work_mem: '4GB',
  max_parallel_maintenance_workers: Math.max(0, availableParallelism() - 1),
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_wal_size: '8GB',
  checkpoint_timeout: '1h',
  jit: 'off',
  max_connections: 50,
} as const;

function vectorLiteral(v: Float32Array): string {
  return `[${v.join(',')}]`;
}

export async function createPgvectorPeer(options: PeerOptions = {}): Promise<Peer> {
  const pg = (await importOptional<{ default: typeof import('pg') }>('pg', 'pgvector')).default;
  const log = options.log ?? (() => {});
  let server: PostgresServer | undefined;
  let pool: Pool | undefined;
  let dim = 0;
  let ef = 40; // pgvector's default
  let sql = '';
  let description = 'pgvector';
  let closed = false;
  // ef_search is per connection: each pooled connection remembers what it was last set to.
  const connectionEf = new WeakMap<PoolClient, number>();

  return {
    name: 'pgvector',
    get description() {
      return description;
    },
    ladders: () => [efLadder(EF_SEARCH_MAX)],

    async build(base: Float32Array, spec: IndexSpec): Promise<BuildTiming> {
      const n = checkSpec(base, spec);
      dim = spec.dim;
      let connection:
        | { connectionString: string }
        | { host: string; port: number; user: string; database: string };
      if (options.pgUrl) {
        connection = { connectionString: options.pgUrl };
      } else {
        server = await startPostgres({
          ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}),
          settings: PGVECTOR_BENCH_SETTINGS,
        });
        connection = { host: server.host, port: server.port, user: server.user, database: server.database };
      }
      pool = new pg.Pool({ ...connection, max: options.maxClients ?? 16 });
      pool.on('error', () => {}); // an idle client dropped by the server: the next checkout reconnects
      // The planner may prefer an exact scan on a small table: the index is what we measure.
      pool.on('connect', (c) => void c.query('SET enable_seqscan = off').catch(() => {}));

      const { ops, op } = OPERATOR[spec.metric];
      const table = 'surgevec_peer_items';
      sql = `SELECT id FROM ${table} ORDER BY embedding ${op} $1::vector LIMIT $2`;
      const c = await pool.connect();
      try {
        await c.query('CREATE EXTENSION IF NOT EXISTS vector');
        const v = await c.query<{ ext: string; server: string }>(
          "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS ext, current_setting('server_version') AS server",
        );
        description = `pgvector ${v.rows[0]!.ext} on PostgreSQL ${v.rows[0]!.server.split(' ')[0]}`;
        await c.query(`DROP TABLE IF EXISTS ${table}`);
        await c.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, embedding vector(${dim}) NOT NULL)`);

        const t0 = performance.now();
        for (let start = 0; start < n; start += LOAD_BATCH) {
          const count = Math.min(LOAD_BATCH, n - start);
          const ids = new Array<number>(count);
          const vectors = new Array<string>(count);
          for (let i = 0; i < count; i++) {
            ids[i] = start + i;
            vectors[i] = vectorLiteral(base.subarray((start + i) * dim, (start + i + 1) * dim));
          }
          await c.query(
            `INSERT INTO ${table} (id, embedding) SELECT * FROM unnest($1::integer[], $2::vector[])`,
            [ids, vectors],
          );
        }
        const t1 = performance.now();
        log(
          `pgvector: ${n} rows loaded in ${((t1 - t0) / 1000).toFixed(1)} s; building HNSW (m ${spec.m}, ef_construction ${spec.efConstruction})`,
        );
        if (options.pgUrl) {
          // A server we did not configure: ask for an in-memory build in this session at least.
          await c.query(`SET maintenance_work_mem = '${PGVECTOR_BENCH_SETTINGS.maintenance_work_mem}'`);
        }
        await c.query(
          `CREATE INDEX ON ${table} USING hnsw (embedding ${ops}) WITH (m = ${spec.m}, ef_construction = ${spec.efConstruction})`,
        );
        await c.query(`VACUUM ANALYZE ${table}`);
        const t2 = performance.now();
        return { loadMs: t1 - t0, indexMs: t2 - t1, totalMs: t2 - t0 };
      } finally {
        c.release();
      }
    },

    async setEffort(effort: SearchEffort): Promise<void> {
      if (!Number.isInteger(effort.ef) || effort.ef < 1 || effort.ef > EF_SEARCH_MAX) {
        throw new SurgeError(
          'INVALID_REQUEST',
          `pgvector: hnsw.ef_search must be an integer in 1..${EF_SEARCH_MAX}, got ${effort.ef}`,
        );
      }
      ef = effort.ef;
    },

    async search(query: Float32Array, k: number): Promise<number[]> {
      if (!pool) throw new SurgeError('ENGINE_CLOSED', 'pgvector peer: build() first (or it was closed)');
      checkQuery(query, dim, k);
      const c = await pool.connect();
      try {
        if (connectionEf.get(c) !== ef) {
          await c.query(`SET hnsw.ef_search = ${ef}`);
          connectionEf.set(c, ef);
        }
        const res = await c.query<[number]>({
          name: 'knn',
          text: sql,
          values: [vectorLiteral(query), k],
          rowMode: 'array',
        });
        const ids = new Array<number>(res.rows.length);
        for (let i = 0; i < res.rows.length; i++) ids[i] = res.rows[i]![0];
        return ids;
      } finally {
        c.release();
      }
    },

    resources: () => ({ pids: server ? [server.pid] : [], dirs: server ? [server.dir] : [] }),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        if (options.pgUrl && pool)
          await pool.query('DROP TABLE IF EXISTS surgevec_peer_items').catch(() => {});
        await pool?.end();
      } finally {
        pool = undefined;
        await server?.stop();
      }
    },
  };
}
