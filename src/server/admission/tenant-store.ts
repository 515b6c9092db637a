/**
 * Tenants and collection owners on disk, in `<data_dir>/admission/`: `tenants.json` holds the tenants made
 * through /admin/tenants (keys as SHA-256 hashes only), `owners.json` which tenant owns which collection and
 * alias. Tenants from the config file are not written: the file stays their source. Each write replaces the
 * file atomically (write, fsync, rename), so a crash leaves the old or the new version, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  CollectionOwners,
  effectiveQuotas,
  type Grant,
  hashKey,
  isTier,
  type OwnersSnapshot,
  type Quotas,
  type TenantRecord,
  TenantRegistry,
} from '../../admission/index.js';
import type { Config } from '../../config/index.js';
import { SurgeError } from '../../protocol/errors.js';

interface TenantsFile {
  version: 1;
  tenants: { id: string; tier: string; quotas: Quotas; key_hashes: string[]; access?: Grant[] }[];
}

export class TenantStore {
  readonly registry = new TenantRegistry();
  readonly owners: CollectionOwners;
  private readonly dir: string;

  constructor(config: Readonly<Config>) {
    this.dir = join(config.storage.data_dir, 'admission');
    for (const t of this.readTenants()) this.registry.put(t);
    // The config file wins over an API-made tenant of the same id.
    for (const t of config.tenants) {
      this.registry.put({
        id: t.id,
        tier: t.tier,
        quotas: { ...t.quotas },
        keyHashes: t.keys.map(hashKey),
        access: t.access,
        source: 'config',
      });
    }
    this.owners = CollectionOwners.from(this.read<OwnersSnapshot>('owners.json') ?? {});
  }

  saveTenants(): void {
    const file: TenantsFile = {
      version: 1,
      tenants: this.registry
        .list()
        .filter((t) => t.source === 'api')
        .map((t) => ({
          id: t.id,
          tier: t.tier,
          quotas: t.quotas,
          key_hashes: [...t.keyHashes],
          access: [...(t.access ?? [])],
        })),
    };
    this.write('tenants.json', file);
  }

  saveOwners(): void {
    this.write('owners.json', this.owners.snapshot());
  }

  private readTenants(): TenantRecord[] {
    const f = this.read<TenantsFile>('tenants.json');
    if (!f) return [];
    return f.tenants.map((t) => {
      if (!isTier(t.tier)) {
        throw new SurgeError(
          'STORAGE_ERROR',
          `${join(this.dir, 'tenants.json')}: tenant ${t.id} has tier ${t.tier}`,
        );
      }
      return {
        id: t.id,
        tier: t.tier,
        quotas: effectiveQuotas(t.quotas, undefined),
        keyHashes: t.key_hashes,
        access: t.access ?? [],
        source: 'api' as const,
      };
    });
  }

  private read<T>(name: string): T | undefined {
    const file = join(this.dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SurgeError('STORAGE_ERROR', `cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new SurgeError('STORAGE_ERROR', `${file} is not valid JSON: ${(e as Error).message}`);
    }
  }

  private write(name: string, value: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, name);
    const tmp = `${file}.tmp`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    } catch (e) {
      throw new SurgeError('STORAGE_ERROR', `cannot write ${file}: ${(e as Error).message}`);
    }
  }
}
