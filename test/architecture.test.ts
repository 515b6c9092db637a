/**
 * The import rules of docs/ARCHITECTURE.md hold for src/, and the rule set really bites: a planted tree
 * with an engine→server and a client→engine import must produce exactly those two violations.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { cruise, type IReporterOutput } from 'dependency-cruiser';
import { expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { forbidden, options } = require('../.dependency-cruiser.cjs');

async function violations(baseDir: string): Promise<string[]> {
  const out: IReporterOutput = await cruise(['src'], {
    ...options,
    baseDir,
    validate: true,
    ruleSet: { forbidden },
    tsConfig: undefined,
  });
  const summary = typeof out.output === 'string' ? JSON.parse(out.output).summary : out.output.summary;
  return summary.violations.map(
    (v: { rule: { name: string }; from: string; to: string }) => `${v.rule.name}: ${v.from} → ${v.to}`,
  );
}

it('src/ follows the layer rules', async () => {
  expect(await violations(resolve(import.meta.dirname, '..'))).toEqual([]);
});

it('a planted forbidden import is caught', async () => {
  const found = await violations(resolve(import.meta.dirname, 'fixtures/arch'));
  expect(found.sort()).toEqual([
    'client-imports: src/client/sdk.ts → src/engine/index.ts',
    'engine-imports: src/engine/index.ts → src/server/app.ts',
  ]);
});
