/**
 * Validates every WAL file at open. A crash (`kill -9`) keeps what was written but may cut the last write
 * short, so a defect at the very end of the last file is a torn tail and is cut off. Any other defect means
 * bytes that were once acknowledged are damaged: that stops the open instead of silently losing writes.
 */
import fs from 'node:fs/promises';
import { listSegmentFiles, markRecord, type Segment, syncDir, walCorrupted } from './segment-files.js';
import { SegmentScanner } from './segment-scanner.js';

export interface WalOpenReport {
  files: number;
  records: number;
  lastSeq: number;
  truncatedBytes: number;
  truncatedFile?: string;
}

export interface Recovered {
  /** In log order; the last one (if any) is where appends continue. */
  segments: Segment[];
  report: WalOpenReport;
}

export async function recover(dir: string): Promise<Recovered> {
  const files = await listSegmentFiles(dir);
  const segments: Segment[] = [];
  const report: WalOpenReport = { files: files.length, records: 0, lastSeq: 0, truncatedBytes: 0 };
  for (const [i, { file, firstSeq }] of files.entries()) {
    const isLast = i === files.length - 1;
    const segment: Segment = { file, firstSeq, lastSeq: firstSeq - 1, bytes: 0, marks: [] };
    const scanner = await SegmentScanner.open(file);
    let records = 0;
    try {
      for (;;) {
        const step = await scanner.next();
        if (step.kind === 'end') {
          segment.bytes = scanner.limit;
          break;
        }
        if (step.kind === 'bad') {
          if (!isLast || !step.tornTail) throw walCorrupted(file, step.offset, step.reason);
          segment.bytes = step.offset;
          report.truncatedBytes = scanner.limit - step.offset;
          report.truncatedFile = file;
          break;
        }
        if (records === 0 && step.seq !== firstSeq) {
          throw walCorrupted(
            file,
            step.offset,
            `first record has seq ${step.seq} but the file name says ${firstSeq}`,
          );
        }
        if (step.seq <= report.lastSeq) {
          throw walCorrupted(
            file,
            step.offset,
            `sequence goes backwards: ${step.seq} after ${report.lastSeq}`,
          );
        }
        report.lastSeq = step.seq;
        segment.lastSeq = step.seq;
        markRecord(segment, step.seq, step.offset);
        records++;
      }
    } finally {
      await scanner.close();
    }
    report.records += records;
    if (report.truncatedFile === file) await cutTail(file, segment.bytes);
    if (records > 0) {
      segments.push(segment);
    } else if (isLast) {
      // A crash between creating a file and writing its first record; nothing in it to keep. Removing it lets
      // the next append name a fresh file after the seq it really carries.
      await fs.unlink(file);
      await syncDir(dir);
    } else {
      // The writer never leaves an empty file behind a later one: its records were lost.
      throw walCorrupted(file, 0, 'empty file followed by later WAL files');
    }
  }
  return { segments, report };
}

async function cutTail(file: string, length: number): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.truncate(length);
    // sync, not datasync: the new size is the point of the operation.
    await fh.sync();
  } finally {
    await fh.close();
  }
}
