/**
 * The subscriptions of one collection as a matrix the kernel scores a batch of points against: one row per
 * slot, each with a bar (threshold, or the k-th best score of a top-k subscription). `score` returns every
 * (point, slot) pair whose exact score passes the slot's bar, point-major.
 *
 * The kernel is a filter, never the judge: it runs with every bar lowered by a bound on its own error, and
 * each pair it lets through is scored again exactly (float64 over the stored float32 values). So nothing is
 * missed and nothing false is reported, whatever the kernel's precision:
 * - f32 lanes: error ≤ γ·Σ|xᵢqᵢ| with γ = width·2⁻²³ (Higham's bound for a float32 dot product, rounded up);
 * - int16 lanes (cosine and dot): vectors are scaled to int16 (x̂ = round(sₓx), q̂ = round(s_q q)), and
 *   |x̂·q̂ − sₓs_q x·q| ≤ ½(sₓ‖x‖₁ + s_q‖q‖₁) + ¼·width. Scales keep |x̂ᵢ|, |q̂ᵢ| ≤ 32767 and ‖x̂‖·‖q̂‖ < 2³¹, so
 *   the int32 sums cannot overflow (Cauchy–Schwarz bounds every partial sum too).
 */
import type { Distance } from '../engine/index.js';
import { Metric, normSq } from './metric.js';
import {
  type Match4,
  RECORD_BYTES,
  scalarMatch4,
  simdKernels,
  type WasmMemory,
  wasmMemory,
} from './simd-kernel.js';

export interface Candidates {
  length: number;
  /** Row of the point in the scored batch. */
  point: Int32Array;
  slot: Int32Array;
  /** Exact score (Qdrant's: similarity, or distance for Euclid). */
  score: Float64Array;
}

export type Lanes = 'f32' | 'i16';

const PAGE = 65536;
/** Bytes of subscription rows scored against a whole batch at a time (a share of a core's L2). */
const TILE_BYTES = 192 * 1024;
const GAMMA_PER_COLUMN = 1.2e-7;
const I16_MAX = 32767;
/** ‖x̂‖ and ‖q̂‖ each at most this: their product stays below 2³¹. */
const I16_NORM = 46000;
const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

export class ScoreMatrix {
  readonly metric: Metric;
  readonly lanes: Lanes;
  readonly simd: boolean;
  private capacity = 0;
  private readonly memory: WasmMemory = wasmMemory();
  private readonly match4: Match4;
  /** Per slot: the subscription vector (dim floats), ‖q‖², score bar, kernel bar; NaN score bar = free. */
  private vectors = new Float32Array(0);
  private qNormSq: Float64Array = new Float64Array(0);
  private qNorm: Float64Array = new Float64Array(0);
  private scoreBar: Float64Array = new Float64Array(0);
  private kernelBar: Float64Array = new Float64Array(0);
  /** int16 lanes: each row's scale and ‖q‖₁. */
  private qScale: Float64Array = new Float64Array(0);
  private qL1: Float64Array = new Float64Array(0);
  private live = 0;
  /** Byte offsets of the regions in `memory`. */
  private subsAt = 0;
  private barsAt = 0;
  private pointsAt = 0;
  private outAt = 0;
  private pointRows = 0;

  constructor(distance: Distance, dim: number, options: { simd?: boolean; lanes?: Lanes } = {}) {
    this.metric = new Metric(distance, dim);
    const kernels = options.simd === false ? undefined : simdKernels(this.memory, this.metric.width);
    this.simd = kernels !== undefined;
    // int16 needs SIMD, and a metric without the Euclid column (−‖x‖²/2 has no useful int16 scale).
    this.lanes = kernels && !this.metric.lowerIsBetter && options.lanes !== 'f32' ? 'i16' : 'f32';
    this.match4 = kernels ? kernels[this.lanes] : scalarMatch4(this.memory);
    this.layout(64, 64);
  }

  get size(): number {
    return this.live;
  }

  private get laneBytes(): number {
    return this.lanes === 'f32' ? 4 : 2;
  }

