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
import type { ChangeListener } from '../types.js';
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
  onChange(listener: ChangeListener): () => void {
    const entry: ChangeListener = (e) => listener(e);
    this.listeners.add(entry);
    if (this.listeners.size === 1) this.control(true);
    return () => {
      if (this.listeners.delete(entry) && this.listeners.size === 0) this.control(false);
    };
  }

  private control(forward: boolean): void {
    if (!this.exited) this.worker.postMessage({ type: 'changes', forward } satisfies ChangeControl);
  }

  private dispatch(batch: ChangeBatch): void {
    for (const e of batch.events) {
      for (const l of this.listeners) {
        try {
          l(e);
        } catch {
          // As in-process: a listener's failure is its own.
        }
      }
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
