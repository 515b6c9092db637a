/**
 * Who is calling: read from Qdrant's `api-key` header or `Authorization: Bearer <key>`. The admin key is
 * compared in constant time; tenant keys are looked up by hash (TenantRegistry).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { TenantRecord, Tier } from '../../admission/index.js';

export type Principal =
  | { kind: 'open'; tier: Tier }
  | { kind: 'admin' }
  | { kind: 'tenant'; tenant: TenantRecord }
  | { kind: 'anonymous' };

export function requestKey(headers: IncomingHttpHeaders): string | undefined {
  const k = headers['api-key'];
  if (typeof k === 'string' && k.length > 0) return k;
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') {
    return auth.slice(7).trim() || undefined;
  }
  return undefined;
}

export class AdminKey {
  private readonly key: Buffer | undefined;

  constructor(key: string | undefined) {
    this.key = key === undefined ? undefined : Buffer.from(key);
  }

  get configured(): boolean {
    return this.key !== undefined;
  }

  matches(candidate: string): boolean {
    if (this.key === undefined) return false;
    const c = Buffer.from(candidate);
    return c.length === this.key.length && timingSafeEqual(c, this.key);
  }
}
