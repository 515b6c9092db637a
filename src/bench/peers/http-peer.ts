/**
 * surgevec over HTTP: a real `surgevec serve` this peer starts on loopback port 0 (or a given server), driven
 * through its Qdrant-compatible REST API with an undici Pool — what a client on the same host sees.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'undici';
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
import { SURGEVEC_DISTANCE, surgevecVersion } from './surgevec.js';
import { type SurgevecServer, startSurgevecServer } from './surgevec-server.js';

const LOAD_BATCH = 1000;
const LOAD_IN_FLIGHT = 4;
const INDEX_WAIT_MS = 60 * 60_000;

interface Envelope<T> {
  result: T;
  status: unknown;
}

export async function createHttpPeer(options: PeerOptions = {}): Promise<Peer> {
  const { Pool: PoolClass } = await importOptional<typeof import('undici')>('undici', 'http');
  const log = options.log ?? (() => {});
  const external = options.httpUrl !== undefined;
  // On a server we did not start, a collection name of our own that we drop at close.
  const collection = external ? `surgevec_peers_${process.pid}_${Date.now().toString(36)}` : 'peers';
  const dirs: string[] = [];
  let server: SurgevecServer | undefined;
  let pool: Pool | undefined;
  let created = false;
  let dim = 0;
  let efPart = '';
  let closed = false;

  async function call<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: string): Promise<T> {
    if (!pool) throw new SurgeError('ENGINE_CLOSED', 'http peer: build() first (or it was closed)');
    const res = await pool.request({
      method,
      path,
      ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      throw new SurgeError(
        'INTERNAL',
        `http peer: ${method} ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`,
      );
    }
    return (JSON.parse(text) as Envelope<T>).result;
  }

  return {
    name: 'http',
    get description() {
      return external
        ? `surgevec-compatible server at ${options.httpUrl} over HTTP/1.1 (undici)`
        : `surgevec ${surgevecVersion()} serve on loopback, HTTP/1.1 (undici), worker-thread engine, search coalescing`;
    },
    ladders: () => [efLadder()],

    async build(base: Float32Array, spec: IndexSpec): Promise<BuildTiming> {
      const n = checkSpec(base, spec);
      dim = spec.dim;
      let url = options.httpUrl;
      if (!url) {
        const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'surgevec-peer-http-'));
        dirs.push(dir);
        const configFile = join(dir, 'config.json');
        await writeFile(configFile, JSON.stringify({ log: { level: 'warn' } }));
        server = await startSurgevecServer({ dataDir: join(dir, 'data'), configFile });
        url = server.url;
      }
      pool = new PoolClass(url, { connections: options.maxClients ?? 16, pipelining: 1 });
      await call(
        'PUT',
        `/collections/${collection}`,
        JSON.stringify({
          vectors: { size: dim, distance: SURGEVEC_DISTANCE[spec.metric] },
          // full_scan_threshold 0: always walk the graph, even for a small test collection.
          hnsw_config: { m: spec.m, ef_construct: spec.efConstruction, full_scan_threshold: 0 },
        }),
      );
      created = true;

      const t0 = performance.now();
      let next = 0;
      const loader = async () => {
        while (next < n) {
          const start = next;
          const count = Math.min(LOAD_BATCH, n - start);
          next += count;
          const ids = Array.from({ length: count }, (_, i) => start + i);
          const vectors: string[] = new Array(count);
          for (let i = 0; i < count; i++) {
            vectors[i] = `[${base.subarray((start + i) * dim, (start + i + 1) * dim).join(',')}]`;
          }
          await call(
            'PUT',
            `/collections/${collection}/points?wait=false`,
            `{"batch":{"ids":${JSON.stringify(ids)},"vectors":[${vectors.join(',')}]}}`,
          );
        }
      };
      await Promise.all(Array.from({ length: LOAD_IN_FLIGHT }, loader));
      const t1 = performance.now();
      log(`http: ${n} points loaded in ${((t1 - t0) / 1000).toFixed(1)} s; indexing`);
      const deadline = Date.now() + INDEX_WAIT_MS;
      for (;;) {
        const info = await call<{ points_count: number; indexed_vectors_count: number }>(
          'GET',
          `/collections/${collection}`,
        );
        if (info.points_count === n && info.indexed_vectors_count >= n) break;
        if (Date.now() > deadline) {
          throw new SurgeError(
            'INTERNAL',
            `http peer: ${info.indexed_vectors_count} of ${n} indexed after ${INDEX_WAIT_MS} ms`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const t2 = performance.now();
      return { loadMs: t1 - t0, indexMs: t2 - t1, totalMs: t2 - t0 };
    },

    async setEffort(effort: SearchEffort): Promise<void> {
      efPart = `,"params":{"hnsw_ef":${effort.ef}}`;
    },

    async search(query: Float32Array, k: number): Promise<number[]> {
      checkQuery(query, dim, k);
      const hits = await call<{ id: number }[]>(
        'POST',
        `/collections/${collection}/points/search`,
        `{"vector":[${query.join(',')}],"limit":${k}${efPart}}`,
      );
      const ids = new Array<number>(hits.length);
      for (let i = 0; i < hits.length; i++) ids[i] = hits[i]!.id;
      return ids;
    },

    resources: () => ({ pids: server ? [server.pid] : [], dirs }),

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        if (external && created) await call('DELETE', `/collections/${collection}`).catch(() => {});
        await pool?.close();
      } finally {
        pool = undefined;
        await server?.stop();
        for (const d of dirs) await rm(d, { recursive: true, force: true });
      }
    },
  };
}
