/**
 * A call's deadline: its own timeout and the caller's AbortSignal folded into one signal, plus what is
 * left of it. The remaining time travels to the server as Qdrant's `timeout` query parameter so it can drop
 * work nobody waits for any more (surgevec accepts and, until admission control lands, ignores it).
 */
import type { Clock } from '../clock.js';
import { AbortedError, ClientDeadlineExceededError, type SurgeClientError } from '../errors.js';

/**
 * Qdrant's `timeout` is whole seconds. Rounded up: a server that gives up before the client does would
 * turn a slow success into a failure; one that gives up up to a second later only wastes that second.
 */
export function timeoutSeconds(remainingMs: number): number | undefined {
  if (!Number.isFinite(remainingMs)) return undefined;
  return Math.max(1, Math.ceil(remainingMs / 1000));
}

export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly at: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly unlink: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number | undefined,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.signal = this.controller.signal;
    this.at = timeoutMs === undefined || !Number.isFinite(timeoutMs) ? Infinity : clock.now() + timeoutMs;
    if (caller?.aborted) {
      this.controller.abort(this.error());
    } else if (caller) {
      const onAbort = () => this.controller.abort(this.error());
      caller.addEventListener('abort', onAbort, { once: true });
      this.unlink = () => caller.removeEventListener('abort', onAbort);
    }
    if (Number.isFinite(this.at) && !this.signal.aborted) {
      this.timer = setTimeout(() => this.controller.abort(this.error()), Math.max(0, timeoutMs!));
      this.timer.unref?.();
    }
  }

  remainingMs(): number {
    return this.at - this.clock.now();
  }

  /** The `timeout` query parameter for the remaining time (undefined: no deadline). */
  timeoutParam(): number | undefined {
    return timeoutSeconds(this.remainingMs());
  }

  /** Why the signal fired (or would): the caller's abort, or the deadline. */
  error(): SurgeClientError {
    if (this.caller?.aborted) return new AbortedError('the call was aborted by its signal');
    return new ClientDeadlineExceededError(`no answer within the call's deadline of ${this.timeoutMs} ms`);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.unlink?.();
  }
}

/** Waits `ms`, or rejects with the signal's reason when it fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
