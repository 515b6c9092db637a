/**
 * Standing queries (docs/API.md, "Standing queries"): REST management, SSE delivery, and the service the
 * WebSocket's `subscribe` op uses (`app.subscriptions`). Registered before the streaming routes; the
 * service is opened here (persisted subscriptions resume) and closed when the server closes.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { SubscriptionService } from '../../../subscriptions/index.js';
import { subscriptionMetrics } from './metrics.js';
import { subscriptionRestRoutes } from './rest.js';
import { subscriptionSseRoutes } from './sse.js';

declare module 'fastify' {
  interface FastifyInstance {
    subscriptions: SubscriptionService;
  }
}

export interface SubscriptionRoutesOptions {
  /**
   * A service built by the caller (tests); by default one is opened on the app's engine and config. A
   * service given here feeds only the metrics read at scrape time (its counters need the observer at open).
   */
  service?: SubscriptionService;
}

async function subscriptionsPlugin(app: FastifyInstance, opts: SubscriptionRoutesOptions): Promise<void> {
  const { engine, config } = app.surge;
  let opened: SubscriptionService | undefined = opts.service;
  const observer = subscriptionMetrics(app.metrics.registry, () => opened);
  const service =
    opts.service ??
    (await SubscriptionService.open({
      engine,
      config,
      observer,
      log: {
        warn: (obj, msg) => app.log.warn(obj, msg),
        error: (obj, msg) => app.log.error(obj, msg),
      },
    }));
  opened = service;
  app.decorate('subscriptions', service);
  // Open event streams would hold app.close() until the shutdown deadline: end them first (reason
  // `shutdown`; clients reconnect with their last seq).
  app.addHook('preClose', async () => {
    await service.close();
  });
  await app.register(subscriptionRestRoutes);
  await app.register(subscriptionSseRoutes);
}

/** fastify-plugin: `app.subscriptions` is visible to the WebSocket routes registered beside it. */
export const subscriptionRoutes = fp(subscriptionsPlugin, { name: 'surgevec-subscriptions' });
