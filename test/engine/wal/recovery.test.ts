import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Wal } from '../../../src/engine/wal/index.js';
import { encodeRecord, frameSize } from '../../../src/engine/wal/record.js';
import { SurgeError } from '../../../src/protocol/errors.js';
import {
  collect,
  flipByte,
  opFor,
  recordOffsets,
  removeTempDirs,
  seqs,
  tempDir,
  walFiles,
} from './wal-fixtures.js';

afterEach(removeTempDirs);

const OP_BYTES = 40;
const FRAME = frameSize(OP_BYTES);

/** Appends seqs 1..count with OP_BYTES ops and closes. */
async function writeLog(dir: string, count: number, segmentBytes?: number): Promise<void> {
  const wal = await Wal.open(dir, { segmentBytes });
  for (let seq = 1; seq <= count; seq++) await wal.append(seq, opFor(seq, OP_BYTES));
  await wal.close();
}

function fileName(firstSeq: number): string {
  return `wal-${String(firstSeq).padStart(20, '0')}.log`;
}

function writeFile(dir: string, firstSeq: number, records: [seq: number, op: Uint8Array][]): string {
  const file = path.join(dir, fileName(firstSeq));
  fs.writeFileSync(file, Buffer.concat(records.map(([seq, op]) => encodeRecord(seq, op))));
  return file;
}

