/**
 * NDJSON streaming ingest end to end: `surgevec serve` in a child process, N lines (100-D vectors) streamed
 * from a generator over one HTTP request, the server's RSS sampled from /proc every 250 ms. Reports lines/s,
 * idle and peak RSS, and growth; then checks the count.
 *
 * Growth has two parts: the points themselves (the engine keeps every vector in its own store and in the
 * HNSW graph, ~0.9 KB per 100-D point), and whatever the stream path holds. The second is what the stream's
 * design bounds (three batches plus socket buffers, never the body), so the report sets growth against the
 * engine's own estimate (`surgevec_collection_memory_bytes` from /metrics) when the server exposes it.
 *
 * Run: `npx tsx bench/ndjson-ingest.ts [--lines 1000000] [--dim 100] [--no-fsync] [--config file.json] [--keep]`
 * (`--config`: a server config file, e.g. to change `server.stream_batch_points` or the HNSW parameters).
 * Vectors come from a pool of 10,000 seeded random vectors (text formatting of 100M fresh floats would make
 * the client, on the same machine, the bottleneck); ids and payloads are unique per line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { gaussian, rng } from '../src/platform/random.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '100' },
    'no-fsync': { type: 'boolean', default: false },
    config: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const LINES = Number(values.lines);
const DIM = Number(values.dim);
const POOL = 10_000;
const SAMPLE_MS = 250;
const MB = 1024 * 1024;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function startServer(dataDir: string): Promise<{ child: ChildProcess; base: string }> {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--data-dir', dataDir];
  const config = values.config
    ? (JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>)
    : {};
  if (values['no-fsync']) {
    config.storage = { ...(config.storage as object | undefined), fsync: false };
  }
  const file = join(dataDir, '..', 'bench-config.json');
  writeFileSync(file, JSON.stringify(config));
  args.push('--config', file);
  const child = spawn(process.execPath, args, {
    cwd: new URL('..', import.meta.url).pathname,
    env: { ...process.env, SURGEVEC_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before it was ready`)));
  });
  child.stdout!.resume();
  return { child, base };
}

async function json(method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown): Promise<unknown> {
  const res = await request(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.statusCode} ${text}`);
  return JSON.parse(text);
}

function vectorPool(): string[] {
  const r = rng(42);
  const pool: string[] = new Array(POOL);
  for (let i = 0; i < POOL; i++) {
    let s = '[';
    for (let j = 0; j < DIM; j++) s += `${j === 0 ? '' : ','}${gaussian(r).toFixed(5)}`;
    pool[i] = `${s}]`;
  }
  return pool;
}

async function* ndjson(pool: string[], progress: { sent: number }): AsyncGenerator<string> {
  const CHUNK = 256;
  for (let i = 0; i < LINES; i += CHUNK) {
    let s = '';
    const end = Math.min(LINES, i + CHUNK);
    for (let j = i; j < end; j++) s += `{"id":${j},"vector":${pool[j % POOL]},"payload":{"n":${j}}}\n`;
    progress.sent = end;
    yield s;
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'surgevec-ndjson-bench-'));
  const { child, base } = await startServer(join(work, 'data'));
  const pid = child.pid!;
  try {
    await new Promise((r) => setTimeout(r, 1000));
    let idle = 0;
    for (let i = 0; i < 4; i++) {
      idle = Math.max(idle, rssBytes(pid));
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
    await json('PUT', `${base}/collections/bench`, { vectors: { size: DIM, distance: 'Cosine' } });
    const pool = vectorPool();

    let peak = idle;
    const timeline: { s: number; rss: number; sent: number }[] = [];
    const progress = { sent: 0 };
    const started = performance.now();
    const sampler = setInterval(() => {
      const rss = rssBytes(pid);
      peak = Math.max(peak, rss);
      timeline.push({ s: (performance.now() - started) / 1000, rss, sent: progress.sent });
    }, SAMPLE_MS);

    const res = await request(`${base}/collections/bench/points/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: Readable.from(ndjson(pool, progress), { objectMode: false }),
    });
    let tail = '';
    let lastLine = '';
    let errorLines = 0;
    for await (const chunk of res.body) {
      tail += chunk;
      const lines = tail.split('\n');
      tail = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('{"line"')) errorLines++;
        lastLine = l;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const after = rssBytes(pid);
    peak = Math.max(peak, after);
    const done = JSON.parse(lastLine) as { done: boolean; points: number; errors: number; last_seq: number };
    const count = (
      (await json('POST', `${base}/collections/bench/points/count`, { exact: true })) as {
        result: { count: number };
      }
    ).result.count;

    let engineBytes: number | undefined;
    try {
      const metrics = await (await request(`${base}/metrics`)).body.text();
      const m = /^surgevec_collection_memory_bytes\{[^}]*collection="bench"[^}]*\} (\S+)$/m.exec(metrics);
      if (m) engineBytes = Number(m[1]);
    } catch {
      // /metrics is optional here
    }

    const growth = peak - idle;
    const row = (k: string, v: string) => console.log(`${k.padEnd(26)} ${v}`);
    console.log(
      `\nNDJSON ingest: ${LINES.toLocaleString('en-US')} lines, ${DIM}-D, fsync ${!values['no-fsync']}` +
        (values.config ? `, config ${values.config}` : ''),
    );
    row('status', `${res.statusCode}, done=${done.done}, points=${done.points}, errors=${done.errors}`);
    row('time', `${seconds.toFixed(1)} s`);
    row('throughput', `${Math.round(LINES / seconds).toLocaleString('en-US')} lines/s`);
    row('idle RSS', `${(idle / MB).toFixed(0)} MB`);
    row('peak RSS', `${(peak / MB).toFixed(0)} MB`);
    row('growth', `${(growth / MB).toFixed(0)} MB`);
    if (engineBytes !== undefined) {
      row('engine data (its estimate)', `${(engineBytes / MB).toFixed(0)} MB`);
      row('growth beyond the data', `${((growth - engineBytes) / MB).toFixed(0)} MB (target < 200 MB)`);
    } else {
      row('target', 'growth < 200 MB beyond the stored points (no engine estimate from /metrics)');
    }
    row('count check', `${count} points ${count === LINES && done.points === LINES ? 'OK' : 'MISMATCH'}`);
    console.log('\nRSS over time (s, MB, lines sent):');
    const step = Math.max(1, Math.floor(timeline.length / 12));
    for (let i = 0; i < timeline.length; i += step) {
      const t = timeline[i]!;
      console.log(`  ${t.s.toFixed(1).padStart(6)}  ${(t.rss / MB).toFixed(0).padStart(6)}  ${t.sent}`);
    }
    if (errorLines > 0 || count !== LINES) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }
}

await main();
