/** Shared helpers of the WAL tests: scratch directories, deterministic ops, reading the files back. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WalRecord } from '../../../src/engine/wal/index.js';
import { frameSize } from '../../../src/engine/wal/record.js';

const made: string[] = [];

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'surgevec-wal-'));
  made.push(dir);
  return dir;
}

/** For afterEach: removes every directory tempDir handed out. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Distinct, reproducible bytes per (seq, length), so a record read back in the wrong place shows. */
export function opFor(seq: number, length = 32): Uint8Array {
  const op = new Uint8Array(length);
  for (let i = 0; i < length; i++) op[i] = (seq * 31 + i * 7) & 0xff;
  return op;
}

export async function collect(records: AsyncIterable<WalRecord> | Iterable<WalRecord>): Promise<WalRecord[]> {
  const out: WalRecord[] = [];
  for await (const r of records) out.push({ seq: r.seq, op: Uint8Array.from(r.op) });
  return out;
}

export function seqs(records: readonly WalRecord[]): number[] {
  return records.map((r) => r.seq);
}

/** Absolute paths of the segment files in log order. */
export function walFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => /^wal-\d{20}\.log$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Byte offset at which each record starts in a file holding records with these op lengths. */
export function recordOffsets(opLengths: readonly number[]): number[] {
  const offsets: number[] = [];
  let at = 0;
  for (const len of opLengths) {
    offsets.push(at);
    at += frameSize(len);
  }
  return offsets;
}

export function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, offset);
    b[0] = b[0]! ^ 0xff;
    fs.writeSync(fd, b, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}
