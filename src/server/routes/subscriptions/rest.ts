/**
 * Standing queries over REST (docs/API.md, "Standing queries"): create, list, read and delete the
 * subscriptions of a collection. Answers use Qdrant's envelope like every other route.
 */
import type { FastifyInstance } from 'fastify';
import { ok } from '../../envelope.js';
import { collectionParam } from '../qdrant/params.js';
import { requestTenant } from './tenant.js';

export async function subscriptionRestRoutes(app: FastifyInstance): Promise<void> {
  const service = () => app.subscriptions;
  /** The collection's own name: an alias in the URL reaches the subscriptions of its collection. */
  const own = async (name: string) => (await service().collectionInfo(name)).name;

  app.post('/collections/:name/subscriptions', async (req) => {
    const created = await service().create(requestTenant(req), collectionParam(req), req.body);
    return ok(created, req.startedAt);
  });

  app.get('/collections/:name/subscriptions', async (req) => {
    const collection = await own(collectionParam(req));
    return ok({ subscriptions: service().list(requestTenant(req), collection) }, req.startedAt);
  });

  app.get('/collections/:name/subscriptions/:id', async (req) => {
    const collection = await own(collectionParam(req));
    const { id } = req.params as { id: string };
    return ok(service().get(requestTenant(req), collection, id), req.startedAt);
  });

  app.delete('/collections/:name/subscriptions/:id', async (req) => {
    const collection = await own(collectionParam(req));
    const { id } = req.params as { id: string };
    await service().delete(requestTenant(req), collection, id);
    return ok(true, req.startedAt);
  });
}
