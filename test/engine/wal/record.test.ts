import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, frameSize, MAX_BODY_BYTES } from '../../../src/engine/wal/record.js';

describe('WAL record framing', () => {
  it('lays out u32 length | u32 crc32c(body) | u64 seq | op, little-endian', () => {
    const op = Uint8Array.from([1, 2, 3]);
    const frame = encodeRecord(0x1_0000_0002, op);
    expect(frame.length).toBe(frameSize(3));
    expect(frame.readUInt32LE(0)).toBe(8 + 3);
    expect(frame.readUInt32LE(4)).toBe(crc32c(frame.subarray(8)));
    expect(frame.readUInt32LE(8)).toBe(2);
    expect(frame.readUInt32LE(12)).toBe(1);
    expect([...frame.subarray(16)]).toEqual([1, 2, 3]);
  });

  it('round-trips seqs up to 2^53 - 1 and empty ops', () => {
    for (const seq of [1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
      for (const op of [new Uint8Array(0), Uint8Array.from([9, 8, 7, 6])]) {
        const decoded = decodeRecord(encodeRecord(seq, op), 0);
        expect(decoded.kind).toBe('record');
        if (decoded.kind !== 'record') continue;
        expect(decoded.seq).toBe(seq);
        expect([...decoded.op]).toEqual([...op]);
        expect(decoded.size).toBe(frameSize(op.length));
      }
    }
  });

  it('decodes at an offset inside a larger buffer', () => {
    const a = encodeRecord(1, Uint8Array.from([1]));
    const b = encodeRecord(2, Uint8Array.from([2, 2]));
    const decoded = decodeRecord(Buffer.concat([a, b]), a.length);
    expect(decoded).toMatchObject({ kind: 'record', seq: 2, size: b.length });
  });

  it('asks for more bytes when the header or body is incomplete', () => {
    const frame = encodeRecord(7, new Uint8Array(20));
    expect(decodeRecord(frame.subarray(0, 5), 0)).toMatchObject({ kind: 'short', need: 8 });
    expect(decodeRecord(frame.subarray(0, frame.length - 1), 0)).toMatchObject({
      kind: 'short',
      need: frame.length,
    });
  });

  it('flags a CRC mismatch whether the payload or the seq is damaged', () => {
    for (const at of [4, 8, 15, 16, 30]) {
      const frame = encodeRecord(7, new Uint8Array(20));
      frame[at] = frame[at]! ^ 0x01;
      expect(decodeRecord(frame, 0)).toMatchObject({ kind: 'bad', cause: 'crc', size: frame.length });
    }
  });

  it('flags lengths too short for a seq or above the sanity cap as impossible', () => {
    for (const length of [0, 7, MAX_BODY_BYTES + 1, 0xffffffff]) {
      const frame = encodeRecord(7, new Uint8Array(20));
      frame.writeUInt32LE(length, 0);
      expect(decodeRecord(frame, 0)).toMatchObject({ kind: 'bad', cause: 'length' });
    }
  });

  it('rejects a seq above 2^53 - 1 even with a valid CRC', () => {
    const frame = encodeRecord(1, new Uint8Array(0));
    frame.writeUInt32LE(0x200000, 12);
    frame.writeUInt32LE(crc32c(frame.subarray(8)), 4);
    expect(decodeRecord(frame, 0)).toMatchObject({ kind: 'bad', cause: 'seq' });
  });
});
