/**
 * Live top-k of one subscription, as a pure structure: a reserve of the best `capacity` matching points
 * (k members plus spares), best first, ties broken by point key so every replica of the rules agrees.
 *
 * Invariant: the reserve is exactly the best |reserve| matching points of the collection. It stays so under
 * removals (the rest keep their ranks) and under insertions that rank above its worst entry; a point that
 * ranks below it cannot be placed (something unseen may lie between) and is dropped, unless the reserve is
 * `exhaustive` (it holds every matching point), in which case everything goes in. When removals leave fewer
 * than k, the caller re-queries the collection (`needsRefresh`).
 */
import type { Payload, PointId } from '../engine/index.js';
import type { Metric } from './metric.js';

export interface Member {
  key: string;
  id: PointId;
  score: number;
  version: number;
  payload?: Payload | undefined;
}

export class TopKState {
  private entries: Member[] = [];
  private readonly byKey = new Map<string, Member>();
  exhaustive = false;

  /** `track(key, held)`: told when a key enters or leaves the reserve (the matcher's key → subscriptions map). */
  constructor(
    readonly k: number,
    readonly capacity: number,
    private readonly metric: Pick<Metric, 'compare' | 'lowerIsBetter'>,
    private readonly track: (key: string, held: boolean) => void = () => {},
  ) {}

  get size(): number {
    return this.entries.length;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Replaces the whole reserve (a refresh): `members` need not be sorted. */
  reset(members: Member[], exhaustive: boolean): void {
    for (const m of this.entries) this.track(m.key, false);
    this.entries = members.slice().sort((a, b) => this.order(a, b));
    this.exhaustive = exhaustive;
    if (this.entries.length > this.capacity) {
      this.entries.length = this.capacity;
      this.exhaustive = false;
    }
    this.byKey.clear();
    for (const m of this.entries) {
      this.byKey.set(m.key, m);
      this.track(m.key, true);
    }
  }

  /** The point `key` was written: it now matches as `m`, or no longer matches (undefined). */
  upsert(key: string, m: Member | undefined): void {
    this.remove(key);
    if (m) this.offer(m);
  }

  remove(key: string): boolean {
    const m = this.byKey.get(key);
    if (!m) return false;
    this.byKey.delete(key);
    this.entries.splice(this.indexOf(m), 1);
    this.track(key, false);
    return true;
  }

  private offer(m: Member): void {
    const n = this.entries.length;
    if (!this.exhaustive && (n === 0 || this.order(m, this.entries[n - 1]!) > 0)) return;
    const at = this.insertionPoint(m);
    this.entries.splice(at, 0, m);
    this.byKey.set(m.key, m);
    this.track(m.key, true);
    if (this.entries.length > this.capacity) {
      const dropped = this.entries.pop()!;
      this.byKey.delete(dropped.key);
      this.track(dropped.key, false);
      this.exhaustive = false;
    }
  }

  /** Points must pass this (score space) to change anything; undefined = every matching point counts. */
  bar(): number | undefined {
    if (this.exhaustive || this.entries.length === 0) return undefined;
    return this.entries[this.entries.length - 1]!.score;
  }

  needsRefresh(): boolean {
    return !this.exhaustive && this.entries.length < this.k;
  }

  /** The current top-k, best first. */
  top(): Member[] {
    return this.entries.slice(0, this.k);
  }

  /** Keys of the current top-k. */
  topKeys(): Set<string> {
    const out = new Set<string>();
    const n = Math.min(this.k, this.entries.length);
    for (let i = 0; i < n; i++) out.add(this.entries[i]!.key);
    return out;
  }

  member(key: string): Member | undefined {
    return this.byKey.get(key);
  }

  /** Negative when `a` ranks before `b`. */
  order(a: Member, b: Member): number {
    const c = this.metric.compare(a.score, b.score);
    if (c !== 0) return c;
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  }

  private insertionPoint(m: Member): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order(this.entries[mid]!, m) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(m: Member): number {
    const at = this.insertionPoint(m);
    if (this.entries[at] === m) return at;
    return this.entries.indexOf(m);
  }
}
