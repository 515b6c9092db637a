/**
 * One subscription delivered to one client (an SSE response, or a WebSocket shared with others): catch up
 * from where the client stands, then follow the live events, never blocking the matcher.
 *
 * States: `catching_up` (threshold mode: re-matching the WAL from the client's seq; top-k: replaying the
 * history or sending a `reset` with the current top-k) → `live` → `closed`. Live events that the transport
 * cannot take yet wait in a bounded queue; when it overflows the client gets `lagged` and the delivery goes
 * back to catching up, paced by the transport, from the last seq it sent. Each `lagged` is a strike; more
 * than `max_lags` strikes before the client has fully caught up, or a transport that takes nothing for
 * `stall_timeout_ms`, close the delivery with reason `too_slow`.
 * A slow client costs only its own queue: the matcher and the other deliveries never wait for it.
 */
import type { EngineApi } from '../engine/index.js';
import type { CollectionMatcher } from './matcher.js';
import type { SubscriptionObserver, Transport } from './observer.js';
import { type LiveSubscription, matched, type Tap, TopKSubscription } from './subscription.js';
import type { CloseReason, OutgoingEvent, ResetReason, SeqEvent } from './types.js';

/** Where a delivery writes: SSE text on a response, or frames on a shared WebSocket. */
export interface Sink {
  /** Sends one event; false when the transport is full (the event is taken; wait for `onDrain`). */
  send(e: OutgoingEvent): boolean;
  /** Calls `cb` once, when the transport can take more (or is closed). */
  onDrain(cb: () => void): void;
  /** This delivery is over (its `closed` event, if any, was sent). */
  end(): void;
  readonly closed: boolean;
  /** For metrics. */
  readonly transport: Transport;
}

export interface DeliveryOptions {
  engine: EngineApi;
  matcher: CollectionMatcher;
  maxBuffer: number;
  maxLags: number;
  /** A transport that takes nothing for this long is closed (0: never). */
  stallMs: number;
  observer: SubscriptionObserver;
  onClosed: (d: Delivery) => void;
}

type State = 'catching_up' | 'live' | 'closed';

const PAGE = 1000;

export class Delivery implements Tap {
  private state: State = 'catching_up';
  private queue: SeqEvent[] = [];
  private head = 0;
  /** Every event with seq <= cursor was sent or did not concern this subscription. */
  private cursor = 0;
  /** Seq of the last event actually sent (what the client has). */
  sentSeq = 0;
  private isBlocked = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private strikes = 0;
  /** Live events with seq > coverFrom reach the queue; catching up must get at least that far. */
  private coverFrom = 0;

  constructor(
    readonly sub: LiveSubscription,
    private readonly sink: Sink,
    private readonly o: DeliveryOptions,
  ) {}

  get closed(): boolean {
    return this.state === 'closed';
  }

  get transport(): Transport {
    return this.sink.transport;
  }

  /** `after`: the client's position (Last-Event-ID); undefined: from the subscription's start. */
  start(after: number | undefined): void {
    this.sub.taps.add(this);
    const sub = this.sub;
    if (sub instanceof TopKSubscription) {
      sub.ready.then(
        () => {
          if (!this.closed) this.catchUpTopK(after);
        },
        () => this.close('deleted'),
      );
      return;
    }
    this.cursor = after ?? sub.spec.seq;
    this.sentSeq = this.cursor;
    this.coverFrom = Math.max(this.o.matcher.processedSeq, sub.liveFrom - 1);
    if (this.cursor >= this.coverFrom) this.goLive();
    else void this.catchUpWal();
  }

  /** Live events of the subscription, from the matcher. */
  push(e: SeqEvent): void {
    if (this.state === 'closed' || e.seq <= this.cursor) return;
    if (this.state === 'live' && !this.blocked && this.head === this.queue.length) {
      this.deliver(e);
      return;
    }
    this.queue.push(e);
    if (this.queue.length - this.head > this.o.maxBuffer) this.overflow();
  }

  gap(fromSeq: number, oldestSeq: number): void {
    if (this.state !== 'live' || this.cursor >= oldestSeq - 1) return;
    this.resetThreshold(Math.max(fromSeq, this.cursor + 1), oldestSeq);
  }

  private goLive(): void {
    this.state = 'live';
    this.flush();
  }

  private deliver(e: SeqEvent): boolean {
    this.cursor = e.seq;
    this.sentSeq = e.seq;
    const ok = this.sink.send(e);
    const { observer, matcher } = this.o;
    observer.delivered(this.sink.transport);
    const at = matcher.receivedAt(e.seq);
    if (at !== undefined) observer.deliveryLatency(this.sink.transport, (performance.now() - at) / 1000);
    if (ok) return true;
    this.waitDrain();
    return false;
  }

  private waitDrain(): void {
    if (this.blocked) return;
    this.blocked = true;
    this.sink.onDrain(() => {
      this.blocked = false;
      if (this.state === 'live') this.flush();
    });
  }

  /** Marks the transport full; a client that reads nothing for `stallMs` is closed (`too_slow`). */
  private set blocked(on: boolean) {
    this.isBlocked = on;
    if (on && this.stallTimer === undefined && this.o.stallMs > 0) {
      this.stallTimer = setTimeout(() => {
        this.stallTimer = undefined;
        if (this.isBlocked) this.close('too_slow');
      }, this.o.stallMs);
      this.stallTimer.unref();
    } else if (!on && this.stallTimer !== undefined) {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    }
  }

