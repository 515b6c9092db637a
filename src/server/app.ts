/**
 * buildApp(deps) → a Fastify instance, not listening (style.md §2): tests drive it with inject(), and
 * cli/serve is the only place that listens. Every route answers Qdrant's envelopes; every error passes
 * through toSurgeError once.
 */
import { readFileSync } from 'node:fs';
import websocket from '@fastify/websocket';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { Config } from '../config/index.js';
import type { EngineApi } from '../engine/index.js';
import { SurgeError } from '../protocol/errors.js';
import type { SubscriptionService } from '../subscriptions/index.js';
import {
  type AdmissionPluginOptions,
  admission,
  type FrameAdmit,
  type IngestAcquire,
} from './admission/plugin.js';
import { errorBody } from './envelope.js';
import { toSurgeError } from './errors.js';
import { parseJson, stringifyJson } from './json.js';
import { observability, RequestLog } from './observability/index.js';
import { adminRoutes } from './routes/admin/index.js';
import { collectionRoutes } from './routes/qdrant/collections.js';
import { pointRoutes } from './routes/qdrant/points.js';
import { searchRoutes } from './routes/qdrant/search.js';
import { serviceRoutes } from './routes/qdrant/service.js';
import { unsupportedRoutes } from './routes/qdrant/unsupported.js';
import { streamRoutes } from './routes/stream/index.js';
import { subscriptionRoutes } from './routes/subscriptions/index.js';
import { SearchBatcher } from './search-batcher.js';

export type ServerState = 'ready' | 'draining';

export interface AppDeps {
  engine: EngineApi;
  config: Readonly<Config>;
  /** Fastify's logger option: false (tests), true, or a pino instance. */
  logger?: FastifyServerOptions['loggerInstance'] | boolean;
  version?: string;
  /** Admission control's clock and memory reading (tests fake them); see src/server/admission. */
  admission?: AdmissionPluginOptions;
  /** Standing queries; by default opened on `engine` and `config` (persisted ones resume). */
  subscriptions?: SubscriptionService;
}

export interface Surge {
  engine: EngineApi;
  config: Readonly<Config>;
  batcher: SearchBatcher;
  version: string;
  state: ServerState;
  /** Set by admission control: streaming ingest waits on it before each batch (undefined: no admission). */
  ingestGate?: (req: FastifyRequest) => IngestAcquire | undefined;
  /** Set by admission control: each WebSocket data frame is admitted like a request (undefined: no admission). */
  frameGate?: (req: FastifyRequest) => FrameAdmit | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    surge: Surge;
  }
  interface FastifyRequest {
    startedAt: number;
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const s = config.server;
  const logger = deps.logger ?? false;
  const app = Fastify({
    ...(typeof logger === 'boolean' ? { logger } : { loggerInstance: logger }),
    // Typed away: Fastify's overloads pick one server type statically; the instance is cast below anyway.
    ...(transport(s) as object),
    // One line per request (route, status, duration) instead of Fastify's two.
    logController: new RequestLog(),
    bodyLimit: s.body_limit_bytes,
    requestTimeout: s.request_timeout_ms,
    keepAliveTimeout: s.keep_alive_timeout_ms,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    // Qdrant ids and names may contain characters Fastify would otherwise reject in params.
    routerOptions: { maxParamLength: 1000, ignoreTrailingSlash: true },
    // Errors Fastify raises before routing (a malformed %-escape in the URL) get our envelope too.
    frameworkErrors: (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
      const e = toSurgeError(err);
      reply
        .code(e.status)
        .type('application/json')
        .send(errorBody(e, req.startedAt || performance.now()));
    },
  }) as unknown as FastifyInstance;

  app.decorate('surge', {
    engine: deps.engine,
    config,
    batcher: new SearchBatcher(deps.engine, s.search_batch_max),
    version: deps.version ?? '0.0.0',
    state: 'ready',
  } satisfies Surge);
  app.decorateRequest('startedAt', 0);
  app.addHook('onRequest', async (req) => {
    req.startedAt = performance.now();
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.length === 0) return done(null, undefined);
    try {
      done(null, parseJson(text));
    } catch (e) {
      done(new SurgeError('INVALID_JSON', `malformed JSON: ${(e as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser('*', (_req, _payload, done) => {
    done(
      new SurgeError('UNSUPPORTED_MEDIA_TYPE', 'bodies must be JSON (Content-Type: application/json)'),
      undefined,
    );
  });
  app.setReplySerializer((payload) => stringifyJson(payload));

  app.setErrorHandler((err, req, reply) => {
    const e = toSurgeError(err);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    reply.code(e.status).type('application/json').send(errorBody(e, req.startedAt));
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new SurgeError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    reply.code(e.status).send(errorBody(e, req.startedAt));
  });

  await app.register(observability);
  // Before every route: it classifies routes as they are registered and must see all of them.
  if (config.admission.enabled) await app.register(admission, deps.admission ?? {});
  else app.decorate('admission', undefined);
  await app.register(adminRoutes);
  await app.register(serviceRoutes);
  await app.register(collectionRoutes);
  await app.register(pointRoutes);
  await app.register(searchRoutes);
  await app.register(unsupportedRoutes);
  await app.register(websocket, { options: { maxPayload: s.body_limit_bytes } });
  await app.register(subscriptionRoutes, deps.subscriptions ? { service: deps.subscriptions } : {});
  await app.register(streamRoutes);
  return app;
}

/** HTTP/1.1; h2c (HTTP/2 over cleartext, prior knowledge); HTTPS; or TLS h2 with HTTP/1.1 fallback via ALPN. */
function transport(s: Config['server']) {
  if ((s.tls_cert === undefined) !== (s.tls_key === undefined)) {
    throw new SurgeError('INVALID_REQUEST', 'server.tls_cert and server.tls_key must be given together');
  }
  const read = (file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new SurgeError('INVALID_REQUEST', `cannot read TLS file ${file}: ${(e as Error).message}`);
    }
  };
  const tls = s.tls_cert && s.tls_key ? { cert: read(s.tls_cert), key: read(s.tls_key) } : undefined;
  if (s.http2) return { http2: true as const, ...(tls ? { https: { ...tls, allowHTTP1: true } } : {}) };
  return tls ? { https: tls } : {};
}
