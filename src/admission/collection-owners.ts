/**
 * Which tenant owns which collection and alias — the isolation rule: a tenant's key reaches only names its
 * tenant owns. Names stay one namespace for the whole server (as S3 bucket names are), so Qdrant clients
 * keep their collection names unchanged; a name another tenant owns looks exactly like a missing one,
 * except that creating it is refused as "exists". A name without an owner (created before tenants, or in
 * open mode) is reachable with the admin key only, until the admin assigns it.
 */

export interface OwnerEntry {
  tenant: string;
  /** Set for aliases: the collection the alias points at. */
  alias_of?: string;
}

export type OwnersSnapshot = Record<string, OwnerEntry>;

export class CollectionOwners {
  private readonly names = new Map<string, OwnerEntry>();

  static from(snapshot: OwnersSnapshot): CollectionOwners {
    const o = new CollectionOwners();
    for (const [name, e] of Object.entries(snapshot)) o.names.set(name, { ...e });
    return o;
  }

  owner(name: string): string | undefined {
    return this.names.get(name)?.tenant;
  }

  canAccess(tenant: string, name: string): boolean {
    return this.names.get(name)?.tenant === tenant;
  }

  /** A collection created by (or assigned to) `tenant`. */
  claim(name: string, tenant: string): void {
    this.names.set(name, { tenant });
  }

  /** A dropped collection: its entry and those of every alias pointing at it go (the engine drops them too). */
  dropCollection(name: string): void {
    this.names.delete(name);
    for (const [n, e] of this.names) if (e.alias_of === name) this.names.delete(n);
  }

  claimAlias(alias: string, tenant: string, collection: string): void {
    this.names.set(alias, { tenant, alias_of: collection });
  }

  deleteAlias(alias: string): void {
    if (this.names.get(alias)?.alias_of !== undefined) this.names.delete(alias);
  }

  renameAlias(from: string, to: string): void {
    const e = this.names.get(from);
    if (e?.alias_of === undefined) return;
    this.names.delete(from);
    this.names.set(to, e);
  }

  /** Names (collections and aliases) owned by `tenant`, sorted. */
  ownedBy(tenant: string): string[] {
    const out: string[] = [];
    for (const [n, e] of this.names) if (e.tenant === tenant) out.push(n);
    return out.sort();
  }

  snapshot(): OwnersSnapshot {
    const out: OwnersSnapshot = {};
    for (const [n, e] of [...this.names].sort(([a], [b]) => (a < b ? -1 : 1))) out[n] = { ...e };
    return out;
  }
}