  private get blocked(): boolean {
    return this.isBlocked;
  }

  private flush(): void {
    while (this.state === 'live' && !this.blocked && this.head < this.queue.length) {
      const e = this.queue[this.head++]!;
      if (e.seq > this.cursor) this.deliver(e);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      // Caught up completely: past strikes are forgiven.
      if (this.state === 'live' && !this.blocked) this.strikes = 0;
    }
  }

  private overflow(): void {
    const dropped = this.queue.length - this.head;
    this.queue = [];
    this.head = 0;
    if (this.state === 'catching_up') {
      // Already behind: the queue only bridges to the live stream; catching up now has to go further.
      if (!(this.sub instanceof TopKSubscription)) this.coverFrom = this.o.matcher.processedSeq;
      return;
    }
    this.strikes++;
    if (this.strikes > this.o.maxLags) {
      this.close('too_slow');
      return;
    }
    this.sink.send({ event: 'lagged', subscription: this.sub.id, last_seq: this.sentSeq });
    this.o.observer.lagged(this.sink.transport, dropped);
    this.state = 'catching_up';
    if (this.sub instanceof TopKSubscription) {
      this.whenWritable(() => this.catchUpTopK(this.cursor));
      return;
    }
    this.coverFrom = this.o.matcher.processedSeq;
    void this.catchUpWal();
  }

  private whenWritable(fn: () => void): void {
    if (!this.blocked) {
      fn();
      return;
    }
    this.sink.onDrain(() => {
      this.blocked = false;
      if (!this.closed) fn();
    });
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.blocked) resolve();
      else
        this.sink.onDrain(() => {
          this.blocked = false;
          resolve();
        });
    });
  }

  /** Threshold mode: re-match the WAL from the cursor until the live events take over. */
  private async catchUpWal(): Promise<void> {
    const sub = this.sub;
    const { engine, matcher } = this.o;
    this.o.observer.catchUp('wal');
    try {
      for (;;) {
        if (this.blocked) await this.drained();
        if (this.closed) return;
        const page = await engine.readChanges(matcher.name, this.cursor, PAGE, { points: true });
        if (this.closed) return;
        if (this.cursor + 1 < page.oldestSeq) this.resetThreshold(this.cursor + 1, page.oldestSeq);
        for (const ev of page.events) {
          if (ev.seq <= this.cursor) continue;
          const m = sub.matchEvent(matcher.metric, ev);
          this.cursor = ev.seq;
          if (m && !this.deliver(m)) await this.drained();
          if (this.closed) return;
        }
        if (page.events.length < PAGE || this.cursor >= this.coverFrom) break;
      }
      if (this.state === 'catching_up') this.goLive();
    } catch (e) {
      if (!this.closed) this.close('error', e instanceof Error ? e.message : String(e));
    }
  }

  private resetThreshold(fromSeq: number, oldestSeq: number): void {
    const seq = oldestSeq - 1;
    this.cursor = seq;
    this.sentSeq = seq;
    const e: SeqEvent = {
      event: 'reset',
      subscription: this.sub.id,
      seq,
      reason: 'beyond_retention',
      from_seq: fromSeq,
      oldest_seq: oldestSeq,
    };
    const ok = this.sink.send(e);
    this.o.observer.delivered(this.sink.transport);
    if (!ok) this.waitDrain();
  }

  /** Top-k mode: the history since `after` if it still holds all of it, else the current top-k. */
  private catchUpTopK(after: number | undefined): void {
    const sub = this.sub as TopKSubscription;
    const events = after === undefined ? undefined : sub.history.since(after);
    if (events) {
      this.o.observer.catchUp('history');
      this.cursor = after!;
      for (const e of events) this.queue.push(e);
      this.goLive();
      return;
    }
    const reason: ResetReason = after === undefined ? 'initial' : 'beyond_history';
    if (after !== undefined) this.o.observer.catchUp('reset');
    const seq = this.o.matcher.stateSeq(sub);
    this.queue = [];
    this.head = 0;
    this.deliver({
      event: 'reset',
      subscription: sub.id,
      seq,
      reason,
      points: sub.visibleTop().map(matched),
    });
    this.goLive();
  }

  close(reason: CloseReason, message?: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.blocked = false;
    this.sub.taps.delete(this);
    this.queue = [];
    this.head = 0;
    if (!this.sink.closed) {
      this.sink.send({
        event: 'closed',
        subscription: this.sub.id,
        reason,
        ...(message !== undefined ? { message } : {}),
      });
      this.sink.end();
    }
    this.o.observer.ended(this.sink.transport, reason);
    this.o.onClosed(this);
  }

  /** The client went away: nothing to send. */
  detach(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.blocked = false;
    this.sub.taps.delete(this);
    this.queue = [];
    this.head = 0;
    this.o.observer.ended(this.sink.transport, 'disconnected');
    this.o.onClosed(this);
  }

  /**
   * Seq the client could resume from right now: past every event it has or that does not concern it (SSE
   * heartbeats carry it as their id, so a reconnect does not re-scan a long stretch without matches).
   */
  get position(): number {
    if (this.state !== 'live' || this.blocked || this.head !== this.queue.length) return this.sentSeq;
    const m = this.o.matcher;
    return Math.max(
      this.cursor,
      this.sub instanceof TopKSubscription ? m.stateSeq(this.sub) : m.processedSeq,
    );
  }
}
