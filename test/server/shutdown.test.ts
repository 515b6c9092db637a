/**
 * Graceful shutdown of the real `surgevec serve` process: on SIGTERM readiness turns 503, new connections are
 * refused, requests in flight complete with 200, the WAL is flushed and a snapshot written, the process exits
 * 0 within the deadline, and a restart sees every acknowledged point.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'surgevec-shutdown-'));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const DIM = 32;
const N = 8_000;
/** serve's default server.shutdown_timeout_ms is 10 s; exiting must not need more than that plus start-up slack. */
const EXIT_DEADLINE_MS = 12_000;

interface Server {
  child: ChildProcessWithoutNullStreams;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  output: () => string;
}

async function serve(dataDir: string): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env, SURGEVEC_LOG_LEVEL: 'info' };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--data-dir', dataDir],
    { cwd: REPO, env },
  );
  children.push(child);
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    out += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 30 s:\n${out}`)), 30_000);
    child.stdout.on('data', (s: string) => {
      out += s;
      const m = /ready at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(({ code }) => reject(new Error(`serve exited with ${code} before ready:\n${out}`)));
  });
  return { child, port, exited, output: () => out };
}

function vector(i: number): number[] {
  const v = new Array<number>(DIM);
  for (let d = 0; d < DIM; d++) v[d] = Math.sin(i * 0.37 + d * 1.3);
  return v;
}

async function call(client: Client, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) {
  const r = await client.request({
    method,
    path,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await r.body.text();
  return {
    status: r.statusCode,
    json: text.startsWith('{') ? (JSON.parse(text) as { result: unknown }) : null,
    text,
  };
}

function exactBatch(k: number) {
  return {
    searches: Array.from({ length: k }, (_, i) => ({
      vector: vector(i * 13 + 5),
      limit: 10,
      params: { exact: true },
    })),
  };
}

/** Resolves when a fresh TCP connection to the port is refused (the listener is closed). */
async function untilRefused(port: number, withinMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < withinMs) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    });
    if (refused) return performance.now() - started;
    await sleep(10);
  }
  throw new Error(`port ${port} still accepts connections after ${withinMs} ms`);
}

/** Raw HTTP/1.1 responses read from one socket: status line codes, in order. */
function statuses(socket: Socket): { codes: number[]; closed: Promise<void> } {
  const codes: number[] = [];
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (s: string) => {
    buffered += s;
    for (const m of buffered.matchAll(/HTTP\/1\.1 (\d{3}) /g)) codes.push(Number(m[1]));
    buffered = buffered.slice(buffered.lastIndexOf('HTTP/1.1 ') + 1);
  });
  return { codes, closed: once(socket, 'close').then(() => undefined) };
}

describe('surgevec serve: graceful shutdown on SIGTERM', () => {
  it('drains, keeps every acknowledged write, snapshots and exits 0', async () => {
    const dataDir = join(root, 'data');
    const first = await serve(dataDir);
    const client = new Client(`http://127.0.0.1:${first.port}`, { pipelining: 1 });

    expect(
      (await call(client, 'PUT', '/collections/c', { vectors: { size: DIM, distance: 'Cosine' } })).status,
    ).toBe(200);
    // Acknowledged (wait=false: in the WAL and fsynced, not necessarily applied yet).
    const BATCH = 1000;
    for (let start = 0; start < N; start += BATCH) {
      const points = Array.from({ length: BATCH }, (_, i) => ({
        id: start + i + 1,
        vector: vector(start + i),
        payload: { i: start + i },
      }));
      const r = await call(client, 'PUT', '/collections/c/points?wait=false', { points });
      expect(r.status).toBe(200);
      expect((r.json!.result as { status: string }).status).toBe('acknowledged');
    }

    // Calibrate a search batch that keeps the engine busy ~1.5 s on this machine.
    const probeK = 100;
    const t0 = performance.now();
    expect(
      (await call(client, 'POST', '/collections/c/points/search/batch', exactBatch(probeK))).status,
    ).toBe(200);
    const perSearchMs = Math.max((performance.now() - t0) / probeK, 0.02);
    const K = Math.min(Math.max(Math.round(1500 / perSearchMs), 200), 20_000);

    // One slow request on a raw socket (to pipeline a /readyz behind it later) and two more on their own.
    const raw = connect(first.port, '127.0.0.1');
    await once(raw, 'connect');
    const onRaw = statuses(raw);
    const slowBody = JSON.stringify(exactBatch(K));
    raw.write(
      'POST /collections/c/points/search/batch HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(slowBody)}\r\n\r\n${slowBody}`,
    );
    const others = [1, 2].map(() => {
      const c = new Client(`http://127.0.0.1:${first.port}`);
      return call(c, 'POST', '/collections/c/points/search/batch', exactBatch(K)).finally(() => c.close());
    });
    await sleep(200); // let the server receive all three bodies
    expect(onRaw.codes).toEqual([]); // still in flight

    const signalled = performance.now();
    first.child.kill('SIGTERM');
    await untilRefused(first.port, 3000);
    // The listener is closed while the slow requests still run; a request on an open connection now gets 503.
    expect(onRaw.codes).toEqual([]);
    raw.write('GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n');

    const done = await Promise.all(others);
    for (const r of done) {
      expect(r.status).toBe(200);
      expect(r.json!.result as unknown[]).toHaveLength(K);
    }
    await onRaw.closed;
    expect(onRaw.codes).toEqual([200, 503]);

    const exit = await Promise.race([first.exited, sleep(EXIT_DEADLINE_MS).then(() => null)]);
    expect(exit, `serve did not exit within ${EXIT_DEADLINE_MS} ms:\n${first.output()}`).not.toBeNull();
    expect(exit!.code).toBe(0);
    expect(exit!.at - signalled).toBeLessThan(EXIT_DEADLINE_MS);
    expect(first.output()).toMatch(/draining: readiness is now 503/);
    expect(first.output()).toMatch(/stopped cleanly/);
    await client.close().catch(() => undefined);

    const snapshots = join(dataDir, 'collections', 'c', 'snapshots');
    const complete = readdirSync(snapshots).filter((d) => existsSync(join(snapshots, d, 'manifest.json')));
    expect(complete.length).toBeGreaterThan(0);

    // Restart: every acknowledged point is there, with its vector and payload.
    const second = await serve(dataDir);
    const again = new Client(`http://127.0.0.1:${second.port}`);
    try {
      const count = await call(again, 'POST', '/collections/c/points/count', { exact: true });
      expect((count.json!.result as { count: number }).count).toBe(N);
      const ids = [1, 2, N / 2, N - 1, N];
      const got = await call(again, 'POST', '/collections/c/points', {
        ids,
        with_vector: true,
        with_payload: true,
      });
      const records = got.json!.result as { id: number; vector: number[]; payload: { i: number } }[];
      expect(records.map((r) => r.id).sort((a, b) => a - b)).toEqual(ids);
      for (const r of records) {
        expect(r.payload.i).toBe(r.id - 1);
        const want = vector(r.id - 1);
        const norm = Math.hypot(...want);
        for (let d = 0; d < DIM; d++) expect(r.vector[d]).toBeCloseTo(want[d]! / norm, 5);
      }
    } finally {
      await again.close();
      second.child.kill('SIGTERM');
    }
    expect((await second.exited).code).toBe(0);
  });
});
