/**
 * What the client reports as it works (`client.events`, a typed EventEmitter): one `request` per attempt
 * sent, and the decisions of its policies. `prometheus.ts` turns them into metrics on a registry you pass
 * in; anything else (logs, traces, tests) can listen the same way.
 */
import type { BreakerEvent, BreakerState } from './policy/circuit-breaker.js';

export type RequestOutcome =
  /** 2xx/3xx */
  | 'ok'
  /** The server answered an error (4xx/5xx). */
  | 'error'
  /** No answer: connection refused/reset, closed mid-answer. */
  | 'transport'
  /** The call's deadline passed or its signal fired while waiting. */
  | 'cancelled';

export interface RequestEvent {
  endpoint: string;
  method: string;
  /** The route template, e.g. `/collections/{name}/points/search`. */
  route: string;
  /** HTTP status, when there was an answer. */
  status: number | undefined;
  /** Catalogue (or client) error code, when it failed. */
  code: string | undefined;
  outcome: RequestOutcome;
  durationMs: number;
  /** 0 for the first attempt of a call. */
  attempt: number;
}

export interface RetryEvent {
  route: string;
  /** The retry about to be made (1 = first retry). */
  attempt: number;
  delayMs: number;
  /** Code of the error being retried. */
  code: string;
}

export interface BreakerChange {
  endpoint: string;
  from: BreakerState;
  to: BreakerState;
  event: BreakerEvent;
}

export type HealthChange =
  | { type: 'eject'; endpoint: string; reason: 'consecutive_failures' | 'error_rate'; forMs: number }
  | { type: 'readmit'; endpoint: string };

export interface ClientEventMap {
  request: [RequestEvent];
  retry: [RetryEvent];
  /** A retry was wanted but the retry budget had none left: the call fails with its last error. */
  retry_budget_exhausted: [{ route: string; code: string }];
  /** Adaptive throttling rejected a call locally for this endpoint (it is offered to the others next). */
  throttled: [{ route: string; endpoint: string; probability: number }];
  breaker: [BreakerChange];
  health: [HealthChange];
  cache: [{ route: string; hit: boolean }];
}
