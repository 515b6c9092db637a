/** Request bodies are built as text from pre-formatted floats: the formatting must be exact to its stated precision. */
import { describe, expect, it } from 'vitest';
import { formatFloat, searchBody, vectorJson } from '../../src/bench/workload/bodies.js';
import { rng } from '../../src/platform/random.js';

describe('request bodies', () => {
  it('format floats exactly to 7 decimals, as JSON numbers', () => {
    const r = rng(9);
    for (let i = 0; i < 20_000; i++) {
      const x = Math.fround((r() - 0.5) * 10 ** Math.floor(r() * 8 - 3));
      const s = formatFloat(x);
      expect(Math.abs(JSON.parse(s) - x), `${x} → ${s}`).toBeLessThanOrEqual(
        5.000001e-8 + Math.abs(x) * 1e-15,
      );
    }
    expect([0.5, -0.05, -2, 255, 1e-9, -1234.5678901, 3e7].map(formatFloat)).toEqual([
      '0.5',
      '-0.05',
      '-2',
      '255',
      '0',
      '-1234.5678901',
      '30000000',
    ]);
  });

  it('build valid JSON bodies', () => {
    const v = new Float32Array([0.25, -1, 3.5]);
    const body = searchBody({
      vector: vectorJson(v, 0, 3),
      k: 5,
      ef: 64,
      filter: '{"must":[]}',
      withPayload: true,
    });
    expect(JSON.parse(body)).toEqual({
      vector: [0.25, -1, 3.5],
      limit: 5,
      params: { hnsw_ef: 64 },
      filter: { must: [] },
      with_payload: true,
    });
  });
});
