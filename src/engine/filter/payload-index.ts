/**
 * A payload index over one key path and one schema type, answering field conditions with the exact set of
 * slots that compileFilter would accept — or `undefined` when it cannot be exact.
 *
 * What is indexed: every value at the path, array values element by element (one level, like evaluation),
 * keeping only values of the schema's type — `keyword`: strings; `integer`: integral numbers; `float`: all
 * numbers; `bool`: booleans. Values of another type are skipped, as Qdrant does.
 *
 * Exactness, per type (anything else → undefined):
 * - keyword: match.value string, match.any of strings.
 * - integer: match.value integer, match.any of integers; range only while no slot holds a non-integral number
 *   at this path (such a number matches a range but is not in the index, so the index tracks them apart).
 * - float: match.value / match.any of integers (numbers are all indexed), range.
 * - bool: match.value boolean.
 * - `except` never: it matches values outside the index's type (and nested arrays, objects…).
 * A condition with both match and range (Qdrant ORs them) is answered when both parts are.
 *
 * Storage: value → one slot (a number) or a Set of slots, so a high-cardinality float field does not pay for a
 * Set per value. Numeric types add a sorted view for ranges (sorted-slots.ts): a snapshot plus a bounded delta,
 * so writes never trigger a full re-sort and range estimates stay O(log n + delta).
 */
import type { Payload, PayloadSchemaType, PayloadValue } from '../types.js';
import { compileAnyValue, type KeyPath, parseKeyPath } from './json-path.js';
import { put, type Slots, SortedSlots, sizeOf, take } from './sorted-slots.js';
import type { FieldCondition, Range } from './types.js';

type Scalar = string | number | boolean;

export interface PayloadIndexOptions {
  /** Writes buffered beside the sorted range view before a query merges them in (tests use tiny values). */
  rangeDeltaLimit?: number;
}

export class PayloadIndex {
  readonly key: string;
  readonly type: PayloadSchemaType;
  private readonly path: KeyPath;
  private readonly values = new Map<Scalar, Slots>();
  /** integer index only: non-integral numbers seen at the path (they make ranges inexact). */
  private readonly strays = new Map<number, Slots>();
  /** Distinct indexed values per slot. */
  private counts = new Uint32Array(1024);
  private slotsWithValues = 0;
  private multiValued = 0;
  private readonly sorted: SortedSlots | undefined;
  private readonly collect: (p: Payload) => boolean;
  private readonly buf: PayloadValue[] = [];

  constructor(key: string, type: PayloadSchemaType, options: PayloadIndexOptions = {}) {
    const path = parseKeyPath(key);
    if (!path) throw new TypeError(`invalid payload key path ${JSON.stringify(key)}`);
    this.key = key;
    this.type = type;
    this.path = path;
    if (type === 'integer' || type === 'float') {
      const values = this.values as Map<unknown, Slots> as Map<number, Slots>;
      this.sorted = new SortedSlots(() => values, options.rangeDeltaLimit);
    }
    this.collect = compileAnyValue(path, (v) => {
      this.buf.push(v);
      return false;
    });
  }

  /** Number of slots having at least one indexed value. */
  get size(): number {
    return this.slotsWithValues;
  }

  /** Canonical key path (`a[].b` and `a.b` are the same index). */
  get canonicalKey(): string {
    return this.path.canonical;
  }

  add(slot: number, payload: Payload | undefined): void {
    this.visit(payload, (x) => {
      if (this.accepts(x)) {
        if (put(this.values, x, slot)) {
          this.inc(slot);
          this.sorted?.onAdd(x as number, slot);
        }
      } else if (this.type === 'integer' && typeof x === 'number') {
        put(this.strays, x, slot);
      }
    });
  }

  /** `payload` must be the one the slot was added with. */
  remove(slot: number, payload: Payload | undefined): void {
    this.visit(payload, (x) => {
      if (this.accepts(x)) {
        if (take(this.values, x, slot)) {
          this.dec(slot);
          this.sorted?.onRemove(x as number, slot);
        }
      } else if (this.type === 'integer' && typeof x === 'number') {
        take(this.strays, x, slot);
      }
    });
  }

