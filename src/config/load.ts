/**
 * defaults → file → env (SURGEVEC_*) → flags, validated once and deeply frozen. Nothing else in the code
 * reads process.env.
 */
import { readFileSync } from 'node:fs';
import { SurgeError } from '../protocol/errors.js';
import { type Config, type ConfigOptions, configSchema } from './schema.js';

type Layer = Record<string, unknown>;

/** Env names map to paths: SURGEVEC_PORT → server.port, SURGEVEC_DATA_DIR → storage.data_dir, … */
const ENV: Record<string, [string, string, 'string' | 'int' | 'bool']> = {
  SURGEVEC_HOST: ['server', 'host', 'string'],
  SURGEVEC_PORT: ['server', 'port', 'int'],
  SURGEVEC_DATA_DIR: ['storage', 'data_dir', 'string'],
  SURGEVEC_FSYNC: ['storage', 'fsync', 'bool'],
  SURGEVEC_LOG_LEVEL: ['log', 'level', 'string'],
  // The standard OpenTelemetry names, so collectors and operators need nothing surgevec-specific.
  OTEL_EXPORTER_OTLP_ENDPOINT: ['otel', 'endpoint', 'string'],
  OTEL_SERVICE_NAME: ['otel', 'service_name', 'string'],
};

function merge(a: Layer, b: Layer): Layer {
  const out: Layer = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? merge(prev as Layer, v as Layer)
        : v;
  }
  return out;
}

function envLayer(env: NodeJS.ProcessEnv): Layer {
  const out: Layer = {};
  for (const [name, [section, key, type]] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = type === 'int' ? Number(raw) : type === 'bool' ? raw === 'true' || raw === '1' : raw;
    out[section] = { ...((out[section] as Layer | undefined) ?? {}), [key]: value };
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export interface LoadConfigInput {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  flags?: ConfigOptions;
}

export function loadConfig(input: LoadConfigInput = {}): Readonly<Config> {
  let fileLayer: Layer = {};
  if (input.file) {
    try {
      fileLayer = JSON.parse(readFileSync(input.file, 'utf8')) as Layer;
    } catch (e) {
      throw new SurgeError(
        'INVALID_REQUEST',
        `cannot read config file ${input.file}: ${(e as Error).message}`,
      );
    }
  }
  const merged = merge(merge(fileLayer, envLayer(input.env ?? process.env)), (input.flags ?? {}) as Layer);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new SurgeError(
      'INVALID_REQUEST',
      `invalid configuration at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`,
    );
  }
  return deepFreeze(parsed.data);
}

/** Defaults only: tests and embedded use. */
export function defaultConfig(overrides: ConfigOptions = {}): Readonly<Config> {
  return loadConfig({ env: {}, flags: overrides });
}
