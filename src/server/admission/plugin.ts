/**
 * Admission control at the edge of the server (docs/OPERATIONS.md, "Admission control"). Everything that
 * can refuse a request runs in `onRequest`, before the body is read: authentication, tenant isolation,
 * the degradation level's shedding, quotas (429 with the exact Retry-After), the ingest budget and the
 * concurrency gate (503 with Retry-After from the drain estimate). A refusal costs microseconds and never
 * parses a body or touches the engine. After parsing (`preHandler`), written points are charged to the
 * points quota and searches get their effective ef — or an answer from the result cache.
 *
 * Registered right after observability and before every route: routes are classified once, as they are
 * registered (onRoute), and each request reads its class from the route's config.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  canRead,
  type DropReason,
  derivePriority,
  isPriority,
  type Priority,
  type PriorityRank,
  rank,
  type TenantRecord,
  type Tier,
} from '../../admission/index.js';
import { type ErrorCode, SurgeError } from '../../protocol/errors.js';
import { errorBody, ok } from '../envelope.js';
import { stringifyJson } from '../json.js';
import { installAdmissionMetrics } from './metrics.js';
import { type Principal, requestKey } from './principal.js';
import { classifyRoute, type RouteAdmission } from './route-class.js';
import { AdmissionRuntime, type RejectReason, type Waiter } from './runtime.js';

/** Streaming ingest asks before each batch; the promise resolves when the batch may go (`release` after). */
export type IngestAcquire = (bytes: number, points: number) => Promise<() => void>;

/**
 * A WebSocket frame asks as a request would: a read takes a concurrency slot (and may wait for one), a
 * write passes the ingest budget, both pass the level and the tenant's quota. Resolves with the release
 * to call once the frame is answered; rejects with the catalogue error a request would have got
 * (`details.retry_after_ms` set), which the socket sends back in the frame's answer.
 */
export type FrameAdmit = (kind: 'read' | 'write', bytes: number, points: number) => Promise<() => void>;

declare module 'fastify' {
  interface FastifyInstance {
    /** undefined when admission is off (admission.enabled = false). */
    admission: AdmissionRuntime | undefined;
  }
  interface FastifyRequest {
    adm: RequestAdmission | null;
  }
  interface FastifyContextConfig {
    surgevecAdmission?: RouteAdmission;
  }
}

export interface RequestAdmission {
  route: RouteAdmission;
  principal: Principal;
  rank: PriorityRank;
  /** 'queued' → 'admitted' → 'done' for requests that hold a concurrency slot; 'none' otherwise. */
  slot: 'none' | 'queued' | 'admitted' | 'done';
  admittedAt: number;
  /** The client went away while queued: give the slot back as soon as it is granted. */
  gone: boolean;
  cacheKey: string | undefined;
  cacheSeq: number;
  aliasActions: AliasChange[] | undefined;
}

type AliasChange =
  | { kind: 'create'; alias: string; collection: string }
  | { kind: 'delete'; alias: string }
  | { kind: 'rename'; from: string; to: string };

export interface AdmissionPluginOptions {
  now?: () => number;
  rss?: () => number;
}

const ADMIN: Principal = { kind: 'admin' };
const ANONYMOUS: Principal = { kind: 'anonymous' };
const TIMEOUT_HEADER = 'x-surgevec-timeout-ms';
const PRIORITY_HEADER = 'x-surgevec-priority';

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function tierOf(p: Principal): Tier | 'admin' {
  switch (p.kind) {
    case 'tenant':
      return p.tenant.tier;
    case 'open':
      return p.tier;
    default:
      return 'admin';
  }
}

