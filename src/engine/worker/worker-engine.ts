/**
 * The engine API served from a worker thread. Same contract as the in-process Engine (one suite tests
 * both); values cross by structured clone (bigint ids and typed arrays included).
 */
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { Config } from '../../config/index.js';
import { siblingModule, startWorker } from '../../platform/worker.js';
import { SurgeError } from '../../protocol/errors.js';
import type { EngineApi } from '../collection/engine.js';
import type { ChangeEvent, ChangeListener, ChangeOptions } from '../types.js';
import {
  type ChangeBatch,
  type ChangeControl,
  ENGINE_METHODS,
  type EngineMethod,
  type Response,
  type Startup,
} from './protocol.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

export interface WorkerEngine extends EngineApi {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: methods are generated from ENGINE_METHODS below.
export class WorkerEngine {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private readonly listeners = new Set<ChangeListener>();
  /** Listeners that asked for `points`; the worker sends them while there is one, the others get events without. */
  private readonly withPoints = new Set<ChangeListener>();
  private forwarding: 'off' | 'plain' | 'points' = 'off';

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: Response | ChangeBatch) => {
      if ('type' in m) {
        this.dispatch(m);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(SurgeError.from(m.error));
    });
    worker.on('error', (e) =>
      this.failAll(new SurgeError('INTERNAL', `engine worker crashed: ${e.message}`)),
    );
    worker.on('exit', () => {
      this.exited = true;
      this.failAll(new SurgeError('ENGINE_CLOSED', 'the engine worker has stopped'));
    });
  }

  static async open(config: Readonly<Config>): Promise<WorkerEngine> {
    const worker = startWorker(siblingModule(import.meta.url, 'host'), { workerData: { config } });
    const [first] = (await Promise.race([
      once(worker, 'message'),
      once(worker, 'exit').then(([code]) => [
        { type: 'failed', error: { code: 'INTERNAL', message: `worker exited ${code}` } },
      ]),
    ])) as [Startup];
    if (first.type === 'failed') {
      await worker.terminate();
      throw SurgeError.from(first.error);
    }
    return new WorkerEngine(worker);
  }

  private call(method: string, args: unknown[]): Promise<unknown> {
    if (this.exited) return Promise.reject(new SurgeError('ENGINE_CLOSED', 'the engine worker has stopped'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      try {
        this.worker.postMessage({ id, method, args });
      } catch (e) {
        // Arguments structured clone cannot copy (e.g. JSON nested deep enough to overflow its stack) are the
        // caller's error, not the engine's: in-process the same request fails validation with a 400.
        reject(new SurgeError('INVALID_REQUEST', `the request cannot be passed to the engine: ${String(e)}`));
        return;
      }
      this.pending.set(id, { resolve, reject });
    });
  }

  /**
   * Local: the worker forwards events only while this set is non-empty (it is told on the first subscribe
   * and the last unsubscribe), so an unwatched engine posts nothing.
   */
  onChange(listener: ChangeListener, options?: ChangeOptions): () => void {
    const entry: ChangeListener = (e) => listener(e);
    const set = options?.points ? this.withPoints : this.listeners;
    set.add(entry);
    this.control();
    return () => {
      if (set.delete(entry)) this.control();
    };
  }

  private control(): void {
    const mode = this.withPoints.size > 0 ? 'points' : this.listeners.size > 0 ? 'plain' : ('off' as const);
    if (mode === this.forwarding) return;
    this.forwarding = mode;
    if (!this.exited) {
      this.worker.postMessage({
        type: 'changes',
        forward: mode !== 'off',
        points: mode === 'points',
      } satisfies ChangeControl);
    }
  }

  private dispatch(batch: ChangeBatch): void {
    for (const e of batch.events) {
      if (this.listeners.size > 0) {
        let plain = e;
        if (e.points !== undefined) {
          const { points: _points, ...rest } = e;
          plain = rest as ChangeEvent;
        }
        for (const l of this.listeners) call(l, plain);
      }
      for (const l of this.withPoints) call(l, e);
    }
  }

  private failAll(e: SurgeError): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async close(): Promise<void> {
    if (this.exited) return;
    await this.call('close', []);
    await this.worker.terminate();
  }
}

function call(l: ChangeListener, e: ChangeEvent): void {
  try {
    l(e);
  } catch {
    // As in-process: a listener's failure is its own.
  }
}

for (const method of ENGINE_METHODS) {
  Object.defineProperty(WorkerEngine.prototype, method, {
    value(this: WorkerEngine, ...args: unknown[]) {
      // Trailing undefined arguments are dropped so defaults apply identically on both sides.
      while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
      return (this as unknown as { call(m: EngineMethod, a: unknown[]): Promise<unknown> }).call(
        method,
        args,
      );
    },
  });
}
