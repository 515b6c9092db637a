/**
 * Standing queries as one service: the registry (by id, tenant and collection, with the per-tenant limit),
 * persistence, one matcher per collection that has subscriptions, the scorer, and the deliveries. The
 * server's routes (REST, SSE, WebSocket) call it; it knows nothing about HTTP.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { CollectionInfo, EngineApi } from '../engine/index.js';
import { parseFilter } from '../engine/index.js';
import { SurgeError } from '../protocol/errors.js';
import type { SubscriptionCreated } from '../protocol/subscriptions.js';
import { Delivery, type Sink } from './delivery.js';
import { CollectionMatcher, type MatcherLog } from './matcher.js';
import { NO_OBSERVER, type SubscriptionObserver, type Transport } from './observer.js';
import { LocalScorer, type Scorer, WorkerScorer } from './scorer.js';
import { ShardedScorer } from './sharded-scorer.js';
import { parseSpec } from './spec.js';
import { SubscriptionStore } from './store.js';
import { LiveSubscription, TopKSubscription } from './subscription.js';
import { infoOf, type SubscriptionInfo, type SubscriptionSpec } from './types.js';

export const DEFAULT_TENANT = 'default';

export interface SubscriptionServiceOptions {
  engine: EngineApi;
  config: Readonly<Config>;
  log?: MatcherLog;
  /** Defaults to `config.subscriptions.scorer`: a worker thread, or the calling thread. */
  scorer?: Scorer;
  /** Counts for the server's metrics (levels are read with `gauges()`). */
  observer?: SubscriptionObserver;
}

/** Levels at this moment, for metrics read at scrape time. */
export interface SubscriptionGauges {
  subscriptions: Record<'threshold' | 'top_k', number>;
  subscribers: Record<Transport, number>;
  /** Per collection with subscriptions: change events received and not yet matched. */
  backlog: Record<string, { points: number; seqs: number }>;
}

/** Events have seq > `seq` (top-k: the seq its initial top-k was taken at). */
export type Created = SubscriptionCreated;

const QUIET: MatcherLog = { warn() {}, error() {} };

/**
 * `threads` scoring threads; 0: one per core but one, at most 4. The core left over is ingest's: on this
 * 2-core machine under outside load, two nice-0 scorer threads starved the (nice 5) engine thread and
 * ingest fell to 4,000–4,300 points/s of 5,000 offered in 3 of 5 runs, never with one (bench/subscriptions.ts).
 */
function startScorers(threads: number): Scorer {
  const n = threads > 0 ? threads : Math.max(1, Math.min(4, availableParallelism() - 1));
  return n <= 1
    ? WorkerScorer.start()
    : new ShardedScorer(Array.from({ length: n }, () => WorkerScorer.start()));
}

export class SubscriptionService {
  private readonly subs = new Map<string, LiveSubscription>();
  private readonly matchers = new Map<string, CollectionMatcher>();
  private readonly perTenant = new Map<string, number>();
  private readonly deliveries = new Set<Delivery>();
  private nextSpace = 1;
  private scorer: Scorer | undefined;
  private closed = false;
  private readonly limits: Config['subscriptions'];
  private readonly log: MatcherLog;
  private readonly observer: SubscriptionObserver;

  private constructor(
    private readonly o: SubscriptionServiceOptions,
    private readonly store: SubscriptionStore,
  ) {
    this.limits = o.config.subscriptions;
    this.log = o.log ?? QUIET;
    this.observer = o.observer ?? NO_OBSERVER;
    this.scorer = o.scorer;
  }

  /** Loads the persisted subscriptions and resumes matching for them. */
  static async open(o: SubscriptionServiceOptions): Promise<SubscriptionService> {
    const { store, specs } = await SubscriptionStore.open({
      dir: join(o.config.storage.data_dir, 'subscriptions'),
      fsync: o.config.storage.fsync,
    });
    const service = new SubscriptionService(o, store);
    const infos = new Map<string, CollectionInfo | undefined>();
    for (const spec of specs) {
      if (!infos.has(spec.collection)) {
        infos.set(spec.collection, await o.engine.collectionInfo(spec.collection).catch(() => undefined));
      }
      const info = infos.get(spec.collection);
      // A collection dropped while we were down takes its subscriptions with it (as it would have live).
      if (!info || info.name !== spec.collection) {
        await store.delete(spec.id);
        continue;
      }
      spec.filter = spec.filter === null ? null : parseFilter(spec.filter);
      service.register(spec, info);
    }
    return service;
  }

