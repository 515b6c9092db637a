/**
 * WebSocket frames pass admission control one by one, as the REST request of the same op would: the
 * tenant's quota (OVER_QUOTA), the degradation level's shedding and the concurrency gate (OVERLOADED), each
 * refusal answered in the frame with the catalogue error and `retry_after_ms` — one socket cannot bypass
 * the limits its tenant has over HTTP. Real sockets (app.listen on port 0), in-process engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { WebSocket } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ConfigOptions, defaultConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { parseJson } from '../../src/server/json.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-ws-admission-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ADMIN = 'admin-key-0123456789';
const FREE = 'free-key-0123456789';
const PREMIUM = 'premium-key-0123456789';

interface Answer {
  id: unknown;
  result?: unknown;
  error?: { code: string; message: string; hint: string; retry_after_ms?: number };
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

let dirs = 0;
async function serve(admission: ConfigOptions['admission'] = {}) {
  const config = defaultConfig({
    storage: { data_dir: join(root, `d${dirs++}`) },
    admission: { admin_key: ADMIN, tick_ms: 10_000, ...admission },
    tenants: [
      { id: 'freeco', tier: 'free', keys: [FREE], quotas: { reads_per_s: 0.5, reads_burst: 3 } },
      { id: 'premco', tier: 'premium', keys: [PREMIUM] },
    ],
  });
  const engine = await Engine.open(config);
  const app: FastifyInstance = await buildApp({ engine, config });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanup.push(
    () => engine.close(),
    () => app.close(),
  );
  const address = app.server.address();
  const base = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  // The premium tenant owns the collection; the free one may read it.
  await engine.createCollection('c', { size: 4, distance: 'Cosine' });
  await engine.upsert('c', [{ id: 1, vector: [1, 0, 0, 0] }], { wait: true });
  const rt = app.admission!;
  rt.store.owners.claim('c', 'premco');
  rt.store.owners.claim('f', 'freeco');
  await engine.createCollection('f', { size: 4, distance: 'Cosine' });
  return { app, base, rt };
}

async function socket(url: string, key: string) {
  const ws = new WebSocket(url, { headers: { 'api-key': key } } as never);
  const answers: Answer[] = [];
  const waiters: (() => void)[] = [];
  ws.addEventListener('message', (ev) => {
    answers.push(parseJson(String(ev.data)) as Answer);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('websocket failed to open')));
  });
  cleanup.push(async () => ws.close());
  const until = async (n: number) => {
    while (answers.length < n) await new Promise<void>((r) => waiters.push(r));
  };
  /** Sends the frames one after the other, each after the previous answer. */
  const ask = async (frames: object[]) => {
    for (const f of frames) {
      const n = answers.length + 1;
      ws.send(JSON.stringify(f));
      await until(n);
    }
    return answers.slice(-frames.length);
  };
  return { ask };
}

const search = (id: number) => ({ id, op: 'search', vector: [1, 0, 0, 0], limit: 1 });

describe('WebSocket frames are admitted one by one', () => {
  it("a tenant's read quota counts frames: beyond the burst, OVER_QUOTA with retry_after_ms", async () => {
    const { base } = await serve();
    // The upgrade request is one read (burst 3 → 2 left), then each frame is one.
    const free = await socket(`${base}/collections/f/ws`, FREE);
    const answers = await free.ask([search(1), search(2), search(3)]);
    expect(answers.slice(0, 2).map((a) => a.error)).toEqual([undefined, undefined]);
    expect(answers[2]!.error).toMatchObject({ code: 'OVER_QUOTA' });
    // 0.5 requests/s: the next one is allowed within 2 s, and exactly after what the answer says.
    expect(answers[2]!.error!.retry_after_ms).toBeGreaterThan(1000);
    expect(answers[2]!.error!.retry_after_ms).toBeLessThanOrEqual(2000);
  });

  it('level 2 sheds free frames (reads and writes) with OVERLOADED; premium frames still run', async () => {
    const { base, rt } = await serve();
    const free = await socket(`${base}/collections/f/ws`, FREE);
    const premium = await socket(`${base}/collections/c/ws`, PREMIUM);
    rt.ladder = { ...rt.ladder, level: 2 };
    const [read, write] = await free.ask([
      search(1),
      { id: 2, op: 'upsert', points: [{ id: 5, vector: [0, 1, 0, 0] }], wait: true },
    ]);
    for (const a of [read!, write!]) {
      expect(a.error).toMatchObject({ code: 'OVERLOADED' });
      expect(a.error!.retry_after_ms).toBeGreaterThanOrEqual(100);
    }
    const [ok] = await premium.ask([search(3)]);
    expect(ok!.error).toBeUndefined();
    expect(ok!.result).toEqual([expect.objectContaining({ id: 1 })]);
    expect(rt.rejections.get('shed')).toBe(2);
  });

  it('a read frame needs a concurrency slot: none free and no queue → OVERLOADED at once', async () => {
    const { base, rt } = await serve({ limit: { initial: 1, min: 1, max: 1 }, queue: { capacity: 0 } });
    const premium = await socket(`${base}/collections/c/ws`, PREMIUM);
    rt.gate.limiter.acquire(1, rt.now()); // premium's one slot is taken
    const [refused] = await premium.ask([search(1)]);
    expect(refused!.error).toMatchObject({ code: 'OVERLOADED' });
    rt.gate.release(1, rt.now(), rt.limit.limit);
    const [ok] = await premium.ask([search(2)]);
    expect(ok!.error).toBeUndefined();
    // The frame gave its slot back when answered.
    expect(rt.gate.limiter.total).toBe(0);
  });
});
