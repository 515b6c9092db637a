/**
 * Standing queries, the acceptance benchmark (issue 8): `surgevec serve` in a child process, as deployed
 * (engine worker thread, scorer thread, fsync on).
 *
 * Phase `latency` — 10,000 threshold subscriptions while points are ingested at 5,000/s (100-D):
 *   1. baseline: paced ingest (PUT /points, wait=false, 50 points every 10 ms, open loop) with no
 *      subscriptions; ack latency, achieved rate, HTTP event-loop delay (from /metrics);
 *   2. the same with 10,000 subscriptions, their events received over 10 WebSockets (1,000 each) and 100 SSE
 *      streams: delivery latency = event at the client − the insert's ack (and − its send), the same ingest
 *      figures, and the events of 100 subscriptions checked exactly against a brute-force match;
 *   3. saturation: an NDJSON stream as fast as the server takes it, without and with the subscriptions.
 * Data: GloVe-100 rows (the cache of src/bench/datasets) as subscriptions and as points; each
 * subscription's threshold is set so that it matches `--match-rate` of the points (from a calibration
 * sample), which is what "notify me when something relevant appears" looks like. `--data clustered` uses
 * clustered random vectors (src/platform/random.ts) instead.
 *
 * Phase `idle` — 20,000 idle subscribers: a fresh server, 20,000 subscriptions; the server's RSS is read
 * from /proc before and after attaching them over WebSockets (100 per connection), then after holding up
 * to `--sse` SSE connections (one subscription each; this container allows 20,000 open files per process,
 * so the SSE count stops below that). Reports bytes per subscriber.
 *
 * Run: `npx tsx bench/subscriptions.ts [--phase latency,idle] [--subs 10000] [--rate 5000] [--seconds 20]
 *       [--match-rate 0.0002] [--data glove|clustered] [--m 16 --ef-construct 200] [--scorer-threads 0] [--idle 20000] [--sse 19500]
 *       [--json out.json]`
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { build, type Histogram } from 'hdr-histogram-js';
import { Pool, request, WebSocket } from 'undici';
import { loadGlove } from '../src/bench/datasets/index.js';
import { clusteredVectors, rng } from '../src/platform/random.js';
import { ScoreMatrix } from '../src/subscriptions/score-matrix.js';

// ---------------------------------------------------------------- SSE client child (idle phase)

if (process.argv[2] === '--sse-child') {
  const [base, ids] = [process.argv[3]!, JSON.parse(readFileSync(process.argv[4]!, 'utf8')) as string[]];
  const u = new URL(base);
  let open = 0;
  let failed = 0;
  const sockets = [];
  // In steps of 200, each step once its connections have their first bytes: the listen backlog (4096 here)
  // drops SYNs when 18,000 connects arrive at once.
  for (let from = 0; from < ids.length; from += 200) {
    await Promise.all(
      ids.slice(from, from + 200).map(
        (id) =>
          new Promise<void>((resolve) => {
            const s = connect(Number(u.port), u.hostname);
            s.on('error', () => {
              failed++;
              resolve();
            });
            s.write(`GET /collections/bench/subscriptions/${id}/events HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
            s.once('data', () => {
              open++;
              resolve();
            });
            s.on('data', () => {});
            sockets.push(s);
          }),
      ),
    );
  }
  process.send!({ open, failed });
  process.on('message', () => process.exit(0));
  await new Promise(() => {});
}

const { values } = parseArgs({
  options: {
    phase: { type: 'string', default: 'latency,idle' },
    subs: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    'match-rate': { type: 'string', default: '0.0002' },
    data: { type: 'string', default: 'glove' },
    idle: { type: 'string', default: '20000' },
    sse: { type: 'string', default: '19500' },
    saturation: { type: 'string', default: '40000' },
    // HNSW build parameters of the benchmark collection (defaults: the server's, m 16 / ef_construct 200).
    m: { type: 'string' },
    'ef-construct': { type: 'string' },
    // Scoring threads of the server (subscriptions.scorer_threads; 0: one per core but one, at most 4).
    'scorer-threads': { type: 'string', default: '0' },
    json: { type: 'string' },
  },
});
const PHASES = new Set(values.phase!.split(','));
const SUBS = Number(values.subs);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const MATCH_RATE = Number(values['match-rate']);
const DIM = 100;
const BATCH = 50;
const ROOT = new URL('..', import.meta.url).pathname;
const results: Record<string, unknown> = {
  machine: 'shared 2-core VM (other agents running: figures are lower bounds)',
  loadavg_at_start: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
};

const hist = (): Histogram =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
const ms = (h: Histogram, p: number) => Math.round(h.getValueAtPercentile(p)) / 1000;
const summary = (h: Histogram) => ({
  count: h.totalCount,
  p50: ms(h, 50),
  p90: ms(h, 90),
  p99: ms(h, 99),
  max: ms(h, 100),
});
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

interface Memory {
  rss: number;
  /** The HTTP thread's V8 heap in use, and memory V8 tracks outside it (buffers), after a full GC. */
  heap: number;
}

