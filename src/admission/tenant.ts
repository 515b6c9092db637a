/**
 * Tenants, tiers and priorities (docs/OPERATIONS.md, "Tenants and keys"). A request's priority comes from its
 * tenant's tier and the kind of request; the client may lower it with a header, never raise it, so a noisy
 * batch job can step aside for its own interactive traffic without being able to jump anyone else's queue.
 */

export const TIERS = ['free', 'standard', 'premium'] as const;
export type Tier = (typeof TIERS)[number];

/** Highest first: the index is the rank used everywhere (arrays per priority, comparisons). */
export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];
export type PriorityRank = 0 | 1 | 2 | 3;

/**
 * control: health, metrics, admin and (later) replication — never queued, never shed.
 * read / write: the data plane. bulk: streaming ingest — one step below the tier, it can wait.
 * meta: collection and alias management. stream: long-lived connections (WebSocket, change feed) that
 * must not hold a concurrency slot for their whole life.
 */
export type RequestClass = 'control' | 'read' | 'write' | 'bulk' | 'meta' | 'stream';

export const TIER_PRIORITY: Readonly<Record<Tier, Priority>> = {
  premium: 'high',
  standard: 'normal',
  free: 'low',
};

export function rank(p: Priority): PriorityRank {
  switch (p) {
    case 'critical':
      return 0;
    case 'high':
      return 1;
    case 'normal':
      return 2;
    case 'low':
      return 3;
  }
}

export function isPriority(s: unknown): s is Priority {
  return typeof s === 'string' && (PRIORITIES as readonly string[]).includes(s);
}

export function isTier(s: unknown): s is Tier {
  return typeof s === 'string' && (TIERS as readonly string[]).includes(s);
}

/**
 * The priority a request runs at. `requested` (the client's header) can only move it down: the result is
 * the lower of the derived and the requested priority. The operator's admin key is `critical`.
 */
export function derivePriority(tier: Tier | 'admin', cls: RequestClass, requested?: Priority): Priority {
  if (cls === 'control' || tier === 'admin') return 'critical';
  let r: number = rank(TIER_PRIORITY[tier]);
  if (cls === 'bulk') r = Math.min(r + 1, 3);
  if (requested !== undefined) r = Math.max(r, rank(requested));
  return PRIORITIES[r]!;
}

/** Requests per second and written points per second, each with a burst; absent = unlimited. */
export interface Quotas {
  reads_per_s?: number | undefined;
  reads_burst?: number | undefined;
  points_per_s?: number | undefined;
  points_burst?: number | undefined;
}

/**
 * Read access to a collection another tenant owns (Qdrant's JWT RBAC `access: [{collection, access: 'r'}]`):
 * one shared data set served to several tenants without a copy per tenant. Writes stay with the owner.
 */
export interface Grant {
  readonly collection: string;
  readonly access: 'r';
}

export interface Tenant {
  readonly id: string;
  readonly tier: Tier;
  readonly quotas: Readonly<Quotas>;
  /** Collections of other tenants this one may read (absent = none). */
  readonly access?: readonly Grant[];
}

/** Whether `t` holds a read grant on `name` (a collection or alias name, matched literally as Qdrant does). */
export function canRead(t: Tenant, name: string): boolean {
  return t.access?.some((g) => g.collection === name) ?? false;
}

/** A tenant's own quota fields win over its tier's defaults, field by field. */
export function effectiveQuotas(tenant: Quotas, tierDefaults: Quotas | undefined): Quotas {
  return {
    reads_per_s: tenant.reads_per_s ?? tierDefaults?.reads_per_s,
    reads_burst: tenant.reads_burst ?? tierDefaults?.reads_burst,
    points_per_s: tenant.points_per_s ?? tierDefaults?.points_per_s,
    points_burst: tenant.points_burst ?? tierDefaults?.points_burst,
  };
}
