/**
 * The engine's public API: everything outside src/engine imports from here only (enforced by
 * .dependency-cruiser.cjs). The engine knows nothing about HTTP.
 */
export type { CollectionStats, UpsertBatch } from './collection/collection.js';
export { Engine, type EngineApi, type SearchOutcome, validateName } from './collection/engine.js';
// Standing queries (src/subscriptions) check vectors and evaluate filters exactly as the engine does.
export { selectPayload } from './collection/payload.js';
export { toVector } from './collection/vectors.js';
export { compileFilter, type FilterPredicate, parseFilter } from './filter/index.js';
export { compareKeys, keyToId, pointKey } from './point-id.js';
export type * from './types.js';
export { WorkerEngine } from './worker/worker-engine.js';
