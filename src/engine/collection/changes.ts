/**
 * The change feed: every applied op becomes a ChangeEvent (ids, filter, count — no vectors). Events are
 * built only while someone listens, so an engine nobody watches pays one size check per write.
 */
import { keyToId } from '../point-id.js';
import type { ChangeEvent, ChangeListener, ChangeOptions, ChangePoints, PointId } from '../types.js';
import type { Op } from './ops.js';

export class ChangeHub {
  private readonly listeners = new Set<ChangeListener>();
  /** Listeners that asked for `points` (standing queries); the rest never see them. */
  private readonly withPoints = new Set<ChangeListener>();

  get active(): boolean {
    return this.listeners.size > 0 || this.withPoints.size > 0;
  }

  /** Someone wants `points`: the collection then keeps the keys an op touched. */
  get wantsPoints(): boolean {
    return this.withPoints.size > 0;
  }

  subscribe(listener: ChangeListener, options?: ChangeOptions): () => void {
    // A wrapper per subscription: the same function subscribed twice is two subscriptions.
    const entry: ChangeListener = (e) => listener(e);
    const set = options?.points ? this.withPoints : this.listeners;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  emit(event: ChangeEvent, points?: () => ChangePoints | undefined): void {
    for (const l of this.listeners) call(l, event);
    if (this.withPoints.size === 0) return;
    const p = points?.();
    const rich = p ? { ...event, points: p } : event;
    for (const l of this.withPoints) call(l, rich);
  }
}

function call(l: ChangeListener, e: ChangeEvent): void {
  try {
    l(e);
  } catch {
    // A listener's failure is its own: the write path must not notice it.
  }
}

function ids(keys: readonly string[]): PointId[] {
  const out: PointId[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = keyToId(keys[i]!);
  return out;
}

/** `touched`: points an op by filter matched when applied (live only; replayed ops do not know it). */
export function changeEvent(collection: string, seq: number, op: Op, touched?: number): ChangeEvent {
  const e: ChangeEvent = { collection, seq, op: op.type };
  switch (op.type) {
    case 'upsert':
      e.ids = ids(op.keys);
      e.count = op.keys.length;
      break;
    case 'create_index':
    case 'delete_index':
      e.field = op.field;
      break;
    default:
      if ('keys' in op.selector) {
        e.ids = ids(op.selector.keys);
        e.count = op.selector.keys.length;
      } else {
        e.filter = op.selector.filter;
        if (touched !== undefined) e.count = touched;
      }
  }
  return e;
}

/** The data of an op's points (see ChangePoints); `touched`: keys an op by selector changed when applied. */
export function changePoints(op: Op, touched?: readonly string[]): ChangePoints | undefined {
  if (op.type === 'upsert') return { vectors: op.vectors, payloads: op.payloads };
  if (touched !== undefined) return { touched: ids(touched) };
  return undefined;
}
