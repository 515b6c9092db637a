/**
 * Collection operations as the WAL stores them. Selectors by filter are kept as filters and resolved when
 * the op is applied (in sequence order), so replay after a crash reaches exactly the same state.
 * Layout: u8 format | u8 kind | u32 json length | json | f32 vectors (upsert only), little-endian.
 */
import { SurgeError } from '../../protocol/errors.js';
import type { Filter, Payload, PayloadSchemaType } from '../types.js';

export type Selector = { keys: string[] } | { filter: Filter };

export type Op =
  | { type: 'upsert'; keys: string[]; vectors: Float32Array; payloads: (Payload | null)[] }
  | { type: 'delete'; selector: Selector }
  | { type: 'set_payload'; selector: Selector; payload: Payload; key?: string | undefined }
  | { type: 'overwrite_payload'; selector: Selector; payload: Payload }
  | { type: 'delete_payload'; selector: Selector; fields: string[] }
  | { type: 'clear_payload'; selector: Selector }
  | { type: 'create_index'; field: string; schema: PayloadSchemaType }
  | { type: 'delete_index'; field: string };

const KINDS = [
  'upsert',
  'delete',
  'set_payload',
  'overwrite_payload',
  'delete_payload',
  'clear_payload',
  'create_index',
  'delete_index',
] as const satisfies readonly Op['type'][];
const FORMAT = 1;

export function encodeOp(op: Op): Uint8Array {
  const kind = KINDS.indexOf(op.type);
  const { type: _type, ...rest } = op;
  let vectors: Float32Array | undefined;
  let body: unknown = rest;
  if (op.type === 'upsert') {
    vectors = op.vectors;
    body = { keys: op.keys, payloads: op.payloads };
  }
  // A stored filter may hold u64 ids above 2^53 (bigint) in `has_id`: written as digit strings, which no
  // valid has_id entry can be (a string id is a UUID), and read back as bigint by reviveFilterIds.
  const json = Buffer.from(JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  const vecBytes = vectors ? vectors.byteLength : 0;
  const out = Buffer.allocUnsafe(6 + json.length + vecBytes);
  out[0] = FORMAT;
  out[1] = kind;
  out.writeUInt32LE(json.length, 2);
  json.copy(out, 6);
  if (vectors) Buffer.from(vectors.buffer, vectors.byteOffset, vecBytes).copy(out, 6 + json.length);
  return out;
}

export function decodeOp(bytes: Uint8Array, seq: number): Op {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = KINDS[buf[1] ?? 255];
  if (buf[0] !== FORMAT || type === undefined || buf.length < 6) {
    throw new SurgeError(
      'WAL_CORRUPTED',
      `WAL record seq ${seq} holds an unknown op (format ${buf[0]}, kind ${buf[1]})`,
    );
  }
  const jsonLen = buf.readUInt32LE(2);
  const body = JSON.parse(buf.subarray(6, 6 + jsonLen).toString('utf8')) as Record<string, unknown>;
  if (type === 'upsert') {
    const raw = buf.subarray(6 + jsonLen);
    // Copy: the record's bytes need not be 4-aligned, and the segment keeps no reference to them.
    const vectors = new Float32Array(raw.length / 4);
    Buffer.from(vectors.buffer).set(raw);
    return { type, keys: body.keys as string[], payloads: body.payloads as (Payload | null)[], vectors };
  }
  const selector = body.selector as { filter?: unknown } | undefined;
  if (selector?.filter !== undefined) reviveFilterIds(selector.filter);
  return { type, ...body } as Op;
}

const DIGITS = /^\d+$/;

/** Undoes encodeOp's bigint → digit string in `has_id` lists, in place, at every nesting level. */
function reviveFilterIds(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) reviveFilterIds(x);
    return;
  }
  if (v === null || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o.has_id)) {
    o.has_id = o.has_id.map((id) => (typeof id === 'string' && DIGITS.test(id) ? BigInt(id) : id));
  }
  for (const k of ['must', 'should', 'must_not']) if (o[k] !== undefined) reviveFilterIds(o[k]);
}
