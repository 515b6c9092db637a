/**
 * Exact k-nearest-neighbour search: the ground truth every recall number is measured against. One scoring
 * kernel serves the synchronous path (tests, small inputs) and the worker-thread path (the GloVe build:
 * 1,000 queries × 340k rows × 100 dims ≈ 3.4e10 multiply-adds), so both return the same ids, ties included.
 *
 * This file is also its own worker entry: a worker started on it with our `workerData` runs one query range.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import { startWorker } from '../../platform/worker.js';

export type KnnMetric = 'cosine' | 'l2' | 'dot';

/** Base rows scanned per block: 256 × 100 floats = 100 KB, stays in L2 while every query passes over it. */
const BLOCK_ROWS = 256;
const WORKER_KIND = 'surgevec.exact-knn';

/*
 * Scoring kernels. Each score is one sequential double sum over the dims (float × float products are exact in
 * a double), whichever kernel computes it: the 2-queries × 4-rows kernels and the one-pair tail give
 * bit-identical scores, so results never depend on blocking or thread split. Scoring two queries against four
 * rows per pass loads each element once for four (or two) multiply-adds: 2.5× faster than one dot at a time.
 * Scores go to `out[r - b0]` for query `qa` and `out[BLOCK_ROWS + r - b0]` for query `qb`; higher is better,
 * so L2 is stored negated.
 */
function dotBlock(
  q: Float32Array,
  qa: number,
  qb: number,
  base: Float32Array,
  b0: number,
  b1: number,
  dim: number,
  out: Float64Array,
): void {
  let r = b0;
  for (; r + 4 <= b1; r += 4) {
    const o0 = r * dim;
    const o1 = o0 + dim;
    const o2 = o1 + dim;
    const o3 = o2 + dim;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let c0 = 0;
    let c1 = 0;
    let c2 = 0;
    let c3 = 0;
    for (let i = 0; i < dim; i++) {
      const x = q[qa + i]!;
      const y = q[qb + i]!;
      const v0 = base[o0 + i]!;
      const v1 = base[o1 + i]!;
      const v2 = base[o2 + i]!;
      const v3 = base[o3 + i]!;
      a0 += x * v0;
      a1 += x * v1;
      a2 += x * v2;
      a3 += x * v3;
      c0 += y * v0;
      c1 += y * v1;
      c2 += y * v2;
      c3 += y * v3;
    }
    const j = r - b0;
    out[j] = a0;
    out[j + 1] = a1;
    out[j + 2] = a2;
    out[j + 3] = a3;
    out[BLOCK_ROWS + j] = c0;
    out[BLOCK_ROWS + j + 1] = c1;
    out[BLOCK_ROWS + j + 2] = c2;
    out[BLOCK_ROWS + j + 3] = c3;
  }
  for (; r < b1; r++) {
    const o = r * dim;
    let a = 0;
    let c = 0;
    for (let i = 0; i < dim; i++) {
      a += q[qa + i]! * base[o + i]!;
      c += q[qb + i]! * base[o + i]!;
    }
    out[r - b0] = a;
    out[BLOCK_ROWS + r - b0] = c;
  }
}

