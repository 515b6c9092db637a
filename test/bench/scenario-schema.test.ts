/**
 * Scenario files are validated by one zod schema with errors that name the JSON path: good files (a minimal
 * one and one setting every field) parse with defaults filled; bad ones fail with INVALID_SCENARIO and say
 * where. Every built-in scenario is a valid scenario, and command-line overrides are validated too.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS } from '../../src/bench/scenarios/builtin.js';
import { resolveScenario } from '../../src/bench/scenarios/resolve.js';
import { parseScenario, scenarioJsonSchema } from '../../src/bench/scenarios/schema.js';
import { SurgeError } from '../../src/protocol/errors.js';

const dir = new URL('./fixtures/scenarios/', import.meta.url);
const file = (name: string) => new URL(name, dir).pathname;
const read = (name: string) => JSON.parse(readFileSync(file(name), 'utf8')) as unknown;

function failure(fn: () => unknown): SurgeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SurgeError);
    return e as SurgeError;
  }
  throw new Error('expected a SurgeError');
}

describe('scenario files', () => {
  it('a minimal file gets every default', () => {
    const s = parseScenario(read('good-minimal.json'), 'good-minimal.json');
    expect(s).toMatchObject({
      name: 'minimal',
      dataset: { name: 'glove', queries: 1000 },
      transport: { kind: 'http1', connections: 16, pipelining: 1 },
      limits: { max_requests: 10_000_000, max_in_flight: 2048, timeout_ms: 10_000 },
      mix: { read: 1, write: 0 },
      query: { k: 10, choice: { kind: 'uniform' }, batch: [{ size: 1, weight: 1 }] },
      slo: { p50_ms: 10, p99_ms: 50, error_rate: 0.001, recall: 0.95 },
      server: { managed: false },
    });
  });

  it('a file setting every field keeps them', () => {
    const raw = read('good-full.json') as Record<string, unknown>;
    const s = parseScenario(raw, 'good-full.json');
    for (const [k, v] of Object.entries(raw)) expect((s as Record<string, unknown>)[k], k).toEqual(v);
  });

  it.each([
    ['bad-unknown-field.json', /bad-unknown-field\.json: \(root\): Unrecognized key: "duraton_s"/],
    ['bad-arrival.json', /arrival\.rate: .*>=0.*; arrival\.hold_s: /],
    ['bad-websocket-batch.json', /query\.batch: the WebSocket API has no batch search/],
    [
      'bad-failover-unmanaged.json',
      /server\.managed: cold_start and failover need .*failover\.kill_at_s: must fall inside the run/,
    ],
  ])('%s is refused with the path of each problem', (name, message) => {
    const e = failure(() => resolveScenario(file(name)));
    expect(e.code).toBe('INVALID_SCENARIO');
    expect(e.message).toMatch(message);
    expect(e.hint).toMatch(/docs\/BENCH\.md/);
  });

  it('says so when a file is not JSON or not there', () => {
    expect(failure(() => resolveScenario(file('bad-not-json.txt'))).message).toMatch(/not valid JSON/);
    expect(failure(() => resolveScenario('no-such-scenario')).message).toMatch(
      /neither a built-in scenario \(baseline, capacity, .*\) nor a file/,
    );
  });

  it('every built-in scenario is valid and runnable in minutes', () => {
    const names = BUILTIN_SCENARIOS.map((s) => s.name);
    for (const want of [
      'baseline',
      'capacity',
      'burst-10x',
      'burst-25x',
      'burst-50x',
      'read-heavy',
      'write-heavy',
      'streaming-ingest',
      'filtered',
      'hot-keys',
      'many-connections',
      'cold-start',
      'failover',
      'soak',
    ])
      expect(names).toContain(want);
    for (const b of BUILTIN_SCENARIOS) {
      const s = parseScenario(b, b.name);
      expect(s.duration_s, b.name).toBeLessThanOrEqual(300);
      expect(s.description.length, b.name).toBeGreaterThan(20);
    }
  });

  it('command-line overrides are applied and validated', () => {
    const s = resolveScenario('burst-25x', { duration: 12, rate: 20, dataset: 'synthetic:1536', base: 5000 });
    expect(s.duration_s).toBe(12);
    // The shape scales with the run: the spike at 20 s of 60 now comes at 4 s of 12.
    expect(s.arrival).toMatchObject({
      kind: 'spike',
      rate: 20,
      multiplier: 25,
      at_s: 4,
      rise_s: 0.4,
      hold_s: 3,
    });
    expect(s.dataset).toMatchObject({ name: 'synthetic', dim: 1536, base: 5000 });
    expect(resolveScenario('failover', { duration: 20 }).failover!.kill_at_s).toBe(5);
    expect(resolveScenario('flash-crowd', { duration: 60 }).arrival).toMatchObject({ compress: 60 });
    expect(failure(() => resolveScenario('baseline', { duration: -1 })).message).toMatch(/--duration/);
    expect(failure(() => resolveScenario('baseline', { dataset: 'sift' })).message).toMatch(/--dataset/);
    expect(failure(() => resolveScenario('baseline', { connections: 0 })).message).toMatch(
      /overrides: transport\.connections/,
    );
  });

  it('exports a JSON Schema for editors', () => {
    const js = scenarioJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(js.properties)).toEqual(
      expect.arrayContaining(['arrival', 'duration_s', 'slo', 'tenants']),
    );
    expect(js.required).toEqual(expect.arrayContaining(['name', 'arrival', 'duration_s']));
  });
});
