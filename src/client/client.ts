/**
 * `SurgeClient`: a typed method for every route surgevec serves (docs/API.md), named as in Qdrant's JS
 * client, plus the streaming extensions. Request and result types come from `protocol/wire.ts`; every
 * REST call runs through `Caller` (deadline, endpoint choice, circuit, throttle, retries, cache).
 * Standing queries: `subscriptions` (REST) and `subscribe()` (resumable events over SSE or the WebSocket).
 */
import { EventEmitter } from 'node:events';
import type { SubscriptionRequest } from '../protocol/subscriptions.js';
import type {
  AliasesList,
  AliasOperation,
  CollectionInfo,
  CollectionsList,
  CountRequest,
  CountResult,
  CreateCollectionRequest,
  CreateIndexRequest,
  DeletePayloadRequest,
  OverwritePayloadRequest,
  PointId,
  PointRecord,
  PointsSelector,
  QueryBatchRequest,
  QueryRequest,
  QueryResult,
  RetrieveRequest,
  ScoredPoint,
  ScrollRequest,
  ScrollResult,
  SearchBatchRequest,
  SearchRequest,
  ServiceInfo,
  SetPayloadRequest,
  UpdateResult,
  UpsertRequest,
} from '../protocol/wire.js';
import { QueryCache } from './cache/query-cache.js';
import { Caller, type CallOptions, type CallSpec } from './call.js';
import { ApiError } from './errors.js';
import type { ClientEventMap } from './events.js';
import { type ClientOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { sleep } from './policy/deadline.js';
import { RetryBudget } from './policy/retry-budget.js';
import { recordClientMetrics } from './prometheus.js';
import { ChangeFeed, type ChangeFeedOptions } from './streams/changes.js';
import { type IngestOptions, type IngestPoint, type IngestSummary, ingest } from './streams/ndjson-ingest.js';
import { type ScrollAllOptions, scrollAll } from './streams/scroll.js';
import { type SubscribeOptions, SubscriptionStream } from './streams/subscription.js';
import { type SessionOptions, WsSession } from './streams/ws-session.js';
import { SubscriptionsApi } from './subscriptions.js';
import { Endpoints } from './transport.js';

export interface WriteOptions extends CallOptions {
  /** `?wait=true`: answer once visible to search ("completed"); otherwise once durable ("acknowledged"). */
  wait?: boolean;
}

const col = (name: string) => `/collections/${encodeURIComponent(name)}`;

/** A selector naming its points: repeating the write gives the same state. A filter may match new points. */
function byIds(s: PointsSelector): boolean {
  return 'points' in s && Array.isArray(s.points) && !('filter' in s && s.filter);
}

export class SurgeClient {
  /** Requests, retries, throttling, breaker and health changes, cache lookups (see events.ts). */
  readonly events = new EventEmitter<ClientEventMap>();
  /** The query cache, when enabled. */
  readonly cache: QueryCache | undefined;
  readonly options: Readonly<ResolvedOptions>;
  /** Standing queries: create, list, get, delete (stream one with `subscribe`). */
  readonly subscriptions: SubscriptionsApi;
  private readonly endpoints: Endpoints;
  private readonly caller: Caller;
  private readonly closing = new AbortController();

  constructor(options: ClientOptions = {}) {
    const o = resolveOptions(options);
    this.options = o;
    this.endpoints = new Endpoints(
      o.urls,
      o.pool,
      o.breaker,
      o.throttle,
      o.health,
      o.clock,
      o.random,
      this.events,
    );
    this.cache = o.cache ? new QueryCache(o.cache, o.clock) : undefined;
    if (o.metrics) recordClientMetrics(this.events, o.metrics.registry, o.metrics.prefix, o.urls);
    this.caller = new Caller({
      endpoints: this.endpoints,
      events: this.events,
      clock: o.clock,
      random: o.random,
      headers: o.headers,
      timeoutMs: o.timeoutMs,
      retry: o.retry,
      budget: o.retryBudget ? new RetryBudget(o.retryBudget, o.clock) : undefined,
      cache: this.cache,
    });
    this.subscriptions = new SubscriptionsApi((spec, options) => this.call(spec, options));
    if (o.cache) for (const name of o.cache.followChanges) this.follow(name);
  }

  private call<T>(spec: CallSpec, options?: CallOptions): Promise<T> {
    return this.caller.call<T>(spec, options);
  }

  private async write(
    name: string,
    spec: Omit<CallSpec, 'decode' | 'query'>,
    options: WriteOptions = {},
  ): Promise<UpdateResult> {
    const { wait, ...call } = options;
    const r = await this.call<UpdateResult>(
      { ...spec, decode: 'envelope', query: wait === undefined ? undefined : { wait } },
      call,
    );
    this.cache?.observeSeq(name, r.operation_id);
    return r;
  }

  private read<T>(
    name: string,
    spec: Omit<CallSpec, 'decode' | 'idempotent' | 'cacheCollection'>,
    options?: CallOptions,
  ): Promise<T> {
    return this.call<T>({ ...spec, decode: 'envelope', idempotent: true, cacheCollection: name }, options);
  }

  // ---------------------------------------------------------------- service

  /** `GET /`: server title and version. */
  info(options?: CallOptions): Promise<ServiceInfo> {
    return this.call({ method: 'GET', path: '/', route: '/', idempotent: true, decode: 'json' }, options);
  }

  /** `GET /healthz` (also `/livez`): the process is up. */
  healthz(options?: CallOptions): Promise<string> {
    return this.call(
      { method: 'GET', path: '/healthz', route: '/healthz', idempotent: true, decode: 'text' },
      options,
    );
  }

  livez(options?: CallOptions): Promise<string> {
    return this.call(
      { method: 'GET', path: '/livez', route: '/livez', idempotent: true, decode: 'text' },
      options,
    );
  }

  /** `GET /readyz`: false while the server drains (503), never retried. */
  async readyz(options?: CallOptions): Promise<boolean> {
    try {
      await this.call(
        { method: 'GET', path: '/readyz', route: '/readyz', idempotent: true, decode: 'text', noRetry: true },
        options,
      );
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 503) return false;
      throw e;
    }
  }

  /** `GET /metrics`: the server's Prometheus text. */
  metrics(options?: CallOptions): Promise<string> {
    return this.call(
      { method: 'GET', path: '/metrics', route: '/metrics', idempotent: true, decode: 'text' },
      options,
    );
  }

  // ---------------------------------------------------------------- collections and aliases

  getCollections(options?: CallOptions): Promise<CollectionsList> {
    return this.call(
      { method: 'GET', path: '/collections', route: '/collections', idempotent: true, decode: 'envelope' },
      options,
    );
  }

  /** Not idempotent: a repeat after a lost answer would be COLLECTION_EXISTS, so it is retried only when unsent. */
  async createCollection(
    name: string,
    request: CreateCollectionRequest,
    options?: CallOptions,
  ): Promise<boolean> {
    const r = await this.call<boolean>(
      {
        method: 'PUT',
        path: col(name),
        route: '/collections/{name}',
        body: request,
        idempotent: false,
        decode: 'envelope',
      },
      options,
    );
    this.cache?.forget(name);
    return r;
  }

  /** Also the freshest `seq` the cache can learn of. */
  async getCollection(name: string, options?: CallOptions): Promise<CollectionInfo> {
    const info = await this.call<CollectionInfo>(
      { method: 'GET', path: col(name), route: '/collections/{name}', idempotent: true, decode: 'envelope' },
      options,
    );
    this.cache?.observeSeq(name, info.seq);
    return info;
  }

  /** `false` when there was no such collection. Not idempotent in its answer, so retried only when unsent. */
  async deleteCollection(name: string, options?: CallOptions): Promise<boolean> {
    const r = await this.call<boolean>(
      {
        method: 'DELETE',
        path: col(name),
        route: '/collections/{name}',
        idempotent: false,
        decode: 'envelope',
      },
      options,
    );
    this.cache?.forget(name);
    return r;
  }

  async collectionExists(name: string, options?: CallOptions): Promise<boolean> {
    const r = await this.call<{ exists: boolean }>(
      {
        method: 'GET',
        path: `${col(name)}/exists`,
        route: '/collections/{name}/exists',
        idempotent: true,
        decode: 'envelope',
      },
      options,
    );
    return r.exists;
  }

  /** All actions apply together or not at all. Re-pointing aliases moves reads: the whole cache is dropped. */
  async updateCollectionAliases(actions: AliasOperation[], options?: CallOptions): Promise<boolean> {
    const r = await this.call<boolean>(
      {
        method: 'POST',
        path: '/collections/aliases',
        route: '/collections/aliases',
        body: { actions },
        idempotent: false,
        decode: 'envelope',
      },
      options,
    );
    this.cache?.clear();
    return r;
  }

  getAliases(options?: CallOptions): Promise<AliasesList> {
    return this.call(
      { method: 'GET', path: '/aliases', route: '/aliases', idempotent: true, decode: 'envelope' },
      options,
    );
  }

  getCollectionAliases(name: string, options?: CallOptions): Promise<AliasesList> {
    return this.call(
      {
        method: 'GET',
        path: `${col(name)}/aliases`,
        route: '/collections/{name}/aliases',
        idempotent: true,
        decode: 'envelope',
      },
      options,
    );
  }

  createPayloadIndex(
    name: string,
    request: CreateIndexRequest,
    options?: WriteOptions,
  ): Promise<UpdateResult> {
    return this.write(
      name,
      {
        method: 'PUT',
        path: `${col(name)}/index`,
        route: '/collections/{name}/index',
        body: request,
        idempotent: true,
      },
      options,
    );
  }

  deletePayloadIndex(name: string, field: string, options?: WriteOptions): Promise<UpdateResult> {
    return this.write(
      name,
      {
        method: 'DELETE',
        path: `${col(name)}/index/${encodeURIComponent(field)}`,
        route: '/collections/{name}/index/{field}',
        idempotent: true,
      },
      options,
    );
  }

  // ---------------------------------------------------------------- point writes

  /** Idempotent: every point names its id, so a repeat writes the same points again. */
  upsert(name: string, request: UpsertRequest, options?: WriteOptions): Promise<UpdateResult> {
    return this.write(
      name,
      {
        method: 'PUT',
        path: `${col(name)}/points`,
        route: '/collections/{name}/points',
        body: request,
        idempotent: true,
      },
      options,
    );
  }

  delete(name: string, selector: PointsSelector, options?: WriteOptions): Promise<UpdateResult> {
    return this.write(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/delete`,
        route: '/collections/{name}/points/delete',
        body: selector,
        idempotent: byIds(selector),
      },
      options,
    );
  }

  setPayload(name: string, request: SetPayloadRequest, options?: WriteOptions): Promise<UpdateResult> {
    return this.write(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/payload`,
        route: '/collections/{name}/points/payload',
        body: request,
        idempotent: byIds(request),
      },
      options,
    );
  }

  overwritePayload(
    name: string,
    request: OverwritePayloadRequest,
    options?: WriteOptions,
  ): Promise<UpdateResult> {
    return this.write(
      name,
      {
        method: 'PUT',
        path: `${col(name)}/points/payload`,
        route: '/collections/{name}/points/payload',
        body: request,
        idempotent: byIds(request),
      },
      options,
    );
  }

  deletePayload(name: string, request: DeletePayloadRequest, options?: WriteOptions): Promise<UpdateResult> {
    return this.write(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/payload/delete`,
        route: '/collections/{name}/points/payload/delete',
        body: request,
        idempotent: byIds(request),
      },
      options,
    );
  }

  clearPayload(name: string, selector: PointsSelector, options?: WriteOptions): Promise<UpdateResult> {
    return this.write(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/payload/clear`,
        route: '/collections/{name}/points/payload/clear',
        body: selector,
        idempotent: byIds(selector),
      },
      options,
    );
  }

  // ---------------------------------------------------------------- point reads (cacheable)

  retrieve(name: string, request: RetrieveRequest, options?: CallOptions): Promise<PointRecord[]> {
    return this.read(
      name,
      { method: 'POST', path: `${col(name)}/points`, route: '/collections/{name}/points', body: request },
      options,
    );
  }

  /** One point with payload and vector; POINT_NOT_FOUND when there is none. */
  getPoint(name: string, id: PointId, options?: CallOptions): Promise<PointRecord> {
    return this.read(
      name,
      {
        method: 'GET',
        path: `${col(name)}/points/${encodeURIComponent(String(id))}`,
        route: '/collections/{name}/points/{id}',
      },
      options,
    );
  }

  scroll(name: string, request: ScrollRequest = {}, options?: CallOptions): Promise<ScrollResult> {
    return this.read(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/scroll`,
        route: '/collections/{name}/points/scroll',
        body: request,
      },
      options,
    );
  }

  async count(name: string, request: CountRequest = {}, options?: CallOptions): Promise<number> {
    const r = await this.read<CountResult>(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/count`,
        route: '/collections/{name}/points/count',
        body: request,
      },
      options,
    );
    return r.count;
  }

  search(name: string, request: SearchRequest, options?: CallOptions): Promise<ScoredPoint[]> {
    return this.read(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/search`,
        route: '/collections/{name}/points/search',
        body: request,
      },
      options,
    );
  }

  searchBatch(name: string, request: SearchBatchRequest, options?: CallOptions): Promise<ScoredPoint[][]> {
    return this.read(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/search/batch`,
        route: '/collections/{name}/points/search/batch',
        body: request,
      },
      options,
    );
  }

  query(name: string, request: QueryRequest, options?: CallOptions): Promise<QueryResult> {
    return this.read(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/query`,
        route: '/collections/{name}/points/query',
        body: request,
      },
      options,
    );
  }

  queryBatch(name: string, request: QueryBatchRequest, options?: CallOptions): Promise<QueryResult[]> {
    return this.read(
      name,
      {
        method: 'POST',
        path: `${col(name)}/points/query/batch`,
        route: '/collections/{name}/points/query/batch',
        body: request,
      },
      options,
    );
  }

  // ---------------------------------------------------------------- streams

  /** NDJSON ingest from any (async) iterable, resumable across connection failures (streams/ndjson-ingest.ts). */
  ingest(
    name: string,
    points: Iterable<IngestPoint> | AsyncIterable<IngestPoint>,
    options?: IngestOptions,
  ): Promise<IngestSummary> {
    const o = this.options;
    return ingest(
      { endpoints: this.endpoints, headers: o.headers, clock: o.clock, random: o.random, cache: this.cache },
      name,
      points,
      options,
    );
  }

  /** Every point (matching `request.filter`), page after page. */
  scrollAll(name: string, request: Omit<ScrollRequest, 'limit'> = {}, options?: ScrollAllOptions) {
    return scrollAll((r, call) => this.scroll(name, r, call), request, options);
  }

  /** A pipelined WebSocket session on one collection (streams/ws-session.ts). */
  async session(name: string, options?: SessionOptions): Promise<WsSession> {
    const lease = this.endpoints.acquire();
    try {
      const s = await WsSession.connect(
        lease.endpoint.wsUrl(`${col(name)}/ws`),
        this.options.headers,
        this.options.clock,
        this.options.timeoutMs,
        options,
      );
      this.endpoints.succeeded(lease);
      return s;
    } catch (e) {
      this.endpoints.failed(lease);
      throw e;
    }
  }

  /** The collection's change feed, resuming after disconnects (streams/changes.ts). */
  changes(name: string, options?: ChangeFeedOptions): ChangeFeed {
    const o = this.options;
    const signal = options?.signal
      ? AbortSignal.any([options.signal, this.closing.signal])
      : this.closing.signal;
    return new ChangeFeed(
      { endpoints: this.endpoints, headers: o.headers, clock: o.clock, random: o.random },
      name,
      async () => (await this.getCollection(name, { signal })).seq,
      { ...options, signal },
    );
  }

  /**
   * A standing query's events, resuming after disconnects and restarts without gap or repeat
   * (streams/subscription.ts): an existing subscription by id, or a request that creates one.
   */
  subscribe(
    name: string,
    target: string | SubscriptionRequest,
    options?: SubscribeOptions,
  ): SubscriptionStream {
    const o = this.options;
    const signal = options?.signal
      ? AbortSignal.any([options.signal, this.closing.signal])
      : this.closing.signal;
    return new SubscriptionStream(
      {
        sse: { endpoints: this.endpoints, headers: o.headers, clock: o.clock, random: o.random },
        api: this.subscriptions,
        session: (collection, session) => this.session(collection, session),
        random: o.random,
      },
      name,
      target,
      { ...options, signal },
    );
  }

  /** Keeps the cache's view of `name`'s seq current from the change feed, until the client closes. */
  private follow(name: string): void {
    const signal = this.closing.signal;
    void (async () => {
      let delay = 500;
      while (!signal.aborted) {
        try {
          for await (const item of this.changes(name, { maxConsecutiveFailures: Number.POSITIVE_INFINITY })) {
            if (item.type === 'change') this.cache!.observeSeq(name, item.event.seq);
            else this.cache!.invalidate(name);
            delay = 500;
          }
        } catch {
          // E.g. the collection does not exist yet: entries still expire by TTL meanwhile.
          this.cache!.invalidate(name);
        }
        await sleep(delay, signal).catch(() => undefined);
        delay = Math.min(30_000, delay * 2);
      }
    })();
  }

  /** Stops change-feed followers and closes every connection. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.endpoints.close();
  }
}