  /** Sets slot `slot` (growing the matrix as needed). `bar` undefined: every point passes. */
  set(slot: number, vector: Float32Array, bar: number | undefined): void {
    if (slot >= this.capacity) this.layout(Math.max(slot + 1, this.capacity * 2), this.pointRows);
    const dim = this.metric.dim;
    this.vectors.set(vector.subarray(0, dim), slot * dim);
    if (Number.isNaN(this.scoreBar[slot]!)) this.live++;
    this.qNormSq[slot] = normSq(vector, 0, dim);
    this.qNorm[slot] = Math.sqrt(this.qNormSq[slot]!);
    this.writeRow(slot);
    this.writeBar(slot, bar);
  }

  setBar(slot: number, bar: number | undefined): void {
    if (slot >= this.capacity || Number.isNaN(this.scoreBar[slot]!)) return;
    this.writeBar(slot, bar);
  }

  private writeBar(slot: number, bar: number | undefined): void {
    const m = this.metric;
    this.scoreBar[slot] = bar ?? (m.lowerIsBetter ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
    this.kernelBar[slot] = m.kernelBar(bar, this.qNormSq[slot]!);
  }

  remove(slot: number): void {
    if (slot >= this.capacity || Number.isNaN(this.scoreBar[slot]!)) return;
    this.live--;
    this.scoreBar[slot] = Number.NaN;
    this.kernelBar[slot] = Number.POSITIVE_INFINITY;
  }

  /** Scores `n` points (`points`: n × dim floats, as the engine stores them). */
  score(points: Float32Array, n: number): Candidates {
    if (n === 0 || this.live === 0) return new Collector().result();
    const m = this.metric;
    const dim = m.dim;
    const width = m.width;
    const rows = Math.ceil(n / 4) * 4;
    if (rows > this.pointRows) this.layout(this.capacity, rows);
    if (this.lanes === 'f32') this.writePointsF32(points, n, rows);
    else this.writePointsI16(points, n, rows);

    const f = new Float32Array(this.memory.buffer);
    const iv = new Int32Array(this.memory.buffer);
    const accs = this.lanes === 'f32' ? f : iv;
    const blocks = this.capacity >> 2;
    const cands = new Collector();
    const rec0 = this.outAt >> 2;
    const recInts = RECORD_BYTES >> 2;
    const bars0 = this.barsAt >> 2;
    const blockBytes = width * 4 * this.laneBytes;
    const rowBytes = width * this.laneBytes;
    // Tiles of subscriptions small enough to stay in the core's cache while every point block passes over
    // them: the matrix is read from memory once per batch, not once per 4 points.
    const tile = Math.max(1, Math.floor(TILE_BYTES / blockBytes));
    for (let t0 = 0; t0 < blocks; t0 += tile) {
      const nb = Math.min(tile, blocks - t0);
      const subs = this.subsAt + t0 * blockBytes;
      const bars = this.barsAt + t0 * 16;
      for (let pb = 0; pb < rows; pb += 4) {
        const records = this.match4(this.pointsAt + pb * rowBytes, subs, nb, width, bars, this.outAt);
        for (let r = 0; r < records; r++) {
          const rec = rec0 + r * recInts;
          const b = t0 + iv[rec + 1]!;
          for (let p = 0; p < 4 && pb + p < n; p++) {
            for (let lane = 0; lane < 4; lane++) {
              const slot = b * 4 + lane;
              if (accs[rec + 2 + p * 4 + lane]! < accs[bars0 + slot]!) continue;
              const bar = this.scoreBar[slot]!;
              if (Number.isNaN(bar)) continue;
              const s = m.score(this.vectors.subarray(slot * dim, (slot + 1) * dim), points, pb + p);
              if (m.passes(s, bar)) cands.push(pb + p, slot, s);
            }
          }
        }
      }
    }
    return cands.result();
  }

  private writePointsF32(points: Float32Array, n: number, rows: number): void {
    const m = this.metric;
    const width = m.width;
    const f = new Float32Array(this.memory.buffer);
    const at = this.pointsAt >> 2;
    let maxNorm = 0;
    for (let p = 0; p < n; p++) {
      m.pointRow(points, p, f, at + p * width);
      const norm = Math.sqrt(normSq(points, p * m.dim, m.dim));
      if (norm > maxNorm) maxNorm = norm;
    }
    f.fill(0, at + n * width, at + rows * width);
    // Bars lowered by the float32 error bound for this batch (largest point norm `maxNorm`).
    const gamma = width * GAMMA_PER_COLUMN + 1e-7;
    const euclid = m.lowerIsBetter;
    const bars = this.barsAt >> 2;
    for (let s = 0; s < this.capacity; s++) {
      const kb = this.kernelBar[s]!;
      if (!Number.isFinite(kb)) {
        f[bars + s] = kb;
        continue;
      }
      const qn = this.qNorm[s]!;
      const scale = qn * maxNorm + (euclid ? (maxNorm * maxNorm + 1) / 2 : 0);
      f[bars + s] = kb - gamma * scale - 1e-30;
    }
  }

  private writePointsI16(points: Float32Array, n: number, rows: number): void {
    const { dim, width } = this.metric;
    // One scale for the batch: the largest that keeps every point within the int16 and norm limits.
    let scale = Number.POSITIVE_INFINITY;
    let maxL1 = 0;
    for (let p = 0; p < n; p++) {
      let maxAbs = 0;
      let sq = 0;
      let l1 = 0;
      for (let j = 0; j < dim; j++) {
        const v = points[p * dim + j]!;
        const a = Math.abs(v);
        if (a > maxAbs) maxAbs = a;
        sq += v * v;
        l1 += a;
      }
      if (maxAbs > 0) scale = Math.min(scale, I16_MAX / maxAbs, I16_NORM / Math.sqrt(sq));
      if (l1 > maxL1) maxL1 = l1;
    }
    if (!Number.isFinite(scale)) scale = 1;
    const h = new Int16Array(this.memory.buffer);
    const at = this.pointsAt >> 1;
    for (let p = 0; p < n; p++) {
      for (let j = 0; j < dim; j++) h[at + p * width + j] = Math.round(points[p * dim + j]! * scale);
      h.fill(0, at + p * width + dim, at + (p + 1) * width);
    }
    h.fill(0, at + n * width, at + rows * width);
    const iv = new Int32Array(this.memory.buffer);
    const bars = this.barsAt >> 2;
    const slack = 0.25 * width + 2;
    for (let s = 0; s < this.capacity; s++) {
      const kb = this.kernelBar[s]!;
      if (kb === Number.POSITIVE_INFINITY) iv[bars + s] = I32_MAX;
      else if (kb === Number.NEGATIVE_INFINITY) iv[bars + s] = I32_MIN;
      else {
        const sq = this.qScale[s]!;
        const b = Math.floor(scale * sq * kb - 0.5 * (scale * maxL1 + sq * this.qL1[s]!) - slack);
        iv[bars + s] = Math.max(I32_MIN, Math.min(I32_MAX, b));
      }
    }
  }

  private writeRow(slot: number): void {
    const m = this.metric;
    const q = this.vectors.subarray(slot * m.dim, (slot + 1) * m.dim);
    if (this.lanes === 'f32') {
      const row = new Float32Array(m.width);
      m.subscriptionRow(q, row, 0);
      const f = new Float32Array(this.memory.buffer);
      const base = (this.subsAt >> 2) + (slot >> 2) * m.width * 4 + (slot & 3);
      for (let j = 0; j < m.width; j++) f[base + j * 4] = row[j]!;
      return;
    }
    let maxAbs = 0;
    let l1 = 0;
    for (const v of q) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      l1 += Math.abs(v);
    }
    const scale = maxAbs > 0 ? Math.min(I16_MAX / maxAbs, I16_NORM / this.qNorm[slot]!) : 1;
    this.qScale[slot] = scale;
    this.qL1[slot] = l1;
    // Per pair of coordinates (j, j+1): lane l's two values at 8·pair + 2·l.
    const h = new Int16Array(this.memory.buffer);
    const base = (this.subsAt >> 1) + (slot >> 2) * m.width * 4 + (slot & 3) * 2;
    for (let j = 0; j < m.width; j++) {
      h[base + (j >> 1) * 8 + (j & 1)] = j < m.dim ? Math.round(q[j]! * scale) : 0;
    }
  }

