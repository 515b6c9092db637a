/**
 * HTTP search QPS over loopback vs the in-process engine, same data, same queries, same ef, one run.
 * Acceptance (server issue): HTTP QPS at recall@10 >= 0.95 is >= 0.8x in-process QPS.
 *
 *   npx tsx bench/http-vs-inprocess.ts [--base 100000] [--ef 128] [--concurrency 16] [--rounds 3]
 *
 * The collection is built in-process once, closed (snapshot), then opened by each side in turn:
 * first an in-process Engine (sequential queries: the engine's own speed), then `surgevec serve` in a child
 * process hit by an undici Pool with `concurrency` requests in flight. Bounded by query count.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { exactKnn, loadGlove, recallAtK } from '../src/bench/datasets/index.js';
import { defaultConfig } from '../src/config/index.js';
import { Engine } from '../src/engine/index.js';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string', default: '100000' },
    ef: { type: 'string', default: '128' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
  },
});
const DIM = 100;
const ef = Number(args.ef);
const rounds = Number(args.rounds);
const data = await loadGlove({ base: Number(args.base), quiet: true });
const n = data.baseCount;
const nq = data.queryCount;
const truth = exactKnn(data.base, DIM, data.queries, 10, 'cosine');
const dir = mkdtempSync(join(tmpdir(), 'surgevec-httpbench-'));
const log = (s: string) => process.stdout.write(`${s}\n`);
const query = (q: number) => Array.from(data.queries.subarray(q * DIM, (q + 1) * DIM));

// Build once.
{
  const engine = await Engine.open(defaultConfig({ storage: { data_dir: dir } }));
  await engine.createCollection('glove', { size: DIM, distance: 'Cosine' });
  for (let s = 0; s < n; s += 5000) {
    const c = Math.min(5000, n - s);
    await engine.upsert('glove', {
      ids: Array.from({ length: c }, (_, i) => s + i),
      vectors: data.base.subarray(s * DIM, (s + c) * DIM),
    });
  }
  await engine.whenIndexed('glove');
  await engine.close();
}

// In-process: the engine's own QPS.
let inproc = 0;
{
  const engine = await Engine.open(defaultConfig({ storage: { data_dir: dir } }));
  const found: number[][] = [];
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let q = 0; q < nq; q++) {
      const hits = await engine.search('glove', {
        vector: data.queries.subarray(q * DIM, (q + 1) * DIM),
        limit: 10,
        params: { hnsw_ef: ef },
      });
      if (r === 0) found.push(hits.map((h) => h.id as number));
    }
    best = Math.max(best, nq / ((performance.now() - t0) / 1000));
  }
  inproc = best;
  log(
    `in-process: ${Math.round(best)} QPS (best of ${rounds}), recall@10 ${recallAtK(found, truth, 10, 10).toFixed(4)} at ef ${ef}`,
  );
  await engine.close();
}

// HTTP: the real server in a child process, with search coalescing (default) and without (batch max 1).
async function http(batchMax: number): Promise<number> {
  const cfg = join(dir, `server-${batchMax}.json`);
  writeFileSync(cfg, JSON.stringify({ server: { search_batch_max: batchMax }, log: { level: 'warn' } }));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--data-dir', dir, '--config', cfg],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
  const concurrency = Number(args.concurrency);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency, pipelining: 1 });
  const bodies = Array.from({ length: nq }, (_, q) =>
    JSON.stringify({ vector: query(q), limit: 10, params: { hnsw_ef: ef } }),
  );
  let best = 0;
  const found: number[][] = new Array(nq);
  for (let r = 0; r < rounds; r++) {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < nq) {
          const q = next++;
          const res = await pool.request({
            path: '/collections/glove/points/search',
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: bodies[q],
          });
          const body = (await res.body.json()) as { result: { id: number }[] };
          if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(body)}`);
          found[q] = body.result.map((p) => p.id);
        }
      }),
    );
    best = Math.max(best, nq / ((performance.now() - t0) / 1000));
  }
  const recall = recallAtK(found, truth, 10, 10);
  log(
    `HTTP, search_batch_max ${batchMax} (${concurrency} in flight, undici, loopback): ${Math.round(best)} QPS ` +
      `(best of ${rounds}), recall@10 ${recall.toFixed(4)}`,
  );
  // The same load from wrk (C, one thread) when installed: a lighter client leaves the server more of the
  // 2 cores, which is closer to a separate load-generator machine. Same bodies, cycled.
  const wrk = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (wrk.error === undefined) {
    const lua = join(dir, 'bodies.lua');
    writeFileSync(
      lua,
      `local bodies = {${bodies.map((b) => JSON.stringify(b)).join(',')}}\nlocal i = 0\n` +
        `request = function()\n  i = (i % #bodies) + 1\n  return wrk.format('POST', '/collections/glove/points/search', ` +
        `{['Content-Type'] = 'application/json'}, bodies[i])\nend\n`,
    );
    const out = spawnSync(
      'wrk',
      ['-t1', `-c${concurrency}`, '-d10s', '-s', lua, `http://127.0.0.1:${port}`],
      {
        encoding: 'utf8',
      },
    ).stdout;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
    log(
      `HTTP, search_batch_max ${batchMax}, wrk -t1 -c${concurrency} 10 s: ${Math.round(rps)} QPS (${non2xx} non-2xx)`,
    );
    best = Math.max(best, rps);
  }
  await pool.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return best;
}

const batched = await http(100);
const unbatched = await http(1);
log(`ratio HTTP (batched) / in-process: ${(batched / inproc).toFixed(2)} (target >= 0.8)`);
log(`coalescing gain: ${(batched / unbatched).toFixed(2)}x over one engine call per request`);
rmSync(dir, { recursive: true, force: true });
