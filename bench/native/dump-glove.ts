/**
 * Writes the first N GloVe-100 base rows (L2-normalised), the 1,000 held-out queries and their exact cosine
 * top-10 as raw little-endian files, for the C++ core bake-off (core-bakeoff.cc), which has no JSON or npm.
 *   npx tsx bench/native/dump-glove.ts [--base 100000] [--out .cache/bakeoff]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exactKnnParallel, loadGlove } from '../../src/bench/datasets/index.js';
import { normalizeInPlace } from '../../src/engine/index/distance.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: '100000' },
    out: { type: 'string', default: '.cache/bakeoff' },
  },
});
const d = await loadGlove({ base: Number(values.base), quiet: true });
const dim = d.dim;
for (let i = 0; i < d.baseCount; i++) normalizeInPlace(d.base, i * dim, dim);
for (let i = 0; i < d.queryCount; i++) normalizeInPlace(d.queries, i * dim, dim);
const gt = await exactKnnParallel(d.base, dim, d.queries, 10, 'cosine');
mkdirSync(values.out, { recursive: true });
const bytes = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
writeFileSync(join(values.out, 'base.f32'), bytes(d.base));
writeFileSync(join(values.out, 'queries.f32'), bytes(d.queries));
writeFileSync(join(values.out, 'gt10.i32'), bytes(gt));
console.log(`${d.baseCount} base, ${d.queryCount} queries, dim ${dim} → ${values.out}`);
