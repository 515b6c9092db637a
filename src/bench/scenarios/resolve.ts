/**
 * `--scenario <name|file.json>` plus command-line overrides → one validated Scenario. Overrides are applied to
 * the validated value and the result validated again, so a flag can never produce a scenario a file could not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SurgeError } from '../../protocol/errors.js';
import { withRate } from '../arrivals/spec.js';
import { BUILTIN_SCENARIOS, builtinScenario } from './builtin.js';
import { parseScenario, type Scenario } from './schema.js';

export interface ScenarioOverrides {
  duration?: number | undefined;
  rate?: number | undefined;
  /** glove | mnist | synthetic | synthetic:<dim> */
  dataset?: string | undefined;
  base?: number | undefined;
  queries?: number | undefined;
  transport?: string | undefined;
  connections?: number | undefined;
  pipelining?: number | undefined;
  ef?: number | undefined;
  seed?: number | undefined;
  maxRequests?: number | undefined;
  collection?: string | undefined;
  managed?: boolean | undefined;
  reload?: boolean | undefined;
  usdPerCoreHour?: number | undefined;
  sloP50?: number | undefined;
  sloP99?: number | undefined;
  sloErrorRate?: number | undefined;
  sloRecall?: number | undefined;
  apiKeys?: string[] | undefined;
}

export function loadScenarioSource(nameOrFile: string): { value: unknown; source: string } {
  const builtin = builtinScenario(nameOrFile);
  if (builtin) return { value: builtin, source: `built-in scenario ${nameOrFile}` };
  if (!existsSync(nameOrFile)) {
    throw new SurgeError(
      'INVALID_SCENARIO',
      `${JSON.stringify(nameOrFile)} is neither a built-in scenario (${BUILTIN_SCENARIOS.map((s) => s.name).join(', ')}) nor a file`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(nameOrFile, 'utf8'));
  } catch (e) {
    throw new SurgeError('INVALID_SCENARIO', `${nameOrFile}: not valid JSON (${(e as Error).message})`);
  }
  return { value, source: nameOrFile };
}

function positive(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v) || v <= 0)
    throw new SurgeError('INVALID_SCENARIO', `--${name} must be a positive number, got ${v}`);
  return v;
}

/**
 * `--duration` keeps a scenario's shape: every time in it (a spike's start, rise, hold and fall, a ramp, steps,
 * a diurnal period, the failover kill, the ingest start) scales with the run, and a trace is compressed more
 * so all of it still fits. A 60-second burst-10x run for 20 seconds still bursts a third of the way in.
 */
function stretch(s: Scenario, f: number): void {
  const a = s.arrival;
  switch (a.kind) {
    case 'spike':
      s.arrival = {
        ...a,
        at_s: a.at_s * f,
        rise_s: a.rise_s * f,
        hold_s: a.hold_s * f,
        ...(a.fall_s !== undefined ? { fall_s: a.fall_s * f } : {}),
      };
      break;
    case 'ramp':
      if (a.over_s !== undefined) s.arrival = { ...a, over_s: a.over_s * f };
      break;
    case 'step':
      s.arrival = { ...a, steps: a.steps.map((x) => ({ ...x, at_s: x.at_s * f })) };
      break;
    case 'diurnal':
      if (a.period_s !== undefined) s.arrival = { ...a, period_s: a.period_s * f, phase_s: a.phase_s * f };
      break;
    case 'trace':
      s.arrival = { ...a, compress: a.compress / f };
      break;
    default:
      break;
  }
  if (s.failover) s.failover = { ...s.failover, kill_at_s: s.failover.kill_at_s * f };
  if (s.ingest) s.ingest = { ...s.ingest, at_s: s.ingest.at_s * f };
}

export function applyOverrides(sc: Scenario, o: ScenarioOverrides, source: string): Scenario {
  const s = structuredClone(sc) as Scenario & Record<string, unknown>;
  const duration = positive('duration', o.duration);
  if (duration !== undefined) {
    stretch(s, duration / s.duration_s);
    s.duration_s = duration;
  }
  const rate = positive('rate', o.rate);
  if (rate !== undefined) s.arrival = withRate(s.arrival, rate);
  if (o.dataset !== undefined) {
    const [name, dim] = o.dataset.split(':');
    if (name !== 'glove' && name !== 'mnist' && name !== 'synthetic')
      throw new SurgeError(
        'INVALID_SCENARIO',
        `--dataset must be glove, mnist or synthetic[:dim], got ${o.dataset}`,
      );
    s.dataset = { ...s.dataset, name, base: undefined };
    if (dim !== undefined) s.dataset.dim = Number(dim);
  }
  if (o.base !== undefined) s.dataset.base = o.base;
  if (o.queries !== undefined) s.dataset.queries = o.queries;
  if (o.transport !== undefined) s.transport.kind = o.transport as Scenario['transport']['kind'];
  if (o.connections !== undefined) s.transport.connections = o.connections;
  if (o.pipelining !== undefined) s.transport.pipelining = o.pipelining;
  if (o.ef !== undefined) s.query.ef = o.ef;
  if (o.seed !== undefined) s.seed = o.seed;
  if (o.maxRequests !== undefined) s.limits.max_requests = o.maxRequests;
  if (o.collection !== undefined) s.collection = o.collection;
  if (o.managed !== undefined) s.server.managed = o.managed;
  if (o.reload) s.load.mode = 'always';
  if (o.usdPerCoreHour !== undefined) s.cost.usd_per_core_hour = o.usdPerCoreHour;
  if (o.sloP50 !== undefined) s.slo.p50_ms = o.sloP50;
  if (o.sloP99 !== undefined) s.slo.p99_ms = o.sloP99;
  if (o.sloErrorRate !== undefined) s.slo.error_rate = o.sloErrorRate;
  if (o.sloRecall !== undefined) s.slo.recall = o.sloRecall;
  if (o.apiKeys?.length)
    s.tenants = o.apiKeys.map((k, i) => ({ name: `tenant-${i + 1}`, api_key: k, weight: 1 }));
  // A dataset flag drops a file's base size for that dataset's default; ingest keeps its share sensible.
  if (s.ingest && s.dataset.base !== undefined && s.ingest.points >= s.dataset.base)
    s.ingest = { ...s.ingest, points: Math.max(1, Math.floor(s.dataset.base * 0.4)) };
  return parseScenario(JSON.parse(JSON.stringify(s)), `${source} with command-line overrides`);
}

export function resolveScenario(nameOrFile: string, overrides: ScenarioOverrides = {}): Scenario {
  const { value, source } = loadScenarioSource(nameOrFile);
  return applyOverrides(parseScenario(value, source), overrides, source);
}
