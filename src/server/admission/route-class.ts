/**
 * What admission does with each route, decided once per route when it is registered (onRoute) and read
 * from the route's config on every request — no per-request lookup. Routes registered by other modules
 * later (subscriptions, …) that this table does not know are treated as `meta`: authenticated, isolated
 * by their `:name`, never holding a concurrency slot (they may be long-lived).
 */
import type { RequestClass } from '../../admission/index.js';

export type SearchShape = 'single' | 'batch' | null;

export interface RouteAdmission {
  cls: RequestClass;
  /** The /admin API: admin key only. */
  admin: boolean;
  /** The route's `:name` is a collection (or alias) whose owner must be the caller's tenant. */
  collection: boolean;
  /** Where search params live in the body, for the effective ef: one search, or `searches[]`. */
  search: SearchShape;
  /** Answers may come from the result cache (single searches with a vector). */
  cacheable: boolean;
  /** Reads only: a tenant with a read grant on the collection may call it (search, get, scroll, count, info). */
  readOnly: boolean;
  /** Bookkeeping of names after a successful call. */
  ownership: 'create' | 'drop' | 'aliases' | 'list' | 'list_aliases' | 'exists' | null;
}

const P = '/collections/:name';

const TABLE: Record<string, Partial<RouteAdmission> & { cls: RequestClass }> = {
  'GET /': { cls: 'control' },
  'GET /healthz': { cls: 'control' },
  'GET /livez': { cls: 'control' },
  'GET /readyz': { cls: 'control' },
  'GET /metrics': { cls: 'control' },
  [`POST ${P}/points/search`]: { cls: 'read', search: 'single', cacheable: true },
  [`POST ${P}/points/query`]: { cls: 'read', search: 'single', cacheable: true },
  [`POST ${P}/points/search/batch`]: { cls: 'read', search: 'batch' },
  [`POST ${P}/points/query/batch`]: { cls: 'read', search: 'batch' },
  [`POST ${P}/points`]: { cls: 'read' },
  [`GET ${P}/points/:id`]: { cls: 'read' },
  [`POST ${P}/points/scroll`]: { cls: 'read' },
  [`POST ${P}/points/count`]: { cls: 'read' },
  [`PUT ${P}/points`]: { cls: 'write' },
  [`POST ${P}/points/delete`]: { cls: 'write' },
  [`POST ${P}/points/payload`]: { cls: 'write' },
  [`PUT ${P}/points/payload`]: { cls: 'write' },
  [`POST ${P}/points/payload/delete`]: { cls: 'write' },
  [`POST ${P}/points/payload/clear`]: { cls: 'write' },
  [`PUT ${P}/index`]: { cls: 'write' },
  [`DELETE ${P}/index/:field`]: { cls: 'write' },
  [`POST ${P}/points/stream`]: { cls: 'bulk' },
  [`GET ${P}/ws`]: { cls: 'stream' },
  [`GET ${P}/changes`]: { cls: 'stream' },
  'GET /collections': { cls: 'meta', ownership: 'list' },
  'GET /aliases': { cls: 'meta', ownership: 'list_aliases' },
  'POST /collections/aliases': { cls: 'meta', ownership: 'aliases' },
  [`PUT ${P}`]: { cls: 'meta', ownership: 'create' },
  [`DELETE ${P}`]: { cls: 'meta', ownership: 'drop' },
  [`GET ${P}/exists`]: { cls: 'meta', ownership: 'exists' },
};

export function classifyRoute(method: string, url: string): RouteAdmission {
  // Fastify adds a HEAD route beside each GET: it is admitted like its GET.
  const known = TABLE[`${method === 'HEAD' ? 'GET' : method} ${url}`];
  const admin = url === '/admin' || url.startsWith('/admin/');
  const get = method === 'GET' || method === 'HEAD';
  return {
    cls: admin ? 'control' : (known?.cls ?? 'meta'),
    admin,
    collection: !admin && url.includes('/:name'),
    search: known?.search ?? null,
    cacheable: known?.cacheable ?? false,
    readOnly: !admin && (known?.cls === 'read' || (get && (url === P || url === `${P}/exists`))),
    ownership: known?.ownership ?? null,
  };
}