async function openError(dir: string): Promise<SurgeError> {
  const e = await Wal.open(dir).then(
    async (wal) => {
      await wal.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SurgeError);
  return e as SurgeError;
}

function expectCorrupted(e: SurgeError, file: string, offset: number, reason: RegExp): void {
  expect(e.code).toBe('WAL_CORRUPTED');
  expect(path.isAbsolute(file)).toBe(true);
  expect(e.message).toContain(`WAL corrupted in ${file} at offset ${offset}: `);
  expect(e.message).toMatch(reason);
  expect(e.details).toEqual({ file, offset });
}

describe('Wal recovery: torn tails are cut', () => {
  const cuts = [1, 3, 7, 8, 9, 15, 16, 17, FRAME - 1];

  it.each(cuts)('cuts a last record torn after %i bytes and keeps appending', async (kept) => {
    const dir = tempDir();
    await writeLog(dir, 10);
    const [file] = walFiles(dir);
    fs.truncateSync(file!, 9 * FRAME + kept);

    const wal = await Wal.open(dir);
    expect(wal.lastSeq).toBe(9);
    expect(wal.openReport).toEqual({
      files: 1,
      records: 9,
      lastSeq: 9,
      truncatedBytes: kept,
      truncatedFile: file,
    });
    expect(fs.statSync(file!).size).toBe(9 * FRAME);
    await wal.append(10, opFor(1000, 7));
    await wal.append(11, opFor(11, OP_BYTES));
    await wal.close();

    const reopened = await Wal.open(dir);
    expect(reopened.openReport.truncatedBytes).toBe(0);
    const records = await collect(reopened.replay(0));
    expect(seqs(records)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(records[9]!.op).toEqual(opFor(1000, 7));
    await reopened.close();
  });

  it('a cut exactly between records is not a torn tail', async () => {
    const dir = tempDir();
    await writeLog(dir, 10);
    fs.truncateSync(walFiles(dir)[0]!, 7 * FRAME);
    const wal = await Wal.open(dir);
    expect(wal.openReport).toEqual({ files: 1, records: 7, lastSeq: 7, truncatedBytes: 0 });
    await wal.close();
  });

  it('cuts only the last file when the log spans several', async () => {
    const dir = tempDir();
    await writeLog(dir, 40, 4 * FRAME); // 4 records per file
    const files = walFiles(dir);
    expect(files).toHaveLength(10);
    fs.truncateSync(files[9]!, 3 * FRAME + 20);
    const wal = await Wal.open(dir, { segmentBytes: 4 * FRAME });
    expect(wal.openReport).toMatchObject({ files: 10, records: 39, lastSeq: 39, truncatedBytes: 20 });
    expect(seqs(await collect(wal.replay(35)))).toEqual([36, 37, 38, 39]);
    await wal.close();
  });

  it('removes a last file left empty by the cut and starts the next one on append', async () => {
    const dir = tempDir();
    await writeLog(dir, 9, 4 * FRAME);
    const files = walFiles(dir);
    expect(files.map((f) => path.basename(f))).toEqual([fileName(1), fileName(5), fileName(9)]);
    fs.truncateSync(files[2]!, 5);

    const wal = await Wal.open(dir, { segmentBytes: 4 * FRAME });
    expect(wal.openReport).toEqual({
      files: 3,
      records: 8,
      lastSeq: 8,
      truncatedBytes: 5,
      truncatedFile: files[2],
    });
    expect(walFiles(dir)).toEqual(files.slice(0, 2));
    // The seq after a crash need not be the one the lost file was named after.
    await wal.append(12, opFor(12, OP_BYTES));
    await wal.close();
    expect(walFiles(dir).map((f) => path.basename(f))).toEqual([fileName(1), fileName(5), fileName(12)]);
    const reopened = await Wal.open(dir);
    expect(seqs(await collect(reopened.replay(6)))).toEqual([7, 8, 12]);
    await reopened.close();
  });

  it('cuts a last record whose CRC fails and that ends exactly at the end of the file', async () => {
    const dir = tempDir();
    await writeLog(dir, 5);
    const [file] = walFiles(dir);
    flipByte(file!, 5 * FRAME - 1);
    const wal = await Wal.open(dir);
    expect(wal.openReport).toMatchObject({
      records: 4,
      lastSeq: 4,
      truncatedBytes: FRAME,
      truncatedFile: file,
    });
    await wal.close();
  });

  it.each([3, 8, 100, 5000])('cuts a zero-filled tail of %i bytes', async (zeros) => {
    const dir = tempDir();
    await writeLog(dir, 5);
    const [file] = walFiles(dir);
    fs.appendFileSync(file!, Buffer.alloc(zeros));
    const wal = await Wal.open(dir);
    expect(wal.openReport).toMatchObject({
      records: 5,
      lastSeq: 5,
      truncatedBytes: zeros,
      truncatedFile: file,
    });
    expect(fs.statSync(file!).size).toBe(5 * FRAME);
    await wal.close();
  });

  it('accepts and removes an empty last file', async () => {
    const dir = tempDir();
    await writeLog(dir, 5);
    const empty = path.join(dir, fileName(6));
    fs.writeFileSync(empty, '');
    const wal = await Wal.open(dir);
    expect(wal.openReport).toEqual({ files: 2, records: 5, lastSeq: 5, truncatedBytes: 0 });
    expect(fs.existsSync(empty)).toBe(false);
    await wal.append(6, opFor(6, OP_BYTES));
    await wal.close();
    expect(walFiles(dir).map((f) => path.basename(f))).toEqual([fileName(1)]);
  });

  it('ignores files that are not WAL segments', async () => {
    const dir = tempDir();
    await writeLog(dir, 3);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'garbage');
    fs.writeFileSync(path.join(dir, 'wal-1.log'), 'garbage');
    const wal = await Wal.open(dir);
    expect(wal.openReport).toMatchObject({ files: 1, records: 3 });
    await wal.close();
  });
});

describe('Wal recovery: damage that is not a torn tail stops the open', () => {
  it.each([
    ['CRC field', 4],
    ['seq', 9],
    ['op', 20],
    ['last op byte', FRAME - 1],
  ])('a flipped byte (%s) in an early record names the file and the record offset', async (_, at) => {
    const dir = tempDir();
    await writeLog(dir, 10);
    const [file] = walFiles(dir);
    const offset = recordOffsets(Array(10).fill(OP_BYTES))[3]!;
    flipByte(file!, offset + at);
    expectCorrupted(await openError(dir), file!, offset, /CRC mismatch/);
  });

  it('a bad record in an earlier file is corruption, even its last record', async () => {
    const dir = tempDir();
    await writeLog(dir, 12, 4 * FRAME);
    const files = walFiles(dir);
    flipByte(files[1]!, 3 * FRAME + 30);
    expectCorrupted(await openError(dir), files[1]!, 3 * FRAME, /CRC mismatch/);
  });

  it('a short earlier file is corruption', async () => {
    const dir = tempDir();
    await writeLog(dir, 12, 4 * FRAME);
    const files = walFiles(dir);
    fs.truncateSync(files[0]!, 2 * FRAME + 10);
    expectCorrupted(await openError(dir), files[0]!, 2 * FRAME, /runs past the end/);
  });

  it('an impossible length followed by more bytes is corruption', async () => {
    const dir = tempDir();
    await writeLog(dir, 6);
    const [file] = walFiles(dir);
    for (const length of [0, 3, 256 * 1024 * 1024 + 1]) {
      const fd = fs.openSync(file!, 'r+');
      const b = Buffer.alloc(4);
      b.writeUInt32LE(length);
      fs.writeSync(fd, b, 0, 4, 5 * FRAME); // the last record, whose body still follows
      fs.closeSync(fd);
      expectCorrupted(await openError(dir), file!, 5 * FRAME, new RegExp(`impossible body length ${length}`));
    }
  });

  it('a length change that breaks the CRC in the middle is corruption', async () => {
    const dir = tempDir();
    await writeLog(dir, 6);
    const [file] = walFiles(dir);
    flipByte(file!, 2 * FRAME); // low byte of the length: 48 -> 207
    expectCorrupted(await openError(dir), file!, 2 * FRAME, /CRC mismatch/);
  });

  it('a sequence going backwards inside a file is corruption', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 1, [
      [1, opFor(1)],
      [2, opFor(2)],
      [4, opFor(4)],
      [3, opFor(3)],
      [5, opFor(5)],
    ]);
    expectCorrupted(await openError(dir), file, 3 * frameSize(32), /sequence goes backwards: 3 after 4/);
  });

  it('a sequence going backwards across files is corruption', async () => {
    const dir = tempDir();
    writeFile(dir, 1, [
      [1, opFor(1)],
      [5, opFor(5)],
    ]);
    const second = writeFile(dir, 4, [[4, opFor(4)]]);
    expectCorrupted(await openError(dir), second, 0, /sequence goes backwards: 4 after 5/);
  });

  it('a first record that does not match the file name is corruption', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 10, [[11, opFor(11)]]);
    expectCorrupted(await openError(dir), file, 0, /first record has seq 11 but the file name says 10/);
  });

  it('an empty file before the last one is corruption', async () => {
    const dir = tempDir();
    await writeLog(dir, 8, 4 * FRAME);
    const files = walFiles(dir);
    fs.truncateSync(files[0]!, 0);
    expectCorrupted(await openError(dir), files[0]!, 0, /empty file followed by later WAL files/);
  });

  it('leaves the damaged files untouched', async () => {
    const dir = tempDir();
    await writeLog(dir, 10);
    const [file] = walFiles(dir);
    flipByte(file!, 2 * FRAME + 20);
    const before = fs.readFileSync(file!);
    await openError(dir);
    expect(fs.readFileSync(file!)).toEqual(before);
  });
});