  /** (Re)places the regions for `capacity` slots and `pointRows` batch rows, keeping the slots' data. */
  private layout(capacity: number, pointRows: number): void {
    capacity = Math.ceil(capacity / 4) * 4;
    const width = this.metric.width;
    const grown = capacity > this.capacity;
    if (grown) {
      const dim = this.metric.dim;
      const vectors = new Float32Array(capacity * dim);
      vectors.set(this.vectors);
      this.vectors = vectors;
      this.qNormSq = grow(this.qNormSq, capacity, 0);
      this.qNorm = grow(this.qNorm, capacity, 0);
      this.scoreBar = grow(this.scoreBar, capacity, Number.NaN);
      this.kernelBar = grow(this.kernelBar, capacity, Number.POSITIVE_INFINITY);
      this.qScale = grow(this.qScale, capacity, 1);
      this.qL1 = grow(this.qL1, capacity, 0);
    }
    const subsBytes = capacity * width * this.laneBytes;
    const barsBytes = capacity * 4;
    const pointsBytes = pointRows * width * this.laneBytes;
    const outBytes = (capacity / 4) * RECORD_BYTES;
    const total = subsBytes + barsBytes + pointsBytes + outBytes;
    const have = this.memory.buffer.byteLength;
    if (total > have) this.memory.grow(Math.ceil((total - have) / PAGE));
    const oldCapacity = this.capacity;
    this.capacity = capacity;
    this.pointRows = pointRows;
    this.subsAt = 0;
    this.barsAt = subsBytes;
    this.pointsAt = this.barsAt + barsBytes;
    this.outAt = this.pointsAt + pointsBytes;
    if (grown || oldCapacity === 0) {
      new Uint8Array(this.memory.buffer, 0, subsBytes).fill(0);
      for (let s = 0; s < oldCapacity; s++) if (!Number.isNaN(this.scoreBar[s]!)) this.writeRow(s);
    }
  }
}

