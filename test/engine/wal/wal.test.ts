import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Wal } from '../../../src/engine/wal/index.js';
import { frameSize } from '../../../src/engine/wal/record.js';
import {
  markRecord,
  SEEK_MARK_BYTES,
  type SeekMark,
  seekOffset,
} from '../../../src/engine/wal/segment-files.js';
import { SurgeError } from '../../../src/protocol/errors.js';
import { collect, opFor, removeTempDirs, seqs, tempDir, walFiles } from './wal-fixtures.js';

afterEach(removeTempDirs);

/** Op length varies with seq so rotation boundaries fall at irregular places. */
const lengthOf = (seq: number) => (seq * 37) % 300;

describe('Wal', () => {
  it('starts empty and creates its directory', async () => {
    const dir = path.join(tempDir(), 'nested', 'wal');
    const wal = await Wal.open(dir);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    expect(wal.lastSeq).toBe(0);
    expect(wal.openReport).toEqual({ files: 0, records: 0, lastSeq: 0, truncatedBytes: 0 });
    expect(await collect(wal.replay(0))).toEqual([]);
    await wal.close();
  });

  it('round-trips many records across rotation and a reopen', async () => {
    const dir = tempDir();
    const segmentBytes = 4096;
    const wal = await Wal.open(dir, { segmentBytes });
    for (let seq = 1; seq <= 300; seq++) await wal.append(seq, opFor(seq, lengthOf(seq)));
    // Concurrent appends land in one group that itself has to rotate between records.
    const burst = [];
    for (let seq = 301; seq <= 600; seq++) burst.push(wal.append(seq, opFor(seq, lengthOf(seq))));
    await Promise.all(burst);
    expect(wal.lastSeq).toBe(600);
    await wal.close();

    const files = walFiles(dir);
    expect(files.length).toBeGreaterThan(10);
    let expectedFirst = 1;
    for (const file of files) {
      // Named after its first seq; a file only grows past segmentBytes by its last record.
      expect(path.basename(file)).toBe(`wal-${String(expectedFirst).padStart(20, '0')}.log`);
      let size = 0;
      let seq = expectedFirst;
      while (size < segmentBytes && size < fs.statSync(file).size) size += frameSize(lengthOf(seq++));
      expect(size).toBe(fs.statSync(file).size);
      expectedFirst = seq;
    }
    expect(expectedFirst).toBe(601);

    const reopened = await Wal.open(dir, { segmentBytes });
    expect(reopened.openReport).toEqual({
      files: files.length,
      records: 600,
      lastSeq: 600,
      truncatedBytes: 0,
    });
    const records = await collect(reopened.replay(0));
    expect(seqs(records)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    for (const r of records) expect(r.op).toEqual(opFor(r.seq, lengthOf(r.seq)));
    await reopened.close();
  });

  it('replays only records after afterSeq, also with gaps in the seqs', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 1024 });
    const written = Array.from({ length: 200 }, (_, i) => 3 * (i + 1));
    for (const seq of written) await wal.append(seq, opFor(seq, 40));
    for (const afterSeq of [0, 1, 3, 4, 299, 300, 301, 597, 599, 600, 10_000]) {
      const records = await collect(wal.replay(afterSeq));
      expect(seqs(records)).toEqual(written.filter((s) => s > afterSeq));
      for (const r of records) expect(r.op).toEqual(opFor(r.seq, 40));
    }
    await wal.close();
  });

  it('resumes replay from seek marks: exact answers after any seq, written or recovered, and a late seq skips most of a file', async () => {
    const dir = tempDir();
    // 4 MiB files of 2 KiB records: 16 marks per file; gaps in the seqs as the engine may leave.
    const wal = await Wal.open(dir, { segmentBytes: 4 * 1024 * 1024 });
    const written = Array.from({ length: 5_000 }, (_, i) => 2 * (i + 1));
    for (let i = 0; i < written.length; i += 50) {
      await Promise.all(written.slice(i, i + 50).map((seq) => wal.append(seq, opFor(seq, 2_000))));
    }
    const probes = [0, 1, 2, 3, 513, 2_048, 2_049, 4_000, 4_097, 9_998, 9_999, 10_000, 20_000];
    const check = async (w: Wal) => {
      for (const afterSeq of probes) {
        const records = await collect(w.replay(afterSeq));
        expect(seqs(records)).toEqual(written.filter((s) => s > afterSeq));
        for (const r of records.slice(0, 3)) expect(r.op).toEqual(opFor(r.seq, 2_000));
      }
    };
    await check(wal);
    await wal.close();
    const reopened = await Wal.open(dir, { segmentBytes: 4 * 1024 * 1024 });
    await check(reopened); // marks rebuilt by recovery
    expect(reopened.firstSeq).toBe(2);
    await reopened.close();
    // The positioning itself: a seq late in a file starts near it, one before the first mark at 0.
    const seg = {
      file: 'x',
      firstSeq: 1,
      lastSeq: 1000,
      bytes: 3 * SEEK_MARK_BYTES,
      marks: [] as SeekMark[],
    };
    for (let seq = 1, at = 0; at < 3 * SEEK_MARK_BYTES; seq++, at += 1_000) markRecord(seg, seq, at);
    expect(seg.marks).toEqual([
      { seq: 264, offset: 263_000 },
      { seq: 527, offset: 526_000 },
    ]);
    expect(seekOffset(seg, 100)).toBe(0);
    expect(seekOffset(seg, 262)).toBe(0); // the record after 262 (263, at 262,000) is before the first mark
    expect(seekOffset(seg, 263)).toBe(263_000);
    expect(seekOffset(seg, 525)).toBe(263_000);
    expect(seekOffset(seg, 526)).toBe(526_000);
    expect(seekOffset({ ...seg, bytes: 500_000 }, 900)).toBe(263_000); // marks past the durable end are ignored
  });

  it('group-commits concurrent appends into few fsyncs and keeps their order', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir);
    const appends = [];
    for (let seq = 1; seq <= 200; seq++) appends.push(wal.append(seq, opFor(seq, 420)));
    await Promise.all(appends);
    const stats = wal.stats();
    expect(stats.appends).toBe(200);
    expect(stats.fsyncs).toBeGreaterThanOrEqual(1);
    expect(stats.fsyncs).toBeLessThanOrEqual(10);
    expect(stats.bytes).toBe(200 * frameSize(420));
    expect(stats.lastFsyncMs).toBeGreaterThanOrEqual(0);
    const records = await collect(wal.replay(0));
    expect(seqs(records)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    for (const r of records) expect(r.op).toEqual(opFor(r.seq, 420));
    await wal.close();
  });

  it('fsyncs once per append when appends are sequential', async () => {
    const wal = await Wal.open(tempDir());
    for (let seq = 1; seq <= 5; seq++) {
      await wal.append(seq, opFor(seq));
      expect(wal.stats().fsyncs).toBe(seq);
      expect(wal.lastSeq).toBe(seq);
    }
    await wal.close();
  });

  it('rejects non-increasing or non-integer seqs with a plain Error', async () => {
    const wal = await Wal.open(tempDir());
    await wal.append(5, opFor(5));
    const pending = wal.append(10, opFor(10));
    // Checked against the last accepted seq, even before 10 is durable.
    for (const bad of [10, 9, 5, 0, -1, 11.5, Number.NaN]) {
      const e = await wal.append(bad, opFor(1)).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(Error);
      expect(e).not.toBeInstanceOf(SurgeError);
    }
    await pending;
    await wal.append(11, opFor(11));
    expect(seqs(await collect(wal.replay(0)))).toEqual([5, 10, 11]);
    await wal.close();
  });

  it('continues after reopen with the next seq and rejects an old one', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir);
    for (let seq = 1; seq <= 3; seq++) await wal.append(seq, opFor(seq));
    await wal.close();
    const reopened = await Wal.open(dir);
    expect(reopened.lastSeq).toBe(3);
    await expect(reopened.append(3, opFor(3))).rejects.toThrow(/greater than the last one \(3\)/);
    await reopened.append(4, opFor(4));
    expect(seqs(await collect(reopened.replay(2)))).toEqual([3, 4]);
    await reopened.close();
  });

  it('close waits for pending appends; later calls reject with ENGINE_CLOSED', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir);
    const settled: number[] = [];
    const pending = [];
    for (let seq = 1; seq <= 50; seq++)
      pending.push(wal.append(seq, opFor(seq)).then(() => settled.push(seq)));
    await wal.close();
    expect(settled).toHaveLength(50);
    await Promise.all(pending);
    await wal.close(); // idempotent

    const e = await wal.append(51, opFor(51)).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SurgeError);
    expect((e as SurgeError).code).toBe('ENGINE_CLOSED');
    await expect(wal.truncateUpTo(10)).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
    await expect(collect(wal.replay(0))).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });

    const reopened = await Wal.open(dir);
    expect(reopened.lastSeq).toBe(50);
    await reopened.close();
  });

  it('truncateUpTo deletes whole files at or below the seq, never the last one', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { segmentBytes: 512 });
    for (let seq = 1; seq <= 100; seq++) await wal.append(seq, opFor(seq, 120)); // 4 records per file
    const before = walFiles(dir);
    expect(before).toHaveLength(25);

    await wal.truncateUpTo(0);
    expect(walFiles(dir)).toEqual(before);

    await wal.truncateUpTo(10); // files 1-4 and 5-8 go; 9-12 still holds 11 and 12
    expect(walFiles(dir)).toEqual(before.slice(2));
    expect(seqs(await collect(wal.replay(0)))[0]).toBe(9);
    expect(seqs(await collect(wal.replay(10)))).toEqual(Array.from({ length: 90 }, (_, i) => i + 11));

    await wal.truncateUpTo(12);
    expect(walFiles(dir)).toEqual(before.slice(3));

    await Promise.all([wal.truncateUpTo(1_000), wal.truncateUpTo(1_000)]);
    expect(walFiles(dir)).toEqual(before.slice(-1));
    expect(wal.lastSeq).toBe(100);
    await wal.append(101, opFor(101, 120));
    await wal.close();

    const reopened = await Wal.open(dir, { segmentBytes: 512 });
    expect(reopened.openReport.lastSeq).toBe(101);
    expect(seqs(await collect(reopened.replay(0)))).toEqual([97, 98, 99, 100, 101]);
    await reopened.close();
  });

  it('with fsync off, skips fsyncs while appending but still syncs at close', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { fsync: false });
    await Promise.all([1, 2, 3].map((seq) => wal.append(seq, opFor(seq))));
    await wal.append(4, opFor(4));
    expect(wal.stats().fsyncs).toBe(0);
    expect(wal.lastSeq).toBe(4);
    await wal.close();
    expect(wal.stats().fsyncs).toBe(1);
    const reopened = await Wal.open(dir);
    expect(seqs(await collect(reopened.replay(0)))).toEqual([1, 2, 3, 4]);
    await reopened.close();
  });

  it('replay sees only what was durable when it was called', async () => {
    const wal = await Wal.open(tempDir());
    await wal.append(1, opFor(1));
    const replay = wal.replay(0);
    await wal.append(2, opFor(2));
    expect(seqs(await collect(replay))).toEqual([1]);
    await wal.close();
  });

  it('rejects invalid options', async () => {
    await expect(Wal.open(tempDir(), { segmentBytes: 0 })).rejects.toThrow(RangeError);
    await expect(Wal.open(tempDir(), { segmentBytes: 1.5 })).rejects.toThrow(RangeError);
  });
});
