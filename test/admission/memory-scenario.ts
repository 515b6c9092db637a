/**
 * Regression for Qdrant's upsert-OOM reports: 10 clients writing as fast as they can against a real server
 * process with a small memory budget — 8 upserting 2000-point requests, 2 streaming NDJSON. The ingest
 * budget (bytes and operations in flight) bounds what concurrent writes pin; near the memory budget request
 * writes are refused (503 + Retry-After) and streams are no longer read (TCP holds the senders back). The
 * peak RSS (VmHWM, read from /proc) stays under the budget and the server stays up and answers.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { type ServerProcess, startServer } from './serve-process.js';

const MiB = 1 << 20;
const BUDGET = 384 * MiB;
const REQUEST_CLIENTS = 8;
const STREAM_CLIENTS = 2;
const DIM = 64;
const POINTS_PER_REQUEST = 2000;
const LOAD_MS = 8000;

/** Vector texts built once: bodies differ only in their ids, so each request writes new points. */
const VECTORS = Array.from({ length: POINTS_PER_REQUEST }, (_, i) => {
  const v = new Array<string>(DIM);
  for (let d = 0; d < DIM; d++) v[d] = Math.sin(i * 0.013 + d).toFixed(5);
  return `[${v.join(',')}]`;
});

function upsertBody(firstId: number): string {
  const points = new Array<string>(POINTS_PER_REQUEST);
  for (let i = 0; i < POINTS_PER_REQUEST; i++) points[i] = `{"id":${firstId + i},"vector":${VECTORS[i]}}`;
  return `{"points":[${points.join(',')}]}`;
}

/** Upserts as fast as the answers come back; returns the points acknowledged and the statuses seen. */
async function requestClient(url: string, c: number, deadline: number, statuses: Map<number, number>) {
  const client = new Client(url, { headersTimeout: 30_000, bodyTimeout: 30_000 });
  let acknowledged = 0;
  let missingRetryAfter = 0;
  for (let round = 0; performance.now() < deadline; round++) {
    const r = await client.request({
      method: 'PUT',
      path: '/collections/flood/points',
      headers: { 'content-type': 'application/json' },
      body: upsertBody((c * 10_000 + round) * POINTS_PER_REQUEST),
    });
    await r.body.text();
    statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
    if (r.statusCode === 200) acknowledged += POINTS_PER_REQUEST;
    else {
      if (r.headers['retry-after'] === undefined) missingRetryAfter++;
      // Backs off a little, as Retry-After asks (capped so the flood goes on).
      await sleep(Math.min(50, Number(r.headers['retry-after-ms'] ?? 50)));
    }
  }
  await client.close();
  return { acknowledged, missingRetryAfter };
}

/**
 * Streams NDJSON as fast as the socket takes it until the deadline, then hangs up. Returns the bytes the
 * server let it send: once admission stops reading, TCP backpressure stops the writer.
 */
async function streamClient(url: string, c: number, deadline: number): Promise<number> {
  const body = new PassThrough();
  const client = new Client(url, { headersTimeout: 30_000, bodyTimeout: 0 });
  const answer = client
    .request({
      method: 'POST',
      path: '/collections/flood/points/stream',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    })
    .then((r) => r.body.text())
    .catch(() => '');
  let sent = 0;
  let id = (100 + c) * 10_000_000;
  const timer = setTimeout(() => body.emit('deadline'), Math.max(0, deadline - performance.now()));
  for (;;) {
    if (performance.now() >= deadline) break;
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) lines.push(`{"id":${id++},"vector":${VECTORS[i]}}\n`);
    const chunk = lines.join('');
    sent += chunk.length;
    if (!body.write(chunk)) {
      const more = await Promise.race([
        once(body, 'drain').then(() => true),
        once(body, 'deadline').then(() => false),
      ]);
      if (!more) break;
    }
  }
  clearTimeout(timer);
  await client.destroy();
  await answer;
  return sent;
}

/** Registers the scenario's test (run from test/server/admission-process.test.ts). */
export function memoryScenario(): void {
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('10 writers flat out (8 upserting, 2 streaming): RSS stays under the memory budget, the server stays up', async () => {
    const server = await startServer({
      admission: { memory_budget_bytes: BUDGET, ingest: { max_bytes: 4 * MiB, max_ops: 8 } },
    });
    servers.push(server);
    const admin = new Client(server.url);
    const call = async (method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) => {
      const r = await admin.request({
        method,
        path,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: r.statusCode, json: (await r.body.json()) as { result: Record<string, unknown> } };
    };
    expect(
      (await call('PUT', '/collections/flood', { vectors: { size: DIM, distance: 'Cosine' } })).status,
    ).toBe(200);

    const statuses = new Map<number, number>();
    const deadline = performance.now() + LOAD_MS;
    const [requests, streamed] = await Promise.all([
      Promise.all(
        Array.from({ length: REQUEST_CLIENTS }, (_, c) => requestClient(server.url, c, deadline, statuses)),
      ),
      Promise.all(Array.from({ length: STREAM_CLIENTS }, (_, c) => streamClient(server.url, c, deadline))),
    ]);
    const { peak } = server.memory();
    const health = await admin.request({ method: 'GET', path: '/healthz' });
    await health.body.text();
    const status = (await call('GET', '/admin/status')).json.result as {
      rejections: Record<string, number>;
      ingest: { paused_for_memory: boolean };
    };
    const stored = (await call('POST', '/collections/flood/points/count', {})).json.result.count as number;
    await admin.close();

    const acknowledged = requests.reduce((n, r) => n + r.acknowledged, 0);
    const streamedPoints = stored - acknowledged;
    const sentBytes = streamed.reduce((n, b) => n + b, 0);
    const lineBytes = VECTORS.slice(0, 100).reduce((n, v) => n + v.length + 24, 0) / 100;
    console.log(
      `memory: budget ${BUDGET / MiB} MiB, peak RSS ${(peak / MiB).toFixed(0)} MiB; ${stored} points stored ` +
        `(${acknowledged} by request, ${streamedPoints} streamed); streams sent ${(sentBytes / MiB).toFixed(1)} MiB; ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}; rejections ${JSON.stringify(status.rejections)}; ` +
        `writes paused for memory: ${status.ingest.paused_for_memory}`,
    );
    expect(health.statusCode).toBe(200);
    expect(server.child.exitCode).toBe(null);
    expect(peak).toBeLessThan(BUDGET);
    expect(acknowledged).toBeGreaterThan(0);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].sort()).toEqual([200, 503]);
    expect(requests.every((r) => r.missingRetryAfter === 0)).toBe(true);
    // The streams were held back: what they managed to send is what was stored, plus socket buffers.
    expect(streamedPoints).toBeGreaterThan(0);
    expect(sentBytes - streamedPoints * lineBytes).toBeLessThan(32 * MiB);
    const { code, signal } = await server.stop();
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
}
