/**
 * Snapshots: the whole in-memory state at one applied seq, so restart loads files (no graph rebuild) and
 * replays only the WAL tail. Written into a temp directory, fsynced, renamed into place; the newest complete
 * one wins. Vectors and graphs of sealed segments never change, so a new snapshot hard-links them from the
 * previous one instead of writing them again.
 *
 * Writing is asynchronous and the collection keeps serving meanwhile: the state is captured in one step
 * (captureSegment: copies of the small per-point arrays, references to vector rows, which are append-only)
 * and the files are written from that image on the libuv pool, graphs beside running searches. The caller
 * holds back index builds until the graphs are written, since their files must match `indexed`.
 *
 * snapshots/snap-<seq>/manifest.json
 *                     seg-<id>.vec   f32 rows (count × dim)
 *                     seg-<id>.hnsw  hnswlib graph of offsets [0, indexed)
 *                     seg-<id>.bin   f64 versions then u8 alive flags (count each)
 *                     seg-<id>.json  { keys, payloads }
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { link, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SurgeError } from '../../protocol/errors.js';
import { NativeHnswIndex } from '../index/native-hnsw-index.js';
import type { VectorIndex } from '../index/vector-index.js';
import { Segment, type SegmentParams } from '../segment/segment.js';
import type { Payload, PayloadSchemaType, SegmentState } from '../types.js';

const FORMAT = 1;

export interface SnapshotState {
  seq: number;
  nextSegmentId: number;
  appendableId: number;
  payloadIndexes: Record<string, PayloadSchemaType>;
  segments: SegmentImage[];
}

/** One segment as it was when captured: what the files are written from while the segment moves on. */
export interface SegmentImage {
  id: number;
  state: SegmentState;
  count: number;
  indexed: number;
  dim: number;
  /** The live array: rows [0, count) never change (appends go past count; growth swaps in a new array). */
  vectors: Float32Array;
  versions: Float64Array;
  alive: Uint8Array;
  keys: string[];
  payloads: (Payload | null)[];
  index: VectorIndex;
}

export function captureSegment(seg: Segment): SegmentImage {
  const n = seg.count;
  return {
    id: seg.id,
    state: seg.state,
    count: n,
    indexed: seg.indexed,
    dim: seg.params.dim,
    vectors: seg.vectors,
    versions: seg.versions.slice(0, n),
    alive: seg.alive.slice(0, n),
    keys: seg.keys.slice(0, n),
    // Payload objects are replaced, never edited in place, so the references stay as they were.
    payloads: seg.payloads.slice(0, n).map((p) => p ?? null),
    index: seg.index,
  };
}

interface SegmentManifest {
  id: number;
  state: SegmentState;
  count: number;
  indexed: number;
}

interface Manifest {
  format: number;
  seq: number;
  nextSegmentId: number;
  appendableId: number;
  payloadIndexes: Record<string, PayloadSchemaType>;
  segments: SegmentManifest[];
}

// Sorted by name = by seq, then by time: indexing progress alone (same seq) also earns a newer snapshot.
const snapName = (seq: number) =>
  `snap-${String(seq).padStart(20, '0')}-${String(Date.now()).padStart(15, '0')}`;

