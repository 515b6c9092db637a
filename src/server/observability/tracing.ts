/**
 * OpenTelemetry tracing, off unless `config.otel.endpoint` is set (env OTEL_EXPORTER_OTLP_ENDPOINT). Only then
 * is the SDK imported (lazily: a server without it loads no OTel code and registers no hook), and each request
 * gets a SERVER span with children `parse` → `admission` → `search` → `serialize`, exported over OTLP/HTTP
 * (JSON) to `<endpoint>/v1/traces`. A W3C `traceparent` header on the request becomes the parent.
 *
 * The provider belongs to the app, not the process (nothing is registered globally): several apps can trace
 * to different collectors, and `app.close()` flushes and stops it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/index.js';

/** Spans for work done on behalf of the request being handled (found through async context). */
export interface RequestTracing {
  /** Runs `work` inside a child span `name` of the current request's span; untraced outside a request. */
  span<T>(name: string, work: () => Promise<T>, attributes?: Attributes): Promise<T>;
}

interface RequestTrace {
  root: Span;
  ctx: Context;
  /** Children started by one hook and ended by a later one. */
  open: Map<string, Span>;
}

/** Bounds how long an unreachable collector can hold up export and shutdown. */
const EXPORT_TIMEOUT_MS = 3000;

export async function installTracing(
  app: FastifyInstance,
  otel: Readonly<Config['otel']>,
  version: string,
): Promise<RequestTracing | undefined> {
  if (otel.endpoint === undefined) return undefined;
  const [api, core, resources, sdk, otlp] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const exporter = new otlp.OTLPTraceExporter({
    url: `${otel.endpoint.replace(/\/+$/, '')}/v1/traces`,
    timeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const provider = new sdk.NodeTracerProvider({
    resource: resources.resourceFromAttributes({
      'service.name': otel.service_name,
      'service.version': version,
    }),
    spanProcessors: [new sdk.BatchSpanProcessor(exporter, { exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
  });
  const tracer: Tracer = provider.getTracer('surgevec', version);
  const propagator = new core.W3CTraceContextPropagator();
  const { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace } = api;

  // Carries the request's trace into the handler and whatever it awaits (the engine call). Entered in
  // onRequest; Fastify runs body parsing in an AsyncResource of the request, so it survives a slow body.
  const als = new AsyncLocalStorage<RequestTrace>();
  const traces = new WeakMap<FastifyRequest, RequestTrace>();

  const child = (t: RequestTrace, name: string) => tracer.startSpan(name, {}, t.ctx);
  const start = (req: FastifyRequest, name: string) => {
    const t = traces.get(req);
    if (t) t.open.set(name, child(t, name));
  };
  const end = (req: FastifyRequest, name: string) => {
    const t = traces.get(req);
    t?.open.get(name)?.end();
    t?.open.delete(name);
  };
  const finish = (req: FastifyRequest, status: number | undefined) => {
    const t = traces.get(req);
    if (!t) return;
    traces.delete(req);
    for (const span of t.open.values()) span.end();
    if (status !== undefined) t.root.setAttribute('http.response.status_code', status);
    if (status === undefined || status >= 500) t.root.setStatus({ code: SpanStatusCode.ERROR });
    t.root.end();
  };

  app.addHook('onRequest', (req, _reply, done) => {
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const route = req.routeOptions.url;
    const root = tracer.startSpan(
      route ? `${req.method} ${route}` : req.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'url.path': req.url.split('?')[0] ?? req.url,
          ...(route ? { 'http.route': route } : {}),
          'surgevec.request_id': req.id,
        },
      },
      parent,
    );
    const t: RequestTrace = { root, ctx: trace.setSpan(parent, root), open: new Map() };
    traces.set(req, t);
    als.run(t, done);
  });
  app.addHook('preParsing', async (req, _reply, payload) => {
    start(req, 'parse');
    return payload;
  });
  app.addHook('preValidation', async (req) => end(req, 'parse'));
  app.addHook('preHandler', async (req) => {
    // Placeholder until admission control lands: the span marks where its decision will be made.
    const t = traces.get(req);
    if (t) child(t, 'admission').end();
  });
  app.addHook('preSerialization', async (req, _reply, payload) => {
    start(req, 'serialize');
    return payload;
  });
  app.addHook('onSend', async (req, _reply, payload) => {
    end(req, 'serialize');
    return payload;
  });
  app.addHook('onError', async (req, _reply, err) => {
    traces.get(req)?.root.recordException(err);
  });
  app.addHook('onResponse', async (req, reply) => finish(req, reply.statusCode));
  app.addHook('onRequestAbort', async (req) => finish(req, undefined));
  app.addHook('onTimeout', async (req) => finish(req, undefined));
  app.addHook('onClose', async () => {
    await provider.shutdown();
  });

  return {
    async span(name, work, attributes) {
      const t = als.getStore();
      if (!t) return work();
      const span = tracer.startSpan(name, attributes ? { attributes } : {}, t.ctx);
      try {
        return await work();
      } catch (e) {
        span.recordException(e as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw e;
      } finally {
        span.end();
      }
    },
  };
}
