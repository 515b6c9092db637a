/** Payload filters: parse (wire → Filter), compile (Filter → predicate), payload indexes and the planner. */
export { compileFilter, type FilterPredicate } from './evaluate.js';
export { canonicalKey, parseKeyPath } from './json-path.js';
export { MAX_FILTER_DEPTH, parseFilter } from './parse.js';
export { PayloadIndex, type PayloadIndexOptions } from './payload-index.js';
export { type FilterPlan, PLANNER_SAMPLE, type PlannerContext, planFilter } from './planner.js';
export type * from './types.js';