async function admissionPlugin(app: FastifyInstance, opts: AdmissionPluginOptions): Promise<void> {
  const { config, engine, batcher } = app.surge;
  const rt = new AdmissionRuntime({
    config,
    engine,
    batcher,
    now: opts.now ?? (() => performance.now()),
    ...(opts.rss ? { rss: opts.rss } : {}),
    log: app.log,
  });
  await rt.start();
  app.decorate('admission', rt);
  app.decorateRequest('adm', null);
  installAdmissionMetrics(app, rt);
  const a = config.admission;
  const owners = rt.store.owners;
  const OPEN: Principal = { kind: 'open', tier: a.open_tier };

  if (rt.open) {
    app.log.warn(
      { tier: a.open_tier },
      'no API keys configured: the server is open (no authentication; every caller is one tenant)',
    );
  } else {
    app.log.info(
      { tenants: rt.store.registry.size, admin_key: rt.adminKey.configured },
      'API keys required (api-key or Authorization: Bearer)',
    );
  }

  const timer = setInterval(() => rt.tick(), a.tick_ms);
  timer.unref();
  // While requests wait, their queues are swept every `target_ms` (or `burst_wait_ms` if shorter) too, so a
  // waiter past its bound or its deadline is answered within a few ms of it rather than at the next tick.
  let sweeper: NodeJS.Timeout | undefined;
  const sweepWhileQueued = () => {
    if (sweeper !== undefined || rt.stopped) return;
    sweeper = setInterval(
      () => {
        rt.sweepQueues();
        if (rt.gate.queuedAhead(3) === 0) {
          clearInterval(sweeper);
          sweeper = undefined;
        }
      },
      Math.max(1, Math.min(a.queue.target_ms, a.queue.burst_wait_ms)),
    );
    sweeper.unref();
  };
  // preClose, not onClose: streams waiting at the ingest gate must end before the server waits for them.
  app.addHook('preClose', async () => {
    clearInterval(timer);
    clearInterval(sweeper);
    rt.stop();
  });

  // Classified once per route; the later hooks are attached only to the routes that need them, so the
  // others pay nothing for them.
  app.addHook('onRoute', (route) => {
    const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
    const c = classifyRoute(method, route.url);
    route.config = { ...(route.config ?? {}), surgevecAdmission: c };
    if (c.cls === 'write' || c.search !== null || c.ownership === 'aliases') {
      route.preHandler = withHook(route.preHandler, preHandler as never);
    }
    if (c.cacheable || (c.ownership !== null && c.ownership !== 'exists')) {
      route.preSerialization = withHook(route.preSerialization, preSerialization as never);
    }
  });

  /** Answers a refusal now, with Retry-After when there is one. Never reaches the handler. */
  function refuse(
    req: FastifyRequest,
    reply: FastifyReply,
    code: ErrorCode,
    message: string,
    reason: RejectReason,
    r: PriorityRank,
    retryAfterMs?: number,
  ): void {
    rt.reject(reason, r);
    const details: Record<string, unknown> = { reason };
    if (retryAfterMs !== undefined) {
      const ms = Math.ceil(retryAfterMs);
      details.retry_after_ms = ms;
      // Retry-After is whole seconds (RFC 9110), rounded up so that waiting it is always enough.
      reply.header('retry-after', String(Math.max(1, Math.ceil(ms / 1000))));
      reply.header('retry-after-ms', String(ms));
    }
    if (code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
    const e = refusal(code, message, details);
    reply.code(e.status).type('application/json').send(errorBody(e, req.startedAt));
  }

  function overloadText(reason: RejectReason, r: PriorityRank): string {
    return reason === 'shed'
      ? `degradation level ${rt.level} sheds ${PRIORITY_NAMES[r]}-priority requests`
      : reason === 'memory'
        ? 'the server is near its memory budget: writes are paused'
        : reason === 'deadline'
          ? 'the request waited in the queue past its deadline'
          : `the server is saturated (${reason.replace('_', ' ')})`;
  }

  function overloaded(req: FastifyRequest, reply: FastifyReply, reason: RejectReason, r: PriorityRank): void {
    refuse(
      req,
      reply,
      reason === 'deadline' ? 'DEADLINE_EXCEEDED' : 'OVERLOADED',
      overloadText(reason, r),
      reason,
      r,
      rt.retryAfterMs(r),
    );
  }

  /** Queue deadline: Qdrant's `?timeout=` (seconds) or our header (ms), capped; the default otherwise. */
  function deadline(req: FastifyRequest, now: number): number {
    const h = req.headers[TIMEOUT_HEADER];
    let ms = typeof h === 'string' ? Number(h) : Number.NaN;
    if (!(ms > 0)) {
      const t = (req.query as { timeout?: unknown } | undefined)?.timeout;
      ms = typeof t === 'string' ? Number(t) * 1000 : Number.NaN;
    }
    if (!(ms > 0)) ms = a.queue.default_timeout_ms;
    return now + Math.min(ms, a.queue.max_timeout_ms);
  }

  function principalOf(req: FastifyRequest): Principal {
    if (rt.open) return OPEN;
    const key = requestKey(req.headers);
    if (key === undefined) return ANONYMOUS;
    if (rt.adminKey.matches(key)) return ADMIN;
    const t = rt.store.registry.resolve(key);
    return t ? { kind: 'tenant', tenant: t } : ANONYMOUS;
  }

  /** One listener per slot-holding request: the slot is returned when the response closes, however it ends. */
  function holdSlot(reply: FastifyReply, adm: RequestAdmission): void {
    const search = adm.route.search !== null;
    reply.raw.once('close', () => {
      if (adm.slot === 'queued') adm.gone = true;
      else if (adm.slot === 'admitted') {
        adm.slot = 'done';
        rt.readDone(adm.rank, adm.admittedAt, search);
      }
    });
  }

  app.addHook('onRequest', (req, reply, done) => {
    const route = req.routeOptions.config?.surgevecAdmission;
    reply.header('x-surgevec-level', rt.level);
    // Unmatched URLs (404) and routes registered before admission (/metrics) pass untouched.
    if (route === undefined) {
      done();
      return;
    }
    const principal = principalOf(req);

    if (route.admin) {
      if (principal.kind === 'admin') {
        req.adm = newAdm(route, principal, 0);
        done();
        return;
      }
      if (!rt.adminKey.configured) {
        // Without an admin key the status stays readable (it holds no secrets); the rest is closed.
        if (req.routeOptions.url === '/admin/status') {
          done();
          return;
        }
        return refuse(
          req,
          reply,
          'FORBIDDEN',
          'no admin key is configured (admission.admin_key)',
          'forbidden',
          0,
        );
      }
      if (principal.kind === 'tenant') {
        refuse(req, reply, 'FORBIDDEN', 'the admin API needs the admin key', 'forbidden', 0);
        return;
      }
      refuse(req, reply, 'UNAUTHORIZED', unauthorized(req), 'unauthorized', 0);
      return;
    }
    if (route.cls === 'control') {
      done();
      return;
    }
    if (principal.kind === 'anonymous') {
      refuse(req, reply, 'UNAUTHORIZED', unauthorized(req), 'unauthorized', 0);
      return;
    }

    let requested: Priority | undefined;
    const h = req.headers[PRIORITY_HEADER];
    if (h !== undefined) {
      if (!isPriority(h)) {
        const e = new SurgeError(
          'INVALID_REQUEST',
          `${PRIORITY_HEADER} must be critical, high, normal or low`,
        );
        reply.code(e.status).type('application/json').send(errorBody(e, req.startedAt));
        return;
      }
      requested = h;
    }
    const r = rank(derivePriority(tierOf(principal), route.cls, requested));
    const adm = newAdm(route, principal, r);
    req.adm = adm;

    if (route.collection && principal.kind === 'tenant') {
      const name = (req.params as { name?: string }).name;
      if (
        name !== undefined &&
        !owners.canAccess(principal.tenant.id, name) &&
        !(route.readOnly && canRead(principal.tenant, name)) &&
        !isolated(req, reply, route, name, canRead(principal.tenant, name))
      ) {
        return;
      }
    }
    if (route.ownership === 'create' || route.ownership === 'drop' || route.ownership === 'aliases')
      rt.epoch++;

    rt.offer();
    if (rt.shedsAt(r)) {
      overloaded(req, reply, 'shed', r);
      return;
    }

    const tenant = principal.kind === 'tenant' ? principal.tenant : undefined;
    const now = rt.now();
    if (tenant) {
      const plan = rt.quotaPlan(tenant);
      const writes = route.cls === 'write' || route.cls === 'bulk';
      const limit = writes ? plan.points : plan.reads;
      if (limit) {
        // Writes are charged per point once the body is parsed; here only "is the bucket empty?".
        const d = writes
          ? rt.quotas.peek(`p:${tenant.id}`, 1, limit, now)
          : rt.quotas.take(`r:${tenant.id}`, 1, limit, now);
        if (d instanceof Promise) {
          d.then(
            (x) =>
              x.allowed
                ? afterQuota(req, reply, done, adm, now)
                : overQuota(req, reply, adm, writes, x.retryAfterMs),
            (e: unknown) => done(e as Error),
          );
          return;
        }
        if (!d.allowed) {
          overQuota(req, reply, adm, writes, d.retryAfterMs);
          return;
        }
      }
    }
    afterQuota(req, reply, done, adm, now);
  });

  function overQuota(
    req: FastifyRequest,
    reply: FastifyReply,
    adm: RequestAdmission,
    writes: boolean,
    retryAfterMs: number,
  ): void {
    refuse(
      req,
      reply,
      'OVER_QUOTA',
      writes ? 'the tenant is over its written-points quota' : 'the tenant is over its request quota',
      writes ? 'quota_points' : 'quota_reads',
      adm.rank,
      retryAfterMs,
    );
  }

  /** The ingest budget for writes, the concurrency gate for reads. */
  function afterQuota(
    req: FastifyRequest,
    reply: FastifyReply,
    done: (err?: Error) => void,
    adm: RequestAdmission,
    now: number,
  ): void {
    const route = adm.route;
    const r = adm.rank;
    if (route.cls === 'write') {
      const len = Number(req.headers['content-length']);
      const bytes = len > 0 ? len : a.ingest.unknown_length_bytes;
      const refusal = rt.ingest.tryAcquire(bytes, rt.headroom(now));
      if (refusal !== null) {
        overloaded(req, reply, refusal, r);
        return;
      }
      reply.raw.once('close', () => rt.releaseIngest(bytes));
      done();
      return;
    }
    if (route.cls !== 'read') {
      done();
      return;
    }
    const waiter: Waiter = {
      admit() {
        if (adm.gone) {
          adm.slot = 'done';
          rt.gate.release(r, rt.now(), rt.limit.limit);
          return;
        }
        adm.slot = 'admitted';
        adm.admittedAt = rt.now();
        done();
      },
      drop(why: DropReason) {
        adm.slot = 'done';
        if (adm.gone) return;
        overloaded(req, reply, why, r);
      },
    };
    adm.slot = 'queued';
    holdSlot(reply, adm);
    const offer = rt.gate.offer(r, waiter, now, deadline(req, now), rt.limit.limit, rt.drainRate());
    if (offer === 'admitted') {
      adm.slot = 'admitted';
      adm.admittedAt = now;
      done();
    } else if (offer === 'queued') sweepWhileQueued();
    // 'queued': waiter.admit or waiter.drop runs later; 'refused': waiter.drop has answered.
  }

  /** A tenant names a collection it does not own: answered as if the name did not exist — except a write to a
   * collection it may read, which is 403. */
  function isolated(
    req: FastifyRequest,
    reply: FastifyReply,
    route: RouteAdmission,
    name: string,
    readGrant: boolean,
  ): boolean {
    if (readGrant) {
      // The tenant sees the collection, so "missing" would be a lie: it may read it, not change it.
      refuse(
        req,
        reply,
        'FORBIDDEN',
        `read-only access to collection \`${name}\``,
        'forbidden',
        req.adm!.rank,
      );
      return false;
    }
    const owner = owners.owner(name);
    if (route.ownership === 'create' && owner === undefined) return true;
    if (route.ownership === 'create') {
      const e = new SurgeError('COLLECTION_EXISTS', `Collection \`${name}\` already exists!`, {
        collection: name,
      });
      reply.code(e.status).type('application/json').send(errorBody(e, req.startedAt));
    } else if (route.ownership === 'exists') {
      reply.send(ok({ exists: false }, req.startedAt));
    } else if (route.ownership === 'drop') {
      reply.send(ok(false, req.startedAt));
    } else {
      const e = new SurgeError('COLLECTION_NOT_FOUND', `Collection \`${name}\` doesn't exist!`, {
        collection: name,
      });
      reply.code(e.status).type('application/json').send(errorBody(e, req.startedAt));
    }
    return false;
  }

  function preHandler(req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    const adm = req.adm;
    if (adm === null) {
      done();
      return;
    }
    const route = adm.route;
    const tenant = adm.principal.kind === 'tenant' ? adm.principal.tenant : undefined;

    if (route.cls === 'write' && tenant) {
      const limit = rt.quotaPlan(tenant).points;
      if (limit) {
        const d = rt.quotas.take(`p:${tenant.id}`, writtenPoints(req.body), limit, rt.now());
        if (d instanceof Promise) {
          d.then(
            (x) => (x.allowed ? done() : overQuota(req, reply, adm, true, x.retryAfterMs)),
            (e: unknown) => done(e as Error),
          );
          return;
        }
        if (!d.allowed) {
          overQuota(req, reply, adm, true, d.retryAfterMs);
          return;
        }
      }
      done();
      return;
    }

    if (route.search !== null) {
      const level = rt.level;
      const trusted = adm.principal.kind !== 'tenant' || adm.principal.tenant.tier === 'premium';
      const body = req.body;
      let ef: number | undefined;
      if (route.search === 'single') ef = effort(body, trusted, level);
      else if (isObject(body) && Array.isArray(body.searches)) {
        for (const s of body.searches) effort(s, trusted, level);
        ef = rt.ef.effective(level);
      }
      if (ef !== undefined) reply.header('x-surgevec-ef', ef);
      const cache = rt.cache;
      if (route.cacheable && cache && level >= a.cache.from_level && isObject(body)) {
        const name = (req.params as { name: string }).name;
        const key = `${rt.epoch}\u0000${name}\u0000${createHash('sha1').update(stringifyJson(body)).digest('base64')}`;
        const seq = rt.seqOf(name);
        const hit = cache.get(key, seq, rt.now());
        if (hit !== undefined) {
          reply.header('x-surgevec-cache', 'hit');
          reply.send(ok(hit, req.startedAt));
          return;
        }
        reply.header('x-surgevec-cache', 'miss');
        adm.cacheKey = key;
        adm.cacheSeq = seq;
      }
      done();
      return;
    }

    if (route.ownership === 'aliases') {
      const changes = aliasChanges(req.body);
      adm.aliasActions = changes;
      if (tenant) {
        const refusal = changes
          ? aliasRefusal(tenant, changes)
          : new SurgeError(
              'INVALID_REQUEST',
              'actions must be create_alias, delete_alias or rename_alias objects',
            );
        if (refusal) {
          reply.code(refusal.status).type('application/json').send(errorBody(refusal, req.startedAt));
          return;
        }
      }
    }
    done();
  }

  /** Sets the ef a search runs at (in the body, before the route reads it); returns it. */
  function effort(body: unknown, trusted: boolean, level: number): number | undefined {
    if (!isObject(body)) return undefined;
    const p = body.params;
    if (p !== undefined && p !== null && !isObject(p)) return undefined;
    const explicit = p?.hnsw_ef;
    let ef: number;
    if (explicit === undefined || explicit === null) ef = rt.ef.effective(level);
    else if (typeof explicit === 'number') ef = rt.ef.forExplicit(explicit, trusted, level);
    else return undefined; // not a number: the route's validation answers it
    if (p) p.hnsw_ef = ef;
    else body.params = { hnsw_ef: ef };
    return ef;
  }

  function aliasRefusal(tenant: TenantRecord, changes: AliasChange[]): SurgeError | undefined {
    const mine = (n: string) => owners.canAccess(tenant.id, n);
    const free = (n: string) => owners.owner(n) === undefined || mine(n);
    for (const c of changes) {
      if (c.kind === 'create') {
        if (!mine(c.collection))
          return new SurgeError('COLLECTION_NOT_FOUND', `Collection \`${c.collection}\` doesn't exist!`);
        if (!free(c.alias)) return new SurgeError('ALIAS_EXISTS', `Alias \`${c.alias}\` is taken`);
      } else if (c.kind === 'delete') {
        if (!mine(c.alias)) return new SurgeError('ALIAS_NOT_FOUND', `Alias \`${c.alias}\` doesn't exist!`);
      } else {
        if (!mine(c.from)) return new SurgeError('ALIAS_NOT_FOUND', `Alias \`${c.from}\` doesn't exist!`);
        if (!free(c.to)) return new SurgeError('ALIAS_EXISTS', `Alias \`${c.to}\` is taken`);
      }
    }
    return undefined;
  }

  function preSerialization(
    req: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (err: Error | null, payload?: unknown) => void,
  ): void {
    const adm = req.adm;
    if (adm === null || reply.statusCode !== 200 || !isObject(payload)) {
      done(null, payload);
      return;
    }
    if (adm.cacheKey !== undefined && rt.cache) {
      rt.cache.set(adm.cacheKey, payload.result, adm.cacheSeq, rt.now());
      done(null, payload);
      return;
    }
    const route = adm.route;
    if (route.ownership === null) {
      done(null, payload);
      return;
    }
    const tenant = adm.principal.kind === 'tenant' ? adm.principal.tenant : undefined;
    const result = payload.result;
    const name = (req.params as { name?: string }).name;
    switch (route.ownership) {
      case 'list':
        if (tenant && isObject(result) && Array.isArray(result.collections)) {
          result.collections = result.collections.filter(
            (c: { name?: string }) =>
              typeof c.name === 'string' && (owners.canAccess(tenant.id, c.name) || canRead(tenant, c.name)),
          );
        }
        break;
      case 'list_aliases':
        if (tenant && isObject(result) && Array.isArray(result.aliases)) {
          result.aliases = result.aliases.filter(
            (x: { alias_name?: string }) =>
              typeof x.alias_name === 'string' && owners.canAccess(tenant.id, x.alias_name),
          );
        }
        break;
      case 'create':
        if (tenant && name !== undefined) {
          owners.claim(name, tenant.id);
          rt.store.saveOwners();
        }
        rt.epoch++;
        break;
      case 'drop':
        if (result === true && name !== undefined) {
          if (owners.owner(name) !== undefined) {
            owners.dropCollection(name);
            rt.store.saveOwners();
          }
          rt.seqs.delete(name);
        }
        rt.epoch++;
        void rt.refreshAliases().catch(() => undefined);
        break;
      case 'aliases':
        for (const c of adm.aliasActions ?? []) applyAliasChange(c);
        rt.store.saveOwners();
        rt.epoch++;
        void rt.refreshAliases().catch(() => undefined);
        break;
    }
    done(null, payload);
  }

  /** Aliases belong to the owner of the collection they point at (nobody's when it has none). */
  function applyAliasChange(c: AliasChange): void {
    if (c.kind === 'create') {
      const owner = owners.owner(c.collection);
      if (owner !== undefined) owners.claimAlias(c.alias, owner, c.collection);
      else owners.deleteAlias(c.alias);
    } else if (c.kind === 'delete') owners.deleteAlias(c.alias);
    else owners.renameAlias(c.from, c.to);
  }

  /** Streaming ingest: waits (the stream stops reading) until the level, the budget and the quota allow a batch. */
  app.surge.ingestGate = (req: FastifyRequest): IngestAcquire | undefined => {
    const adm = req.adm;
    if (adm === null) return undefined;
    const tenant = adm.principal.kind === 'tenant' ? adm.principal.tenant : undefined;
    return async (bytes, points) => {
      for (;;) {
        if (rt.stopped) throw new SurgeError('SHUTTING_DOWN', 'the server is shutting down');
        if (req.raw.socket?.destroyed) {
          throw new SurgeError('OVERLOADED', 'the client went away while its stream waited for admission');
        }
        const now = rt.now();
        // Level 2 defers free-tier writes (and level 3 all but premium): the stream waits, it is not refused.
        if (rt.shedsAt(adm.rank) || rt.ingest.tryAcquire(bytes, rt.headroom(now)) !== null) {
          await rt.nextWake();
          continue;
        }
        const limit = tenant ? rt.quotaPlan(tenant).points : undefined;
        if (tenant && limit) {
          const d = await rt.quotas.take(`p:${tenant.id}`, points, limit, now);
          if (!d.allowed) {
            rt.releaseIngest(bytes);
            await sleep(Math.ceil(d.retryAfterMs), undefined, { ref: false });
            continue;
          }
        }
        let released = false;
        return () => {
          if (released) return;
          released = true;
          rt.releaseIngest(bytes);
        };
      }
    };
  };

  /** WebSocket frames: admitted one by one with the connection's tenant and priority (see FrameAdmit). */
  app.surge.frameGate = (req: FastifyRequest): FrameAdmit | undefined => {
    const adm = req.adm;
    if (adm === null) return undefined;
    const tenant = adm.principal.kind === 'tenant' ? adm.principal.tenant : undefined;
    const r = adm.rank;
    const frameRefusal = (reason: RejectReason, retryAfterMs: number): SurgeError => {
      rt.reject(reason, r);
      const code: ErrorCode =
        reason === 'quota_reads' || reason === 'quota_points'
          ? 'OVER_QUOTA'
          : reason === 'deadline'
            ? 'DEADLINE_EXCEEDED'
            : 'OVERLOADED';
      const message =
        code === 'OVER_QUOTA'
          ? reason === 'quota_points'
            ? 'the tenant is over its written-points quota'
            : 'the tenant is over its request quota'
          : overloadText(reason, r);
      return refusal(code, message, { reason, retry_after_ms: Math.ceil(retryAfterMs) });
    };
    return async (kind, bytes, points) => {
      if (rt.stopped) throw new SurgeError('SHUTTING_DOWN', 'the server is shutting down');
      rt.offer();
      if (rt.shedsAt(r)) throw frameRefusal('shed', rt.retryAfterMs(r));
      const now = rt.now();
      const limit = tenant
        ? kind === 'write'
          ? rt.quotaPlan(tenant).points
          : rt.quotaPlan(tenant).reads
        : undefined;
      if (tenant && limit) {
        const key = kind === 'write' ? `p:${tenant.id}` : `r:${tenant.id}`;
        const d = await rt.quotas.take(key, kind === 'write' ? Math.max(1, points) : 1, limit, now);
        if (!d.allowed) throw frameRefusal(kind === 'write' ? 'quota_points' : 'quota_reads', d.retryAfterMs);
      }
      if (kind === 'write') {
        const why = rt.ingest.tryAcquire(bytes, rt.headroom(now));
        if (why !== null) throw frameRefusal(why, rt.retryAfterMs(r));
        let released = false;
        return () => {
          if (released) return;
          released = true;
          rt.releaseIngest(bytes);
        };
      }
      return new Promise<() => void>((resolve, reject) => {
        let admittedAt = 0;
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          rt.readDone(r, admittedAt, true);
        };
        const waiter: Waiter = {
          admit() {
            admittedAt = rt.now();
            resolve(release);
          },
          drop(why: DropReason) {
            reject(frameRefusal(why, rt.retryAfterMs(r)));
          },
        };
        const t = rt.now();
        const offer = rt.gate.offer(
          r,
          waiter,
          t,
          t + a.queue.default_timeout_ms,
          rt.limit.limit,
          rt.drainRate(),
        );
        if (offer === 'admitted') {
          admittedAt = t;
          resolve(release);
        } else if (offer === 'queued') sweepWhileQueued();
      });
    };
  };

  function newAdm(route: RouteAdmission, principal: Principal, r: PriorityRank): RequestAdmission {
    return {
      route,
      principal,
      rank: r,
      slot: 'none',
      admittedAt: 0,
      gone: false,
      cacheKey: undefined,
      cacheSeq: 0,
      aliasActions: undefined,
    };
  }
}

