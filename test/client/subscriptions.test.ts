/**
 * The SDK's standing queries against a real `surgevec serve`: `client.subscriptions` (REST, catalogue
 * errors as classes) and `client.subscribe()` over SSE and over the WebSocket, across a restart of the
 * server mid-stream — killed (SIGKILL) with writes acknowledged just before, or stopped gracefully
 — checking that the caller gets exactly the matching seqs, once each, in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isApiError,
  type SubscriptionClosed,
  type SubscriptionLagged,
  type SubscriptionSeqEvent,
  SurgeClient,
} from '../../src/client/index.js';
import { type Served, serve } from './serve.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-client-subs-'));
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;

async function start(): Promise<{ server: Served; client: SurgeClient; dir: string }> {
  const dir = join(root, `d${dirs++}`);
  const server = await serve(dir);
  cleanup.push(() => server.kill());
  const client = new SurgeClient({ url: server.url, breaker: { cooldownMs: 200 } });
  cleanup.push(() => client.close());
  await client.createCollection('c', {
    vectors: { size: 4, distance: 'Cosine' },
    hnsw_config: { m: 4, ef_construct: 16 },
  });
  return { server, client, dir };
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const MATCH = [1, 0.1, 0, 0];
const MISS = [0, 1, 0, 0];

describe('client.subscriptions (REST)', () => {
  it('creates, lists, reads and deletes; errors come back as catalogue classes', async () => {
    const { client } = await start();
    const a = await client.subscriptions.create('c', { vector: MATCH, score_threshold: 0.9 });
    const b = await client.subscriptions.create('c', { vector: MISS, top_k: 3, with_payload: true });
    expect(a.id).not.toBe(b.id);
    const list = await client.subscriptions.list('c');
    expect(list.map((s) => [s.id, s.mode])).toEqual([
      [a.id, 'threshold'],
      [b.id, 'top_k'],
    ]);
    expect(await client.subscriptions.get('c', b.id)).toMatchObject({ top_k: 3, with_payload: true });
    expect(await client.subscriptions.delete('c', a.id)).toBe(true);
    expect((await client.subscriptions.list('c')).map((s) => s.id)).toEqual([b.id]);

    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'none',
        (e: unknown) => (e as { code: string }).code,
      );
    expect(await codeOf(client.subscriptions.get('c', a.id))).toBe('SUBSCRIPTION_NOT_FOUND');
    expect(await codeOf(client.subscriptions.create('c', { vector: [1, 0] }))).toBe('DIMENSION_MISMATCH');
    expect(await codeOf(client.subscriptions.create('nope', { vector: MATCH }))).toBe('COLLECTION_NOT_FOUND');
    // Streaming an unknown subscription fails at once with the same class (not retried).
    const err = await (async () => {
      for await (const _ of client.subscribe('c', a.id)) return 'an event';
      return 'ended';
    })().catch((e: unknown) => e);
    expect(isApiError(err, 'SUBSCRIPTION_NOT_FOUND')).toBe(true);
  });
});

for (const transport of ['sse', 'ws'] as const) {
  const how = transport === 'sse' ? 'killed (SIGKILL)' : 'stopped gracefully';
  describe(`client.subscribe over ${transport}`, () => {
    it(`delivers every matching seq once, in order, across a server ${how} mid-stream`, async () => {
      const started = await start();
      const { client, dir } = started;
      let server = started.server;
      const created = await client.subscriptions.create('c', { vector: MATCH, score_threshold: 0.9 });
      const got: SubscriptionSeqEvent[] = [];
      const notices: (SubscriptionLagged | SubscriptionClosed)[] = [];
      const stop = new AbortController();
      const stream = client.subscribe('c', created.id, {
        transport,
        signal: stop.signal,
        onNotice: (n) => notices.push(n),
        backoff: { baseMs: 50, capMs: 500 },
        maxConsecutiveFailures: 200,
      });
      const reading = (async () => {
        for await (const e of stream) got.push(e);
      })();

      const expected: number[] = [];
      let nextId = 1;
      /** One point per write: matching ones are expected as events with the write's seq. */
      const write = async (c: SurgeClient, n: number) => {
        for (let i = 0; i < n; i++) {
          const match = i % 3 !== 2;
          const r = await c.upsert('c', { points: [{ id: nextId++, vector: match ? MATCH : MISS }] });
          if (match) expected.push(r.operation_id);
        }
      };
      const seqs = () => got.map((e) => e.seq);

      await write(client, 15);
      await waitFor(() => got.length === expected.length, 15_000, 'the first events');
      // Acknowledged (durable) just before the server goes: the client has likely not seen them yet.
      await write(client, 15);
      if (transport === 'sse') await server.kill();
      else await server.stop();
      const port = server.port;
      server = await serve(dir, { port });
      cleanup.push(() => server.kill());
      const writer = new SurgeClient({ url: server.url });
      cleanup.push(() => writer.close());
      await write(writer, 15);
      await waitFor(() => got.length >= expected.length, 30_000, 'the events after the restart');
      // A moment for anything extra (a duplicate would arrive now).
      await new Promise((r) => setTimeout(r, 300));
      stop.abort();
      await reading;

      expect(got.every((e) => e.event === 'match' && e.subscription === created.id)).toBe(true);
      expect(seqs()).toEqual(expected);
      expect(stream.lastSeq).toBe(expected.at(-1));
      // Nothing was slow or deleted (a graceful stop closes WebSockets before any `closed` frame).
      expect(notices.filter((n) => n.event === 'lagged' || n.reason !== 'shutdown')).toEqual([]);
      // Given by id: the subscription is still there.
      expect((await writer.subscriptions.list('c')).map((s) => s.id)).toEqual([created.id]);
    });
  });
}

describe('client.subscribe with a request', () => {
  it('creates the subscription, streams a top-k reset then changes, and deletes it when done', async () => {
    const { client } = await start();
    await client.upsert('c', {
      points: [
        { id: 1, vector: [1, 0, 0, 0] },
        { id: 2, vector: [0, 1, 0, 0] },
      ],
    });
    const stream = client.subscribe('c', { vector: [1, 0.2, 0, 0], top_k: 1 }, { transport: 'ws' });
    const got: SubscriptionSeqEvent[] = [];
    for await (const e of stream) {
      got.push(e);
      if (got.length === 1) {
        await client.upsert('c', { points: [{ id: 3, vector: [1, 0.2, 0, 0] }] });
      }
      if (got.length === 2) break;
    }
    expect(got[0]).toMatchObject({ event: 'reset', reason: 'initial', points: [{ id: 1 }] });
    expect(got[1]).toMatchObject({ event: 'topk', enter: [{ id: 3 }], leave: [1] });
    expect(got[1]!.seq).toBeGreaterThan(got[0]!.seq);
    expect(stream.id).toBeDefined();
    expect(await client.subscriptions.list('c')).toEqual([]);
  });
});
