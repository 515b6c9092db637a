/**
 * Worker-thread entry: owns the Engine (hnswlib calls are synchronous, WAL fsyncs wait on libuv) so the
 * HTTP thread never runs a search, an index build or a snapshot.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../../config/index.js';
import { SurgeError } from '../../protocol/errors.js';
import { Engine } from '../collection/engine.js';
import type { ChangeEvent } from '../types.js';
import {
  type ChangeBatch,
  type ChangeControl,
  ENGINE_METHODS,
  type Request,
  type Response,
  type Startup,
} from './protocol.js';

const port = parentPort!;
const allowed = new Set<string>(ENGINE_METHODS);

function serialize(e: unknown) {
  return e instanceof SurgeError
    ? e.toJSON()
    : new SurgeError('INTERNAL', e instanceof Error ? e.message : String(e)).toJSON();
}

async function main(): Promise<void> {
  // On Linux, setpriority(0) renices only the calling thread: the engine yields a core to the HTTP thread
  // when both want one (measured in test/engine/event-loop.test.ts). Best effort elsewhere.
  try {
    setPriority(0, 5);
  } catch {}
  let engine: Engine;
  try {
    engine = await Engine.open(workerData.config as Config);
  } catch (e) {
    port.postMessage({ type: 'failed', error: serialize(e) } satisfies Startup);
    return;
  }
  // Events of one drain (often many) travel in one message. The flush is a microtask queued while the
  // write is applied, so it is posted before the write's own response: on the main thread too, a write's
  // event is dispatched before the write settles.
  let unsubscribe: (() => void) | undefined;
  let withPoints = false;
  let outbox: ChangeEvent[] = [];
  const flush = () => {
    const events = outbox;
    outbox = [];
    port.postMessage({ type: 'changes', events } satisfies ChangeBatch);
  };
  const forward = (on: boolean, points: boolean) => {
    if (unsubscribe && (!on || points !== withPoints)) {
      unsubscribe();
      unsubscribe = undefined;
    }
    if (on && !unsubscribe) {
      withPoints = points;
      unsubscribe = engine.onChange(
        (e) => {
          if (outbox.push(e) === 1) queueMicrotask(flush);
        },
        { points },
      );
    }
  };
  port.on('message', async (req: Request | ChangeControl) => {
    if ('type' in req) {
      forward(req.forward, req.points === true);
      return;
    }
    let res: Response;
    try {
      if (req.method === 'close') {
        await engine.close();
        res = { id: req.id, ok: true, value: undefined };
      } else {
        if (!allowed.has(req.method)) throw new SurgeError('INTERNAL', `unknown engine method ${req.method}`);
        const fn = engine[req.method] as (...a: unknown[]) => Promise<unknown>;
        res = { id: req.id, ok: true, value: await fn.apply(engine, req.args) };
      }
    } catch (e) {
      res = { id: req.id, ok: false, error: serialize(e) };
    }
    port.postMessage(res);
  });
  port.postMessage({ type: 'ready' } satisfies Startup);
}

void main();
