/**
 * JSON with the whole u64 range, for both ends of the wire. Qdrant ids go up to 2^64-1; JSON.parse would
 * round anything above 2^53. Text without a long integer literal (nearly all) takes the native JSON.parse;
 * other text a lossless parse that turns unsafe integers into bigint. Serialisation writes bigints back as
 * bare JSON numbers. (Shared by the server and the client, which may import only protocol.)
 */
import { randomBytes } from 'node:crypto';
import { isSafeNumber, parse as losslessParse } from 'lossless-json';

// 16+ digit integer literal outside a string is the only way an unsafe integer can appear.
const LONG_INT = /(?:^|[\s,:[])-?\d{16,}(?=[\s,\]}]|$)/;

export function parseJson(text: string): unknown {
  if (!LONG_INT.test(text)) return JSON.parse(text);
  return losslessParse(text, null, (value: string) => {
    if (isSafeNumber(value)) return Number(value);
    if (/^-?\d+$/.test(value)) return BigInt(value);
    return Number(value);
  });
}

// A per-process nonce in the marker: a payload string cannot guess it, so it cannot be mistaken for a bigint.
const NONCE = randomBytes(8).toString('hex');
const MARKER = new RegExp(`"\\\\u0000${NONCE}:(-?\\d+)"`, 'g');

export function stringifyJson(value: unknown): string {
  // Fast path: a replacer costs a call per value; only values holding a bigint need one, and
  // JSON.stringify tells us by throwing.
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (!(e instanceof TypeError) || !/BigInt/.test(e.message)) throw e;
  }
  let sawBigint = false;
  const text = JSON.stringify(value, (_k, v) => {
    if (typeof v === 'bigint') {
      sawBigint = true;
      return `\u0000${NONCE}:${v}`;
    }
    return v;
  });
  return sawBigint ? text.replace(MARKER, '$1') : text;
}