function negL2Block(
  q: Float32Array,
  qa: number,
  qb: number,
  base: Float32Array,
  b0: number,
  b1: number,
  dim: number,
  out: Float64Array,
): void {
  let r = b0;
  for (; r + 4 <= b1; r += 4) {
    const o0 = r * dim;
    const o1 = o0 + dim;
    const o2 = o1 + dim;
    const o3 = o2 + dim;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let c0 = 0;
    let c1 = 0;
    let c2 = 0;
    let c3 = 0;
    for (let i = 0; i < dim; i++) {
      const x = q[qa + i]!;
      const y = q[qb + i]!;
      const v0 = base[o0 + i]!;
      const v1 = base[o1 + i]!;
      const v2 = base[o2 + i]!;
      const v3 = base[o3 + i]!;
      a0 += (x - v0) * (x - v0);
      a1 += (x - v1) * (x - v1);
      a2 += (x - v2) * (x - v2);
      a3 += (x - v3) * (x - v3);
      c0 += (y - v0) * (y - v0);
      c1 += (y - v1) * (y - v1);
      c2 += (y - v2) * (y - v2);
      c3 += (y - v3) * (y - v3);
    }
    const j = r - b0;
    out[j] = -a0;
    out[j + 1] = -a1;
    out[j + 2] = -a2;
    out[j + 3] = -a3;
    out[BLOCK_ROWS + j] = -c0;
    out[BLOCK_ROWS + j + 1] = -c1;
    out[BLOCK_ROWS + j + 2] = -c2;
    out[BLOCK_ROWS + j + 3] = -c3;
  }
  for (; r < b1; r++) {
    const o = r * dim;
    let a = 0;
    let c = 0;
    for (let i = 0; i < dim; i++) {
      const v = base[o + i]!;
      a += (q[qa + i]! - v) * (q[qa + i]! - v);
      c += (q[qb + i]! - v) * (q[qb + i]! - v);
    }
    out[r - b0] = -a;
    out[BLOCK_ROWS + r - b0] = -c;
  }
}

/** Unit-length copy of each row (Float32, like every index stores them); zero rows stay zero. */
function normalizeRows(src: Float32Array, dim: number, dst: Float32Array): Float32Array {
  for (let off = 0; off < src.length; off += dim) {
    let n = 0;
    for (let i = 0; i < dim; i++) n += src[off + i]! * src[off + i]!;
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let i = 0; i < dim; i++) dst[off + i] = src[off + i]! * inv;
  }
  return dst;
}

/**
 * Per-query min-heaps of the k best (score, row) pairs seen, on flat typed arrays; the root is the worst kept.
 * Higher score is better; at equal score the smaller row is better, which makes the answer independent of scan
 * order and thread split.
 */
function worse(s: Float64Array, r: Int32Array, a: number, b: number): boolean {
  return s[a]! < s[b]! || (s[a]! === s[b]! && r[a]! > r[b]!);
}

function siftUp(s: Float64Array, r: Int32Array, h: number, i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!worse(s, r, h + i, h + p)) break;
    swap(s, r, h + i, h + p);
    i = p;
  }
}

function siftDown(s: Float64Array, r: Int32Array, h: number, n: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    const c = l + 1 < n && worse(s, r, h + l + 1, h + l) ? l + 1 : l;
    if (!worse(s, r, h + c, h + i)) return;
    swap(s, r, h + i, h + c);
    i = c;
  }
}

function swap(s: Float64Array, r: Int32Array, a: number, b: number): void {
  const ts = s[a]!;
  s[a] = s[b]!;
  s[b] = ts;
  const tr = r[a]!;
  r[a] = r[b]!;
  r[b] = tr;
}

/**
 * Scores queries [q0, q1) against every base row and writes their k best rows, best first, to
 * `out[q * k ..]` (-1 pads when the base has fewer than k rows). Vectors must already be normalised for cosine.
 */
