/**
 * `client.subscriptions`: standing queries over REST (docs/API.md, "Standing queries") — create, list,
 * read, delete. Streaming a subscription's events is `client.subscribe()` (streams/subscription.ts).
 */
import type {
  SubscriptionCreated,
  SubscriptionInfo,
  SubscriptionRequest,
  SubscriptionsList,
} from '../protocol/subscriptions.js';
import type { CallOptions, CallSpec } from './call.js';

type Call = <T>(spec: CallSpec, options?: CallOptions) => Promise<T>;

const base = (collection: string) => `/collections/${encodeURIComponent(collection)}/subscriptions`;
const ROUTE = '/collections/{name}/subscriptions';

export class SubscriptionsApi {
  constructor(private readonly call: Call) {}

  /**
   * Not idempotent: a repeat after a lost answer would create a second subscription, so it is retried only
   * when the request was never sent.
   */
  create(
    collection: string,
    request: SubscriptionRequest,
    options?: CallOptions,
  ): Promise<SubscriptionCreated> {
    return this.call(
      {
        method: 'POST',
        path: base(collection),
        route: ROUTE,
        body: request,
        idempotent: false,
        decode: 'envelope',
      },
      options,
    );
  }

  /** The caller's tenant's subscriptions on the collection, oldest first. */
  async list(collection: string, options?: CallOptions): Promise<SubscriptionInfo[]> {
    const r = await this.call<SubscriptionsList>(
      { method: 'GET', path: base(collection), route: ROUTE, idempotent: true, decode: 'envelope' },
      options,
    );
    return r.subscriptions;
  }

  get(collection: string, id: string, options?: CallOptions): Promise<SubscriptionInfo> {
    return this.call(
      {
        method: 'GET',
        path: `${base(collection)}/${encodeURIComponent(id)}`,
        route: `${ROUTE}/{id}`,
        idempotent: true,
        decode: 'envelope',
      },
      options,
    );
  }

  /** SUBSCRIPTION_NOT_FOUND when there is none; retried only when unsent (a repeat would answer that). */
  delete(collection: string, id: string, options?: CallOptions): Promise<boolean> {
    return this.call(
      {
        method: 'DELETE',
        path: `${base(collection)}/${encodeURIComponent(id)}`,
        route: `${ROUTE}/{id}`,
        idempotent: false,
        decode: 'envelope',
      },
      options,
    );
  }
}