/** RSS and heap after a full GC of the server's HTTP thread (what the connections really hold). */
async function memoryAfterGc(pid: number, base: string): Promise<Memory> {
  process.kill(pid, 'SIGUSR2');
  await sleep(1000);
  const text = await (await request(`${base}/metrics`)).body.text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    rss: rssBytes(pid),
    heap: metric('nodejs_heap_size_used_bytes') + metric('nodejs_external_memory_bytes'),
  };
}

const perEach = (a: Memory, b: Memory, n: number) => ({
  rss_bytes: Math.round((b.rss - a.rss) / n),
  heap_bytes: Math.round((b.heap - a.heap) / n),
});

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function startServer(dataDir: string, config: object): Promise<{ child: ChildProcess; base: string }> {
  const file = join(dataDir, '..', `config-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(
    process.execPath,
    [
      // Memory figures are read after a full GC of the HTTP thread (SIGUSR2), not whatever garbage is pending.
      '--expose-gc',
      '--import',
      `data:text/javascript,${encodeURIComponent('process.on("SIGUSR2", () => globalThis.gc?.())')}`,
      '--import',
      'tsx',
      'src/cli/main.ts',
      'serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--config',
      file,
    ],
    { cwd: ROOT, env: { ...process.env, SURGEVEC_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /ready at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { child, base };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000).then(() => child.kill('SIGKILL'))]);
}

/** CPU seconds of each thread of a process so far (tid → name and seconds). */
function threadCpu(pid: number): Map<number, { name: string; s: number; wait: number }> {
  const out = new Map<number, { name: string; s: number; wait: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // schedstat: ns on a CPU, ns runnable but waiting for one (what other work costs this thread).
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(Number(tid), { name, s: run! / 1e9, wait: wait! / 1e9 });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/**
 * The busiest threads between two readings (tid = pid: the HTTP thread): cores used, and cores' worth of
 * time spent runnable but waiting for a CPU. Threads that ended meanwhile (index builds) are not listed.
 */
function busiestThreads(
  pid: number,
  a: Map<number, { name: string; s: number; wait: number }>,
  b: Map<number, { name: string; s: number; wait: number }>,
  seconds: number,
): string[] {
  return [...b]
    .map(([tid, t]) => ({
      tid,
      name: t.name,
      cores: (t.s - (a.get(tid)?.s ?? 0)) / seconds,
      wait: (t.wait - (a.get(tid)?.wait ?? 0)) / seconds,
    }))
    .filter((t) => t.cores >= 0.02 || t.wait >= 0.02)
    .sort((x, y) => y.cores - x.cores)
    .slice(0, 10)
    .map(
      (t) =>
        `${t.tid === pid ? 'main' : t.name}#${t.tid}: ${t.cores.toFixed(2)} run, ${t.wait.toFixed(2)} wait`,
    );
}

/** Cumulative bucket counts (le → count) of one histogram series in Prometheus text. */
function histogramBuckets(text: string, name: string, labels = ''): Map<number, number> {
  const out = new Map<number, number>();
  // prom-client writes `le` first: {le="0.01",transport="ws"}.
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const ls = m[1]!.split(',');
    const le = ls.find((l) => l.startsWith('le='))?.slice(4, -1);
    const rest = ls.filter((l) => !l.startsWith('le=')).join(',');
    if (le !== undefined && rest === labels) out.set(le === '+Inf' ? Infinity : Number(le), Number(m[2]));
  }
  return out;
}

