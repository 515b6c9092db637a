/**
 * Operating the server: /metrics (one registry per app, route patterns as labels, engine values on scrape),
 * request ids and the one-line request log, OpenTelemetry spans to a local OTLP/HTTP collector, compression,
 * body limit, timeouts/keep-alive, h2c and TLS h2 with HTTP/1.1 fallback.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { createServer, type Server } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { createRequire } from 'node:module';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import zlib from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConfigOptions, defaultConfig, loadConfig } from '../../src/config/index.js';
import { Engine, type EngineApi } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';

const root = mkdtempSync(join(tmpdir(), 'surgevec-observability-'));
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

const DIM = 8;
let dirs = 0;

async function open(
  options: ConfigOptions = {},
  deps: { logger?: pino.Logger; wrap?: (e: EngineApi) => EngineApi } = {},
): Promise<{ app: FastifyInstance; engine: Engine }> {
  const config = defaultConfig({ ...options, storage: { data_dir: join(root, `d${dirs++}`), fsync: true } });
  const engine = await Engine.open(config);
  cleanup.push(() => engine.close());
  const app = await buildApp({
    engine: deps.wrap ? deps.wrap(engine) : engine,
    config,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  cleanup.push(() => app.close());
  return { app, engine };
}

function vector(i: number): number[] {
  return Array.from({ length: DIM }, (_, d) => Math.sin(i * 7 + d));
}

async function seed(app: FastifyInstance, n: number): Promise<void> {
  const create = await app.inject({
    method: 'PUT',
    url: '/collections/c',
    payload: { vectors: { size: DIM, distance: 'Cosine' } },
  });
  expect(create.statusCode).toBe(200);
  const points = Array.from({ length: n }, (_, i) => ({ id: i + 1, vector: vector(i), payload: { i } }));
  const up = await app.inject({ method: 'PUT', url: '/collections/c/points?wait=true', payload: { points } });
  expect(up.statusCode).toBe(200);
}

/** `name{labels} value` lines of the exposition text, keyed by everything before the value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function sample(all: Map<string, number>, key: string): number {
  const v = all.get(key);
  if (v === undefined) throw new Error(`no sample ${key}`);
  return v;
}

async function scrape(app: FastifyInstance): Promise<Map<string, number>> {
  const r = await app.inject({ method: 'GET', url: '/metrics' });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return samples(r.body);
}

describe('tracing is off without an endpoint', () => {
  // First in the file: later tests load the SDK into this process.
  it('loads no OpenTelemetry SDK code and the app serves normally', async () => {
    const { app } = await open();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.filter((f) => /@opentelemetry[/\\](sdk-trace|exporter-trace)/.test(f))).toEqual([]);
  });

  it('maps OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME into config.otel', () => {
    expect(loadConfig({ env: {} }).otel).toEqual({ service_name: 'surgevec' });
    const c = loadConfig({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SERVICE_NAME: 'vec-a' },
    });
    expect(c.otel).toEqual({ endpoint: 'http://127.0.0.1:4318', service_name: 'vec-a' });
    expect(() => loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' } })).toThrow(/otel.endpoint/);
  });
});

describe('/metrics', () => {
  it('exposes request, search, batch, queue, WAL, collection and process metrics from one registry', async () => {
    const { app, engine } = await open();
    const N = 300;
    await seed(app, N);

    const SINGLE = 24;
    const searches = await Promise.all(
      Array.from({ length: SINGLE }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/collections/c/points/search',
          payload: { vector: vector(i), limit: 3 },
        }),
      ),
    );
    for (const r of searches) expect(r.statusCode).toBe(200);
    const batch = await app.inject({
      method: 'POST',
      url: '/collections/c/points/search/batch',
      payload: { searches: [0, 1, 2].map((i) => ({ vector: vector(i), limit: 2 })) },
    });
    expect(batch.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/no/such/route/42' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/collections/missing' })).statusCode).toBe(404);

    const m = await scrape(app);
    const search = 'route="/collections/:name/points/search",status_code="200"';
    expect(sample(m, `surgevec_http_request_duration_seconds_count{method="POST",${search}}`)).toBe(SINGLE);
    expect(
      sample(m, `surgevec_http_request_duration_seconds_bucket{le="+Inf",method="POST",${search}}`),
    ).toBe(SINGLE);
    expect(
      sample(
        m,
        'surgevec_http_request_duration_seconds_count{method="GET",route="/collections/:name",status_code="404"}',
      ),
    ).toBe(1);
    // Unmatched URLs share one label value; raw URLs never become labels.
    expect(
      sample(
        m,
        'surgevec_http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}',
      ),
    ).toBe(1);
    expect([...m.keys()].some((k) => k.includes('/no/such') || k.includes('collections/c/'))).toBe(false);

    expect(sample(m, 'surgevec_search_duration_seconds_count{kind="single"}')).toBe(SINGLE);
    expect(sample(m, 'surgevec_search_duration_seconds_count{kind="batch"}')).toBe(1);
    // Every single search went through the batcher, in at least one and at most SINGLE batches.
    expect(sample(m, 'surgevec_search_batch_size_sum')).toBe(SINGLE);
    const batches = sample(m, 'surgevec_search_batch_size_count');
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(SINGLE);
    expect(sample(m, 'surgevec_search_queue_depth')).toBe(0);

    const stats = (await engine.stats()).c!;
    const c = '{collection="c"}';
    expect(sample(m, `surgevec_points${c}`)).toBe(N);
    expect(sample(m, `surgevec_unindexed_points${c}`)).toBe(stats.unindexed);
    expect(sample(m, `surgevec_write_queue_depth${c}`)).toBe(0);
    expect(sample(m, `surgevec_wal_appends_total${c}`)).toBe(stats.wal.appends);
    expect(sample(m, `surgevec_wal_fsyncs_total${c}`)).toBe(stats.wal.fsyncs);
    expect(stats.wal.fsyncs).toBeGreaterThan(0);
    expect(sample(m, `surgevec_wal_last_fsync_seconds${c}`)).toBeCloseTo(stats.wal.lastFsyncMs / 1000, 9);
    // The engine-side fsync histogram: every fsync counted once, buckets cumulative and ending at the count.
    expect(sample(m, `surgevec_wal_fsync_duration_seconds_count${c}`)).toBe(stats.wal.fsyncs);
    expect(sample(m, 'surgevec_wal_fsync_duration_seconds_bucket{collection="c",le="+Inf"}')).toBe(
      stats.wal.fsyncs,
    );
    const buckets = [...m.entries()].filter(([k]) =>
      k.startsWith('surgevec_wal_fsync_duration_seconds_bucket'),
    );
    expect(buckets.length).toBe(stats.wal.fsyncLatency.boundsMs.length + 1);
    for (let i = 1; i < buckets.length; i++)
      expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
    expect(sample(m, `surgevec_wal_fsync_duration_seconds_sum${c}`)).toBeGreaterThan(0);
    const exact = sample(m, 'surgevec_searches_total{collection="c",path="exact"}');
    const graph = sample(m, 'surgevec_searches_total{collection="c",path="graph"}');
    expect(exact + graph).toBe(stats.searches.exact + stats.searches.graph);
    expect(exact + graph).toBe(SINGLE + 3);

    // Runtime metrics live on the same registry (event-loop delay included).
    expect(m.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(m.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(m.has('process_cpu_user_seconds_total')).toBe(true);
    expect(app.metrics.registry.getSingleMetric('surgevec_points')).toBeDefined();
  });

  it('keeps one registry per app: a second app starts from zero', async () => {
    const a = await open();
    const b = await open();
    for (let i = 0; i < 3; i++) await a.app.inject({ method: 'GET', url: '/readyz' });
    await b.app.inject({ method: 'GET', url: '/healthz' });
    const ma = await scrape(a.app);
    const mb = await scrape(b.app);
    const readyz =
      'surgevec_http_request_duration_seconds_count{method="GET",route="/readyz",status_code="200"}';
    expect(sample(ma, readyz)).toBe(3);
    expect(mb.has(readyz)).toBe(false);
    expect(a.app.metrics.registry).not.toBe(b.app.metrics.registry);
  });

  it('drops a collection from the collection gauges once it is deleted', async () => {
    const { app } = await open();
    await seed(app, 5);
    expect(sample(await scrape(app), 'surgevec_points{collection="c"}')).toBe(5);
    expect((await app.inject({ method: 'DELETE', url: '/collections/c' })).statusCode).toBe(200);
    const m = await scrape(app);
    expect([...m.keys()].some((k) => k.includes('collection="c"'))).toBe(false);
  });
});

describe('request ids and logging', () => {
  function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    return { logger: pino({ level: 'info' }, sink), lines };
  }

  it('echoes x-request-id and logs one info line per request with route, status and duration', async () => {
    const { logger, lines } = capture();
    const { app } = await open({}, { logger });
    await seed(app, 3);
    lines.length = 0;
    const r = await app.inject({
      method: 'POST',
      url: '/collections/c/points/search',
      headers: { 'x-request-id': 'req-abc-123' },
      payload: { vector: vector(1), limit: 1 },
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-request-id']).toBe('req-abc-123');
    const mine = lines.filter((l) => l.reqId === 'req-abc-123');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      method: 'POST',
      route: '/collections/:name/points/search',
      url: '/collections/c/points/search',
      status: 200,
    });
    expect(typeof mine[0]!.ms).toBe('number');

    const generated = await app.inject({ method: 'GET', url: '/readyz' });
    const id = generated.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.filter((l) => l.reqId === id)).toHaveLength(1);
  });

  it('logs 5xx at error level, 4xx at info', async () => {
    const { logger, lines } = capture();
    const broken = (e: EngineApi): EngineApi =>
      new Proxy(e, {
        get: (t, k) =>
          k === 'listCollections'
            ? () => Promise.reject(new Error('disk on fire'))
            : (Reflect.get(t, k, t) as (...a: unknown[]) => unknown).bind?.(t),
      });
    const { app } = await open({}, { logger, wrap: broken });
    const r = await app.inject({ method: 'GET', url: '/collections', headers: { 'x-request-id': 'boom' } });
    expect(r.statusCode).toBe(500);
    const done = lines.filter((l) => l.reqId === 'boom' && l.msg === 'request completed');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ level: 50, status: 500, route: '/collections' });

    await app.inject({ method: 'GET', url: '/collections/nope', headers: { 'x-request-id': 'nf' } });
    expect(lines.filter((l) => l.reqId === 'nf' && l.msg === 'request completed')[0]).toMatchObject({
      level: 30,
      status: 404,
    });
  });
});

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

describe('OpenTelemetry', () => {
  it('exports a server span per request with parse, admission, search and serialize children', async () => {
    const posts: { contentType: string | undefined; body: unknown }[] = [];
    const collector: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/traces') {
          posts.push({
            contentType: req.headers['content-type'],
            body: JSON.parse(Buffer.concat(chunks).toString()),
          });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => collector.close(resolve)));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

    const { app } = await open({ otel: { endpoint, service_name: 'surgevec-test' } });
    await seed(app, 50);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    // A slow client over a real socket: the body arrives 50 ms after the headers, so body parsing resumes in
    // the socket's async context and the trace must be carried across it to reach the search span.
    await app.listen({ port: 0, host: '127.0.0.1' });
    const body = JSON.stringify({ vector: vector(3), limit: 5 });
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      'POST /collections/c/points/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `traceparent: 00-${traceId}-${parentId}-01\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    await sleep(50);
    // write, not end: Node's HTTP server closes a half-closed connection at once (httpAllowHalfOpen is off),
    // and the search now answers a pool round trip later than the FIN would arrive.
    socket.write(body);
    let response = '';
    for await (const chunk of socket) response += String(chunk);
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    await app.close(); // flushes the batch processor to the collector

    expect(posts.length).toBeGreaterThan(0);
    expect(posts[0]!.contentType).toMatch(/application\/json/);
    const resources = posts.flatMap(
      (p) =>
        (p.body as { resourceSpans: { resource: OtlpSpan; scopeSpans: { spans: OtlpSpan[] }[] }[] })
          .resourceSpans,
    );
    const serviceNames = resources.flatMap((rs) =>
      rs.resource.attributes.filter((a) => a.key === 'service.name').map((a) => a.value.stringValue),
    );
    expect(new Set(serviceNames)).toEqual(new Set(['surgevec-test']));
    const spans = resources.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans));

    const rootSpan = spans.find((s) => s.name === 'POST /collections/:name/points/search');
    expect(rootSpan).toBeDefined();
    // The caller's W3C traceparent is the parent.
    expect(rootSpan!.traceId).toBe(traceId);
    expect(rootSpan!.parentSpanId).toBe(parentId);
    expect(rootSpan!.kind).toBe(2); // SERVER
    const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value;
    expect(attr(rootSpan!, 'http.route')).toEqual({ stringValue: '/collections/:name/points/search' });
    expect(attr(rootSpan!, 'http.response.status_code')).toEqual({ intValue: 200 });

    const children = spans.filter((s) => s.parentSpanId === rootSpan!.spanId);
    expect(children.map((s) => s.name).sort()).toEqual(['admission', 'parse', 'search', 'serialize']);
    for (const s of children) expect(s.traceId).toBe(traceId);
    expect(attr(children.find((s) => s.name === 'search')!, 'surgevec.search.kind')).toEqual({
      stringValue: 'single',
    });
  });
});

describe('HTTP behaviour from config', () => {
  it('compresses bodies above the threshold with the negotiated encoding', async () => {
    const { app } = await open({ server: { compress_threshold_bytes: 1024 } });
    const sse = 'data: {"seq":1}\n\n'.repeat(500);
    app.get('/test/sse', async (_req, reply) => reply.type('text/event-stream; charset=utf-8').send(sse));
    app.get('/test/ndjson', async (_req, reply) => reply.type('application/x-ndjson').send(sse));
    await seed(app, 200);
    const scroll = (encoding?: string) =>
      app.inject({
        method: 'POST',
        url: '/collections/c/points/scroll',
        payload: { limit: 200, with_vector: true, with_payload: true },
        headers: encoding ? { 'accept-encoding': encoding } : {},
      });
    const plain = await scroll();
    expect(plain.headers['content-encoding']).toBeUndefined();
    const expected = JSON.parse(plain.body) as { result: { points: unknown[] } };
    expect(expected.result.points).toHaveLength(200);
    const decoders: Record<string, (b: Buffer) => Buffer> = {
      gzip: zlib.gunzipSync,
      br: zlib.brotliDecompressSync,
      deflate: zlib.inflateSync,
    };
    for (const [encoding, decode] of Object.entries(decoders)) {
      const r = await scroll(encoding);
      expect(r.headers['content-encoding']).toBe(encoding);
      expect(r.rawPayload.length).toBeLessThan(plain.rawPayload.length);
      const body = JSON.parse(decode(r.rawPayload).toString()) as typeof expected;
      expect(body.result.points).toEqual(expected.result.points);
    }
    // Streams are never compressed: a compressor would hold events back until its buffer fills.
    for (const url of ['/test/sse', '/test/ndjson']) {
      const r = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, br' } });
      expect(r.headers['content-encoding'], url).toBeUndefined();
      expect(r.body).toBe(sse);
    }
    // Below the threshold: sent as is even when the client accepts gzip.
    const small = await app.inject({ method: 'GET', url: '/readyz', headers: { 'accept-encoding': 'gzip' } });
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('answers 413 BODY_TOO_LARGE above server.body_limit_bytes', async () => {
    const { app } = await open({ server: { body_limit_bytes: 2048 } });
    await seed(app, 1);
    const points = Array.from({ length: 40 }, (_, i) => ({ id: i + 100, vector: vector(i) }));
    const r = await app.inject({
      method: 'PUT',
      url: '/collections/c/points?wait=true',
      payload: { points },
    });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ code: 'BODY_TOO_LARGE', result: null });
    const count = await app.inject({ method: 'POST', url: '/collections/c/points/count', payload: {} });
    expect(count.json().result.count).toBe(1);
  });

  it('accepts compressed request bodies and applies the body limit after decompression', async () => {
    const { app } = await open({ server: { body_limit_bytes: 16 * 1024 } });
    await seed(app, 1);
    const upsert = (points: unknown[]) =>
      app.inject({
        method: 'PUT',
        url: '/collections/c/points?wait=true',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        payload: zlib.gzipSync(JSON.stringify({ points })),
      });
    const small = await upsert([{ id: 7, vector: vector(7) }]);
    expect(small.statusCode).toBe(200);
    // ~6 KB on the wire, ~350 KB once inflated: a zip bomb must not get past the limit.
    const bomb = await upsert(Array.from({ length: 2000 }, (_, i) => ({ id: 100 + i, vector: vector(1) })));
    expect(bomb.statusCode).toBe(413);
    expect(bomb.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
  });

  it('applies request timeout and keep-alive timeout to the listening server', async () => {
    const { app } = await open({ server: { request_timeout_ms: 7_000, keep_alive_timeout_ms: 4_000 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect(app.server.requestTimeout).toBe(7_000);
    expect(app.server.keepAliveTimeout).toBe(4_000);
    const port = (app.server.address() as AddressInfo).port;
    const agent = new http.Agent({ keepAlive: true });
    const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers));
        })
        .on('error', reject);
    });
    agent.destroy();
    expect(headers.connection).toBe('keep-alive');
    expect(headers['keep-alive']).toBe('timeout=4');
    expect(headers['x-request-id']).toBeDefined();
  });
});

function h2Request(
  session: http2.ClientHttp2Session,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':path': path,
      ':method': body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    let headers: http2.IncomingHttpHeaders = {};
    let text = '';
    req.setEncoding('utf8');
    req.on('response', (h) => {
      headers = h;
    });
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => resolve({ status: Number(headers[':status']), headers, text }));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('HTTP/2', () => {
  it('serves h2c (cleartext HTTP/2 with prior knowledge)', async () => {
    const { app } = await open({ server: { http2: true } });
    await seed(app, 20);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const ready = await h2Request(session, '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.text).toBe('all shards are ready');
      const [a, b] = await Promise.all([
        h2Request(session, '/collections/c/points/search', { vector: vector(1), limit: 2 }),
        h2Request(session, '/collections/c/points/search', { vector: vector(2), limit: 2 }),
      ]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect((JSON.parse(a.text) as { result: { id: number }[] }).result[0]!.id).toBe(2);
      expect(a.headers['x-request-id']).toBeDefined();
    } finally {
      session.close();
    }
    const m = await scrape(app);
    expect(
      sample(
        m,
        'surgevec_http_request_duration_seconds_count{method="POST",route="/collections/:name/points/search",status_code="200"}',
      ),
    ).toBe(2);
  });

  const openssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!openssl)('serves h2 over TLS and falls back to HTTP/1.1 by ALPN', async () => {
    const dir = mkdtempSync(join(root, 'tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    expect(existsSync(cert) && existsSync(key)).toBe(true);
    const { app } = await open({ server: { http2: true, tls_cert: cert, tls_key: key } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const ca = readFileSync(cert);

    const session = http2.connect(`https://127.0.0.1:${port}`, { ca });
    try {
      const r = await h2Request(session, '/readyz');
      expect(r.status).toBe(200);
      expect(session.alpnProtocol).toBe('h2');
    } finally {
      session.close();
    }

    // An HTTP/1.1-only client (ALPN offers http/1.1 alone) must still be served.
    const agent = new https.Agent({ ca, ALPNProtocols: ['http/1.1'] });
    const h1 = await new Promise<{ status: number; version: string; alpn: unknown }>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/readyz', agent }, (res) => {
        const alpn = (res.socket as TLSSocket).alpnProtocol;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.httpVersion, alpn }));
      });
      req.on('error', reject);
    });
    agent.destroy();
    expect(h1).toEqual({ status: 200, version: '1.1', alpn: 'http/1.1' });
  });

  it('refuses a TLS certificate without its key', async () => {
    await expect(open({ server: { tls_cert: '/nonexistent.pem' } })).rejects.toThrow(/tls_key/);
  });
});
