/**
 * The opt-in query cache: LRU with a TTL, bounded by entries and bytes, keyed by the request (method, path,
 * query, body). It holds answer *text* and parses it again on a hit, so a caller mutating a result cannot
 * corrupt the cache.
 *
 * Invalidation follows the collection's sequence number. The cache keeps the highest seq it has seen per
 * collection — from the client's own writes (`operation_id`), `GET /collections/{name}` (`seq`) and,
 * when followed, the change feed — and a generation that moves whenever that seq rises. An entry is served
 * only while its collection's generation is the one it was stored under, so a write moves past every answer
 * read before it. A read that was in flight while the seq moved is not stored at all (it may predate the
 * write). Writes by others that the client does not see are bounded by the TTL.
 */
import type { Clock } from '../clock.js';

export interface QueryCacheOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

export const defaultQueryCache: QueryCacheOptions = { maxEntries: 1000, maxBytes: 32 << 20, ttlMs: 30_000 };

interface Entry {
  collection: string;
  generation: number;
  expires: number;
  text: string;
}

interface CollectionState {
  seq: number;
  generation: number;
  keys: Set<string>;
}

export class QueryCache {
  /** A Map iterates in insertion order: re-inserting on a hit makes the first key the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private readonly collections = new Map<string, CollectionState>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly options: QueryCacheOptions,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  private state(collection: string): CollectionState {
    let s = this.collections.get(collection);
    if (!s) {
      s = { seq: -1, generation: 0, keys: new Set() };
      this.collections.set(collection, s);
    }
    return s;
  }

  /** The generation a read starts under; pass it to `set` when the answer arrives. */
  begin(collection: string): number {
    return this.state(collection).generation;
  }

  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    if (e.expires <= this.clock.now() || e.generation !== this.state(e.collection).generation) {
      this.delete(key, e);
      this.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits++;
    return e.text;
  }

  set(collection: string, key: string, text: string, generation: number): void {
    const s = this.state(collection);
    if (generation !== s.generation) return;
    const size = entryBytes(key, text);
    if (size > this.options.maxBytes) return;
    const old = this.entries.get(key);
    if (old) this.delete(key, old);
    this.entries.set(key, { collection, generation, expires: this.clock.now() + this.options.ttlMs, text });
    s.keys.add(key);
    this.bytes += size;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break;
      this.delete(k, e);
    }
  }

  /** The highest seq seen for `collection`. */
  seq(collection: string): number {
    return this.state(collection).seq;
  }

  /** A seq seen for `collection`: when it is news, every entry of the collection is stale. */
  observeSeq(collection: string, seq: number): void {
    const s = this.state(collection);
    if (seq <= s.seq) return;
    s.seq = seq;
    this.invalidate(collection);
  }

  /** Drops every entry of `collection` (and everything in flight for it). */
  invalidate(collection: string): void {
    const s = this.state(collection);
    s.generation++;
    for (const k of s.keys) {
      const e = this.entries.get(k);
      if (e) this.delete(k, e);
    }
    s.keys.clear();
  }

  /** The collection was dropped or created: its seqs start again, so the old high-water mark must go too. */
  forget(collection: string): void {
    this.invalidate(collection);
    this.state(collection).seq = -1;
  }

  clear(): void {
    for (const c of this.collections.keys()) this.invalidate(c);
  }

  private delete(key: string, e: Entry): void {
    this.entries.delete(key);
    this.collections.get(e.collection)?.keys.delete(key);
    this.bytes -= entryBytes(key, e.text);
  }
}

/** UTF-16 code units × 2: what the strings cost in the heap, near enough. */
function entryBytes(key: string, text: string): number {
  return (key.length + text.length) * 2;
}
