/**
 * Micro-benchmark of the exact-scan hot path: distance kernels and the top-k heap over 100-D rows.
 *   npx tsx bench/distance.ts
 */
import { distanceFn, dot, l2sq } from '../src/engine/index/distance.js';
import { TopK } from '../src/engine/index/top-k.js';
import { rng } from '../src/platform/random.js';

const dim = 100;
const n = 200_000;
const r = rng(1);
const data = Float32Array.from({ length: n * dim }, () => r() - 0.5);
const q = Float32Array.from({ length: dim }, () => r() - 0.5);

function time(label: string, fn: () => number): void {
  fn(); // warm-up: let V8 optimise before measuring
  const rounds = 5;
  const t0 = performance.now();
  let sink = 0; // consumed below so the work cannot be optimised away
  for (let i = 0; i < rounds; i++) sink += fn();
  const ms = (performance.now() - t0) / rounds;
  const rowsPerSec = n / (ms / 1000);
  console.log(
    `${label.padEnd(34)} ${ms.toFixed(2).padStart(7)} ms per ${n} rows = ${(rowsPerSec / 1e6).toFixed(1)} M rows/s`,
  );
  if (Number.isNaN(sink)) console.log('NaN');
}

time('dot', () => {
  let s = 0;
  for (let i = 0; i < n; i++) s += dot(q, 0, data, i * dim, dim);
  return Math.abs(s) + 1;
});
time('l2sq', () => {
  let s = 0;
  for (let i = 0; i < n; i++) s += l2sq(q, 0, data, i * dim, dim);
  return s;
});
const ip = distanceFn('ip');
time('distanceFn(ip) + TopK(10) push', () => {
  const top = new TopK(10);
  for (let i = 0; i < n; i++) top.push(i, ip(q, 0, data, i * dim, dim));
  return top.result().slots.length;
});
time('distanceFn(ip) + TopK(100) push', () => {
  const top = new TopK(100);
  for (let i = 0; i < n; i++) top.push(i, ip(q, 0, data, i * dim, dim));
  return top.result().slots.length;
});