/** Quantiles (ms, as bucket upper bounds) of what a histogram observed between two scrapes. */
function bucketQuantiles(before: Map<number, number>, after: Map<number, number>): Record<string, number> {
  const les = [...after.keys()].sort((x, y) => x - y);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  const q = (p: number) => {
    for (const le of les) {
      if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= p * total) return le * 1000;
    }
    return Number.NaN;
  };
  return { count: total, p50_le_ms: q(0.5), p90_le_ms: q(0.9), p99_le_ms: q(0.99) };
}

async function metricsText(base: string): Promise<string> {
  return (await request(`${base}/metrics`)).body.text();
}

/** Parsed JSON, read field by field. */
type Json = ReturnType<typeof JSON.parse>;

async function json(base: string, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
  return JSON.parse(text).result;
}

/** `nodejs_eventloop_lag_p99_seconds` of the server's HTTP thread since the previous scrape (prom-client resets it). */
async function loopLagP99Ms(base: string): Promise<number> {
  const text = await (await request(`${base}/metrics`)).body.text();
  const m = /^nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(text);
  return m ? Math.round(Number(m[1]) * 1e6) / 1000 : Number.NaN;
}

// ---------------------------------------------------------------- data

function normalise(v: Float32Array, dim: number): void {
  for (let i = 0; i < v.length / dim; i++) {
    let n = 0;
    for (let j = 0; j < dim; j++) n += v[i * dim + j]! ** 2;
    const inv = 1 / Math.sqrt(n);
    for (let j = 0; j < dim; j++) v[i * dim + j]! *= inv;
  }
}

/** Rounded to 6 decimals (short JSON), then normalised the way the engine stores them. */
function wireAndStored(src: Float32Array, dim: number): { wire: number[][]; stored: Float32Array } {
  const n = src.length / dim;
  const wire: number[][] = [];
  const stored = new Float32Array(src.length);
  for (let i = 0; i < n; i++) {
    const w = Array.from(src.subarray(i * dim, (i + 1) * dim), (x) => Math.round(x * 1e6) / 1e6);
    wire.push(w);
    stored.set(w, i * dim);
  }
  normalise(stored, dim);
  return { wire, stored };
}

async function dataset(): Promise<{ subs: Float32Array; points: Float32Array; calib: Float32Array }> {
  const need = SUBS + 400_000;
  if (values.data === 'clustered') {
    const all = clusteredVectors(rng(8), Math.min(need, 400_000), DIM, 500, 0.6);
    normalise(all, DIM);
    return {
      subs: all.subarray(0, SUBS * DIM),
      calib: all.subarray(SUBS * DIM, (SUBS + 20_000) * DIM),
      points: all.subarray((SUBS + 20_000) * DIM),
    };
  }
  const g = await loadGlove({ quiet: true });
  const base = g.base;
  normalise(base, DIM);
  // A seeded shuffle of row numbers: subscriptions, a calibration sample and the streamed points are disjoint.
  const r = rng(42);
  const order = Array.from({ length: g.baseCount }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const take = (from: number, count: number) => {
    const out = new Float32Array(count * DIM);
    for (let i = 0; i < count; i++)
      out.set(base.subarray(order[from + i]! * DIM, (order[from + i]! + 1) * DIM), i * DIM);
    return out;
  };
  const calibN = 20_000;
  return {
    subs: take(0, SUBS),
    calib: take(SUBS, calibN),
    points: take(SUBS + calibN, g.baseCount - SUBS - calibN),
  };
}

/** Per subscription: the score that `MATCH_RATE` of the calibration points reach (at least 0.45). */
function calibrate(subs: Float32Array, calib: Float32Array): Float64Array {
  const n = subs.length / DIM;
  const m = new ScoreMatrix('Cosine', DIM);
  for (let s = 0; s < n; s++) m.set(s, subs.subarray(s * DIM, (s + 1) * DIM), 0.45);
  const k = Math.max(1, Math.round(MATCH_RATE * (calib.length / DIM)));
  const best: number[][] = Array.from({ length: n }, () => []);
  const chunk = 256;
  for (let p = 0; p < calib.length / DIM; p += chunk) {
    const c = m.score(
      calib.subarray(p * DIM, Math.min(calib.length, (p + chunk) * DIM)),
      Math.min(chunk, calib.length / DIM - p),
    );
    for (let i = 0; i < c.length; i++) best[c.slot[i]!]!.push(c.score[i]!);
  }
  const t = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const b = best[s]!.sort((x, y) => y - x);
    t[s] = Math.max(0.45, b[k - 1] ?? 0.45);
  }
  return t;
}

