/**
 * The search batcher's order: batches take the most urgent searches first; ranks 0–1 (critical, premium)
 * ride an express batch beside a regular one in flight instead of waiting behind it; when more wait than a
 * batch takes, each rank goes newest first. The engine here is a stand-in that records each batch and
 * answers it when told, so the order can be observed exactly.
 */
import { describe, expect, it } from 'vitest';
import type { EngineApi, SearchOutcome, SearchRequest } from '../../src/engine/index.js';
import { SurgeError } from '../../src/protocol/errors.js';
import { SearchBatcher } from '../../src/server/search-batcher.js';

interface Sent {
  ids: number[];
  answer: (fail?: number) => void;
}

function standIn() {
  const sent: Sent[] = [];
  const engine = {
    searchEach(_name: string, requests: SearchRequest[]): Promise<SearchOutcome[]> {
      return new Promise((resolve) => {
        const ids = requests.map((r) => r.limit);
        sent.push({
          ids,
          answer: (fail) =>
            resolve(
              ids.map((id) =>
                id === fail
                  ? { error: new SurgeError('INVALID_REQUEST', 'bad').toJSON() }
                  : [{ id, version: 0, score: 1 }],
              ),
            ),
        });
      });
    },
  } as unknown as EngineApi;
  return { engine, sent };
}

/** A search identified by its `limit` (the stand-in echoes it back as the hit's id). */
const q = (id: number): SearchRequest => ({ vector: [1], limit: id });
const flush = () => new Promise((r) => setImmediate(r));

describe('SearchBatcher', () => {
  it('sends a search at once when idle, and the ones queued meanwhile together, most urgent first', async () => {
    const { engine, sent } = standIn();
    const b = new SearchBatcher(engine, 100);
    const first = b.search('c', q(1), 2);
    expect(sent.map((s) => s.ids)).toEqual([[1]]);
    const later = [
      b.search('c', q(30), 3),
      b.search('c', q(20), 2),
      b.search('c', q(31), 3),
      b.search('c', q(21), 2),
    ];
    expect(b.depth()).toBe(4);
    sent[0]!.answer();
    expect(await first).toEqual([{ id: 1, version: 0, score: 1 }]);
    await flush();
    expect(sent[1]!.ids).toEqual([20, 21, 30, 31]);
    sent[1]!.answer();
    expect((await Promise.all(later)).map((r) => r[0]!.id)).toEqual([30, 20, 31, 21]);
    expect(b.depth()).toBe(0);
  });

  it('a premium search does not wait behind a regular batch: it goes in an express batch', async () => {
    const { engine, sent } = standIn();
    const b = new SearchBatcher(engine, 100);
    const free = b.search('c', q(3), 3);
    const premium = b.search('c', q(1), 1);
    expect(sent.map((s) => s.ids)).toEqual([[3], [1]]);
    expect(b.stats.express).toBe(1);
    // With both lanes busy, the next premium waits — for whichever batch returns first.
    const premium2 = b.search('c', q(2), 1);
    const free2 = b.search('c', q(4), 3);
    expect(sent).toHaveLength(2);
    sent[1]!.answer(); // the express batch returns first
    expect((await premium)[0]!.id).toBe(1);
    await flush();
    expect(sent[2]!.ids).toEqual([2]); // express again: premium only
    sent[0]!.answer();
    await free;
    await flush();
    expect(sent[3]!.ids).toEqual([4]);
    sent[2]!.answer();
    sent[3]!.answer();
    expect((await premium2)[0]!.id).toBe(2);
    expect((await free2)[0]!.id).toBe(4);
  });

  it('overloaded (more waiting than a batch takes): newest first within each rank', async () => {
    const { engine, sent } = standIn();
    const b = new SearchBatcher(engine, 3);
    void b.search('c', q(0), 2);
    const waiting = [10, 11, 12, 13].map((id) => b.search('c', q(id), 3));
    const normal = b.search('c', q(20), 2);
    sent[0]!.answer();
    await flush();
    // 5 waiting, 3 fit: the normal one, then the two newest free ones.
    expect(sent[1]!.ids).toEqual([20, 13, 12]);
    sent[1]!.answer();
    await flush();
    expect(sent[2]!.ids).toEqual([10, 11]);
    sent[2]!.answer();
    await Promise.all([...waiting, normal]);
  });

  it("one search's failure fails only that search", async () => {
    const { engine, sent } = standIn();
    const b = new SearchBatcher(engine, 100);
    void b.search('c', q(0));
    const ok = b.search('c', q(1));
    const bad = b.search('c', q(2));
    sent[0]!.answer();
    await flush();
    sent[1]!.answer(2);
    expect((await ok)[0]!.id).toBe(1);
    await expect(bad).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
});
