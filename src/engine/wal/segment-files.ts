/** Naming, listing and directory durability of WAL segment files (`wal-<first seq, 20 digits>.log`). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isSurgeError, SurgeError } from '../../protocol/errors.js';

/** One file of the log. `bytes` and `lastSeq` cover only what is durable (written and synced). */
export interface Segment {
  readonly file: string;
  readonly firstSeq: number;
  lastSeq: number;
  bytes: number;
  /**
   * Where records start, about every SEEK_MARK_BYTES of the file, in file order: a reader resuming after a
   * seq starts at the last mark at or before it instead of scanning the file from its first byte.
   */
  readonly marks: SeekMark[];
}

export interface SeekMark {
  seq: number;
  offset: number;
}

export const SEEK_MARK_BYTES = 256 * 1024;

/** Adds a mark for the record (seq, offset) when the last one is at least SEEK_MARK_BYTES behind. */
export function markRecord(segment: Segment, seq: number, offset: number): void {
  const last = segment.marks.at(-1);
  if (last === undefined ? offset >= SEEK_MARK_BYTES : offset - last.offset >= SEEK_MARK_BYTES)
    segment.marks.push({ seq, offset });
}

/** Offset of the last mark whose record is at or before the first one with seq > afterSeq (0: the start). */
export function seekOffset(segment: Segment, afterSeq: number): number {
  const m = segment.marks;
  let lo = 0;
  let hi = m.length; // first mark with seq > afterSeq + 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (m[mid]!.seq <= afterSeq + 1) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0; i--) if (m[i]!.offset < segment.bytes) return m[i]!.offset;
  return 0;
}

const SEGMENT_NAME = /^wal-(\d{20})\.log$/;

export function segmentFileName(firstSeq: number): string {
  return `wal-${String(firstSeq).padStart(20, '0')}.log`;
}

/** Segment files of `dir` in log order (zero padding makes name order seq order); other names are ignored. */
export async function listSegmentFiles(dir: string): Promise<{ file: string; firstSeq: number }[]> {
  const found: { file: string; firstSeq: number }[] = [];
  for (const name of (await fs.readdir(dir)).sort()) {
    const match = SEGMENT_NAME.exec(name);
    if (match === null) continue;
    const file = path.join(dir, name);
    const firstSeq = Number(match[1]);
    if (!Number.isSafeInteger(firstSeq)) {
      throw walCorrupted(file, 0, 'the seq in the file name is above 2^53 - 1');
    }
    found.push({ file, firstSeq });
  }
  return found;
}

/** A created, renamed or deleted file is only durable once its directory entry is: fsync the directory. */
export async function syncDir(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync and does not need it (NTFS journals metadata).
  if (process.platform === 'win32') return;
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `dir` (and parents) and makes the new entries durable. */
export async function ensureDir(dir: string): Promise<void> {
  const firstCreated = await fs.mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  for (let d = dir; ; d = path.dirname(d)) {
    await syncDir(path.dirname(d));
    if (d === firstCreated || path.dirname(d) === d) break;
  }
}

export function walCorrupted(file: string, offset: number, reason: string): SurgeError {
  return new SurgeError('WAL_CORRUPTED', `WAL corrupted in ${file} at offset ${offset}: ${reason}`, {
    file,
    offset,
  });
}

/** File-system failures leave the WAL as STORAGE_ERROR (disk full, permissions); catalogue errors pass through. */
export function asStorageError(e: unknown, context: string): SurgeError {
  if (isSurgeError(e)) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const error = new SurgeError('STORAGE_ERROR', `${context}: ${e instanceof Error ? e.message : String(e)}`, {
    ...(code === undefined ? {} : { code }),
  });
  error.cause = e;
  return error;
}
