/**
 * `/admin/tenants`: create, read, update and delete tenants. Keys are stored only as hashes, so a key is
 * shown once — in the answer that generated it. Tenants from the config file are listed but not changed
 * here (the file is their source and would undo the change at the next start).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashKey, type TenantRecord, TIERS } from '../../../admission/index.js';
import { SurgeError } from '../../../protocol/errors.js';
import { parseBody } from '../../../protocol/qdrant.js';
import type { AdmissionRuntime } from '../../admission/runtime.js';
import { ok } from '../../envelope.js';

const quotas = z.strictObject({
  reads_per_s: z.number().positive().optional(),
  reads_burst: z.number().positive().optional(),
  points_per_s: z.number().positive().optional(),
  points_burst: z.number().positive().optional(),
});
const keys = z.array(z.string().min(16)).max(16);
// Qdrant's JWT access claim, read-only: `rw` is what owning a collection gives.
const access = z.array(z.strictObject({ collection: z.string().min(1), access: z.literal('r') })).max(1024);

const createBody = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  tier: z.enum(TIERS),
  keys: keys.optional(),
  quotas: quotas.optional(),
  access: access.optional(),
});

const patchBody = z.strictObject({
  tier: z.enum(TIERS).optional(),
  quotas: quotas.optional(),
  // Replaces every key of the tenant (rotation); `new_key: true` adds a generated one.
  keys: keys.optional(),
  new_key: z.boolean().optional(),
  // Replaces the tenant's read grants.
  access: access.optional(),
});

export function generateKey(): string {
  return `sv_${randomBytes(32).toString('base64url')}`;
}

function view(rt: AdmissionRuntime, t: TenantRecord) {
  const plan = rt.quotaPlan(t);
  return {
    id: t.id,
    tier: t.tier,
    source: t.source,
    keys: t.keyHashes.length,
    quotas: t.quotas,
    effective_quotas: {
      reads_per_s: plan.reads?.ratePerSec ?? null,
      reads_burst: plan.reads?.burst ?? null,
      points_per_s: plan.points?.ratePerSec ?? null,
      points_burst: plan.points?.burst ?? null,
    },
    collections: rt.store.owners.ownedBy(t.id),
    access: t.access ?? [],
  };
}

export async function tenantRoutes(app: FastifyInstance): Promise<void> {
  const rt = app.admission!;
  const registry = rt.store.registry;

  const find = (req: FastifyRequest): TenantRecord => {
    const id = (req.params as { id: string }).id;
    const t = registry.get(id);
    if (!t) throw new SurgeError('TENANT_NOT_FOUND', `no tenant ${JSON.stringify(id)}`, { tenant: id });
    return t;
  };
  const writable = (t: TenantRecord): void => {
    if (t.source === 'config') {
      throw new SurgeError('FORBIDDEN', `tenant ${t.id} is defined in the config file: change it there`, {
        tenant: t.id,
      });
    }
  };

  app.get('/admin/tenants', async (req) =>
    ok({ tenants: registry.list().map((t) => view(rt, t)) }, req.startedAt),
  );

  app.post('/admin/tenants', async (req) => {
    const b = parseBody(createBody, req.body);
    if (registry.get(b.id)) throw new SurgeError('TENANT_EXISTS', `tenant ${b.id} exists`, { tenant: b.id });
    const generated = b.keys === undefined ? [generateKey()] : [];
    const t: TenantRecord = {
      id: b.id,
      tier: b.tier,
      quotas: b.quotas ?? {},
      keyHashes: [...(b.keys ?? []), ...generated].map(hashKey),
      access: b.access ?? [],
      source: 'api',
    };
    registry.put(t);
    rt.store.saveTenants();
    return ok({ ...view(rt, t), api_keys: generated }, req.startedAt);
  });

  app.get('/admin/tenants/:id', async (req) => ok(view(rt, find(req)), req.startedAt));

  app.patch('/admin/tenants/:id', async (req) => {
    const old = find(req);
    writable(old);
    const b = parseBody(patchBody, req.body);
    const generated = b.new_key ? [generateKey()] : [];
    const t: TenantRecord = {
      id: old.id,
      tier: b.tier ?? old.tier,
      quotas: b.quotas ?? old.quotas,
      keyHashes: [...(b.keys ? b.keys.map(hashKey) : old.keyHashes), ...generated.map(hashKey)],
      access: b.access ?? old.access ?? [],
      source: 'api',
    };
    registry.put(t);
    rt.store.saveTenants();
    return ok({ ...view(rt, t), api_keys: generated }, req.startedAt);
  });

  app.delete('/admin/tenants/:id', async (req) => {
    const t = find(req);
    writable(t);
    registry.remove(t.id);
    rt.store.saveTenants();
    // Its collections stay, owned by nobody: reachable with the admin key until assigned again.
    return ok({ deleted: t.id, orphaned_collections: rt.store.owners.ownedBy(t.id) }, req.startedAt);
  });
}