function grow(a: Float64Array, n: number, fill: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(n).fill(fill);
  out.set(a);
  return out;
}

class Collector {
  private n = 0;
  private point = new Int32Array(16);
  private slot = new Int32Array(16);
  private score = new Float64Array(16);

  private sorted(): boolean {
    for (let i = 1; i < this.n; i++) {
      const d = this.point[i]! - this.point[i - 1]!;
      if (d < 0 || (d === 0 && this.slot[i]! < this.slot[i - 1]!)) return false;
    }
    return true;
  }

  push(p: number, s: number, score: number): void {
    if (this.n === this.point.length) {
      const cap = this.n * 2;
      const point = new Int32Array(cap);
      point.set(this.point);
      this.point = point;
      const slot = new Int32Array(cap);
      slot.set(this.slot);
      this.slot = slot;
      const sc = new Float64Array(cap);
      sc.set(this.score);
      this.score = sc;
    }
    this.point[this.n] = p;
    this.slot[this.n] = s;
    this.score[this.n] = score;
    this.n++;
  }

  /** Point-major, then by slot (tiles report out of order). */
  result(): Candidates {
    if (!this.sorted()) {
      const order = Array.from({ length: this.n }, (_, i) => i).sort(
        (a, b) => this.point[a]! - this.point[b]! || this.slot[a]! - this.slot[b]!,
      );
      const point = new Int32Array(this.n);
      const slot = new Int32Array(this.n);
      const score = new Float64Array(this.n);
      for (let i = 0; i < this.n; i++) {
        point[i] = this.point[order[i]!]!;
        slot[i] = this.slot[order[i]!]!;
        score[i] = this.score[order[i]!]!;
      }
      return { length: this.n, point, slot, score };
    }
    return {
      length: this.n,
      point: this.point.subarray(0, this.n),
      slot: this.slot.subarray(0, this.n),
      score: this.score.subarray(0, this.n),
    };
  }
}