  /** Exactly the slots matching `cond`, each once, in no particular order; undefined when not answerable. */
  lookup(cond: FieldCondition): Uint32Array | undefined {
    const plan = this.answer(cond);
    if (!plan) return undefined;
    const { sets, range } = plan;
    const r = range ? this.sorted!.slots(range) : undefined;
    if (!r && sets.length === 1) return toArray(sets[0]);
    if (r && sets.length === 0) return this.multiValued > 0 ? dedupe(r) : r;
    let total = r ? r.length : 0;
    for (const s of sets) total += sizeOf(s);
    const out = new Uint32Array(total);
    let n = 0;
    if (r) {
      out.set(r);
      n = r.length;
    }
    for (const s of sets) {
      if (s === undefined) continue;
      if (typeof s === 'number') out[n++] = s;
      else for (const slot of s) out[n++] = slot;
    }
    // Slots repeat when one slot holds several matching values, or when match and range both cover a value.
    return this.multiValued > 0 || r ? dedupe(out) : out;
  }

  /**
   * An upper bound on the matching slots, never above `size`: exact for match.value; O(1) for match,
   * O(log n + delta) for ranges (see sorted-slots.ts).
   */
  estimate(cond: FieldCondition): number | undefined {
    const plan = this.answer(cond);
    if (!plan) return undefined;
    let n = 0;
    for (const s of plan.sets) n += sizeOf(s);
    if (plan.range) n += this.sorted!.count(plan.range);
    return Math.min(n, this.slotsWithValues);
  }

  private answer(cond: FieldCondition): { sets: (Slots | undefined)[]; range?: Range } | undefined {
    if (!cond.match && !cond.range) return undefined;
    if (parseKeyPath(cond.key)?.canonical !== this.path.canonical) return undefined;
    const sets: (Slots | undefined)[] = [];
    const m = cond.match;
    if (m) {
      if ('value' in m) {
        if (!this.accepts(m.value)) return undefined;
        sets.push(this.values.get(m.value));
      } else if ('any' in m) {
        for (const v of m.any) if (!this.accepts(v)) return undefined;
        for (const v of new Set(m.any)) sets.push(this.values.get(v));
      } else {
        return undefined;
      }
    }
    if (cond.range) {
      if (this.type === 'keyword' || this.type === 'bool') return undefined;
      if (this.type === 'integer' && this.strays.size > 0) return undefined;
      return { sets, range: cond.range };
    }
    return { sets };
  }

  /** Is `x` of the schema's type? (Then equality on it is answered exactly, since every such value is indexed.) */
  private accepts(x: PayloadValue): x is Scalar {
    switch (this.type) {
      case 'keyword':
        return typeof x === 'string';
      case 'bool':
        return typeof x === 'boolean';
      case 'integer':
        return typeof x === 'number' && Number.isInteger(x);
      case 'float':
        return typeof x === 'number';
    }
  }

  private visit(payload: Payload | undefined, fn: (x: PayloadValue) => void): void {
    if (payload === undefined) return;
    const buf = this.buf;
    buf.length = 0;
    this.collect(payload);
    for (let i = 0; i < buf.length; i++) {
      const v = buf[i]!;
      if (Array.isArray(v)) {
        for (let j = 0; j < v.length; j++) {
          const x = v[j]!;
          if (!Array.isArray(x)) fn(x);
        }
      } else {
        fn(v);
      }
    }
    buf.length = 0;
  }

  private inc(slot: number): void {
    if (slot >= this.counts.length) {
      const grown = new Uint32Array(Math.max(slot + 1, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    const c = this.counts[slot]!;
    this.counts[slot] = c + 1;
    if (c === 0) this.slotsWithValues++;
    else if (c === 1) this.multiValued++;
  }

  private dec(slot: number): void {
    const c = this.counts[slot]!;
    this.counts[slot] = c - 1;
    if (c === 1) this.slotsWithValues--;
    else if (c === 2) this.multiValued--;
  }
}

function toArray(s: Slots | undefined): Uint32Array {
  if (s === undefined) return new Uint32Array(0);
  if (typeof s === 'number') return Uint32Array.of(s);
  return Uint32Array.from(s);
}

/** Sorts and removes repeats, in place; returns the unique prefix. */
function dedupe(a: Uint32Array): Uint32Array {
  if (a.length < 2) return a;
  a.sort();
  let w = 1;
  for (let i = 1; i < a.length; i++) if (a[i] !== a[w - 1]) a[w++] = a[i]!;
  return a.subarray(0, w);
}