async function writeDurable(file: string, ...parts: Uint8Array[]): Promise<void> {
  const fh = await open(file, 'w');
  try {
    for (const p of parts) {
      let off = 0;
      while (off < p.byteLength) off += (await fh.write(p, off, p.byteLength - off)).bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a file written by someone else (hnswlib) or of a directory (makes renames/creates durable). */
async function fsyncPath(path: string, flags = 'r'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * { keys, payloads } as JSON, serialised a slice of points at a time between turns of the event loop: one
 * JSON.stringify of a million payloads would hold the engine thread for a second.
 */
async function writeKeysAndPayloads(file: string, seg: SegmentImage): Promise<void> {
  const SLICE = 8192;
  const parts: Buffer[] = [Buffer.from('{"keys":')];
  const list = async (items: unknown[]) => {
    if (items.length === 0) parts.push(Buffer.from('[]'));
    for (let i = 0; i < items.length; i += SLICE) {
      const json = JSON.stringify(items.slice(i, i + SLICE));
      const last = i + SLICE >= items.length;
      parts.push(Buffer.from(`${i === 0 ? '[' : ','}${json.slice(1, -1)}${last ? ']' : ''}`));
      await new Promise<void>((r) => setImmediate(r));
    }
  };
  await list(seg.keys);
  parts.push(Buffer.from(',"payloads":'));
  await list(seg.payloads);
  parts.push(Buffer.from('}'));
  await writeDurable(file, ...parts);
}

const bytesOf = (a: ArrayBufferView, byteLength = a.byteLength) =>
  new Uint8Array(a.buffer, a.byteOffset, byteLength);

function listSnapshots(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => n.startsWith('snap-'))
    .sort()
    .reverse();
}

export async function writeSnapshot(root: string, state: SnapshotState): Promise<void> {
  await mkdir(root, { recursive: true });
  const previous = listSnapshots(root)[0];
  const prevManifest = previous ? readManifest(join(root, previous)) : undefined;
  const name = snapName(state.seq);
  const final = join(root, previous !== undefined && name <= previous ? `${previous}x` : name);
  const tmp = join(root, `tmp-${name}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  const manifest: Manifest = {
    format: FORMAT,
    seq: state.seq,
    nextSegmentId: state.nextSegmentId,
    appendableId: state.appendableId,
    payloadIndexes: state.payloadIndexes,
    segments: [],
  };
  for (const seg of state.segments) {
    const m: SegmentManifest = { id: seg.id, state: seg.state, count: seg.count, indexed: seg.indexed };
    const prev = prevManifest?.segments.find((s) => s.id === seg.id);
    const reuse = previous && prev?.state === 'sealed' && seg.state === 'sealed' && prev.count === seg.count;
    for (const ext of ['vec', 'hnsw'] as const) {
      const file = join(tmp, `seg-${seg.id}.${ext}`);
      if (reuse) await link(join(root, previous, `seg-${seg.id}.${ext}`), file);
      else if (ext === 'vec') await writeDurable(file, bytesOf(seg.vectors, seg.count * seg.dim * 4));
      else if (seg.indexed > 0) {
        await seg.index.save(file);
        await fsyncPath(file, 'r+');
      }
    }
    await writeDurable(join(tmp, `seg-${seg.id}.bin`), bytesOf(seg.versions), bytesOf(seg.alive));
    await writeKeysAndPayloads(join(tmp, `seg-${seg.id}.json`), seg);
    manifest.segments.push(m);
  }
  await writeDurable(join(tmp, 'manifest.json'), Buffer.from(JSON.stringify(manifest)));
  await fsyncPath(tmp);
  await rename(tmp, final);
  await fsyncPath(root);
  for (const old of listSnapshots(root).slice(1)) await rm(join(root, old), { recursive: true, force: true });
}

function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (m.format !== FORMAT) throw new Error(`unknown format ${m.format}`);
    return m;
  } catch (e) {
    throw new SurgeError(
      'SNAPSHOT_CORRUPTED',
      `cannot read snapshot manifest ${file}: ${(e as Error).message}`,
      {
        file,
      },
    );
  }
}

export interface LoadedSnapshot {
  seq: number;
  nextSegmentId: number;
  appendableId: number;
  payloadIndexes: Record<string, PayloadSchemaType>;
  segments: Segment[];
}

/** The newest complete snapshot, or null. Leftover temp directories of an interrupted write are removed. */
export function readLatestSnapshot(
  root: string,
  paramsFor: (p: { id: number }) => SegmentParams,
): LoadedSnapshot | null {
  if (!existsSync(root)) return null;
  for (const n of readdirSync(root))
    if (n.startsWith('tmp-')) rmSync(join(root, n), { recursive: true, force: true });
  const newest = listSnapshots(root)[0];
  if (!newest) return null;
  const dir = join(root, newest);
  const manifest = readManifest(dir);
  const segments = manifest.segments.map((m) => loadSegment(dir, m, paramsFor({ id: m.id })));
  return {
    seq: manifest.seq,
    nextSegmentId: manifest.nextSegmentId,
    appendableId: manifest.appendableId,
    payloadIndexes: manifest.payloadIndexes,
    segments,
  };
}

function readExact(file: string, bytes: number): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new SurgeError('SNAPSHOT_CORRUPTED', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  if (buf.length !== bytes) {
    throw new SurgeError('SNAPSHOT_CORRUPTED', `${file} has ${buf.length} bytes; expected ${bytes}`, {
      file,
    });
  }
  return buf;
}

function loadSegment(dir: string, m: SegmentManifest, params: SegmentParams): Segment {
  const { dim } = params;
  const vec = readExact(join(dir, `seg-${m.id}.vec`), m.count * dim * 4);
  const bin = readExact(join(dir, `seg-${m.id}.bin`), m.count * 9);
  const jsonFile = join(dir, `seg-${m.id}.json`);
  let meta: { keys: string[]; payloads: (Payload | null)[] };
  try {
    meta = JSON.parse(readFileSync(jsonFile, 'utf8'));
  } catch (e) {
    throw new SurgeError('SNAPSHOT_CORRUPTED', `cannot read ${jsonFile}: ${(e as Error).message}`, {
      file: jsonFile,
    });
  }
  const cap = Math.max(m.count, Math.min(params.capacity, 1024));
  const vectors = new Float32Array(cap * dim);
  new Uint8Array(vectors.buffer).set(vec);
  const versions = new Float64Array(cap);
  new Uint8Array(versions.buffer).set(bin.subarray(0, m.count * 8));
  const alive = new Uint8Array(cap);
  alive.set(bin.subarray(m.count * 8));
  const base = m.id * params.capacity;
  let index: NativeHnswIndex | undefined;
  if (m.indexed > 0) {
    const live: number[] = [];
    for (let off = 0; off < m.indexed; off++) if (alive[off] === 1) live.push(base + off);
    index = NativeHnswIndex.load(
      join(dir, `seg-${m.id}.hnsw`),
      dim,
      params.space,
      { m: params.m, efConstruction: params.efConstruction },
      live,
    );
  }
  const seg = new Segment(params, index);
  seg.vectors = vectors;
  seg.versions = versions;
  seg.alive = alive;
  seg.count = m.count;
  seg.indexed = m.indexed;
  seg.state = m.state;
  let live = 0;
  for (let off = 0; off < m.count; off++) {
    seg.keys[off] = meta.keys[off]!;
    seg.payloads[off] = meta.payloads[off] ?? undefined;
    live += alive[off]!;
  }
  seg.live = live;
  return seg;
}