  get size(): number {
    return this.subs.size;
  }

  /**
   * The collection's info (its own name behind an alias). A collection that is gone takes its
   * subscriptions with it: the engine tells nobody about a drop, so every lookup checks.
   */
  async collectionInfo(collection: string): Promise<CollectionInfo> {
    try {
      return await this.o.engine.collectionInfo(collection);
    } catch (e) {
      if (e instanceof SurgeError && e.code === 'COLLECTION_NOT_FOUND' && this.matchers.has(collection)) {
        await this.dropped(collection);
      }
      throw e;
    }
  }

  async create(tenant: string, collection: string, body: unknown): Promise<Created> {
    this.assertOpen();
    const info = await this.collectionInfo(collection);
    const spec = parseSpec(body, {
      id: randomUUID(),
      tenant,
      info,
      limits: this.limits,
      now: new Date(),
    });
    const held = this.perTenant.get(tenant) ?? 0;
    if (held >= this.limits.max_per_tenant) {
      throw new SurgeError(
        'TOO_MANY_SUBSCRIPTIONS',
        `tenant ${JSON.stringify(tenant)} has ${held} subscriptions; the limit is ${this.limits.max_per_tenant}`,
        { limit: this.limits.max_per_tenant },
      );
    }
    // Counted now: concurrent creations must not all pass the check before any is stored.
    this.perTenant.set(tenant, held + 1);
    try {
      await this.store.create(spec);
    } catch (e) {
      this.perTenant.set(tenant, (this.perTenant.get(tenant) ?? 1) - 1);
      throw e;
    }
    this.perTenant.set(tenant, (this.perTenant.get(tenant) ?? 1) - 1);
    const sub = this.register(spec, info);
    if (sub instanceof TopKSubscription) {
      try {
        return { id: spec.id, seq: await sub.ready };
      } catch (e) {
        if (this.subs.has(spec.id)) await this.remove(sub, 'deleted');
        throw e;
      }
    }
    return { id: spec.id, seq: spec.seq };
  }

  private register(spec: SubscriptionSpec, info: CollectionInfo): LiveSubscription {
    const matcher = this.matcher(info);
    const sub =
      spec.top_k === null
        ? new LiveSubscription(spec)
        : new TopKSubscription(
            spec,
            matcher.metric,
            Math.max(this.limits.topk_reserve, 0),
            this.limits.history_events,
            matcher.track,
          );
    this.subs.set(spec.id, sub);
    this.perTenant.set(spec.tenant, (this.perTenant.get(spec.tenant) ?? 0) + 1);
    matcher.add(sub);
    return sub;
  }

  private matcher(info: CollectionInfo): CollectionMatcher {
    let m = this.matchers.get(info.name);
    if (m) return m;
    this.scorer ??=
      this.limits.scorer === 'worker' ? startScorers(this.limits.scorer_threads) : new LocalScorer();
    m = new CollectionMatcher({
      engine: this.o.engine,
      scorer: this.scorer,
      space: this.nextSpace++,
      name: info.name,
      distance: info.config.distance,
      dim: info.config.size,
      seq: info.seq,
      limits: this.limits,
      maxSearchLimit: this.o.config.engine.max_search_limit,
      log: this.log,
      observer: this.observer,
      onDropped: () => void this.dropped(info.name),
    });
    this.matchers.set(info.name, m);
    m.start();
    return m;
  }

  list(tenant: string, collection: string): SubscriptionInfo[] {
    const out: SubscriptionInfo[] = [];
    for (const s of this.subs.values()) {
      if (s.spec.tenant === tenant && s.spec.collection === collection) out.push(infoOf(s.spec));
    }
    return out.sort((a, b) =>
      a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1,
    );
  }