// ---------------------------------------------------------------- ingest

interface IngestResult {
  points: number;
  seconds: number;
  ack: Histogram;
  sendAt: Map<number, number>;
  ackAt: Map<number, number>;
  firstSeq: number;
  lastSeq: number;
  /** The seq each request got, by request number. */
  seqs: number[];
}

/** Open-loop paced ingest: `rate` points/s in requests of BATCH, for `seconds`. */
async function pacedIngest(
  base: string,
  wire: number[][],
  startId: number,
  seconds: number,
  rate: number,
): Promise<IngestResult> {
  const pool = new Pool(base, { connections: 16, pipelining: 1 });
  const requests = Math.floor((rate * seconds) / BATCH);
  const bodies: string[] = [];
  for (let i = 0; i < requests; i++) {
    const ids = Array.from({ length: BATCH }, (_, j) => startId + i * BATCH + j);
    const vectors = ids.map((_, j) => wire[(i * BATCH + j) % wire.length]!);
    bodies.push(JSON.stringify({ batch: { ids, vectors } }));
  }
  const ack = hist();
  const sendAt = new Map<number, number>();
  const ackAt = new Map<number, number>();
  const interval = (BATCH / rate) * 1000;
  const t0 = performance.now();
  let firstSeq = Number.POSITIVE_INFINITY;
  let lastSeq = 0;
  let points = 0;
  const seqs: number[] = new Array(requests);
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < requests; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sent = performance.now();
    inflight.push(
      pool
        .request({
          path: '/collections/bench/points',
          method: 'PUT',
          body: bodies[i]!,
          headers: { 'content-type': 'application/json' },
        })
        .then(async (res) => {
          const text = await res.body.text();
          const now = performance.now();
          if (res.statusCode !== 200) throw new Error(`upsert: ${res.statusCode} ${text.slice(0, 200)}`);
          const seq = JSON.parse(text).result.operation_id as number;
          seqs[i] = seq;
          // Latency from when the request was due (open loop: a late send is the server's backlog too).
          ack.recordValue(Math.max(1, Math.round((now - due) * 1000)));
          sendAt.set(seq, sent);
          ackAt.set(seq, now);
          firstSeq = Math.min(firstSeq, seq);
          lastSeq = Math.max(lastSeq, seq);
          points += BATCH;
        }),
    );
  }
  await Promise.all(inflight);
  const secondsTaken = (performance.now() - t0) / 1000;
  await pool.close();
  return { points, seconds: secondsTaken, ack, sendAt, ackAt, firstSeq, lastSeq, seqs };
}

