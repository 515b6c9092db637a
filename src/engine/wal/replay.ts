/**
 * Streams records back out of WAL files, one file and one chunk at a time, so replaying a log of any size
 * costs one chunk of memory plus whatever the consumer keeps.
 */
import { asStorageError, walCorrupted } from './segment-files.js';
import { SegmentScanner } from './segment-scanner.js';

export interface WalRecord {
  seq: number;
  op: Uint8Array;
}

export interface ReplayFile {
  file: string;
  /** Durable length when replay started: bytes past it may be a write still in flight. */
  bytes: number;
  /** Offset of a record start to read from (a seek mark); default 0. */
  from?: number;
}

export async function* replaySegments(
  files: readonly ReplayFile[],
  afterSeq: number,
): AsyncGenerator<WalRecord> {
  let previous = -1;
  for (const { file, bytes, from } of files) {
    const scanner = await SegmentScanner.open(file, bytes, from).catch((e: unknown) => {
      throw asStorageError(e, `WAL replay could not open ${file}`);
    });
    try {
      for (;;) {
        const step = await scanner.next();
        if (step.kind === 'end') break;
        // Validated at open; failing now means the file changed underneath us, never a torn tail.
        if (step.kind === 'bad') throw walCorrupted(file, step.offset, step.reason);
        if (step.seq <= previous) {
          throw walCorrupted(file, step.offset, `sequence goes backwards: ${step.seq} after ${previous}`);
        }
        previous = step.seq;
        // Copy: the scanner's chunk would otherwise stay alive as long as the consumer keeps the op.
        if (step.seq > afterSeq) yield { seq: step.seq, op: new Uint8Array(step.op) };
      }
    } finally {
      await scanner.close();
    }
  }
}
