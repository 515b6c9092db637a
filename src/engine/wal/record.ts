/**
 * WAL record framing, little-endian: `u32 body length | u32 crc32c(body) | body`, body = `u64 seq | op bytes`.
 * The CRC covers the sequence number too, so a flipped seq bit is caught like a flipped payload bit.
 */
import { crc32c } from '@node-rs/crc32';

export const HEADER_BYTES = 8;
export const SEQ_BYTES = 8;
/**
 * Sanity cap on the length field. No op comes near it; above it the field is corruption, and trusting it
 * would make recovery allocate whatever a flipped bit asks for.
 */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;
export const MAX_OP_BYTES = MAX_BODY_BYTES - SEQ_BYTES;

const TWO_POW_32 = 2 ** 32;
/** High word of Number.MAX_SAFE_INTEGER: a larger one cannot be a seq this process wrote. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;

export function frameSize(opBytes: number): number {
  return HEADER_BYTES + SEQ_BYTES + opBytes;
}

export function encodeRecord(seq: number, op: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(frameSize(op.length));
  frame.writeUInt32LE(SEQ_BYTES + op.length, 0);
  frame.writeUInt32LE(seq >>> 0, HEADER_BYTES);
  frame.writeUInt32LE(Math.floor(seq / TWO_POW_32), HEADER_BYTES + 4);
  frame.set(op, HEADER_BYTES + SEQ_BYTES);
  frame.writeUInt32LE(crc32c(frame.subarray(HEADER_BYTES)), 4);
  return frame;
}

export type DecodeResult =
  /** `op` is a view into the input buffer; `size` is the whole frame. */
  | { kind: 'record'; seq: number; op: Buffer; size: number }
  /** The buffer ends inside the record: `need` bytes from the record start are required to decide. */
  | { kind: 'short'; need: number; reason: string }
  /** The bytes are not a valid record; `size` is how far the frame claims to reach. */
  | { kind: 'bad'; cause: 'length' | 'crc' | 'seq'; size: number; reason: string };

export function decodeRecord(buf: Buffer, offset: number): DecodeResult {
  const available = buf.length - offset;
  if (available < HEADER_BYTES) {
    return {
      kind: 'short',
      need: HEADER_BYTES,
      reason: `incomplete record header (${available} of ${HEADER_BYTES} bytes)`,
    };
  }
  const length = buf.readUInt32LE(offset);
  if (length < SEQ_BYTES || length > MAX_BODY_BYTES) {
    return { kind: 'bad', cause: 'length', size: HEADER_BYTES, reason: `impossible body length ${length}` };
  }
  const size = HEADER_BYTES + length;
  if (available < size) {
    return { kind: 'short', need: size, reason: `record of ${size} bytes runs past the end of the file` };
  }
  const body = buf.subarray(offset + HEADER_BYTES, offset + size);
  const stored = buf.readUInt32LE(offset + 4);
  const computed = crc32c(body);
  if (stored !== computed) {
    return {
      kind: 'bad',
      cause: 'crc',
      size,
      reason: `CRC mismatch (stored ${hex(stored)}, computed ${hex(computed)})`,
    };
  }
  const high = body.readUInt32LE(4);
  if (high > MAX_SAFE_HIGH_WORD) {
    return { kind: 'bad', cause: 'seq', size, reason: 'sequence number above 2^53 - 1' };
  }
  return {
    kind: 'record',
    seq: high * TWO_POW_32 + body.readUInt32LE(0),
    op: body.subarray(SEQ_BYTES),
    size,
  };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
