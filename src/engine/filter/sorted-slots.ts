/**
 * The sorted side of a numeric payload index: (value, slot) pairs ordered by value, for range lookups and
 * O(log n) range counts.
 *
 * Writes must not cost a re-sort (an O(n log n) rebuild took 131 ms at 1M distinct floats, and under streaming
 * ingest every range query would pay it). So the sorted arrays are a snapshot, and writes since the snapshot
 * live in two small maps — pairs added, and snapshot pairs removed. Queries read snapshot ∪ added ∖ removed.
 * Once the delta exceeds `deltaLimit` pairs the next query merges it in, linearly (old order + a sort of the
 * delta only), so a write costs O(1) plus an amortised O(n / deltaLimit).
 */
import type { Range } from './types.js';

/** One slot inline, or a Set: a high-cardinality field must not pay for a Set per value. */
export type Slots = number | Set<number>;

export function put<K>(map: Map<K, Slots>, k: K, slot: number): boolean {
  const cur = map.get(k);
  if (cur === undefined) {
    map.set(k, slot);
    return true;
  }
  if (typeof cur === 'number') {
    if (cur === slot) return false;
    map.set(k, new Set([cur, slot]));
    return true;
  }
  if (cur.has(slot)) return false;
  cur.add(slot);
  return true;
}

export function take<K>(map: Map<K, Slots>, k: K, slot: number): boolean {
  const cur = map.get(k);
  if (cur === undefined) return false;
  if (typeof cur === 'number') {
    if (cur !== slot) return false;
    map.delete(k);
    return true;
  }
  if (!cur.delete(slot)) return false;
  if (cur.size === 1) map.set(k, cur.values().next().value as number);
  return true;
}

export function sizeOf(s: Slots | undefined): number {
  return s === undefined ? 0 : typeof s === 'number' ? 1 : s.size;
}

function has(s: Slots | undefined, slot: number): boolean {
  return s !== undefined && (typeof s === 'number' ? s === slot : s.has(slot));
}

interface Snapshot {
  /** Distinct values, ascending. */
  keys: Float64Array;
  /** cum[i]..cum[i+1] indexes the slots of keys[i]. */
  cum: Uint32Array;
  slots: Uint32Array;
}

export class SortedSlots {
  private snap: Snapshot | undefined;
  private readonly added = new Map<number, Slots>();
  private readonly removed = new Map<number, Slots>();
  private delta = 0;

  /** `current` enumerates the index's live pairs; it is read only to build the first snapshot. */
  constructor(
    private readonly current: () => Iterable<[number, Slots]>,
    private readonly deltaLimit = 8192,
  ) {}

  /** The pair (v, slot) became present in the index. */
  onAdd(v: number, slot: number): void {
    if (!this.snap) return;
    if (take(this.removed, v, slot)) this.delta--;
    else if (put(this.added, v, slot)) this.delta++;
  }

  /** The pair (v, slot) left the index. */
  onRemove(v: number, slot: number): void {
    if (!this.snap) return;
    if (take(this.added, v, slot)) this.delta--;
    else if (put(this.removed, v, slot)) this.delta++;
  }

  /** Pairs within `r`, counting a slot once per matching value: an upper bound on matching slots. */
  count(r: Range): number {
    const s = this.snapshot();
    const [lo, hi] = bounds(s.keys, r);
    let n = hi > lo ? s.cum[hi]! - s.cum[lo]! : 0;
    if (this.added.size > 0) {
      const test = inRange(r);
      for (const [v, slots] of this.added) if (test(v)) n += sizeOf(slots);
    }
    return n;
  }

  /** Slots of the pairs within `r` (a slot repeats when several of its values match). */
  slots(r: Range): Uint32Array {
    const s = this.snapshot();
    const [lo, hi] = bounds(s.keys, r);
    const base = hi > lo ? s.cum[hi]! - s.cum[lo]! : 0;
    const test = inRange(r);
    let extra = 0;
    if (this.added.size > 0) for (const [v, slots] of this.added) if (test(v)) extra += sizeOf(slots);
    const out = new Uint32Array(base + extra);
    let n = 0;
    if (base > 0) {
      if (this.removed.size === 0) {
        out.set(s.slots.subarray(s.cum[lo]!, s.cum[hi]!));
        n = base;
      } else {
        for (let i = lo; i < hi; i++) {
          const gone = this.removed.get(s.keys[i]!);
          for (let j = s.cum[i]!; j < s.cum[i + 1]!; j++) {
            const slot = s.slots[j]!;
            if (!has(gone, slot)) out[n++] = slot;
          }
        }
      }
    }
    if (extra > 0) {
      for (const [v, slots] of this.added) {
        if (!test(v)) continue;
        if (typeof slots === 'number') out[n++] = slots;
        else for (const slot of slots) out[n++] = slot;
      }
    }
    return n === out.length ? out : out.subarray(0, n);
  }

