/**
 * Snapshots: the whole in-memory state at one applied seq, so restart loads files (no graph rebuild) and
 * replays only the WAL tail. Written into a temp directory, fsynced, renamed into place; the newest complete
 * one wins. Vectors and graphs of sealed segments never change, so a new snapshot hard-links them from the
 * previous one instead of writing them again.
 *
 * snapshots/snap-<seq>/manifest.json
 *                     seg-<id>.vec   f32 rows (count × dim)
 *                     seg-<id>.hnsw  hnswlib graph of offsets [0, indexed)
 *                     seg-<id>.bin   f64 versions then u8 alive flags (count each)
 *                     seg-<id>.json  { keys, payloads }
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { SurgeError } from '../../protocol/errors.js';
import { NativeHnswIndex } from '../index/native-hnsw-index.js';
import { Segment, type SegmentParams } from '../segment/segment.js';
import type { Payload, PayloadSchemaType, SegmentState } from '../types.js';

const FORMAT = 1;

export interface SnapshotState {
  seq: number;
  nextSegmentId: number;
  appendableId: number;
  payloadIndexes: Record<string, PayloadSchemaType>;
  segments: Segment[];
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

function writeDurable(file: string, ...parts: Uint8Array[]): void {
  const fd = openSync(file, 'w');
  try {
    for (const p of parts) {
      let off = 0;
      while (off < p.byteLength) off += writeSync(fd, p, off, p.byteLength - off);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a file written by someone else (hnswlib) or of a directory (makes renames/creates durable). */
function fsyncPath(path: string, flags = 'r'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
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

export function writeSnapshot(root: string, state: SnapshotState): void {
  mkdirSync(root, { recursive: true });
  const previous = listSnapshots(root)[0];
  const prevManifest = previous ? readManifest(join(root, previous)) : undefined;
  const name = snapName(state.seq);
  const final = join(root, previous !== undefined && name <= previous ? `${previous}x` : name);
  const tmp = join(root, `tmp-${name}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
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
    const dim = seg.params.dim;
    const prev = prevManifest?.segments.find((s) => s.id === seg.id);
    const reuse = previous && prev?.state === 'sealed' && seg.state === 'sealed' && prev.count === seg.count;
    for (const ext of ['vec', 'hnsw'] as const) {
      const file = join(tmp, `seg-${seg.id}.${ext}`);
      if (reuse) linkSync(join(root, previous, `seg-${seg.id}.${ext}`), file);
      else if (ext === 'vec') writeDurable(file, bytesOf(seg.vectors, seg.count * dim * 4));
      else if (seg.indexed > 0) {
        seg.index.save(file);
        fsyncPath(file, 'r+');
      }
    }
    writeDurable(
      join(tmp, `seg-${seg.id}.bin`),
      bytesOf(seg.versions, seg.count * 8),
      bytesOf(seg.alive, seg.count),
    );
    const payloads = seg.payloads.slice(0, seg.count).map((p) => p ?? null);
    writeDurable(
      join(tmp, `seg-${seg.id}.json`),
      Buffer.from(JSON.stringify({ keys: seg.keys.slice(0, seg.count), payloads })),
    );
    manifest.segments.push(m);
  }
  writeDurable(join(tmp, 'manifest.json'), Buffer.from(JSON.stringify(manifest)));
  fsyncPath(tmp);
  renameSync(tmp, final);
  fsyncPath(root);
  for (const old of listSnapshots(root).slice(1)) rmSync(join(root, old), { recursive: true, force: true });
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
