/**
 * Failure injection: the WAL's log-file handles are wrapped so that fdatasync can be held back or made to
 * fail, as a dying disk would.
 */
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Wal } from '../../../src/engine/wal/index.js';
import { SurgeError } from '../../../src/protocol/errors.js';
import { collect, opFor, removeTempDirs, seqs, tempDir } from './wal-fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
  removeTempDirs();
});

interface DiskControl {
  /** Called instead of fdatasync on log files. */
  datasync?: (real: () => Promise<void>) => Promise<void>;
  /** Called instead of write on log files. */
  write?: (
    real: FileHandle,
    buf: Buffer,
    offset: number,
    length: number,
    position: number,
  ) => Promise<unknown>;
}

function interceptLogHandles(control: DiskControl): void {
  const open = fsp.open.bind(fsp);
  vi.spyOn(fsp, 'open').mockImplementation(async (file, flags, mode) => {
    const real = await open(file, flags, mode);
    if (!String(file).endsWith('.log') || flags === 'r') return real;
    const wrapped = {
      write: (buf: Buffer, offset: number, length: number, position: number) =>
        control.write
          ? control.write(real, buf, offset, length, position)
          : real.write(buf, offset, length, position),
      close: real.close.bind(real),
      datasync: () => (control.datasync ? control.datasync(() => real.datasync()) : real.datasync()),
    };
    return wrapped as unknown as FileHandle;
  });
}

describe('Wal on a failing disk', () => {
  it('resolves an append only after its fdatasync completed', async () => {
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let synced = false;
    interceptLogHandles({
      datasync: async (real) => {
        await held;
        await real();
        synced = true;
      },
    });
    const wal = await Wal.open(tempDir());
    let resolved = false;
    const append = wal.append(1, opFor(1)).then(() => {
      resolved = true;
    });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    expect(wal.lastSeq).toBe(0);
    release();
    await append;
    expect(synced).toBe(true);
    expect(wal.lastSeq).toBe(1);
    await wal.close();
  });

  it('rejects the whole group with STORAGE_ERROR on a failed fsync and refuses further appends', async () => {
    let failing = false;
    interceptLogHandles({
      datasync: (real) =>
        failing
          ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
          : real(),
    });
    const dir = tempDir();
    const wal = await Wal.open(dir);
    await wal.append(1, opFor(1));
    failing = true;
    const results = await Promise.allSettled([2, 3, 4, 5, 6].map((seq) => wal.append(seq, opFor(seq))));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason as SurgeError;
      expect(e).toBeInstanceOf(SurgeError);
      expect(e.code).toBe('STORAGE_ERROR');
      expect(e.message).toContain('EIO');
    }
    failing = false; // even a healthy disk now: a failed fsync cannot be retried safely
    await expect(wal.append(7, opFor(7))).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    expect(wal.lastSeq).toBe(1);
    await wal.close();
    await expect(wal.append(8, opFor(8))).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
    vi.restoreAllMocks();

    // Seq 2 flew alone and was written before its fsync failed ("rejected" means "not known durable", not
    // "absent"); 3-6 were queued behind it and never reached the file.
    const reopened = await Wal.open(dir);
    expect(seqs(await collect(reopened.replay(0)))).toEqual([1, 2]);
    await reopened.close();
  });

  it('a write that fails half way rejects with STORAGE_ERROR and leaves a tail the next open cuts', async () => {
    let failing = false;
    interceptLogHandles({
      write: async (real, buf, offset, length, position) => {
        if (!failing) return real.write(buf, offset, length, position);
        await real.write(buf, offset, Math.floor(length / 2), position);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    });
    const dir = tempDir();
    const wal = await Wal.open(dir);
    await wal.append(1, opFor(1, 100));
    failing = true;
    await expect(wal.append(2, opFor(2, 100))).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    await expect(wal.append(3, opFor(3, 100))).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    await wal.close();
    vi.restoreAllMocks();

    const reopened = await Wal.open(dir);
    expect(reopened.openReport).toMatchObject({
      records: 1,
      lastSeq: 1,
      truncatedBytes: Math.floor(116 / 2),
    });
    await reopened.append(2, opFor(2, 100));
    expect(seqs(await collect(reopened.replay(0)))).toEqual([1, 2]);
    await reopened.close();
  });
});
