/** Messages between the main thread (WorkerEngine) and the engine's worker thread (host.ts). */
import type { SerializedError } from '../../protocol/errors.js';
import type { EngineApi } from '../collection/engine.js';
import type { ChangeEvent } from '../types.js';

/** Methods forwarded to the worker. `onChange` is local: WorkerEngine dispatches forwarded events itself. */
export type EngineMethod = Exclude<keyof EngineApi, 'close' | 'onChange'>;

export const ENGINE_METHODS = [
  'createCollection',
  'dropCollection',
  'listCollections',
  'collectionExists',
  'collectionInfo',
  'updateAliases',
  'listAliases',
  'createPayloadIndex',
  'deletePayloadIndex',
  'upsert',
  'deletePoints',
  'setPayload',
  'overwritePayload',
  'deletePayload',
  'clearPayload',
  'retrieve',
  'scroll',
  'count',
  'search',
  'searchBatch',
  'searchEach',
  'readChanges',
  'whenIndexed',
  'setIndexingPaused',
  'snapshot',
  'stats',
] as const satisfies readonly EngineMethod[];

// Compile-time check that the list is complete: a method added to EngineApi must be listed above.
type Missing = Exclude<EngineMethod, (typeof ENGINE_METHODS)[number]>;
const _complete: Missing extends never ? true : Missing = true;
void _complete;

export type Request = { id: number; method: EngineMethod | 'close'; args: unknown[] };
/** Main → worker: forward change events (while the main thread has listeners) or stop; `points` adds their data. */
export type ChangeControl = { type: 'changes'; forward: boolean; points?: boolean };
export type Response =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: SerializedError };
/** Worker → main: the change events applied since the last message, in order. */
export type ChangeBatch = { type: 'changes'; events: ChangeEvent[] };
export type Startup = { type: 'ready' } | { type: 'failed'; error: SerializedError };
