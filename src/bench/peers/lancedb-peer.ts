/**
 * LanceDB embedded (`@lancedb/lancedb`, Rust core through N-API) in a temporary directory: one Arrow table,
 * an IVF_HNSW_SQ index with one partition (one HNSW graph, as the other peers have) and the same
 * m / ef_construction. Its vectors are scalar-quantized in the graph, so recall flattens out near 0.97 unless
 * the top candidates are re-ranked exactly (`refineFactor`): the sweep tries ef alone and ef with refine 2.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Connection, Table } from '@lancedb/lancedb';
import { SurgeError } from '../../protocol/errors.js';
import {
  type BuildTiming,
  checkQuery,
  checkSpec,
  efLadder,
  type IndexSpec,
  importOptional,
  type Peer,
  type PeerOptions,
  type SearchEffort,
} from './peer.js';

const TABLE = 'items';
// Refine 4 gave exactly the recall of refine 2 at every ef on GloVe-100 (100k, ef 48..1000), only slower:
// the candidates re-ranked come from the same ef-long list, so one re-ranking ladder is enough.
const REFINE_FACTORS = [2] as const;

export async function createLanceDbPeer(options: PeerOptions = {}): Promise<Peer> {
  const lancedb = await importOptional<typeof import('@lancedb/lancedb')>('@lancedb/lancedb', 'lancedb');
  const arrow = await importOptional<typeof import('apache-arrow')>('apache-arrow', 'lancedb');
  const log = options.log ?? (() => {});
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'surgevec-peer-lancedb-'));
  let db: Connection | undefined;
  let table: Table | undefined;
  let dim = 0;
  let distanceType: 'l2' | 'cosine' | 'dot' = 'cosine';
  let effort: SearchEffort = { ef: 64 };
  let closed = false;
  const base = efLadder();

  return {
    name: 'lancedb',
    description: `LanceDB ${lancedbVersion()} embedded, IVF_HNSW_SQ (1 partition)`,
    // LanceDB refuses ef < k, and with re-ranking ef < k × refineFactor: such rungs are left out.
    ladders: (k) => [
      base.filter((e) => e.ef >= k),
      ...REFINE_FACTORS.map((r) =>
        base.filter((e) => e.ef >= k * r).map((e) => ({ ef: e.ef, refineFactor: r })),
      ),
    ],

    async build(vectors: Float32Array, spec: IndexSpec): Promise<BuildTiming> {
      const n = checkSpec(vectors, spec);
      dim = spec.dim;
      distanceType = spec.metric;
      const ids = new Int32Array(n);
      for (let i = 0; i < n; i++) ids[i] = i;
      const { Field, FixedSizeList, Float32, makeData, makeVector, Table: ArrowTable } = arrow;
      // Zero-copy: the Float32Array is the child buffer of a FixedSizeList<Float32>[dim] column.
      const child = makeData({ type: new Float32(), length: n * dim, nullCount: 0, data: vectors });
      const list = makeData({
        type: new FixedSizeList(dim, new Field('item', new Float32(), true)),
        length: n,
        nullCount: 0,
        child,
      });
      const data = new ArrowTable({ id: makeVector(ids), vector: makeVector(list) });

      const t0 = performance.now();
      db = await lancedb.connect(dir);
      table = await db.createTable(TABLE, data, { mode: 'overwrite' });
      const t1 = performance.now();
      log(`lancedb: ${n} rows written in ${((t1 - t0) / 1000).toFixed(1)} s; building IVF_HNSW_SQ`);
      await table.createIndex('vector', {
        config: lancedb.Index.hnswSq({
          distanceType,
          numPartitions: 1,
          m: spec.m,
          efConstruction: spec.efConstruction,
        }),
      });
      const stats = await table.indexStats('vector_idx');
      if (!stats || stats.numIndexedRows !== n) {
        throw new SurgeError('INTERNAL', `lancedb: index covers ${stats?.numIndexedRows ?? 0} of ${n} rows`);
      }
      const t2 = performance.now();
      return { loadMs: t1 - t0, indexMs: t2 - t1, totalMs: t2 - t0 };
    },

    async setEffort(e: SearchEffort): Promise<void> {
      effort = e;
    },

    async search(query: Float32Array, k: number): Promise<number[]> {
      if (!table) throw new SurgeError('ENGINE_CLOSED', 'lancedb peer: build() first (or it was closed)');
      checkQuery(query, dim, k);
      let q = table
        .vectorSearch(query)
        .distanceType(distanceType)
        .ef(Math.max(effort.ef, k * (effort.refineFactor ?? 1)))
        .limit(k);
      if (effort.refineFactor) q = q.refineFactor(effort.refineFactor);
      // `_distance` selected explicitly: otherwise LanceDB logs a deprecation warning on every query.
      const result = await q.select(['id', '_distance']).toArrow();
      const col = result.getChild('id');
      const ids = new Array<number>(result.numRows);
      for (let i = 0; i < ids.length; i++) ids[i] = col!.get(i) as number;
      return ids;
    },

    resources: () => ({ pids: [], dirs: [dir] }),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      table?.close();
      db?.close();
      table = undefined;
      db = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The version of the package actually loaded (its main file is <pkg>/dist/index.js). */
function lancedbVersion(): string {
  try {
    const main = createRequire(import.meta.url).resolve('@lancedb/lancedb');
    return (
      JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return '(unknown version)';
  }
}