  private snapshot(): Snapshot {
    if (!this.snap) this.snap = build(this.current());
    else if (this.delta > this.deltaLimit) this.merge();
    return this.snap;
  }

  /** New snapshot = old order minus removed, merged with the (sorted) added values. O(n + d log d). */
  private merge(): void {
    const old = this.snap!;
    const addKeys = Float64Array.from(this.added.keys()).sort();
    // Removed values are snapshot values: walk them in order beside the merge instead of a lookup per key.
    const goneKeys = Float64Array.from(this.removed.keys()).sort();
    let g = 0;
    let addPairs = 0;
    for (const s of this.added.values()) addPairs += sizeOf(s);
    let removedPairs = 0;
    for (const s of this.removed.values()) removedPairs += sizeOf(s);
    const keys = new Float64Array(old.keys.length + addKeys.length);
    const cum = new Uint32Array(keys.length + 1);
    const slots = new Uint32Array(old.slots.length - removedPairs + addPairs);
    let i = 0;
    let j = 0;
    let d = 0;
    let n = 0;
    while (i < old.keys.length || j < addKeys.length) {
      const ko = i < old.keys.length ? old.keys[i]! : Number.POSITIVE_INFINITY;
      const ka = j < addKeys.length ? addKeys[j]! : Number.POSITIVE_INFINITY;
      const k = Math.min(ko, ka);
      const start = n;
      if (ko === k) {
        let gone: Slots | undefined;
        if (g < goneKeys.length && goneKeys[g] === k) gone = this.removed.get(goneKeys[g++]!);
        for (let p = old.cum[i]!; p < old.cum[i + 1]!; p++) {
          const slot = old.slots[p]!;
          if (!has(gone, slot)) slots[n++] = slot;
        }
        i++;
      }
      if (ka === k) {
        const s = this.added.get(k)!;
        if (typeof s === 'number') slots[n++] = s;
        else for (const slot of s) slots[n++] = slot;
        j++;
      }
      if (n > start) {
        keys[d++] = k;
        cum[d] = n;
      }
    }
    this.snap = { keys: keys.slice(0, d), cum: cum.slice(0, d + 1), slots };
    this.added.clear();
    this.removed.clear();
    this.delta = 0;
  }
}

function build(current: Iterable<[number, Slots]>): Snapshot {
  const map = current instanceof Map ? (current as Map<number, Slots>) : new Map(current);
  // Typed-array sort of the distinct values beats sorting [value, slots] tuples with a comparator (~2×).
  const keys = Float64Array.from(map.keys()).sort();
  const cum = new Uint32Array(keys.length + 1);
  let total = 0;
  for (const s of map.values()) total += sizeOf(s);
  const slots = new Uint32Array(total);
  let n = 0;
  for (let i = 0; i < keys.length; i++) {
    const s = map.get(keys[i]!)!;
    if (typeof s === 'number') slots[n++] = s;
    else for (const slot of s) slots[n++] = slot;
    cum[i + 1] = n;
  }
  return { keys, cum, slots };
}

function inRange(r: Range): (v: number) => boolean {
  const gt = r.gt ?? Number.NEGATIVE_INFINITY;
  const gte = r.gte ?? Number.NEGATIVE_INFINITY;
  const lt = r.lt ?? Number.POSITIVE_INFINITY;
  const lte = r.lte ?? Number.POSITIVE_INFINITY;
  return (v) => v > gt && v >= gte && v < lt && v <= lte;
}

/** [lo, hi) over sorted distinct keys for every bound of `r` (Qdrant applies all four when given). */
function bounds(keys: Float64Array, r: Range): [number, number] {
  let lo = 0;
  let hi = keys.length;
  if (r.gt !== undefined && r.gt !== null) lo = Math.max(lo, upperBound(keys, r.gt));
  if (r.gte !== undefined && r.gte !== null) lo = Math.max(lo, lowerBound(keys, r.gte));
  if (r.lt !== undefined && r.lt !== null) hi = Math.min(hi, lowerBound(keys, r.lt));
  if (r.lte !== undefined && r.lte !== null) hi = Math.min(hi, upperBound(keys, r.lte));
  return [lo, hi];
}

/** First index whose key is >= x. */
function lowerBound(keys: Float64Array, x: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose key is > x. */
function upperBound(keys: Float64Array, x: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