function scanQueries(
  base: Float32Array,
  dim: number,
  queries: Float32Array,
  q0: number,
  q1: number,
  k: number,
  metric: KnnMetric,
  out: Int32Array,
  onBlock?: (rowsDone: number) => void,
): void {
  const baseCount = base.length / dim;
  const nq = q1 - q0;
  const scores = new Float64Array(nq * k);
  const rows = new Int32Array(nq * k);
  const sizes = new Int32Array(nq);
  const block = new Float64Array(2 * BLOCK_ROWS);
  const scoreBlock = metric === 'l2' ? negL2Block : dotBlock;
  for (let b0 = 0; b0 < baseCount; b0 += BLOCK_ROWS) {
    const b1 = Math.min(baseCount, b0 + BLOCK_ROWS);
    for (let qi = 0; qi < nq; qi += 2) {
      // An odd last query is paired with itself; only its first half is kept.
      const pair = qi + 1 < nq ? 2 : 1;
      scoreBlock(queries, (q0 + qi) * dim, (q0 + qi + pair - 1) * dim, base, b0, b1, dim, block);
      for (let p = 0; p < pair; p++) {
        const h = (qi + p) * k;
        const s0 = p * BLOCK_ROWS - b0;
        let size = sizes[qi + p]!;
        for (let row = b0; row < b1; row++) {
          const score = block[s0 + row]!;
          if (size < k) {
            scores[h + size] = score;
            rows[h + size] = row;
            siftUp(scores, rows, h, size);
            size++;
          } else if (score > scores[h]! || (score === scores[h]! && row < rows[h]!)) {
            scores[h] = score;
            rows[h] = row;
            siftDown(scores, rows, h, k);
          }
        }
        sizes[qi + p] = size;
      }
    }
    onBlock?.(b1);
  }
  for (let qi = 0; qi < nq; qi++) {
    const h = qi * k;
    const o = (q0 + qi) * k;
    let n = sizes[qi]!;
    for (let i = n; i < k; i++) out[o + i] = -1;
    // Popping the root yields the worst first: fill from the back.
    while (n > 0) {
      out[o + n - 1] = rows[h]!;
      n--;
      scores[h] = scores[h + n]!;
      rows[h] = rows[h + n]!;
      siftDown(scores, rows, h, n);
    }
  }
}

function validate(
  base: Float32Array,
  dim: number,
  queries: Float32Array,
  k: number,
  metric: KnnMetric,
): void {
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  if (base.length % dim !== 0)
    throw new RangeError(`base length ${base.length} is not a multiple of dim ${dim}`);
  if (queries.length % dim !== 0) {
    throw new RangeError(`queries length ${queries.length} is not a multiple of dim ${dim}`);
  }
  if (!Number.isInteger(k) || k <= 0) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (metric !== 'cosine' && metric !== 'l2' && metric !== 'dot')
    throw new RangeError(`unknown metric ${metric}`);
}

/**
 * Exact kNN, single-threaded. Returns `queryCount × k` base row numbers, row-major, best first: highest cosine
 * or dot product, smallest L2 distance; ties go to the smaller row; -1 pads when the base has fewer than k rows.
 */
export function exactKnn(
  base: Float32Array,
  dim: number,
  queries: Float32Array,
  k: number,
  metric: KnnMetric,
): Int32Array {
  validate(base, dim, queries, k, metric);
  if (metric === 'cosine') {
    base = normalizeRows(base, dim, new Float32Array(base.length));
    queries = normalizeRows(queries, dim, new Float32Array(queries.length));
  }
  const nq = queries.length / dim;
  const out = new Int32Array(nq * k);
  scanQueries(base, dim, queries, 0, nq, k, metric, out);
  return out;
}

export interface ParallelKnnOptions {
  /** Worker threads; default: available cores, never more than the number of queries. */
  threads?: number;
  /** Fraction of the work done, 0..1, at most every ~2% per worker. */
  onProgress?: (fraction: number) => void;
}

interface WorkerJob {
  kind: typeof WORKER_KIND;
  base: Float32Array;
  dim: number;
  queries: Float32Array;
  q0: number;
  q1: number;
  k: number;
  metric: KnnMetric;
  out: Int32Array;
}

type WorkerMessage = { type: 'progress'; rowsDone: number } | { type: 'done' };

function sharedCopy(src: Float32Array, dim: number, normalize: boolean): Float32Array {
  const dst = new Float32Array(new SharedArrayBuffer(src.byteLength));
  if (normalize) normalizeRows(src, dim, dst);
  else dst.set(src);
  return dst;
}

/**
 * Same answer as {@link exactKnn}, computed by worker threads over shared memory (each worker takes a
 * contiguous range of queries and scans the whole base). Workers load this very file.
 */
