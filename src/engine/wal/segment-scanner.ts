/**
 * Reads one WAL file record by record in bounded chunks, so neither recovery nor replay ever holds a whole
 * segment (64 MiB by default) in memory. It reports defects; deciding whether a defect is a torn tail or
 * corruption is the caller's job, because only the caller knows whether this is the last file.
 */
import fs, { type FileHandle } from 'node:fs/promises';
import { SurgeError } from '../../protocol/errors.js';
import { decodeRecord } from './record.js';

const CHUNK_BYTES = 1024 * 1024;

export type ScanStep =
  /** `op` is a view into the scanner's buffer: copy it before keeping it. */
  | { kind: 'record'; offset: number; end: number; seq: number; op: Buffer }
  | { kind: 'end' }
  /**
   * `tornTail` is true when the defect is what an interrupted append leaves behind: the file ends inside the
   * record, the CRC fails on a record that ends exactly at the end, or everything from `offset` on is zero
   * (a filesystem may extend a file before the data lands).
   */
  | { kind: 'bad'; offset: number; reason: string; tornTail: boolean };

export class SegmentScanner {
  private buf: Buffer = Buffer.alloc(0);
  /** File offset of `buf[0]`. */
  private bufStart = 0;
  private pos = 0;

  private constructor(
    private readonly fh: FileHandle,
    /** Bytes of the file this scan covers: the file size, or less when replaying a file still being written. */
    readonly limit: number,
  ) {}

  /** `from`: the offset of a record start to begin at (a seek mark), default the file's start. */
  static async open(file: string, limit?: number, from = 0): Promise<SegmentScanner> {
    const fh = await fs.open(file, 'r');
    try {
      const scanner = new SegmentScanner(fh, limit ?? (await fh.stat()).size);
      scanner.bufStart = from;
      return scanner;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async next(): Promise<ScanStep> {
    for (;;) {
      const offset = this.bufStart + this.pos;
      if (offset >= this.limit) return { kind: 'end' };
      const decoded = decodeRecord(this.buf, this.pos);
      switch (decoded.kind) {
        case 'record':
          this.pos += decoded.size;
          return { kind: 'record', offset, end: offset + decoded.size, seq: decoded.seq, op: decoded.op };
        case 'short':
          if (this.bufStart + this.buf.length < this.limit) {
            await this.fill(decoded.need);
            continue;
          }
          return { kind: 'bad', offset, reason: decoded.reason, tornTail: true };
        case 'bad': {
          const tornTail =
            (decoded.cause === 'crc' && offset + decoded.size === this.limit) ||
            (decoded.cause === 'length' && (await this.zeroFrom(offset)));
          return { kind: 'bad', offset, reason: decoded.reason, tornTail };
        }
      }
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }

  /** Makes at least `need` bytes from the current position available, or all that remain before `limit`. */
  private async fill(need: number): Promise<void> {
    const start = this.bufStart + this.pos;
    const size = Math.min(Math.max(need, CHUNK_BYTES), this.limit - start);
    const next = Buffer.allocUnsafe(size);
    let filled = this.buf.copy(next, 0, this.pos);
    while (filled < size) {
      const { bytesRead } = await this.fh.read(next, filled, size - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.buf = next.subarray(0, filled);
    this.bufStart = start;
    this.pos = 0;
    if (filled < size) {
      throw new SurgeError(
        'STORAGE_ERROR',
        `WAL file shrank while being read (expected ${this.limit} bytes)`,
        {
          offset: start + filled,
        },
      );
    }
  }

  private async zeroFrom(offset: number): Promise<boolean> {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, this.limit - offset));
    for (let at = offset; at < this.limit; ) {
      const { bytesRead } = await this.fh.read(chunk, 0, Math.min(chunk.length, this.limit - at), at);
      if (bytesRead === 0) return false;
      for (let i = 0; i < bytesRead; i++) if (chunk[i] !== 0) return false;
      at += bytesRead;
    }
    return true;
  }
}
