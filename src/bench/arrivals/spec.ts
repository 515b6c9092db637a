/**
 * Arrival processes as data: what a scenario file says about *when* requests start. Every open-loop shape is a
 * rate curve λ(t) in requests/s plus a spacing (`poisson`: exponential gaps, the memoryless arrivals of many
 * independent users; `uniform`: evenly spaced, k6's constant-arrival-rate). `closed` is the classic
 * closed loop (N workers, next request when the previous answers): kept only to show, side by side, what
 * coordinated omission hides — it is never the default.
 */
import { z } from 'zod';

const rate = z.number().min(0).max(1_000_000);
const seconds = z
  .number()
  .min(0)
  .max(7 * 86_400);
const spacing = z.enum(['poisson', 'uniform']);

export const arrivalSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant'), rate, spacing: spacing.default('uniform') }),
  z.strictObject({ kind: z.literal('poisson'), rate }),
  z.strictObject({
    kind: z.literal('ramp'),
    from: rate,
    to: rate,
    /** Ramp length; the rate stays at `to` afterwards. Default: the whole run. */
    over_s: seconds.optional(),
    spacing: spacing.default('poisson'),
  }),
  z.strictObject({
    kind: z.literal('step'),
    rate,
    steps: z.array(z.strictObject({ at_s: seconds, rate })).min(1),
    spacing: spacing.default('poisson'),
  }),
  z.strictObject({
    kind: z.literal('spike'),
    /** Base rate before and after the spike. */
    rate,
    multiplier: z.number().min(1).max(10_000),
    at_s: seconds,
    rise_s: seconds.default(1),
    hold_s: seconds,
    /** Default: as fast as the rise. */
    fall_s: seconds.optional(),
    spacing: spacing.default('poisson'),
  }),
  z.strictObject({
    kind: z.literal('diurnal'),
    /** Mean rate over a period. */
    rate,
    /** Peak-to-mean as a fraction of the mean: 0.5 swings between 0.5× and 1.5×. */
    amplitude: z.number().min(0).max(1).default(0.5),
    /** Default: the whole run is one "day". */
    period_s: seconds.min(1).optional(),
    /** Where in the day the run starts, in seconds of the period; 0 = the trough. */
    phase_s: seconds.default(0),
    spacing: spacing.default('poisson'),
  }),
  z.strictObject({
    kind: z.literal('trace'),
    /** A built-in trace name (`surgevec bench list`) or a CSV path with `time_s,requests` rows. */
    file: z.string().min(1),
    /** Time compression k: k seconds of the trace pass in one second of the run. */
    compress: z.number().min(0.001).max(1_000_000).default(1),
    /** Multiplies the trace's rate. Exclusive with `peak_rate`. */
    rate_scale: z.number().min(0).optional(),
    /** Scale the trace so its busiest bucket runs at this rate (after compression). */
    peak_rate: rate.optional(),
    /** Where to start in the trace, in trace seconds. */
    offset_s: seconds.default(0),
    spacing: spacing.default('poisson'),
  }),
  z.strictObject({
    kind: z.literal('closed'),
    /** Workers, each sending its next request when the previous answered. */
    concurrency: z.int().min(1).max(10_000),
  }),
]);

export type ArrivalSpec = z.output<typeof arrivalSchema>;
export type OpenArrivalSpec = Exclude<ArrivalSpec, { kind: 'closed' }>;
export type Spacing = z.infer<typeof spacing>;

/** The rate `--rate` sets: the constant rate, the base of a spike/step, a ramp's end, a diurnal mean, a trace's peak. */
export function nominalRate(spec: ArrivalSpec): number | undefined {
  switch (spec.kind) {
    case 'constant':
    case 'poisson':
    case 'step':
    case 'spike':
    case 'diurnal':
      return spec.rate;
    case 'ramp':
      return spec.to;
    case 'trace':
      return spec.peak_rate;
    case 'closed':
      return undefined;
  }
}

/** `--rate R`: every rate of the shape scaled by R / nominal, so the shape is kept and its level moves. */
export function withRate(spec: ArrivalSpec, rate: number): ArrivalSpec {
  const f = (x: number) => x * (rate / (nominalRate(spec) || rate || 1));
  switch (spec.kind) {
    case 'constant':
    case 'poisson':
    case 'diurnal':
    case 'spike':
      return { ...spec, rate };
    case 'step':
      return { ...spec, rate, steps: spec.steps.map((s) => ({ ...s, rate: f(s.rate) })) };
    case 'ramp':
      return { ...spec, from: f(spec.from), to: rate };
    case 'trace': {
      const { rate_scale: _drop, ...rest } = spec;
      return { ...rest, peak_rate: rate };
    }
    case 'closed':
      return spec;
  }
}

export function spacingOf(spec: OpenArrivalSpec): Spacing {
  return spec.kind === 'poisson' ? 'poisson' : spec.spacing;
}
