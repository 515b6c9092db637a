/**
 * The server killed (SIGKILL) in the middle of an NDJSON ingest and started again on the same data
 * directory and port: the ingest resumes by itself from the first line not acknowledged, and the final
 * state holds every good point of the source exactly once, with its own vector and payload; the bad lines
 * (refused on reading, and refused by the engine) are each reported once, by source position. A change
 * feed opened before the kill resumes after it from its last seq: every seq once, in order, no gap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SurgeClient } from '../../src/client/client.js';
import type { ChangeFeedItem } from '../../src/client/streams/changes.js';
import type { IngestEvent, IngestPoint } from '../../src/client/streams/ndjson-ingest.js';
import { type Served, serve } from './serve.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-client-ingest-'));
const dataDir = join(root, 'data');
let server: Served | undefined;
let client: SurgeClient | undefined;
afterAll(async () => {
  await client?.close();
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

const N = 12_000;
const DIM = 8;
const vector = (i: number) => {
  const v = new Float32Array(DIM);
  for (let d = 0; d < DIM; d++) v[d] = ((i * (d + 3)) % 101) / 7 - d;
  return v;
};
/** Refused when read: wrong length. */
const shortLine = (i: number) => i % 997 === 500;
/**
 * Passes the route, refused by the engine: a forbidden payload key. The engine then retries the batch
 * point by point, so a few of these are enough.
 */
const poisoned = (i: number) => i === 7 || i === 5_999 || i === 10_003;

async function* source(): AsyncGenerator<IngestPoint> {
  for (let i = 0; i < N; i++) {
    if (shortLine(i)) yield { id: i, vector: [1, 2, 3] };
    else if (poisoned(i)) yield { id: i, vector: vector(i), payload: JSON.parse('{"__proto__": 1}') };
    else yield { id: i, vector: vector(i), payload: { i } };
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('resumes an ingest across a SIGKILL and restart: nothing acked lost, nothing duplicated', async () => {
  server = await serve(dataDir);
  const port = server.port;
  // A short circuit cooldown: the server is down for a couple of seconds, not the default minutes' outage.
  client = new SurgeClient({ url: server.url, breaker: { cooldownMs: 200 } });
  const c = client;
  await c.createCollection('stream', {
    vectors: { size: DIM, distance: 'Euclid' },
    hnsw_config: { m: 4, ef_construct: 16 },
  });

  const stopFeed = new AbortController();
  const feed = c.changes('stream', { afterSeq: 0, signal: stopFeed.signal });
  const changes: ChangeFeedItem[] = [];
  const reading = (async () => {
    for await (const item of feed) changes.push(item);
  })();

  const events: IngestEvent[] = [];
  let restarted: Promise<void> | undefined;
  let settledAtKill = -1;
  let ackedAtKill = 0;
  let downFor = 0;
  const t0 = performance.now();
  const summary = await c.ingest('stream', source(), {
    // The server is down for seconds: reconnect attempts no more than 0.5 s apart keep the test short.
    backoff: { baseMs: 50, capMs: 500 },
    onEvent(e) {
      events.push(e);
      if (e.type === 'ack') ackedAtKill += restarted ? 0 : e.points;
      if (e.type === 'ack' && !restarted && ackedAtKill >= 3_000) {
        settledAtKill = e.settled;
        restarted = (async () => {
          const t = performance.now();
          await server!.kill();
          server = await serve(dataDir, { port });
          downFor = performance.now() - t;
        })();
      }
    },
  });
  const took = performance.now() - t0;
  await restarted;

  // The ingest's own account.
  const bad = Array.from({ length: N }, (_, i) => i).filter((i) => shortLine(i) || poisoned(i));
  expect(summary.connections).toBeGreaterThanOrEqual(2);
  expect(summary.points).toBe(N - bad.length);
  expect(summary.refused).toBe(bad.length);
  const refused = events.flatMap((e) => (e.type === 'refused' ? [[e.index, e.error.code]] : []));
  expect(refused.sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(
    bad.map((i) => [i, shortLine(i) ? 'DIMENSION_MISMATCH' : 'FORBIDDEN_PAYLOAD_KEY']),
  );
  const reconnects = events.filter((e) => e.type === 'reconnect');
  expect(reconnects.length).toBeGreaterThanOrEqual(1);
  // Never resent an acknowledged line: resumption starts at or after what was settled at the kill.
  for (const r of reconnects) expect(r.resumeAt).toBeGreaterThanOrEqual(settledAtKill);
  console.log(
    `ingest: ${N} lines in ${took.toFixed(0)} ms across ${summary.connections} connections; ` +
      `${ackedAtKill} points acked before SIGKILL, server down ${downFor.toFixed(0)} ms, ` +
      `${summary.resent} lines resent, ${reconnects.length} reconnect attempt(s)`,
  );

  // The final state: every good point exactly once, with its own vector and payload.
  expect(await c.count('stream')).toBe(N - bad.length);
  const seen: number[] = [];
  let mismatched = 0;
  for await (const p of c.scrollAll('stream', { with_vector: true }, { pageSize: 2_000 })) {
    const i = p.id as number;
    seen.push(i);
    const v = vector(i);
    if (p.payload?.i !== i || p.vector?.length !== DIM || p.vector.some((x, d) => x !== v[d])) mismatched++;
  }
  expect(mismatched).toBe(0);
  expect(seen).toEqual(Array.from({ length: N }, (_, i) => i).filter((i) => !bad.includes(i)));

  // The change feed went on across the restart: consecutive seqs, each once, covering every stored id.
  await waitFor(() => feed.lastSeq === summary.lastSeq, 20_000);
  stopFeed.abort();
  await reading;
  const seqs = changes.map((x) => (x.type === 'change' ? x.event.seq : -1));
  expect(seqs[0]).toBe(1);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1));
  const ids = new Set(changes.flatMap((x) => (x.type === 'change' ? (x.event.ids as number[]) : [])));
  expect(ids.size).toBe(N - bad.length);
}, 60_000);
