/**
 * The contract every bench peer passes, on real systems (a real `surgevec serve`, a real PostgreSQL started by
 * our helper, real LanceDB in a temp dir): 2,000 seeded clustered vectors, answers checked against exact search.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactKnn, recallAtK } from '../../src/bench/datasets/exact-knn.js';
import type { BuildTiming, Peer, SearchEffort } from '../../src/bench/peers/peer.js';
import { processAlive } from '../../src/bench/peers/postgres-server.js';
import { clusteredVectors, rng } from '../../src/platform/random.js';

export const CONTRACT = {
  points: 2000,
  queries: 100,
  dim: 48,
  clusters: 16,
  spread: 0.6,
  k: 10,
  seed: 20261123,
};
/** recall@10 against exact search at the peer's highest effort: a real floor, the same for every peer. */
export const RECALL_FLOOR = 0.95;

export function contractData() {
  const { points, queries, dim, clusters, spread, k, seed } = CONTRACT;
  const all = clusteredVectors(rng(seed), points + queries, dim, clusters, spread);
  const base = all.slice(0, points * dim);
  const q = all.slice(points * dim);
  return { base, queries: q, truth: exactKnn(base, dim, q, k, 'cosine') };
}

export function peerContract(label: string, make: () => Promise<Peer>): void {
  describe(`${label} satisfies Peer`, () => {
    const { dim, k, points, queries: nq } = CONTRACT;
    const data = contractData();
    const query = (i: number) => data.queries.subarray(i * dim, (i + 1) * dim);
    let peer: Peer;
    let timing: BuildTiming;
    let lowest: SearchEffort;
    let highest: SearchEffort;

    const answerAll = async (concurrency: number): Promise<number[][]> => {
      const out: number[][] = new Array(nq);
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < nq) {
            const i = next++;
            out[i] = await peer.search(query(i), k);
          }
        }),
      );
      return out;
    };

    beforeAll(async () => {
      peer = await make();
      timing = await peer.build(data.base, { dim, metric: 'cosine', m: 16, efConstruction: 100 });
      const ladders = peer.ladders(k);
      lowest = ladders[0]![0]!;
      const last = ladders[ladders.length - 1]!;
      highest = last[last.length - 1]!;
    }, 90_000);

    afterAll(async () => {
      await peer?.close();
    });

    it('builds the index and says what it is', () => {
      expect(timing.totalMs).toBeGreaterThan(0);
      expect(timing.totalMs).toBeGreaterThanOrEqual(timing.loadMs);
      expect(peer.description.length).toBeGreaterThan(3);
    });

    it("returns a point's own vector as its nearest neighbour, with its id", async () => {
      await peer.setEffort(highest);
      for (let id = 0; id < points; id += 97) {
        const ids = await peer.search(data.base.subarray(id * dim, (id + 1) * dim), k);
        expect(ids).toHaveLength(k);
        expect(ids[0], `point ${id}`).toBe(id);
      }
    });

    it(`reaches recall@${k} >= ${RECALL_FLOOR} against exact search at its highest effort`, async () => {
      await peer.setEffort(highest);
      const high = recallAtK(await answerAll(1), data.truth, k, k);
      await peer.setEffort(lowest);
      const low = recallAtK(await answerAll(1), data.truth, k, k);
      expect(high).toBeGreaterThanOrEqual(RECALL_FLOOR);
      // More effort never costs recall on the same graph (a small tolerance for ties).
      expect(low).toBeLessThanOrEqual(high + 0.005);
    });

    it('applies a new effort to concurrent searches too (effort is per peer, not per connection)', async () => {
      await peer.setEffort(lowest);
      const lowConcurrent = await answerAll(4);
      await peer.setEffort(highest);
      const highConcurrent = await answerAll(4);
      const highSequential = await answerAll(1);
      expect(highConcurrent).toEqual(highSequential);
      // The check can only bite if the two efforts answer differently somewhere.
      expect(lowConcurrent).not.toEqual(highSequential);
    });

    it('rejects a query of the wrong dimension with DIMENSION_MISMATCH', async () => {
      await expect(peer.search(new Float32Array(dim + 1), k)).rejects.toMatchObject({
        code: 'DIMENSION_MISMATCH',
      });
    });

    it('close() stops every process it started and deletes its directories', async () => {
      const { pids, dirs } = peer.resources();
      for (const pid of pids) expect(processAlive(pid), `pid ${pid} before close`).toBe(true);
      for (const dir of dirs) expect(existsSync(dir), `${dir} before close`).toBe(true);
      await peer.close();
      await peer.close(); // idempotent
      for (const pid of pids) expect(processAlive(pid), `pid ${pid} after close`).toBe(false);
      for (const dir of dirs) expect(existsSync(dir), `${dir} after close`).toBe(false);
    });
  });
}
