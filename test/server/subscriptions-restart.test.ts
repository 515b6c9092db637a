/**
 * Subscriptions survive a restart of the real `surgevec serve` (worker-thread engine, scorer thread): the
 * same ids come back, a threshold client resumes with Last-Event-ID and gets exactly what it missed across
 * the restart, and a top-k client gets a `reset` with the correct current top-k (its history does not
 * survive; its definition does).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { parseJson } from '../../src/protocol/json.js';

/** Parsed JSON, read field by field in assertions. */
type Json = ReturnType<typeof JSON.parse>;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'surgevec-subs-restart-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const READY = /surgevec \S+ ready at (http:\/\/\S+)/;

async function start(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--data-dir', dir],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 30 s\n${stdout}\n${stderr}`)), 30_000);
    child.stdout!.on('data', () => {
      const m = READY.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(({ code }) =>
      reject(new Error(`serve exited ${code} before ready\n${stdout}\n${stderr}`)),
    );
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const r = await exited;
      expect(r, stderr).toEqual({ code: 0, signal: null });
    },
  };
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.statusCode, body: parseJson(await res.body.text()) as Record<string, Json> };
}

/** Reads an SSE stream until `until` holds for the events so far, then closes it. */
function readEvents(
  url: string,
  headers: Record<string, string>,
  until: (events: { id?: string; event: string; data: Json }[]) => boolean,
): Promise<{ id?: string; event: string; data: Json }[]> {
  return new Promise((resolve, reject) => {
    const events: { id?: string; event: string; data: Json }[] = [];
    const req = httpRequest(url, { headers }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let at = buf.indexOf('\n\n'); at >= 0; at = buf.indexOf('\n\n')) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const e: { id?: string; event: string; data: Json } = { event: 'message', data: undefined };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) e.data = parseJson(line.slice(6));
          }
          if (e.data !== undefined) events.push(e);
        }
        if (until(events)) {
          clearTimeout(timer);
          res.destroy();
          resolve(events);
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(events)}`));
    }, 15_000);
    req.on('error', reject);
    req.end();
  });
}

it('a restarted server keeps its subscriptions: threshold clients resume, top-k clients get a reset', async () => {
  let server = await start();
  let base = server.url;
  expect(
    (await call(base, 'PUT', '/collections/c', { vectors: { size: 3, distance: 'Euclid' } })).status,
  ).toBe(200);
  const threshold = (
    await call(base, 'POST', '/collections/c/subscriptions', { vector: [0, 0, 0], score_threshold: 1.5 })
  ).body.result as { id: string; seq: number };
  const topk = (
    await call(base, 'POST', '/collections/c/subscriptions', {
      vector: [0, 0, 0],
      top_k: 2,
      with_payload: true,
    })
  ).body.result as { id: string; seq: number };
  const w1 = (
    await call(base, 'PUT', '/collections/c/points?wait=true', {
      points: [{ id: 1, vector: [1, 0, 0], payload: { a: 1 } }],
    })
  ).body.result.operation_id as number;
  const first = await readEvents(
    `${base}/collections/c/subscriptions/${threshold.id}/events`,
    {},
    (e) => e.length === 1,
  );
  expect(first.map((e) => [e.id, e.data.points.map((p: { id: number }) => p.id)])).toEqual([
    [String(w1), [1]],
  ]);
  await server.stop();

  server = await start();
  base = server.url;
  const listed = (await call(base, 'GET', '/collections/c/subscriptions')).body.result.subscriptions as {
    id: string;
  }[];
  expect(listed.map((s) => s.id).sort()).toEqual([threshold.id, topk.id].sort());
  // Written after the restart (the subscriptions are matched again before Json client reconnects).
  const w2 = (
    await call(base, 'PUT', '/collections/c/points?wait=true', {
      points: [
        { id: 2, vector: [0.5, 0, 0], payload: { a: 2 } },
        { id: 3, vector: [9, 0, 0], payload: { a: 3 } },
      ],
    })
  ).body.result.operation_id as number;
  const resumed = await readEvents(
    `${base}/collections/c/subscriptions/${threshold.id}/events`,
    { 'last-event-id': first[0]!.id! },
    (e) => e.length === 1,
  );
  expect(resumed.map((e) => [e.event, e.id, e.data.points.map((p: { id: number }) => p.id)])).toEqual([
    ['match', String(w2), [2]],
  ]);

  const reset = await readEvents(
    `${base}/collections/c/subscriptions/${topk.id}/events`,
    { 'last-event-id': String(topk.seq) },
    (e) => e.length === 1,
  );
  expect(reset[0]!.event).toBe('reset');
  expect(reset[0]!.data.reason).toBe('beyond_history');
  expect(reset[0]!.data.points.map((p: { id: number; payload: unknown }) => [p.id, p.payload])).toEqual([
    [2, { a: 2 }],
    [1, { a: 1 }],
  ]);
  const del = await call(base, 'DELETE', `/collections/c/subscriptions/${threshold.id}`);
  expect(del.status).toBe(200);
  await server.stop();

  server = await start();
  const after = (await call(server.url, 'GET', '/collections/c/subscriptions')).body.result.subscriptions as {
    id: string;
  }[];
  expect(after.map((s) => s.id)).toEqual([topk.id]);
  await server.stop();
}, 90_000);
