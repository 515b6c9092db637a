/**
 * The L1 query result cache: size-bounded LRU (a Map's insertion order is the recency list) with a TTL.
 * Each entry remembers the collection's seq it was computed at; a lookup at any other seq is a miss and
 * evicts it, so a write makes every older answer for that collection unreachable at once with no scan.
 */

export interface CacheOptions {
  maxEntries: number;
  ttlMs: number;
}

interface Entry<V> {
  value: V;
  seq: number;
  expires: number;
}

export class ResultCache<V> {
  private readonly map = new Map<string, Entry<V>>();
  hits = 0;
  misses = 0;

  constructor(private readonly o: Readonly<CacheOptions>) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string, seq: number, now: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined || e.seq !== seq || e.expires <= now) {
      if (e !== undefined) this.map.delete(key);
      this.misses++;
      return undefined;
    }
    // Most recently used goes to the end of the insertion order.
    this.map.delete(key);
    this.map.set(key, e);
    this.hits++;
    return e.value;
  }

  set(key: string, value: V, seq: number, now: number): void {
    this.map.delete(key);
    this.map.set(key, { value, seq, expires: now + this.o.ttlMs });
    if (this.map.size > this.o.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  clear(): void {
    this.map.clear();
  }
}
