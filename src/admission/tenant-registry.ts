/**
 * Tenants by id and by API key. Keys are held (and persisted) only as SHA-256 hashes, so neither the data
 * directory nor a heap dump gives them away; a hash lookup is also constant-time in the key's content, unlike
 * comparing strings. The raw keys seen recently are remembered (bounded) so the hot path hashes a key once.
 */
import { createHash } from 'node:crypto';
import { SurgeError } from '../protocol/errors.js';
import type { Tenant } from './tenant.js';

export type TenantSource = 'config' | 'api';

export interface TenantRecord extends Tenant {
  readonly keyHashes: readonly string[];
  readonly source: TenantSource;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const RECENT_KEYS = 4096;
export const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class TenantRegistry {
  private readonly byId = new Map<string, TenantRecord>();
  private readonly byHash = new Map<string, TenantRecord>();
  private readonly recent = new Map<string, TenantRecord | null>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): TenantRecord | undefined {
    return this.byId.get(id);
  }

  list(): TenantRecord[] {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Adds or replaces tenant `t.id`; a key already held by another tenant is refused. */
  put(t: TenantRecord): void {
    if (!TENANT_ID.test(t.id)) {
      throw new SurgeError('INVALID_REQUEST', `tenant id ${JSON.stringify(t.id)} must match ${TENANT_ID}`);
    }
    for (const h of t.keyHashes) {
      const holder = this.byHash.get(h);
      if (holder && holder.id !== t.id) {
        throw new SurgeError(
          'INVALID_REQUEST',
          `an API key of tenant "${t.id}" is already used by another tenant`,
        );
      }
    }
    this.remove(t.id);
    this.byId.set(t.id, t);
    for (const h of t.keyHashes) this.byHash.set(h, t);
    this.recent.clear();
  }

  remove(id: string): boolean {
    const old = this.byId.get(id);
    if (!old) return false;
    this.byId.delete(id);
    for (const h of old.keyHashes) this.byHash.delete(h);
    this.recent.clear();
    return true;
  }

  /** The tenant holding `key`, or undefined. */
  resolve(key: string): TenantRecord | undefined {
    const seen = this.recent.get(key);
    if (seen !== undefined) return seen ?? undefined;
    const t = this.byHash.get(hashKey(key));
    // Unknown keys are remembered too (as null) so a flood of one bad key costs no hashing; the map is
    // bounded, and cleared whenever tenants change.
    if (this.recent.size >= RECENT_KEYS) this.recent.clear();
    this.recent.set(key, t ?? null);
    return t;
  }
}