/** As fast as the server takes it: one NDJSON stream of `n` points. */
async function saturate(base: string, wire: number[][], startId: number, n: number): Promise<number> {
  function* lines() {
    for (let i = 0; i < n; i++)
      yield `${JSON.stringify({ id: startId + i, vector: wire[i % wire.length] })}\n`;
  }
  const t0 = performance.now();
  const res = await request(`${base}/collections/bench/points/stream`, {
    method: 'POST',
    body: Readable.from(lines()),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  const text = await res.body.text();
  const done = JSON.parse(text.trim().split('\n').at(-1)!) as { points: number };
  return Math.round(done.points / ((performance.now() - t0) / 1000));
}

// ---------------------------------------------------------------- phases

async function latencyPhase(root: string): Promise<void> {
  console.log(`loading ${values.data} …`);
  const data = await dataset();
  const points = wireAndStored(data.points, DIM);
  const t0 = performance.now();
  const thresholds = calibrate(data.subs, data.calib);
  console.log(
    `calibrated ${SUBS} thresholds in ${Math.round(performance.now() - t0)} ms (median ${[...thresholds].sort()[SUBS >> 1]!.toFixed(3)})`,
  );

  const { child, base } = await startServer(join(root, 'latency'), {
    subscriptions: { scorer_threads: Number(values['scorer-threads']) },
  });
  try {
    const hnsw = {
      ...(values.m ? { m: Number(values.m) } : {}),
      ...(values['ef-construct'] ? { ef_construct: Number(values['ef-construct']) } : {}),
    };
    await json(base, 'PUT', '/collections/bench', {
      vectors: { size: DIM, distance: 'Cosine' },
      hnsw_config: hnsw,
    });
    results.hnsw = { m: hnsw.m ?? 16, ef_construct: hnsw.ef_construct ?? 200 };
    results.scorer_threads = Number(values['scorer-threads']) || 'auto';
    const perPhase = RATE * SECONDS;
    let nextId = 0;
    const wireSlice = (from: number, count: number) => {
      const out: number[][] = [];
      for (let i = 0; i < count; i++) out.push(points.wire[(from + i) % points.wire.length]!);
      return out;
    };

    // 1. Baseline: no subscriptions.
    await loopLagP99Ms(base);
    let cpu0 = cpuSeconds(child.pid!);
    const baseline = await pacedIngest(base, wireSlice(0, perPhase), nextId, SECONDS, RATE);
    const baselineCpu = cpuSeconds(child.pid!) - cpu0;
    const baselineLag = await loopLagP99Ms(base);
    nextId += perPhase;
    console.log(
      `baseline: ${Math.round(baseline.points / baseline.seconds)} points/s, ack p99 ${ms(baseline.ack, 99)} ms, loop p99 ${baselineLag} ms`,
    );
    const satBaseline = await saturate(
      base,
      wireSlice(nextId, Number(values.saturation)),
      10_000_000,
      Number(values.saturation),
    );
    console.log(`saturation without subscriptions: ${satBaseline} points/s`);
    await sleep(2000);

    // 2. Subscriptions.
    const rssBefore = rssBytes(child.pid!);
    const ids: string[] = [];
    const tc = performance.now();
    for (let i = 0; i < SUBS; i += 64) {
      const created = await Promise.all(
        Array.from({ length: Math.min(64, SUBS - i) }, (_, j) =>
          json(base, 'POST', '/collections/bench/subscriptions', {
            vector: Array.from(data.subs.subarray((i + j) * DIM, (i + j + 1) * DIM)),
            score_threshold: thresholds[i + j],
          }),
        ),
      );
      for (const c of created) ids.push(c.id as string);
    }
    const createMs = performance.now() - tc;
    console.log(`created ${SUBS} subscriptions in ${Math.round(createMs)} ms`);
    const info = await json(base, 'GET', '/collections/bench');
    const startSeq = info.seq as number;

    // Receivers: 10 WebSockets carrying most, 100 SSE streams.
    const received = new Map<string, number[]>();
    const latency = hist();
    const latencySend = hist();
    let early = 0;
    let events = 0;
    let ingest: IngestResult | undefined;
    const pendingEvents: [number, number][] = [];
    const onEvent = (sub: string, seq: number) => {
      const now = performance.now();
      events++;
      const list = received.get(sub);
      if (list) list.push(seq);
      else received.set(sub, [seq]);
      pendingEvents.push([seq, now]);
    };
    const sseCount = Math.min(100, SUBS);
    const wsIds = ids.slice(sseCount);
    const sockets: WebSocket[] = [];
    for (let c = 0; c < 10; c++) {
      const mine = wsIds.filter((_, i) => i % 10 === c);
      const ws = new WebSocket(`${base.replace('http', 'ws')}/collections/bench/ws`);
      await new Promise((r, j) => {
        ws.addEventListener('open', r);
        ws.addEventListener('error', j);
      });
      ws.addEventListener('message', (m) => {
        const f = JSON.parse(String(m.data));
        if (f.event === 'match') onEvent(f.subscription, f.seq);
      });
      let answered = 0;
      const done = new Promise<void>((r) =>
        ws.addEventListener('message', (m) => {
          if (JSON.parse(String(m.data)).id !== undefined && ++answered === mine.length) r();
        }),
      );
      for (let i = 0; i < mine.length; i++) {
        ws.send(JSON.stringify({ id: i, op: 'subscribe', subscription: mine[i], last_seq: startSeq }));
        if (i % 60 === 59) await sleep(1);
      }
      await done;
      sockets.push(ws);
    }
    const sse: { close: () => void }[] = [];
    for (const id of ids.slice(0, sseCount)) {
      const res = await request(`${base}/collections/bench/subscriptions/${id}/events`, {
        headers: { 'last-event-id': String(startSeq) },
      });
      let buf = '';
      res.body.setEncoding('utf8');
      res.body.on('data', (c: string) => {
        buf += c;
        for (let at = buf.indexOf('\n\n'); at >= 0; at = buf.indexOf('\n\n')) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const m = /^id: (\d+)\nevent: match/m.exec(block);
          if (m) onEvent(id, Number(m[1]));
        }
      });
      sse.push({ close: () => res.body.destroy() });
    }
    const rssSubscribed = rssBytes(child.pid!);
    console.log(
      `attached: ${wsIds.length} over 10 WebSockets, ${sseCount} SSE streams; server RSS +${Math.round((rssSubscribed - rssBefore) / 1e6)} MB`,
    );

    await loopLagP99Ms(base);
    cpu0 = cpuSeconds(child.pid!);
    const threads0 = threadCpu(child.pid!);
    const metrics0 = await metricsText(base);
    // The matcher's backlog, sampled while points arrive (a bounded loop: it stops with the ingest).
    const backlog = { samples: 0, maxPoints: 0, sumPoints: 0, maxSeqs: 0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const text = await metricsText(base);
        const pick = (n: string) =>
          Number(new RegExp(`^${n}\\{collection="bench"\\} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
        const points = pick('surgevec_subscription_scorer_backlog_points');
        backlog.samples++;
        backlog.sumPoints += points;
        backlog.maxPoints = Math.max(backlog.maxPoints, points);
        backlog.maxSeqs = Math.max(backlog.maxSeqs, pick('surgevec_subscription_scorer_backlog_seqs'));
        await sleep(250);
      }
    })();
    const clientLoop = monitorEventLoopDelay({ resolution: 5 });
    clientLoop.enable();
    const firstId = nextId;
    ingest = await pacedIngest(base, wireSlice(firstId, perPhase), firstId, SECONDS, RATE);
    sampling = false;
    await sampler;
    const subscribedCpu = cpuSeconds(child.pid!) - cpu0;
    const threads = busiestThreads(child.pid!, threads0, threadCpu(child.pid!), ingest.seconds);
    const subscribedLag = await loopLagP99Ms(base);
    clientLoop.disable();
    nextId += perPhase;
    // Until the matcher has matched everything (bounded: 120 s), so the exactness check below sees every
    // event; then a moment for the last ones to cross the sockets.
    const drainStart = performance.now();
    for (;;) {
      const text = await metricsText(base);
      const seqs = /^surgevec_subscription_scorer_backlog_seqs\{collection="bench"\} (\S+)/m.exec(text);
      if ((seqs && Number(seqs[1]) === 0) || performance.now() - drainStart > 120_000) break;
      await sleep(250);
    }
    const drainMs = Math.round(performance.now() - drainStart);
    await sleep(2000);
    const metrics1 = await metricsText(base);
    // Where delivery time goes, as the server sees it: matching one batch (scorer queue included), and
    // the change event reaching the matcher → the event written to the client's socket.
    const server = {
      match_batch: bucketQuantiles(
        histogramBuckets(metrics0, 'surgevec_subscription_match_seconds'),
        histogramBuckets(metrics1, 'surgevec_subscription_match_seconds'),
      ),
      delivery_ws: bucketQuantiles(
        histogramBuckets(metrics0, 'surgevec_subscription_delivery_seconds', 'transport="ws"'),
        histogramBuckets(metrics1, 'surgevec_subscription_delivery_seconds', 'transport="ws"'),
      ),
      delivery_sse: bucketQuantiles(
        histogramBuckets(metrics0, 'surgevec_subscription_delivery_seconds', 'transport="sse"'),
        histogramBuckets(metrics1, 'surgevec_subscription_delivery_seconds', 'transport="sse"'),
      ),
      backlog_points: {
        max: backlog.maxPoints,
        mean: Math.round(backlog.sumPoints / Math.max(1, backlog.samples)),
      },
      backlog_seqs_max: backlog.maxSeqs,
      drain_after_ingest_ms: drainMs,
      busiest_threads_cores: threads,
    };
    console.log(`server side: ${JSON.stringify(server)}`);
    for (const [seq, at] of pendingEvents) {
      const acked = ingest.ackAt.get(seq);
      const sent = ingest.sendAt.get(seq);
      if (acked === undefined || sent === undefined) continue;
      if (at < acked) early++;
      latency.recordValue(Math.max(1, Math.round((at - acked) * 1000)));
      latencySend.recordValue(Math.max(1, Math.round((at - sent) * 1000)));
    }

    // Exactness on a sample: the events of 100 subscriptions against a brute-force match of every point sent.
    const sample = ids.slice(0, 100);
    const stored = points.stored;
    const rowsTotal = stored.length / DIM;
    let expected = 0;
    let missing = 0;
    let extra = 0;
    const m = new ScoreMatrix('Cosine', DIM);
    for (let s = 0; s < sample.length; s++)
      m.set(s, data.subs.subarray(s * DIM, (s + 1) * DIM), thresholds[s]);
    const want = new Map<string, Set<number>>();
    for (let b = 0; b < ingest.seqs.length; b++) {
      const rows = new Float32Array(BATCH * DIM);
      for (let j = 0; j < BATCH; j++) {
        const row = (firstId + b * BATCH + j) % rowsTotal;
        rows.set(stored.subarray(row * DIM, (row + 1) * DIM), j * DIM);
      }
      const c = m.score(rows, BATCH);
      for (let i = 0; i < c.length; i++) {
        const id = sample[c.slot[i]!]!;
        if (!want.has(id)) want.set(id, new Set());
        want.get(id)!.add(ingest.seqs[b]!);
      }
    }
    for (const id of sample) {
      const w = want.get(id) ?? new Set<number>();
      const got = new Set((received.get(id) ?? []).filter((s) => s > startSeq));
      expected += w.size;
      for (const s of w) if (!got.has(s)) missing++;
      for (const s of got) if (!w.has(s)) extra++;
    }

    const satSubscribed = await saturate(
      base,
      wireSlice(nextId, Number(values.saturation)),
      20_000_000,
      Number(values.saturation),
    );
    console.log(`saturation with ${SUBS} subscriptions: ${satSubscribed} points/s`);
    await sleep(3000);
    for (const ws of sockets) ws.close();
    for (const s of sse) s.close();

    const baseRate = baseline.points / baseline.seconds;
    const subRate = ingest.points / ingest.seconds;
    results.latency = {
      data: values.data,
      subscriptions: SUBS,
      match_rate_target: MATCH_RATE,
      offered_points_per_s: RATE,
      seconds: SECONDS,
      create_subscriptions_ms: Math.round(createMs),
      rss_growth_subscriptions_mb: Math.round((rssSubscribed - rssBefore) / 1e5) / 10,
      baseline: {
        points_per_s: Math.round(baseRate),
        ack_ms: summary(baseline.ack),
        http_loop_delay_p99_ms: baselineLag,
        server_cpu_s_per_s: Math.round((baselineCpu / baseline.seconds) * 100) / 100,
      },
      subscribed: {
        points_per_s: Math.round(subRate),
        ack_ms: summary(ingest.ack),
        http_loop_delay_p99_ms: subscribedLag,
        server_cpu_s_per_s: Math.round((subscribedCpu / ingest.seconds) * 100) / 100,
        events,
        events_per_s: Math.round(events / ingest.seconds),
        delivery_after_ack_ms: summary(latency),
        delivery_after_send_ms: summary(latencySend),
        events_before_ack: early,
        // The benchmark client shares the machine: its own event-loop delay bounds what it can measure.
        client_loop_delay_p99_ms: Math.round(clientLoop.percentile(99) / 1e3) / 1e3,
        sample_check: { subscriptions: sample.length, expected_events: expected, missing, extra },
        server,
      },
      throughput_reduction_at_offered_rate: Math.round((1 - subRate / baseRate) * 1000) / 10,
      saturation_points_per_s: {
        without: satBaseline,
        with: satSubscribed,
        reduction_pct: Math.round((1 - satSubscribed / satBaseline) * 1000) / 10,
      },
    };
    console.log(JSON.stringify(results.latency, null, 2));
  } finally {
    await stopServer(child);
  }
}

async function idlePhase(root: string): Promise<void> {
  const n = Number(values.idle);
  const { child, base } = await startServer(join(root, 'idle'), {
    subscriptions: { max_per_tenant: n + 10 },
  });
  try {
    await json(base, 'PUT', '/collections/bench', { vectors: { size: DIM, distance: 'Cosine' } });
    await sleep(1000);
    const m0 = await memoryAfterGc(child.pid!, base);
    const r = rng(3);
    const ids: string[] = [];
    for (let i = 0; i < n; i += 64) {
      const created = await Promise.all(
        Array.from({ length: Math.min(64, n - i) }, () =>
          json(base, 'POST', '/collections/bench/subscriptions', {
            vector: Array.from({ length: DIM }, () => r() - 0.5),
            score_threshold: 0.99,
          }),
        ),
      );
      for (const c of created) ids.push(c.id as string);
    }
    await sleep(2000);
    const m1 = await memoryAfterGc(child.pid!, base);
    const subsEach = perEach(m0, m1, n);
    console.log(`${n} subscriptions: ${JSON.stringify(subsEach)} each`);

    // WebSocket subscribers: 100 per connection.
    const sockets: WebSocket[] = [];
    for (let c = 0; c < n / 100; c++) {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/collections/bench/ws`);
      await new Promise((res, rej) => {
        ws.addEventListener('open', res);
        ws.addEventListener('error', rej);
      });
      let answered = 0;
      const done = new Promise<void>((res) =>
        ws.addEventListener('message', () => {
          if (++answered === 100) res();
        }),
      );
      for (let i = 0; i < 100; i++)
        ws.send(JSON.stringify({ id: i, op: 'subscribe', subscription: ids[c * 100 + i] }));
      await done;
      sockets.push(ws);
    }
    await sleep(2000);
    const m2 = await memoryAfterGc(child.pid!, base);
    const wsEach = perEach(m1, m2, n);
    console.log(`${n} WebSocket subscribers (${sockets.length} connections): ${JSON.stringify(wsEach)} each`);
    for (const ws of sockets) ws.close();
    await sleep(3000);

    // SSE subscribers: one connection each, from child processes (a process may hold 20,000 files here).
    const sseN = Math.min(Number(values.sse), n);
    const m3 = await memoryAfterGc(child.pid!, base);
    const per = 6000;
    const kids: ChildProcess[] = [];
    const opened: Promise<unknown>[] = [];
    for (let from = 0; from < sseN; from += per) {
      const file = join(root, `sse-${from}.json`);
      writeFileSync(file, JSON.stringify(ids.slice(from, Math.min(sseN, from + per))));
      const kid = fork(new URL(import.meta.url).pathname, ['--sse-child', base, file], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      kids.push(kid);
      opened.push(new Promise((res) => kid.once('message', res)));
    }
    const counts = (await Promise.all(opened)) as { open: number; failed: number }[];
    const open = counts.reduce((s, c) => s + c.open, 0);
    const failed = counts.reduce((s, c) => s + c.failed, 0);
    await sleep(2000);
    const m4 = await memoryAfterGc(child.pid!, base);
    const sseEach = perEach(m3, m4, open);
    console.log(`${open} SSE subscribers (${failed} failed): ${JSON.stringify(sseEach)} each`);
    for (const k of kids) k.send('exit');
    results.idle = {
      subscriptions: n,
      per_subscription: subsEach,
      websocket: { subscribers: n, connections: sockets.length, per_subscriber: wsEach },
      sse: { subscribers: open, failed, per_subscriber: sseEach },
    };
  } finally {
    await stopServer(child);
  }
}

const root = mkdtempSync(join(tmpdir(), 'surgevec-bench-subs-'));
try {
  if (PHASES.has('latency')) await latencyPhase(root);
  if (PHASES.has('idle')) await idlePhase(root);
  results.loadavg_at_end = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
  console.log(JSON.stringify(results, null, 2));
} finally {
  rmSync(root, { recursive: true, force: true });
}
