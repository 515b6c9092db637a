/** Vector validation at the engine's door: the only place a number[] from outside becomes a Float32Array. */
import { SurgeError } from '../../protocol/errors.js';
import { normalizeInPlace } from '../index/distance.js';
import type { Distance } from '../types.js';

const F32_MAX = 3.4028234663852886e38;

/** Validates `input` against the collection and writes it into `out` at row `row` (normalised for Cosine). */
export function writeVector(
  input: unknown,
  dim: number,
  distance: Distance,
  out: Float32Array,
  row: number,
  where = 'vector',
): void {
  if (!Array.isArray(input) && !(input instanceof Float32Array) && !(input instanceof Float64Array)) {
    throw new SurgeError('INVALID_VECTOR', `${where} must be an array of numbers`);
  }
  const v = input as ArrayLike<unknown>;
  if (v.length !== dim) {
    throw new SurgeError(
      'DIMENSION_MISMATCH',
      `${where} has ${v.length} dimensions; the collection has ${dim}`,
      {
        expected: dim,
        got: v.length,
      },
    );
  }
  const off = row * dim;
  for (let i = 0; i < dim; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || Math.abs(x) > F32_MAX) {
      throw new SurgeError(
        'INVALID_VECTOR',
        `${where}[${i}] is ${typeof x === 'number' ? String(x) : typeof x}; expected a finite float32 number`,
        { index: i },
      );
    }
    out[off + i] = x;
  }
  if (distance === 'Cosine') normalizeInPlace(out, off, dim);
}

export function toVector(input: unknown, dim: number, distance: Distance, where = 'vector'): Float32Array {
  const out = new Float32Array(dim);
  writeVector(input, dim, distance, out, 0, where);
  return out;
}
