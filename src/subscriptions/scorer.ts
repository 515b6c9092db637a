/**
 * Where subscription matrices live and batches are scored: `LocalScorer` on the calling thread, or
 * `WorkerScorer` on a worker thread of its own so that scoring (the matcher's only heavy work) never runs on
 * the HTTP event loop. Both pass test/subscriptions/scorer.test.ts. Operations are applied in call order
 * on the scoring side, so a batch scored after `set` sees that slot, and one scored before `remove` may
 * still report it (the matcher keeps freed slots out of reuse until such batches are back).
 */
import type { Worker } from 'node:worker_threads';
import type { Distance } from '../engine/index.js';
import { siblingModule, startWorker } from '../platform/worker.js';
import { SurgeError } from '../protocol/errors.js';
import { type Candidates, ScoreMatrix } from './score-matrix.js';

export interface Scorer {
  open(space: number, distance: Distance, dim: number): void;
  set(space: number, slot: number, vector: Float32Array, bar: number | undefined): void;
  setBar(space: number, slot: number, bar: number | undefined): void;
  remove(space: number, slot: number): void;
  drop(space: number): void;
  /** Scores `n` points (n × dim floats; the array may be transferred, do not reuse it). */
  score(space: number, points: Float32Array, n: number): Promise<Candidates>;
  close(): Promise<void>;
}

export type ScorerOp =
  | { t: 'open'; space: number; distance: Distance; dim: number }
  | { t: 'set'; space: number; slot: number; vector: Float32Array; bar: number | null }
  | { t: 'bar'; space: number; slot: number; bar: number | null }
  | { t: 'remove'; space: number; slot: number }
  | { t: 'drop'; space: number }
  | { t: 'score'; id: number; space: number; points: Float32Array; n: number };

export type ScorerReply =
  | { t: 'scored'; id: number; length: number; point: Int32Array; slot: Int32Array; score: Float64Array }
  | { t: 'failed'; id: number; message: string };

/** Applies one op to `spaces`; the scoring side of both scorers. */
export function applyScorerOp(spaces: Map<number, ScoreMatrix>, op: ScorerOp): Candidates | undefined {
  switch (op.t) {
    case 'open':
      spaces.set(op.space, new ScoreMatrix(op.distance, op.dim));
      return undefined;
    case 'set':
      matrix(spaces, op.space).set(op.slot, op.vector, op.bar ?? undefined);
      return undefined;
    case 'bar':
      matrix(spaces, op.space).setBar(op.slot, op.bar ?? undefined);
      return undefined;
    case 'remove':
      matrix(spaces, op.space).remove(op.slot);
      return undefined;
    case 'drop':
      spaces.delete(op.space);
      return undefined;
    case 'score':
      return matrix(spaces, op.space).score(op.points, op.n);
  }
}

function matrix(spaces: Map<number, ScoreMatrix>, space: number): ScoreMatrix {
  const m = spaces.get(space);
  if (!m) throw new SurgeError('INTERNAL', `no subscription matrix ${space}`);
  return m;
}

export class LocalScorer implements Scorer {
  private readonly spaces = new Map<number, ScoreMatrix>();

  open(space: number, distance: Distance, dim: number): void {
    applyScorerOp(this.spaces, { t: 'open', space, distance, dim });
  }
  set(space: number, slot: number, vector: Float32Array, bar: number | undefined): void {
    applyScorerOp(this.spaces, { t: 'set', space, slot, vector, bar: bar ?? null });
  }
  setBar(space: number, slot: number, bar: number | undefined): void {
    applyScorerOp(this.spaces, { t: 'bar', space, slot, bar: bar ?? null });
  }
  remove(space: number, slot: number): void {
    applyScorerOp(this.spaces, { t: 'remove', space, slot });
  }
  drop(space: number): void {
    applyScorerOp(this.spaces, { t: 'drop', space });
  }
  async score(space: number, points: Float32Array, n: number): Promise<Candidates> {
    return applyScorerOp(this.spaces, { t: 'score', id: 0, space, points, n })!;
  }
  async close(): Promise<void> {
    this.spaces.clear();
  }
}

type Pending = { resolve: (c: Candidates) => void; reject: (e: unknown) => void };

export class WorkerScorer implements Scorer {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: SurgeError | undefined;
  /** Control ops since the last post: sent together, ahead of the next score (one message, not thousands). */
  private outbox: ScorerOp[] = [];
  private flushQueued = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: ScorerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.t === 'scored') p.resolve(m);
      else p.reject(new SurgeError('INTERNAL', `subscription scorer: ${m.message}`));
    });
    worker.on('error', (e) => this.failAll(`the subscription scorer crashed: ${e.message}`));
    worker.on('exit', () => this.failAll('the subscription scorer has stopped'));
    // The scorer must not keep a process alive that has nothing else to do.
    worker.unref();
  }

  static start(): WorkerScorer {
    return new WorkerScorer(startWorker(siblingModule(import.meta.url, 'scorer-worker')));
  }

  private post(op: ScorerOp): void {
    this.outbox.push(op);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.outbox.length === 0 || this.failure) return;
    const ops = this.outbox;
    this.outbox = [];
    const transfer = ops.flatMap((o) => (o.t === 'score' ? [o.points.buffer as ArrayBuffer] : []));
    this.worker.postMessage(ops, transfer);
  }

  open(space: number, distance: Distance, dim: number): void {
    this.post({ t: 'open', space, distance, dim });
  }
  set(space: number, slot: number, vector: Float32Array, bar: number | undefined): void {
    this.post({ t: 'set', space, slot, vector: vector.slice(), bar: bar ?? null });
  }
  setBar(space: number, slot: number, bar: number | undefined): void {
    this.post({ t: 'bar', space, slot, bar: bar ?? null });
  }
  remove(space: number, slot: number): void {
    this.post({ t: 'remove', space, slot });
  }
  drop(space: number): void {
    this.post({ t: 'drop', space });
  }

  score(space: number, points: Float32Array, n: number): Promise<Candidates> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    // A view of a larger buffer would transfer (and detach) all of it.
    const own =
      points.byteOffset === 0 && points.byteLength === points.buffer.byteLength ? points : points.slice();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ t: 'score', id, space, points: own, n });
      this.flush();
    });
  }

  private failAll(message: string): void {
    this.failure ??= new SurgeError('INTERNAL', message);
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.failure ??= new SurgeError('SHUTTING_DOWN', 'the subscription scorer is closed');
    this.failAll('the subscription scorer is closed');
    await this.worker.terminate();
  }
}