  /** The subscription, if `tenant` owns it and it belongs to `collection` (else SUBSCRIPTION_NOT_FOUND). */
  lookup(tenant: string, collection: string, id: string): LiveSubscription {
    const s = this.subs.get(id);
    if (!s || s.spec.tenant !== tenant || s.spec.collection !== collection) {
      throw new SurgeError(
        'SUBSCRIPTION_NOT_FOUND',
        `Subscription ${JSON.stringify(id)} doesn't exist in collection \`${collection}\``,
        {
          subscription: id,
          collection,
        },
      );
    }
    return s;
  }

  get(tenant: string, collection: string, id: string): SubscriptionInfo {
    return infoOf(this.lookup(tenant, collection, id).spec);
  }

  async delete(tenant: string, collection: string, id: string): Promise<void> {
    this.assertOpen();
    await this.remove(this.lookup(tenant, collection, id), 'deleted');
  }

  private async remove(sub: LiveSubscription, reason: 'deleted' | 'collection_dropped'): Promise<void> {
    if (this.subs.get(sub.id) !== sub) return;
    this.subs.delete(sub.id);
    this.perTenant.set(sub.spec.tenant, (this.perTenant.get(sub.spec.tenant) ?? 1) - 1);
    const m = this.matchers.get(sub.spec.collection);
    m?.remove(sub);
    for (const t of [...sub.taps]) t.close(reason);
    if (m && m.subscriptions === 0) {
      m.close();
      this.matchers.delete(sub.spec.collection);
    }
    await this.store.delete(sub.id);
  }

  private async dropped(collection: string): Promise<void> {
    for (const s of [...this.subs.values()]) {
      if (s.spec.collection === collection) await this.remove(s, 'collection_dropped').catch(() => {});
    }
  }

  /**
   * A delivery of `id` to `sink`; `start(after)` it (after: the client's last seq; undefined: from the
   * subscription's start) once the client may receive events, and `detach` it when the client goes away.
   */
  attach(tenant: string, collection: string, id: string, sink: Sink): Delivery {
    this.assertOpen();
    const sub = this.lookup(tenant, collection, id);
    const matcher = this.matchers.get(sub.spec.collection)!;
    const d = new Delivery(sub, sink, {
      engine: this.o.engine,
      matcher,
      maxBuffer: this.limits.buffer_events,
      maxLags: this.limits.max_lags,
      stallMs: this.limits.stall_timeout_ms,
      observer: this.observer,
      onClosed: (x) => this.deliveries.delete(x),
    });
    this.deliveries.add(d);
    return d;
  }

  /** Resolves once every matcher has processed what it has received (tests, benchmarks). */
  async whenIdle(): Promise<void> {
    await Promise.all([...this.matchers.values()].map((m) => m.whenIdle()));
  }

  gauges(): SubscriptionGauges {
    const g: SubscriptionGauges = {
      subscriptions: { threshold: 0, top_k: 0 },
      subscribers: { sse: 0, ws: 0 },
      backlog: {},
    };
    for (const s of this.subs.values()) g.subscriptions[s.spec.top_k === null ? 'threshold' : 'top_k']++;
    for (const d of this.deliveries) g.subscribers[d.transport]++;
    for (const [name, m] of this.matchers) g.backlog[name] = m.backlog;
    return g;
  }

  /** Matcher counters per collection (observability, benchmarks). */
  stats(): Record<string, CollectionMatcher['stats'] & { subscriptions: number; processed_seq: number }> {
    const out: Record<string, CollectionMatcher['stats'] & { subscriptions: number; processed_seq: number }> =
      {};
    for (const [name, m] of this.matchers) {
      out[name] = { ...m.stats, subscriptions: m.subscriptions, processed_seq: m.processedSeq };
    }
    return out;
  }

  private assertOpen(): void {
    if (this.closed) throw new SurgeError('SHUTTING_DOWN', 'the server is shutting down');
  }

  /** Ends every delivery (reason `shutdown`: clients reconnect with their last seq) and stops matching. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const d of [...this.deliveries]) d.close('shutdown');
    for (const m of this.matchers.values()) m.close();
    this.matchers.clear();
    await this.scorer?.close();
    await this.store.close();
  }
}