export async function exactKnnParallel(
  base: Float32Array,
  dim: number,
  queries: Float32Array,
  k: number,
  metric: KnnMetric,
  opts: ParallelKnnOptions = {},
): Promise<Int32Array> {
  validate(base, dim, queries, k, metric);
  const nq = queries.length / dim;
  const baseCount = base.length / dim;
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), nq));
  if (nq === 0) return new Int32Array(0);
  const normalize = metric === 'cosine';
  const sBase = sharedCopy(base, dim, normalize);
  const sQueries = sharedCopy(queries, dim, normalize);
  const out = new Int32Array(new SharedArrayBuffer(nq * k * 4));
  const done = new Float64Array(threads); // base rows scanned, per worker
  const weight = new Float64Array(threads); // queries per worker
  const total = Math.max(1, nq * baseCount);
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: threads }, (_, t) => {
        const q0 = Math.floor((nq * t) / threads);
        const q1 = Math.floor((nq * (t + 1)) / threads);
        weight[t] = q1 - q0;
        const job: WorkerJob = {
          kind: WORKER_KIND,
          base: sBase,
          dim,
          queries: sQueries,
          q0,
          q1,
          k,
          metric,
          out,
        };
        // This module is its own worker entry (from dist/ .js, or .ts source through tsx).
        const w = startWorker(new URL(import.meta.url), { workerData: job });
        workers.push(w);
        return new Promise<void>((resolve, reject) => {
          let finished = false;
          w.on('message', (m: WorkerMessage) => {
            if (m.type === 'done') {
              finished = true;
              resolve();
              return;
            }
            done[t] = m.rowsDone;
            if (opts.onProgress) {
              let sum = 0;
              for (let i = 0; i < threads; i++) sum += done[i]! * weight[i]!;
              opts.onProgress(sum / total);
            }
          });
          w.on('error', reject);
          w.on('exit', (code) => {
            if (!finished)
              reject(new Error(`exact-knn worker ${t} exited with code ${code} before finishing`));
          });
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return new Int32Array(out); // a plain (non-shared) copy for callers
}

function runWorker(job: WorkerJob): void {
  const baseCount = job.base.length / job.dim;
  const step = Math.max(BLOCK_ROWS, Math.ceil(baseCount / 50));
  let next = step;
  scanQueries(job.base, job.dim, job.queries, job.q0, job.q1, job.k, job.metric, job.out, (rowsDone) => {
    if (rowsDone >= next || rowsDone === baseCount) {
      next = rowsDone + step;
      parentPort!.postMessage({ type: 'progress', rowsDone } satisfies WorkerMessage);
    }
  });
  parentPort!.postMessage({ type: 'done' } satisfies WorkerMessage);
}

if (!isMainThread && (workerData as Partial<WorkerJob> | null)?.kind === WORKER_KIND) {
  runWorker(workerData as WorkerJob);
}

/**
 * Mean over queries of |first k of found[q] ∩ first k of truth row q| / k. `truth` holds `truthK` ids per query
 * (row-major, best first), as written by {@link exactKnn}.
 */
export function recallAtK(found: ArrayLike<number>[], truth: Int32Array, truthK: number, k: number): number {
  if (!Number.isInteger(k) || k <= 0 || k > truthK)
    throw new RangeError(`k must be in 1..${truthK}, got ${k}`);
  if (found.length * truthK > truth.length) {
    throw new RangeError(
      `${found.length} result lists but ground truth for ${truth.length / truthK} queries`,
    );
  }
  if (found.length === 0) return 0;
  let sum = 0;
  for (let q = 0; q < found.length; q++) {
    const f = found[q]!;
    const t0 = q * truthK;
    const n = Math.min(k, f.length);
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const id = f[i]!;
      // Count each id once even if an index returns duplicates.
      let dup = false;
      for (let j = 0; j < i && !dup; j++) dup = f[j] === id;
      if (dup) continue;
      for (let j = 0; j < k; j++) {
        if (truth[t0 + j] === id) {
          hits++;
          break;
        }
      }
    }
    sum += hits / k;
  }
  return sum / found.length;
}