const PRIORITY_NAMES = ['critical', 'high', 'normal', 'low'] as const;

function withHook<H>(existing: H | H[] | undefined, hook: H): H[] {
  if (existing === undefined) return [hook];
  return Array.isArray(existing) ? [...existing, hook] : [existing, hook];
}

/**
 * A refusal is an expected answer, not a fault: its error skips the stack trace, which would cost more
 * than the rest of the refusal (measured with bench/admission.ts).
 */
function refusal(code: ErrorCode, message: string, details: Record<string, unknown>): SurgeError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new SurgeError(code, message, details);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function unauthorized(req: FastifyRequest): string {
  return requestKey(req.headers) === undefined
    ? 'an API key is required (api-key header or Authorization: Bearer)'
    : 'the API key is not valid';
}

/** Points a write request writes (the points quota's cost): upserted or named points, else 1. */
function writtenPoints(body: unknown): number {
  if (!isObject(body)) return 1;
  if (Array.isArray(body.points)) return Math.max(1, body.points.length);
  const batch = body.batch;
  if (isObject(batch) && Array.isArray(batch.ids)) return Math.max(1, batch.ids.length);
  return 1;
}

/** The alias actions of a body, or undefined when it is malformed (the route then refuses it whole). */
function aliasChanges(body: unknown): AliasChange[] | undefined {
  if (!isObject(body) || !Array.isArray(body.actions)) return undefined;
  const out: AliasChange[] = [];
  for (const a of body.actions) {
    if (!isObject(a)) return undefined;
    const c = a.create_alias;
    const d = a.delete_alias;
    const r = a.rename_alias;
    if (isObject(c) && typeof c.alias_name === 'string' && typeof c.collection_name === 'string') {
      out.push({ kind: 'create', alias: c.alias_name, collection: c.collection_name });
    } else if (isObject(d) && typeof d.alias_name === 'string') {
      out.push({ kind: 'delete', alias: d.alias_name });
    } else if (isObject(r) && typeof r.old_alias_name === 'string' && typeof r.new_alias_name === 'string') {
      out.push({ kind: 'rename', from: r.old_alias_name, to: r.new_alias_name });
    } else return undefined;
  }
  return out;
}

export const admission = fp(admissionPlugin, { name: 'surgevec-admission', fastify: '5.x' });
