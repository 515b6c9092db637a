/**
 * Properties of recovery over random logs: a crash that cuts the last file anywhere loses exactly the records
 * not fully written, and damage anywhere else is reported at the record it hit.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Wal } from '../../../src/engine/wal/index.js';
import { frameSize } from '../../../src/engine/wal/record.js';
import { SurgeError } from '../../../src/protocol/errors.js';
import { collect, flipByte, removeTempDirs, tempDir, walFiles } from './wal-fixtures.js';

afterEach(removeTempDirs);

const logArb = fc.record({
  ops: fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 30 }),
  segmentBytes: fc.constantFrom(64, 300, 1 << 20),
  concurrent: fc.boolean(),
});

interface Placed {
  seq: number;
  file: string;
  offset: number;
  size: number;
}

/** Writes ops as seqs 1..n (fsync off: recovery, not durability, is under test) and maps where each landed. */
async function writeLog(ops: Uint8Array[], segmentBytes: number, concurrent: boolean) {
  const dir = tempDir();
  const wal = await Wal.open(dir, { segmentBytes, fsync: false });
  if (concurrent) await Promise.all(ops.map((op, i) => wal.append(i + 1, op)));
  else for (const [i, op] of ops.entries()) await wal.append(i + 1, op);
  await wal.close();

  const files = walFiles(dir);
  const firstSeqs = files.map((f) => Number(path.basename(f).slice(4, 24)));
  const placed: Placed[] = [];
  for (const [i, file] of files.entries()) {
    let offset = 0;
    for (let seq = firstSeqs[i]!; seq < (firstSeqs[i + 1] ?? ops.length + 1); seq++) {
      const size = frameSize(ops[seq - 1]!.length);
      placed.push({ seq, file, offset, size });
      offset += size;
    }
    expect(offset).toBe(fs.statSync(file).size);
  }
  return { dir, files, placed };
}

describe('Wal recovery properties', () => {
  it('after a cut anywhere in the last file, reopen yields exactly the fully written prefix', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, fc.nat(), async ({ ops, segmentBytes, concurrent }, cutSeed) => {
        const { dir, files, placed } = await writeLog(ops, segmentBytes, concurrent);
        const last = files.at(-1)!;
        const cut = cutSeed % (fs.statSync(last).size + 1);
        fs.truncateSync(last, cut);

        const survivors = placed.filter((p) => p.file !== last || p.offset + p.size <= cut);
        const keptInLast = survivors.filter((p) => p.file === last).at(-1);
        const keptBytes = keptInLast === undefined ? 0 : keptInLast.offset + keptInLast.size;
        const lastSeq = survivors.length;

        const wal = await Wal.open(dir, { segmentBytes });
        expect(wal.lastSeq).toBe(lastSeq);
        expect(wal.openReport.records).toBe(lastSeq);
        expect(wal.openReport.truncatedBytes).toBe(cut - keptBytes);
        const records = await collect(wal.replay(0));
        expect(records).toEqual(
          ops.slice(0, lastSeq).map((op, i) => ({ seq: i + 1, op: Uint8Array.from(op) })),
        );

        await wal.append(lastSeq + 1, Uint8Array.of(42));
        await wal.close();
        const reopened = await Wal.open(dir, { segmentBytes });
        expect(reopened.openReport.truncatedBytes).toBe(0);
        expect(await collect(reopened.replay(lastSeq))).toEqual([
          { seq: lastSeq + 1, op: Uint8Array.of(42) },
        ]);
        await reopened.close();
        removeTempDirs();
      }),
      { numRuns: 150 },
    );
  });

  it('a flipped byte in any record but the very last is reported at that record', async () => {
    await fc.assert(
      fc.asyncProperty(
        logArb,
        fc.nat(),
        fc.nat(),
        async ({ ops, segmentBytes, concurrent }, which, where) => {
          fc.pre(ops.length >= 2);
          const { dir, placed } = await writeLog(ops, segmentBytes, concurrent);
          const victim = placed[which % (placed.length - 1)]!;
          // Bytes 0-3 are the length: a flip there may point past the end, which reads as a torn tail.
          flipByte(victim.file, victim.offset + 4 + (where % (victim.size - 4)));

          const e = await Wal.open(dir).then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(e).toBeInstanceOf(SurgeError);
          expect((e as SurgeError).code).toBe('WAL_CORRUPTED');
          expect((e as SurgeError).details).toEqual({ file: victim.file, offset: victim.offset });
          expect((e as SurgeError).message).toContain(`in ${victim.file} at offset ${victim.offset}:`);
          removeTempDirs();
        },
      ),
      { numRuns: 150 },
    );
  });
});
