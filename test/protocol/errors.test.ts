import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { errors, SurgeError } from '../../src/protocol/errors.js';

it('docs/errors.md lists every catalogue code with its status', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, { status }] of Object.entries(errors)) {
    expect(doc, `docs/errors.md misses ${code}`).toMatch(
      new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`),
    );
  }
  const documented = [...doc.matchAll(/^\|\s*`([A-Z_]+)`/gm)].map((m) => m[1]);
  expect(documented.sort()).toEqual(Object.keys(errors).sort());
});

it('errors survive the worker boundary with code, message and details', () => {
  const e = new SurgeError('DIMENSION_MISMATCH', 'vector has 3 dimensions', { expected: 4, got: 3 });
  const back = SurgeError.from(structuredClone(e.toJSON()));
  expect(back).toBeInstanceOf(SurgeError);
  expect([back.code, back.message, back.details, back.status, back.hint]).toEqual([
    'DIMENSION_MISMATCH',
    'vector has 3 dimensions',
    { expected: 4, got: 3 },
    400,
    'the vector length must equal the collection size',
  ]);
});
