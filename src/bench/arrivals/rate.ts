/** The rate curve λ(t) (requests/s at second t of the run) of every open-loop arrival shape. Pure. */
import { SurgeError } from '../../protocol/errors.js';
import type { OpenArrivalSpec } from './spec.js';
import type { Trace } from './trace.js';

export type RateCurve = (t: number) => number;

function lerp(a: number, b: number, f: number): number {
  return a + (b - a) * f;
}

/** `durationS` fills defaults that mean "the whole run" (ramp length, diurnal period). */
export function rateCurve(spec: OpenArrivalSpec, durationS: number, trace?: Trace): RateCurve {
  switch (spec.kind) {
    case 'constant':
    case 'poisson': {
      const r = spec.rate;
      return () => r;
    }
    case 'ramp': {
      const over = spec.over_s ?? durationS;
      return (t) => (over <= 0 || t >= over ? spec.to : lerp(spec.from, spec.to, t / over));
    }
    case 'step': {
      const steps = [...spec.steps].sort((a, b) => a.at_s - b.at_s);
      return (t) => {
        let r = spec.rate;
        for (const s of steps) {
          if (t < s.at_s) break;
          r = s.rate;
        }
        return r;
      };
    }
    case 'spike': {
      const base = spec.rate;
      const peak = base * spec.multiplier;
      const up = spec.at_s;
      const top = up + spec.rise_s;
      const down = top + spec.hold_s;
      const fall = spec.fall_s ?? spec.rise_s;
      const end = down + fall;
      return (t) => {
        if (t < up || t >= end) return base;
        if (t < top) return lerp(base, peak, (t - up) / spec.rise_s);
        if (t < down) return peak;
        return lerp(peak, base, (t - down) / fall);
      };
    }
    case 'diurnal': {
      const period = spec.period_s ?? durationS;
      return (t) => spec.rate * (1 - spec.amplitude * Math.cos((2 * Math.PI * (t + spec.phase_s)) / period));
    }
    case 'trace': {
      if (!trace) throw new SurgeError('INVALID_SCENARIO', `trace ${spec.file} was not loaded`);
      if (spec.rate_scale !== undefined && spec.peak_rate !== undefined) {
        throw new SurgeError('INVALID_SCENARIO', 'arrival: give rate_scale or peak_rate, not both');
      }
      const scale =
        spec.rate_scale ?? (spec.peak_rate !== undefined ? spec.peak_rate / (trace.peakRate || 1) : 1);
      const { counts, bucketS } = trace;
      // Compression keeps each bucket's rate and shortens the bucket (the trace README's first option):
      // the load level is the trace's, its seasonality passes k times faster.
      return (t) => {
        const i = Math.floor((spec.offset_s + t * spec.compress) / bucketS);
        return i >= 0 && i < counts.length ? (counts[i]! / bucketS) * scale : 0;
      };
    }
  }
}

/** ∫₀^duration λ(t) dt by the same 1 ms grid the schedule walks: the expected number of arrivals. */
export function expectedArrivals(curve: RateCurve, durationS: number, gridS = 0.001): number {
  let sum = 0;
  for (let t = 0; t < durationS; t += gridS) sum += curve(t + gridS / 2) * Math.min(gridS, durationS - t);
  return sum;
}
