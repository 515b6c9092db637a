/**
 * surgevec's admin API (docs/API.md, "Admin"): status of admission control, tenants and their keys, and
 * which tenant owns which collection. Admission's onRequest hook lets only the admin key through (the
 * status also without any key while no admin key is configured); with admission off only the status
 * exists, and it says so.
 */
import type { FastifyInstance } from 'fastify';
import { adminCollectionRoutes } from './collections.js';
import { statusRoute } from './status.js';
import { tenantRoutes } from './tenants.js';

export async function adminRoutes(app: FastifyInstance): Promise<void> {
  await app.register(statusRoute);
  if (app.admission === undefined) return;
  await app.register(tenantRoutes);
  await app.register(adminCollectionRoutes);
}
