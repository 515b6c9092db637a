/**
 * Adaptive concurrency limit from latency: Netflix concurrency-limits' Gradient2 (the same idea as Envoy's
 * adaptive concurrency filter). The limit follows the ratio of a long-term RTT average to the recent RTT:
 * when queueing makes requests slower than usual the gradient drops below 1 and the limit shrinks; a small
 * `queueSize` headroom lets it probe upwards while latency holds. No target latency to configure — it
 * finds the knee of the latency curve itself.
 *
 * Samples are folded into windows (Netflix's WindowedLimit): one limit step per window, from the window's
 * average RTT and its largest in-flight count, so a single slow request cannot move the limit.
 */

export interface GradientOptions {
  initial: number;
  min: number;
  max: number;
  /** How much slower than the long-term RTT the recent one may be before the limit shrinks (Netflix: 1.5). */
  tolerance: number;
  /** Weight of each new estimate (Netflix: 0.2). */
  smoothing: number;
  /** Headroom added every step so the limit can grow while latency holds (Netflix: 4). */
  queueSize: number;
  /** Windows averaged into the long-term RTT (exponential, Netflix: 600) … */
  longWindow: number;
  /** … after a plain average over the first `warmup` windows (Netflix: 10). */
  warmup: number;
  /** A window closes once it is this old and holds `windowSamples` samples. */
  windowMs: number;
  windowSamples: number;
}

export const GRADIENT_DEFAULTS: Readonly<GradientOptions> = {
  initial: 64,
  min: 8,
  max: 1024,
  tolerance: 1.5,
  smoothing: 0.2,
  queueSize: 4,
  longWindow: 600,
  warmup: 10,
  windowMs: 100,
  windowSamples: 10,
};

/**
 * Gradient2's step, exactly: gradient = clamp(tolerance × long / short, 0.5, 1); the target is
 * limit × gradient + queueSize, blended into the limit with `smoothing`, then clamped to [min, max].
 * Limit 100, long RTT 10, short RTT 20 → gradient 0.75 → 79 → 0.8 × 100 + 0.2 × 79 = 95.8.
 */
export function gradientStep(
  limit: number,
  longRtt: number,
  shortRtt: number,
  o: Pick<GradientOptions, 'tolerance' | 'smoothing' | 'queueSize' | 'min' | 'max'>,
): number {
  const gradient = Math.max(0.5, Math.min(1, (o.tolerance * longRtt) / shortRtt));
  const target = limit * gradient + o.queueSize;
  const next = limit * (1 - o.smoothing) + target * o.smoothing;
  return Math.max(o.min, Math.min(o.max, next));
}

/** Netflix's ExpAvgMeasurement: a plain mean for `warmup` samples, then an EMA with factor 2 / (window + 1). */
export class ExpAverage {
  private n = 0;
  private sum = 0;
  value = 0;

  constructor(
    private readonly window: number,
    private readonly warmup: number,
  ) {}

  add(sample: number): number {
    if (this.n < this.warmup) {
      this.n++;
      this.sum += sample;
      this.value = this.sum / this.n;
    } else {
      const f = 2 / (this.window + 1);
      this.value = this.value * (1 - f) + sample * f;
    }
    return this.value;
  }
}

export interface RttSample {
  rttMs: number;
  /** Requests in flight when this one finished (itself included). */
  inflight: number;
}

export class GradientLimit {
  private estimate: number;
  private readonly longRtt: ExpAverage;
  private windowStart = Number.NaN;
  private windowSum = 0;
  private windowCount = 0;
  private windowInflight = 0;
  /** The last window's average RTT (status and tests). */
  lastRtt = 0;

  constructor(private readonly o: Readonly<GradientOptions> = GRADIENT_DEFAULTS) {
    this.estimate = o.initial;
    this.longRtt = new ExpAverage(o.longWindow, o.warmup);
  }

  /** The current limit: whole requests. */
  get limit(): number {
    return Math.floor(this.estimate);
  }

  get longRttMs(): number {
    return this.longRtt.value;
  }

  update(sample: RttSample, now: number): number {
    if (Number.isNaN(this.windowStart)) this.windowStart = now;
    this.windowSum += sample.rttMs;
    this.windowCount++;
    if (sample.inflight > this.windowInflight) this.windowInflight = sample.inflight;
    if (now - this.windowStart >= this.o.windowMs && this.windowCount >= this.o.windowSamples) {
      this.step(this.windowSum / this.windowCount, this.windowInflight);
      this.windowStart = now;
      this.windowSum = 0;
      this.windowCount = 0;
      this.windowInflight = 0;
    }
    return this.limit;
  }

  /** One Gradient2 update from a closed window (Gradient2Limit._update). */
  private step(rtt: number, inflight: number): void {
    this.lastRtt = rtt;
    const long = this.longRtt.add(rtt);
    // After a long overload the long-term average is inflated; decay it so the limit can recover.
    if (long / rtt > 2) this.longRtt.value = long * 0.95;
    // App-limited: too little traffic to tell anything about the limit.
    if (inflight < this.estimate / 2) return;
    // The gradient uses the average from before the decay, as Gradient2 does.
    this.estimate = gradientStep(this.estimate, long, rtt, this.o);
  }
}
