/**
 * One contract, three transports (style.md §3): HTTP/1.1, HTTP/2 (h2c) and WebSocket against the real app
 * (buildApp + an in-process engine on loopback port 0) answer searches with results, upserts, and errors with
 * the same status and catalogue code — so every view of a run means the same whatever carried it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHttp2, HttpTransport } from '../../src/bench/transports/http.js';
import type { Transport } from '../../src/bench/transports/transport.js';
import { WebSocketTransport } from '../../src/bench/transports/websocket.js';
import { defaultConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';

const dir = mkdtempSync(join(tmpdir(), 'surgevec-transports-'));
let engine: Engine;
const apps: FastifyInstance[] = [];
const urls: Record<'h1' | 'h2', string> = { h1: '', h2: '' };

async function listen(http2: boolean): Promise<string> {
  const config = defaultConfig({ storage: { data_dir: dir }, server: { http2 } });
  const app = await buildApp({ engine, config, version: 'test' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app);
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('not listening');
  return `http://127.0.0.1:${addr.port}`;
}

beforeAll(async () => {
  engine = await Engine.open(defaultConfig({ storage: { data_dir: dir } }));
  await engine.createCollection('c', { size: 2, distance: 'Euclid' });
  await engine.upsert('c', [
    { id: 1, vector: [0, 0] },
    { id: 2, vector: [1, 0] },
    { id: 3, vector: [5, 5] },
  ]);
  urls.h1 = await listen(false);
  urls.h2 = await listen(true);
});

afterAll(async () => {
  for (const a of apps) await a.close();
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

function transportContract(name: string, make: () => Transport) {
  describe(`${name} transport`, () => {
    it('searches, upserts and reports errors by status and catalogue code', async () => {
      const t = make();
      try {
        const hit = await t.send({
          op: 'search',
          collection: 'c',
          body: '{"vector":[0.9,0.1],"limit":2}',
          wantResult: true,
        });
        expect(hit.status, JSON.stringify(hit)).toBe(200);
        expect((hit.result as { id: number }[]).map((p) => p.id)).toEqual([2, 1]);
        const blind = await t.send({ op: 'search', collection: 'c', body: '{"vector":[0,0],"limit":1}' });
        expect(blind).toEqual({ status: 200 });
        const up = await t.send({
          op: 'upsert',
          collection: 'c',
          body: '{"points":[{"id":4,"vector":[9,9]}]}',
          wait: true,
        });
        expect(up.status).toBe(200);
        const bad = await t.send({ op: 'search', collection: 'c', body: '{"vector":[1,2,3],"limit":1}' });
        expect(bad).toMatchObject({ status: 400, code: 'DIMENSION_MISMATCH' });
        // Many at once: answers come back matched to their requests.
        const many = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            t.send({
              op: 'search',
              collection: 'c',
              body: `{"vector":[${i % 2 ? 5 : 0},${i % 2 ? 5 : 0}],"limit":1}`,
              wantResult: true,
            }),
          ),
        );
        expect(many.map((o) => (o.result as { id: number }[])[0]!.id)).toEqual(
          many.map((_, i) => (i % 2 ? 3 : 1)),
        );
      } finally {
        await t.close();
      }
    });

    it('a server that is not there is a network error, not a crash', async () => {
      const t = make();
      const down =
        t.kind === 'websocket'
          ? new WebSocketTransport({
              target: 'http://127.0.0.1:1',
              connections: 1,
              pipelining: 1,
              timeoutMs: 2000,
            })
          : new HttpTransport({
              target: 'http://127.0.0.1:1',
              kind: t.kind,
              connections: 1,
              pipelining: 1,
              timeoutMs: 2000,
            });
      await t.close();
      const o = await down.send({ op: 'search', collection: 'c', body: '{"vector":[0,0],"limit":1}' });
      expect(o.status).toBe(0);
      expect(o.code).toMatch(/ECONNREFUSED|WS_CONNECT_FAILED/);
      await down.close();
    });
  });
}

transportContract(
  'HTTP/1.1',
  () => new HttpTransport({ target: urls.h1, kind: 'http1', connections: 4, pipelining: 1, timeoutMs: 5000 }),
);
transportContract(
  'HTTP/2 (h2c)',
  () =>
    new HttpTransport({ target: urls.h2, kind: 'http2', connections: 1, pipelining: 32, timeoutMs: 5000 }),
);
transportContract(
  'WebSocket',
  () => new WebSocketTransport({ target: urls.h1, connections: 2, pipelining: 16, timeoutMs: 5000 }),
);

it('HTTP/2 is checked before a run: an HTTP/1.1-only server is refused with a clear error', async () => {
  await expect(checkHttp2(urls.h2)).resolves.toBeUndefined();
  await expect(checkHttp2(urls.h1)).rejects.toMatchObject({
    code: 'TARGET_UNREACHABLE',
    message: /does not speak HTTP\/2/,
  });
});
