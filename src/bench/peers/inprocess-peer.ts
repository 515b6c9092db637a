/**
 * surgevec's engine called in this process: no HTTP, no thread hop, no serialisation — the upper bound for
 * what the server can deliver. One thread: concurrent callers interleave, they do not run in parallel.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../config/index.js';
import { Engine } from '../../engine/index.js';
import { SurgeError } from '../../protocol/errors.js';
import {
  type BuildTiming,
  checkQuery,
  checkSpec,
  efLadder,
  type IndexSpec,
  type Peer,
  type PeerOptions,
  type SearchEffort,
} from './peer.js';
import { SURGEVEC_DISTANCE, surgevecVersion } from './surgevec.js';

const COLLECTION = 'peers';
const LOAD_BATCH = 1000;

export async function createInProcessPeer(options: PeerOptions = {}): Promise<Peer> {
  const log = options.log ?? (() => {});
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'surgevec-peer-inprocess-'));
  let engine: Engine | undefined;
  let dim = 0;
  let ef = 0;
  let closed = false;

  return {
    name: 'inprocess',
    description: `surgevec ${surgevecVersion()} engine, in-process (hnswlib-node, one thread)`,
    ladders: () => [efLadder()],

    async build(base: Float32Array, spec: IndexSpec): Promise<BuildTiming> {
      const n = checkSpec(base, spec);
      dim = spec.dim;
      engine = await Engine.open(defaultConfig({ storage: { data_dir: dir }, log: { level: 'warn' } }));
      await engine.createCollection(COLLECTION, {
        size: dim,
        distance: SURGEVEC_DISTANCE[spec.metric],
        // full_scan_threshold 0: always walk the graph, even for a small test collection.
        hnsw: { m: spec.m, ef_construct: spec.efConstruction, full_scan_threshold: 0 },
      });
      const t0 = performance.now();
      for (let start = 0; start < n; start += LOAD_BATCH) {
        const count = Math.min(LOAD_BATCH, n - start);
        await engine.upsert(COLLECTION, {
          ids: Array.from({ length: count }, (_, i) => start + i),
          vectors: base.subarray(start * dim, (start + count) * dim),
        });
      }
      const t1 = performance.now();
      log(`inprocess: ${n} points loaded in ${((t1 - t0) / 1000).toFixed(1)} s; indexing`);
      await engine.whenIndexed(COLLECTION);
      const t2 = performance.now();
      return { loadMs: t1 - t0, indexMs: t2 - t1, totalMs: t2 - t0 };
    },

    async setEffort(effort: SearchEffort): Promise<void> {
      ef = effort.ef;
    },

    async search(query: Float32Array, k: number): Promise<number[]> {
      if (!engine) throw new SurgeError('ENGINE_CLOSED', 'inprocess peer: build() first (or it was closed)');
      checkQuery(query, dim, k);
      const hits = await engine.search(COLLECTION, {
        vector: query,
        limit: k,
        params: { hnsw_ef: ef || null },
      });
      const ids = new Array<number>(hits.length);
      for (let i = 0; i < hits.length; i++) ids[i] = hits[i]!.id as number;
      return ids;
    },

    resources: () => ({ pids: [], dirs: [dir] }),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const e = engine;
      engine = undefined;
      await e?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
