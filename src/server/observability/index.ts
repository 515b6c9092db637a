/**
 * Operating the server: request ids, one log line per request, Prometheus metrics, optional OpenTelemetry
 * tracing and response compression. One plugin, registered by buildApp before any route (compression and the
 * search instrumentation only see routes registered after them). docs/OPERATIONS.md describes the result.
 */
import compress from '@fastify/compress';
import { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import fp from 'fastify-plugin';
import type { EngineApi } from '../../engine/index.js';
import { installMetrics, type SearchKind, type ServerMetrics } from './metrics.js';
import { installTracing, type RequestTracing } from './tracing.js';

export type { SearchKind, ServerMetrics } from './metrics.js';
export type { RequestTracing } from './tracing.js';

/**
 * One log line per request, when it completes, with what an operator filters on: route pattern, status and
 * duration (Fastify's default is two lines, neither with the route). 5xx at error level, so an alert on error
 * logs catches server faults and not client mistakes; deliberate refusals (429/503 with Retry-After) at debug. Passed to Fastify as `logController` by buildApp.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: req.method,
      route: req.routeOptions.url ?? null,
      url: req.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    // `error` is a failure writing the response (the client went away), not a handler error.
    if (error) reply.log.error({ ...line, err: error }, 'response failed');
    // A 429/503 with Retry-After is admission control refusing on purpose (counted in
    // surgevec_admission_rejections_total), not a fault: under a burst there are thousands a second.
    else if (refusedOnPurpose(reply)) reply.log.debug(line, 'request refused');
    else if (reply.statusCode >= 500) reply.log.error(line, 'request completed');
    else reply.log.info(line, 'request completed');
  }
}

function refusedOnPurpose(reply: FastifyReply): boolean {
  return (reply.statusCode === 429 || reply.statusCode === 503) && reply.hasHeader('retry-after');
}

async function observabilityPlugin(app: FastifyInstance): Promise<void> {
  const { config, version } = app.surge;
  // First, so its onRequest hook opens the request span before anything else runs.
  const tracing = await installTracing(app, config.otel, version);

  // br (quality 4, the plugin's default: level 11 would cost more CPU than the search), gzip or deflate, as
  // the client's Accept-Encoding asks; small bodies go out as they are. The plugin's default types leave
  // text/event-stream and NDJSON alone: a compressor would hold a stream's events back until its buffer fills.
  await app.register(compress, {
    threshold: config.server.compress_threshold_bytes,
    encodings: ['br', 'gzip', 'deflate'],
  });

  // Fastify takes the id from x-request-id when the client sends one (buildApp's requestIdHeader) and
  // generates a UUID otherwise; echoing it lets a client quote the id that is in our logs.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  const metrics = installMetrics(app);
  instrumentSearch(app, metrics, tracing);
}

/**
 * Times every engine search the routes make — through the batcher (one query) or an explicit batch — for
 * `surgevec_search_duration_seconds` and the `search` span. The routes take `engine` and `batcher` from
 * app.surge when they are registered, so wrapping them here (before any route) reaches every search path
 * without the routes knowing about metrics.
 */
function instrumentSearch(
  app: FastifyInstance,
  metrics: ServerMetrics,
  tracing: RequestTracing | undefined,
): void {
  const surge = app.surge;
  const timed = <T>(kind: SearchKind, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const work = tracing ? tracing.span('search', run, { 'surgevec.search.kind': kind }) : run();
    return work.finally(() => metrics.observeSearch(kind, (performance.now() - started) / 1000));
  };

  const batcher = surge.batcher;
  const single = batcher.search.bind(batcher);
  batcher.search = (collection, request, priority) =>
    timed('single', () => single(collection, request, priority));

  const engine = surge.engine;
  const wrapped: Partial<EngineApi> = {
    search: (name, request) => timed('single', () => engine.search(name, request)),
    searchBatch: (name, requests) => timed('batch', () => engine.searchBatch(name, requests)),
  };
  // A Proxy rather than a copy: the engine's methods must keep running with the engine itself as `this`.
  const bound = new Map<PropertyKey, unknown>(Object.entries(wrapped));
  surge.engine = new Proxy(engine, {
    get(target, key) {
      if (bound.has(key)) return bound.get(key);
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const method = value.bind(target);
      bound.set(key, method);
      return method;
    },
  });
}

export const observability = fp(observabilityPlugin, { name: 'surgevec-observability', fastify: '5.x' });
