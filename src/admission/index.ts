/**
 * Admission control's pure policies (docs/OPERATIONS.md, "Admission control"): no timers, no I/O, no HTTP —
 * every decision takes the time as an argument, so tests drive them with a fake clock and the server owns
 * the timers (src/server/admission).
 */
export {
  type CodelOptions,
  CodelQueue,
  type DropReason,
  type QueueEvent,
  type QueueState,
  queueTransition,
} from './codel-queue.js';
export { CollectionOwners, type OwnerEntry, type OwnersSnapshot } from './collection-owners.js';
export { DrainEstimate, type DrainOptions, sustainableRate } from './drain-estimate.js';
export { EfController, type EfOptions, type EfSample } from './ef-controller.js';
export { AdmissionGate, type GateCallbacks, type Offer } from './gate.js';
export { type GcraDecision, type GcraLimit, gcra, LocalQuotaStore, type QuotaStore } from './gcra.js';
export {
  ExpAverage,
  GRADIENT_DEFAULTS,
  GradientLimit,
  type GradientOptions,
  gradientStep,
  type RttSample,
} from './gradient-limit.js';
export { IngestBudget, type IngestOptions, type IngestRefusal } from './ingest-budget.js';
export {
  initialLadder,
  LADDER_DEFAULTS,
  type LadderOptions,
  type LadderSignal,
  type LadderState,
  type Level,
  ladderStep,
  type Pressure,
  pressure,
  projectedUtilisation,
} from './ladder.js';
export { PriorityLimiter, type Shares } from './priority-limiter.js';
export { type CacheOptions, ResultCache } from './result-cache.js';
export {
  canRead,
  derivePriority,
  effectiveQuotas,
  type Grant,
  isPriority,
  isTier,
  PRIORITIES,
  type Priority,
  type PriorityRank,
  type Quotas,
  type RequestClass,
  rank,
  type Tenant,
  TIER_PRIORITY,
  TIERS,
  type Tier,
} from './tenant.js';
export {
  hashKey,
  TENANT_ID,
  type TenantRecord,
  TenantRegistry,
  type TenantSource,
} from './tenant-registry.js';
