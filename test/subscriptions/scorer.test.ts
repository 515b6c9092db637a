/**
 * Every scorer (in-thread, worker thread, sharded over several) satisfies one contract: operations apply in call order, scores
 * come back exact and point-major, spaces are independent, a closed scorer refuses work.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LocalScorer, type Scorer, WorkerScorer } from '../../src/subscriptions/scorer.js';
import { ShardedScorer } from '../../src/subscriptions/sharded-scorer.js';

function scorerContract(name: string, make: () => Scorer) {
  describe(`${name} satisfies Scorer`, () => {
    const scorer = make();
    afterAll(() => scorer.close());

    it('applies set, setBar and remove in call order relative to score', async () => {
      scorer.open(1, 'Dot', 3);
      scorer.set(1, 0, Float32Array.of(1, 0, 0), 0.5);
      scorer.set(1, 1, Float32Array.of(0, 1, 0), undefined);
      const points = Float32Array.of(1, 0, 0, 0.2, 0.9, 0);
      const a = scorer.score(1, points.slice(), 2);
      scorer.setBar(1, 1, 0.95);
      scorer.remove(1, 0);
      const b = scorer.score(1, points.slice(), 2);
      const [ra, rb] = await Promise.all([a, b]);
      expect([...ra.point].map((p, i) => [p, ra.slot[i], ra.score[i]])).toEqual([
        [0, 0, 1],
        [0, 1, 0],
        [1, 1, Math.fround(0.9)],
      ]);
      expect(rb.length).toBe(0);
    });

    it('keeps spaces apart (dimension and metric per collection)', async () => {
      scorer.open(2, 'Euclid', 2);
      scorer.open(3, 'Cosine', 2);
      scorer.set(2, 0, Float32Array.of(0, 0), 1.001);
      scorer.set(3, 0, Float32Array.of(1, 0), 0.9);
      const [e, c] = await Promise.all([
        scorer.score(2, Float32Array.of(0.6, 0.8, 3, 0), 2),
        scorer.score(3, Float32Array.of(0.6, 0.8, 1, 0), 2),
      ]);
      expect([...e.point]).toEqual([0]);
      expect(e.score[0]).toBeCloseTo(1, 6);
      expect([...c.point]).toEqual([1]);
      scorer.drop(2);
      await expect(scorer.score(2, Float32Array.of(0, 0), 1)).rejects.toMatchObject({ code: 'INTERNAL' });
    });

    it('refuses work once closed', async () => {
      const s = make();
      s.open(1, 'Dot', 1);
      await s.close();
      if (!(s instanceof LocalScorer))
        await expect(s.score(1, Float32Array.of(1), 1)).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    });
  });
}

scorerContract('LocalScorer', () => new LocalScorer());
scorerContract('WorkerScorer', () => WorkerScorer.start());
scorerContract('ShardedScorer', () => new ShardedScorer([WorkerScorer.start(), WorkerScorer.start()]));

it('ShardedScorer finds what one scorer finds, in the same order', async () => {
  const one = new LocalScorer();
  const three = new ShardedScorer([0, 1, 2].map(() => new LocalScorer()));
  const dim = 8;
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  for (const s of [one, three]) s.open(1, 'Dot', dim);
  for (let slot = 0; slot < 50; slot++) {
    const v = Float32Array.from({ length: dim }, rand);
    for (const s of [one, three]) s.set(1, slot, v, 0.05);
  }
  const points = Float32Array.from({ length: 40 * dim }, rand);
  const [a, b] = await Promise.all([one.score(1, points.slice(), 40), three.score(1, points.slice(), 40)]);
  expect(a.length).toBeGreaterThan(100);
  expect([...b.point]).toEqual([...a.point]);
  expect([...b.slot]).toEqual([...a.slot]);
  expect([...b.score]).toEqual([...a.score]);
});
