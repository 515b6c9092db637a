/**
 * The tenant a request acts for. Admission control (src/server/admission) authenticates the key and sets
 * `req.adm.principal`; a tenant key acts for its tenant, everything else (open mode, the admin key, no
 * admission at all) for the default tenant.
 */
import type { FastifyRequest } from 'fastify';
import { DEFAULT_TENANT } from '../../../subscriptions/index.js';

interface MaybeAdmitted {
  adm?: { principal?: { kind: string; tenant?: { id?: unknown } } } | null;
}

export function requestTenant(req: FastifyRequest): string {
  const p = (req as unknown as MaybeAdmitted).adm?.principal;
  if (p?.kind === 'tenant' && typeof p.tenant?.id === 'string') return p.tenant.id;
  return DEFAULT_TENANT;
}
