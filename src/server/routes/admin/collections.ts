/**
 * `/admin/collections`: who owns what. Collections created by a tenant are its own automatically; this
 * assigns the others (made before tenants existed, or in open mode) or moves one to another tenant.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SurgeError } from '../../../protocol/errors.js';
import { parseBody } from '../../../protocol/qdrant.js';
import { ok } from '../../envelope.js';

const ownerBody = z.strictObject({ tenant: z.string().nullable() });

export async function adminCollectionRoutes(app: FastifyInstance): Promise<void> {
  const rt = app.admission!;
  const owners = rt.store.owners;
  const { engine } = app.surge;

  app.get('/admin/collections', async (req) => {
    const names = await engine.listCollections();
    const snap = owners.snapshot();
    const collections = names.map((name) => ({ name, tenant: snap[name]?.tenant ?? null }));
    const aliases = Object.entries(snap)
      .filter(([, e]) => e.alias_of !== undefined)
      .map(([name, e]) => ({ alias_name: name, collection_name: e.alias_of, tenant: e.tenant }));
    return ok({ collections, aliases }, req.startedAt);
  });

  app.put('/admin/collections/:collection/owner', async (req) => {
    const name = (req.params as { collection: string }).collection;
    const b = parseBody(ownerBody, req.body);
    if (
      !(await engine.collectionExists(name)) ||
      (await engine.listAliases()).some((a) => a.alias_name === name)
    ) {
      throw new SurgeError('COLLECTION_NOT_FOUND', `Collection \`${name}\` doesn't exist!`, {
        collection: name,
      });
    }
    if (b.tenant === null) owners.dropCollection(name);
    else {
      if (!rt.store.registry.get(b.tenant)) {
        throw new SurgeError('TENANT_NOT_FOUND', `no tenant ${JSON.stringify(b.tenant)}`, {
          tenant: b.tenant,
        });
      }
      owners.claim(name, b.tenant);
      // The collection's aliases follow it.
      for (const a of await engine.listAliases(name)) owners.claimAlias(a.alias_name, b.tenant, name);
    }
    rt.store.saveOwners();
    rt.epoch++;
    return ok({ name, tenant: b.tenant }, req.startedAt);
  });
}
