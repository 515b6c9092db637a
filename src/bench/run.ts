/**
 * One benchmark run, start to finish: dataset (with cached exact truth) → target (given, or a server the
 * bench starts) → collection prepared and indexed → scenario phases (cold start, idle connections, ingest,
 * failover) around the open-loop generator → analysis → the run file. Everything the run measured is in the
 * returned RunFile; files are written by the caller (`bench run --out`).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, platform, tmpdir, totalmem } from 'node:os';
import { Pool } from 'undici';
import { rng } from '../platform/random.js';
import { SurgeError } from '../protocol/errors.js';
import { anomalyWindows, ewmaAnomalies } from './analysis/anomaly.js';
import { analyzeBurst, type BurstResult } from './analysis/burst.js';
import { breachedFor, capacity } from './analysis/capacity.js';
import { recommend } from './analysis/recommend.js';
import { passes, verdicts } from './analysis/sla.js';
import { summarize } from './analysis/summary.js';
import { rateCurve } from './arrivals/rate.js';
import { ArrivalSchedule } from './arrivals/schedule.js';
import { spacingOf } from './arrivals/spec.js';
import { loadTrace } from './arrivals/trace.js';
import { type BenchDataset, filteredTruth, loadBenchDataset } from './datasets/bench-dataset.js';
import { encodeHistogram, percentileCurve } from './generator/histogram.js';
import { type GeneratorResult, runClosedLoop, runOpenLoop } from './generator/open-loop.js';
import { Recorder } from './generator/recorder.js';
import { IdleConnections } from './phases/idle-connections.js';
import { type IngestResult, runIngest } from './phases/ingest.js';
import { LiveLine } from './report/progress.js';
import { type AnomalyRecord, RUN_SCHEMA, RUN_VERSION, type RunFile } from './report/run-file.js';
import type { Scenario } from './scenarios/schema.js';
import { prepareCollection } from './target/load.js';
import { ManagedServer, managedDataDir } from './target/managed-server.js';
import { MetricsScraper } from './target/metrics-scraper.js';
import { serverVersion } from './target/rest.js';
import { checkTarget } from './target/target-url.js';
import { checkHttp2 } from './transports/http.js';
import { makeTransport } from './transports/index.js';
import { searchBody, vectorJson } from './workload/bodies.js';
import { makePlanner } from './workload/planner.js';

export const DEFAULT_TARGET = 'http://127.0.0.1:6333';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface RunOptions {
  scenario: Scenario;
  /** Ignored when the scenario manages its own server. */
  target?: string | undefined;
  allowRemote?: boolean;
  /** The live console line. */
  progress?: boolean;
  log?: (line: string) => void;
  /** Abort (Ctrl-C): stop scheduling, wait for answers, report what was measured. */
  signal?: AbortSignal | undefined;
  /** Data directory of a managed server (default .cache/bench-server/<dataset>). */
  dataDir?: string | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function coldStart(
  server: ManagedServer,
  collection: string,
  ds: BenchDataset,
  sc: Scenario,
  n: number,
) {
  const t0 = performance.now();
  await server.stop();
  const stopMs = performance.now() - t0;
  await server.restart();
  const pool = new Pool(server.url, { connections: 1 });
  const latencies: number[] = [];
  let errors = 0;
  try {
    for (let i = 0; i < n; i++) {
      const q = i % ds.queryCount;
      const body = searchBody({
        vector: vectorJson(ds.queries, q * ds.dim, ds.dim),
        k: sc.query.k,
        ef: sc.query.ef,
        withPayload: false,
      });
      const t = performance.now();
      try {
        const res = await pool.request({
          method: 'POST',
          path: `/collections/${encodeURIComponent(collection)}/points/search`,
          headers: { 'content-type': 'application/json' },
          body,
          headersTimeout: sc.limits.timeout_ms,
        });
        await res.body.dump();
        if (res.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(r3(performance.now() - t));
    }
  } finally {
    await pool.destroy();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    stop_ms: Math.round(stopMs),
    restart_to_ready_ms: Math.round(server.readyMs),
    first_query_ms: latencies[0] ?? null,
    first_queries_p50_ms: sorted[Math.floor(sorted.length / 2)] ?? null,
    first_queries_max_ms: sorted.at(-1) ?? null,
    first_queries_errors: errors,
    first_queries_ms: latencies,
  };
}

interface FailoverTrack {
  killAt?: number;
  deadAt?: number;
  spawnAt?: number;
  readyAt?: number;
  firstOkAt?: number;
  errorsAfterKill: number;
  error?: string;
}

function anomalies(rec: ReturnType<Recorder['finish']>, server: RunFile['server_series']): AnomalyRecord[] {
  const s = rec.series;
  const shortfall = s.t.map((_, i) => {
    const off = s.offered[i] ?? 0;
    return off > 0 ? Math.max(0, (off - (s.ok[i] ?? 0)) / off) : null;
  });
  const out: AnomalyRecord[] = [
    ...anomalyWindows('latency p99 (ms)', ewmaAnomalies(s.lat_p99, { minAbsolute: 2 }), s.t),
    ...anomalyWindows('errors/s', ewmaAnomalies(s.errors, { minAbsolute: 3 }), s.t),
    ...anomalyWindows('dropped/s', ewmaAnomalies(s.dropped, { minAbsolute: 3 }), s.t),
    ...anomalyWindows('unserved share', ewmaAnomalies(shortfall, { minAbsolute: 0.1 }), s.t),
    ...anomalyWindows('recall', ewmaAnomalies(s.recall, { minAbsolute: 0.03 }), s.t),
  ];
  if (server) {
    out.push(
      ...anomalyWindows('server RSS (MB)', ewmaAnomalies(server.rss_mb, { minAbsolute: 50 }), server.t),
    );
    out.push(
      ...anomalyWindows(
        'server CPU (cores)',
        ewmaAnomalies(server.cpu_cores, { minAbsolute: 0.3 }),
        server.t,
      ),
    );
  }
  return out.sort((a, b) => a.from_s - b.from_s);
}

export async function runScenario(o: RunOptions): Promise<RunFile> {
  const sc = o.scenario;
  const log = o.log ?? (() => {});
  const notes: string[] = [];
  const extras: Record<string, unknown> = {};
  const events: { t_s: number; label: string }[] = [];
  const load0 = loadavg().map((x) => Math.round(x * 100) / 100);

  // Checked before any work: a bad target or trace fails in a second, not after loading 100k points.
  const given = sc.server.managed
    ? undefined
    : checkTarget(o.target ?? DEFAULT_TARGET, o.allowRemote ?? false);
  const trace = sc.arrival.kind === 'trace' ? loadTrace(sc.arrival.file) : undefined;
  log(`dataset ${sc.dataset.name}: loading vectors and exact ground truth`);
  const ds = await loadBenchDataset(sc.dataset, { log });

  let server: ManagedServer | undefined;
  let base: string;
  if (sc.server.managed) {
    const dataDir = o.dataDir ?? managedDataDir(ds.id, tmpdir());
    log(`starting surgevec serve on ${dataDir}`);
    server = await ManagedServer.start({ dataDir, config: sc.server.config });
    base = server.url;
    log(`server ${server.version} ready at ${base} (pid ${server.pid}, ${Math.round(server.readyMs)} ms)`);
  } else {
    base = given!;
  }
  try {
    const info = await serverVersion(base);
    if (!info)
      throw new SurgeError('TARGET_UNREACHABLE', `nothing answers GET / at ${base}`, { target: base });
    const collection = sc.collection ?? `bench_${ds.id}${sc.ingest ? '_ingest' : ''}`;
    const rows = sc.ingest ? ds.baseCount - sc.ingest.points : ds.baseCount;
    const prep = await prepareCollection(base, collection, ds, {
      mode: sc.load.mode,
      via: sc.load.via,
      batch: sc.load.batch,
      waitIndexed: sc.load.wait_indexed,
      indexTimeoutS: sc.load.index_timeout_s,
      hnsw: sc.load.hnsw,
      rows,
      apiKey: sc.tenants[0]?.api_key,
      log,
    });
    if (prep.loaded)
      extras.load = {
        points: rows,
        via: prep.via,
        load_s: r3(prep.loadMs / 1000),
        index_s: r3(prep.indexMs / 1000),
      };

    const filtered =
      sc.filter.fraction > 0
        ? {
            field: sc.filter.field,
            pool: Math.min(sc.recall.filtered_pool, ds.queryCount),
            k: sc.query.k,
            truth: await filteredTruth(ds, sc.filter.field, sc.recall.filtered_pool, sc.query.k, log),
          }
        : undefined;

    if (sc.cold_start && server) {
      log('cold start: restarting the server');
      extras.cold_start = await coldStart(server, collection, ds, sc, sc.cold_start.first_queries);
      base = server.url;
    }

    let idle: IdleConnections | undefined;
    if (sc.idle_connections) {
      const ic = sc.idle_connections;
      idle = new IdleConnections({
        base,
        collection,
        websocket: ic.websocket,
        sse: ic.sse,
        concurrency: ic.open_concurrency,
      });
      const before = await new MetricsScraper(base, 1, () => 0).scrape();
      const r = await idle.open();
      const after = await new MetricsScraper(base, 1, () => 0).scrape();
      log(`idle connections: ${r.websocket.opened} WebSocket, ${r.sse.opened} SSE open in ${r.open_ms} ms`);
      if (before?.rssBytes !== undefined && after?.rssBytes !== undefined) {
        const n = r.websocket.opened + r.sse.opened;
        extras.idle_rss_mb_added = Math.round((after.rssBytes - before.rssBytes) / 1048576);
        if (n > 0) extras.idle_kb_per_connection = Math.round((after.rssBytes - before.rssBytes) / 1024 / n);
      }
    }

    if (sc.transport.kind === 'http2') await checkHttp2(base);
    const transport = makeTransport(sc, base);
    const planner = makePlanner({ scenario: sc, ds, collection, filtered, writableRows: rows });
    if (sc.ingest) planner.recallOn = false;
    const recorder = new Recorder({
      goodputMs: sc.slo.p99_ms,
      lateMs: sc.limits.late_ms,
      tenants: sc.tenants.length,
    });
    let runT0 = performance.now();
    const scraper = sc.scrape.enabled
      ? new MetricsScraper(base, sc.scrape.interval_s, () => performance.now() - runT0)
      : undefined;
    const live = o.progress ? new LiveLine(sc.duration_s) : undefined;

    // Scenario events at run seconds, armed the moment the generator starts (its t0).
    const timers: NodeJS.Timeout[] = [];
    const planned: Array<[number, () => void]> = [];
    const at = (s: number, fn: () => void) => planned.push([s, fn]);
    const fo: FailoverTrack = { errorsAfterKill: 0 };
    let failoverDone: Promise<void> = Promise.resolve();
    if (sc.failover && server) {
      const f = sc.failover;
      const srv = server;
      at(f.kill_at_s, () => {
        failoverDone = (async () => {
          try {
            fo.killAt = performance.now();
            await srv.kill9();
            fo.deadAt = performance.now();
            if (f.restart_after_s > 0) await sleep(f.restart_after_s * 1000);
            fo.spawnAt = performance.now();
            await srv.restart();
            fo.readyAt = performance.now();
          } catch (e) {
            fo.error = (e as Error).message.slice(0, 300);
          }
        })();
      });
    }
    let ingest: Promise<IngestResult> | undefined;
    let ingestWindow: [number, number] | undefined;
    if (sc.ingest) {
      const ig = sc.ingest;
      at(ig.at_s, () => {
        const started = performance.now();
        ingest = runIngest({ base, collection, ds, from: rows, to: ds.baseCount, rate: ig.rate }).then(
          (r) => {
            ingestWindow = [started, performance.now()];
            planner.recallOn = true;
            return r;
          },
        );
      });
    }

    scraper && (await scraper.scrape());
    const onOutcome = (_intended: number, done: number, out: { status: number }) => {
      if (fo.killAt === undefined) return;
      const doneAbs = runT0 + done;
      if (doneAbs < fo.killAt) return;
      if (out.status >= 200 && out.status < 300) fo.firstOkAt ??= doneAbs;
      else if (fo.firstOkAt === undefined) fo.errorsAfterKill++;
    };
    const genOpts = {
      transport,
      plan: planner.plan,
      recorder,
      durationS: sc.duration_s,
      maxRequests: sc.limits.max_requests,
      maxInFlight: sc.limits.max_in_flight,
      drainMs: sc.limits.timeout_ms + 2000,
      onSecond: (ms: number) => live?.update(ms, recorder),
      onOutcome,
      shouldStop: () => {
        if (o.signal?.aborted) return true;
        if (!sc.capacity) return false;
        const snap = recorder.snapshot();
        return breachedFor(snap.series, snap.closedSeconds, sc.slo.p99_ms, sc.capacity.stop_after_s);
      },
    };
    log(
      `running ${sc.name}: ${sc.arrival.kind} arrivals for ${sc.duration_s} s over ${sc.transport.kind} ` +
        `(${sc.transport.connections} × ${sc.transport.pipelining}) against ${base}/collections/${collection}`,
    );
    scraper?.start();
    live?.start();
    let gen: GeneratorResult;
    const curve = sc.arrival.kind === 'closed' ? undefined : rateCurve(sc.arrival, sc.duration_s, trace);
    runT0 = performance.now();
    for (const [s, fn] of planned) timers.push(setTimeout(fn, s * 1000));
    try {
      if (sc.arrival.kind === 'closed') {
        gen = await runClosedLoop(sc.arrival.concurrency, genOpts);
      } else {
        const schedule = new ArrivalSchedule(curve!, spacingOf(sc.arrival), rng(sc.seed + 2), sc.duration_s);
        gen = await runOpenLoop(schedule, genOpts);
      }
    } finally {
      for (const t of timers) clearTimeout(t);
      live?.stop();
    }
    const t0 = gen.t0;
    const rel = (abs: number | undefined) => (abs === undefined ? null : r3((abs - t0) / 1000));
    await failoverDone;
    const ingestResult = ingest ? await ingest : undefined;
    await scraper?.stop();
    await transport.close();
    const idleResult = idle ? await idle.close() : undefined;
    const recorded = recorder.finish();

    // What the arrival process asked for, per second (the "offered" column is what got scheduled).
    const rateSeries = recorded.series.t.map((sec) =>
      curve && sec < sc.duration_s ? Math.round(curve(sec + 0.5) * 100) / 100 : null,
    );
    const serverSeries = scraper?.available ? scraper.series : null;
    if (serverSeries && !serverSeries.level?.some((l) => l !== null)) delete serverSeries.level;
    if (serverSeries) {
      // Scrape times were taken from our own clock before t0 was known exactly: align them to the run's t0.
      const shift = r3((runT0 - t0) / 1000);
      serverSeries.t = serverSeries.t.map((x) => r3(x + shift));
    } else if (sc.scrape.enabled) {
      notes.push(
        'the target exposes no process_cpu_seconds_total / process_resident_memory_bytes on /metrics: no server CPU, RSS or cost',
      );
    }

    const summary = summarize({
      scenario: sc,
      recorded,
      elapsedMs: gen.elapsedMs,
      eventLoopUtilization: gen.eventLoopUtilization,
      server: serverSeries,
    });
    const vs = verdicts(summary, sc.slo);

    let burst: BurstResult | undefined;
    if (sc.arrival.kind === 'spike') {
      const a = sc.arrival;
      burst = analyzeBurst(
        recorded.series,
        {
          at_s: a.at_s,
          rise_s: a.rise_s,
          hold_s: a.hold_s,
          fall_s: a.fall_s ?? a.rise_s,
          multiplier: a.multiplier,
        },
        sc.slo.p99_ms,
        serverSeries,
      );
      extras.burst = burst;
      events.push(
        { t_s: burst.start_s, label: `×${a.multiplier}` },
        { t_s: burst.end_s, label: 'burst end' },
      );
    }
    if (sc.capacity) extras.capacity = capacity(recorded.series, sc.slo);
    if (sc.failover) {
      extras.failover = {
        kill_at_s: rel(fo.killAt),
        dead_after_ms: fo.deadAt && fo.killAt ? Math.round(fo.deadAt - fo.killAt) : null,
        restart_to_ready_ms: fo.readyAt && fo.spawnAt ? Math.round(fo.readyAt - fo.spawnAt) : null,
        ready_at_s: rel(fo.readyAt),
        first_ok_at_s: rel(fo.firstOkAt),
        recovery_s: fo.firstOkAt && fo.killAt ? r3((fo.firstOkAt - fo.killAt) / 1000) : null,
        errors_until_recovery: fo.errorsAfterKill,
        ...(fo.error ? { error: fo.error } : {}),
      };
      if (fo.killAt) events.push({ t_s: rel(fo.killAt)!, label: 'kill -9' });
      if (fo.readyAt) events.push({ t_s: rel(fo.readyAt)!, label: 'ready' });
    }
    if (ingestResult) {
      extras.ingest = ingestResult;
      if (ingestWindow)
        events.push(
          { t_s: rel(ingestWindow[0])!, label: 'ingest' },
          { t_s: rel(ingestWindow[1])!, label: 'ingest done' },
        );
      notes.push(
        'streaming-ingest: recall is scored only after the stream is in (the truth is for the full base)',
      );
    }
    if (idleResult) extras.idle_connections = idleResult;
    if (events.length) extras.events = events;

    const anomalyList = anomalies(recorded, serverSeries);
    const cores = cpus().length;
    const recs = recommend({
      s: summary,
      slo: sc.slo,
      cores,
      ef: sc.query.ef,
      connections: sc.transport.connections,
      pipelining: sc.transport.pipelining,
      burstRecoveryS: burst ? burst.recovery_s : undefined,
      server: serverSeries,
      hostLoad: load0[0],
    });
    if (sc.arrival.kind === 'closed')
      notes.push(
        'closed loop: each worker waits for its previous answer, so a slow server is offered less load (coordinated omission)',
      );
    if (gen.stoppedEarly)
      notes.push(
        o.signal?.aborted ? 'stopped by the user' : 'stopped early: the SLO was breached (capacity search)',
      );
    const sameHost = new URL(base).hostname.match(/^(127\.|localhost|\[?::1)/) !== null;
    const finishedAt = new Date().toISOString();
    const latencyCurve = percentileCurve(recorded.latency);
    const run: RunFile = {
      schema: RUN_SCHEMA,
      version: RUN_VERSION,
      id: `${sc.name}-${gen.startedAt.replace(/[-:]/g, '').replace(/\..*$/, '')}`,
      started_at: gen.startedAt,
      finished_at: finishedAt,
      tool: { name: 'surgevec bench', version: VERSION, node: process.version },
      host: {
        platform: `${platform()} ${process.arch}`,
        cpus: cores,
        cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
        memory_gb: Math.round(totalmem() / 2 ** 30),
        loadavg_start: load0,
        note: sameHost
          ? `generator and target share this host (load average at start ${load0.join(', ')}); other processes on it affect the figures`
          : `load average at start ${load0.join(', ')}`,
      },
      target: {
        url: base,
        managed: server !== undefined,
        server: info,
        collection,
      },
      dataset: { id: ds.id, about: ds.about, base: ds.baseCount, queries: ds.queryCount, dim: ds.dim },
      scenario: sc as unknown as RunFile['scenario'],
      stopped_early: gen.stoppedEarly,
      summary,
      slo: sc.slo,
      verdicts: vs,
      pass: passes(vs),
      histograms: {
        latency_curve: latencyCurve,
        service_curve: percentileCurve(recorded.service),
        latency_hdr: encodeHistogram(recorded.latency),
        service_hdr: encodeHistogram(recorded.service),
      },
      series: { ...recorded.series, rate: rateSeries },
      server_series: serverSeries,
      anomalies: anomalyList,
      recommendations: recs,
      extras,
      notes,
    };
    return run;
  } finally {
    if (server) await server.stop();
  }
}
