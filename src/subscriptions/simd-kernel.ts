/**
 * The matcher's inner loop as WebAssembly SIMD, assembled here from its instructions (no toolchain, no
 * binary blob in the repo) and specialised for one row width (the point rows' offsets are immediates). Scalar
 * JavaScript peaks near 1.5 G multiply-adds/s on this machine; f32x4 lanes do about 4× that, and int16
 * lanes (`i32x4.dot_i16x8_s`, 8 multiply-adds per instruction) about twice that again — what
 * 10,000 subscriptions × 5,000 points/s × 100 dimensions (5·10⁹/s) asks for.
 *
 * `match4(x, subs, blocks, width, bars, out) → records` scores 4 points against `blocks` blocks of 4
 * subscriptions (`width` is fixed per instance and ignored):
 * - f32: x holds 4 point rows of `width` floats; a block is transposed ([j][lane], width × 4 floats), so one
 *   load brings coordinate j of 4 subscriptions and a splat of x[p][j] multiplies all four; bars are floats.
 * - i16: rows of `width` int16; a block holds, per pair of coordinates, [lane][j, j+1] (8 int16), so one
 *   `dot_i16x8_s` with the splat pair (x[p][j], x[p][j+1]) adds two products per lane; bars are int32.
 * For each block where some score ≥ its subscription's bar: a 72-byte record at `out` (i32 0, i32 block,
 * then the 4×4 scores, point-major). Returns the number of records.
 */

const I32 = 0x7f;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];

// Instructions used below (WebAssembly core spec + fixed-width SIMD opcodes).
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32 = (n: number) => [0x41, ...sleb(n)];
const add = [0x6a];
const mul = [0x6c];
const geU = [0x4f];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const v128Load = (offset = 0) => simd(0x00, 4, ...uleb(offset));
const v128Store = (offset = 0) => simd(0x0b, 4, ...uleb(offset));
const load32Splat = (offset: number) => simd(0x09, 2, ...uleb(offset));
const v128Zero = simd(0x0c, ...new Array<number>(16).fill(0));
const f32x4Add = simd(0xe4);
const f32x4Mul = simd(0xe6);
const f32x4Ge = simd(0x46);
const i32x4Add = simd(0xae);
const i32x4DotI16x8 = simd(0xba);
const i32x4GeS = simd(0x3f);
const v128Or = simd(0x50);
const anyTrue = simd(0x53);
const i32Store = (offset: number) => [0x36, 2, ...uleb(offset)];
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const end = [0x0b];
const brIf = (depth: number) => [0x0d, depth];
const br = (depth: number) => [0x0c, depth];
const ifThen = [0x04, 0x40];

// Parameters 0–5, then locals.
const X = 0;
const SUBS = 1;
const BLOCKS = 2;
const BARS = 4;
const OUT = 5;
const B = 6; // block index
const Q = 7; // address of the current step in the current block
const QEND = 8; // end of the current block
const XJ = 9; // address of point 0's values of the current step
const COUNT = 10;
const REC = 11;
const ACC = [12, 13, 14, 15];
const QV = 16;
const BAR = 17;

type Lanes = 'f32' | 'i16';

/**
 * A loop over the block's coordinates (one f32 or one int16 pair per step): kept as a loop, not unrolled —
 * V8 optimises it better (measured: ~2.5× the fully unrolled form); the points' rows are immediates.
 */
function matchBody(width: number, lanes: Lanes): number[] {
  const f32 = lanes === 'f32';
  const rowBytes = width * (f32 ? 4 : 2);
  const blockBytes = width * (f32 ? 16 : 8);
  const accumulate = (p: number) => [
    ...get(ACC[p]!),
    ...get(XJ),
    ...load32Splat(p * rowBytes),
    ...get(QV),
    ...(f32 ? [...f32x4Mul, ...f32x4Add] : [...i32x4DotI16x8, ...i32x4Add]),
    ...set(ACC[p]!),
  ];
  const ge = f32 ? f32x4Ge : i32x4GeS;
  return [
    ...i32(0),
    ...set(B),
    ...get(SUBS),
    ...set(Q),
    ...block,
    ...loop,
    ...get(B),
    ...get(BLOCKS),
    ...geU,
    ...brIf(1),
    ...get(Q),
    ...i32(blockBytes),
    ...add,
    ...set(QEND),
    ...get(X),
    ...set(XJ),
    ...v128Zero,
    ...set(ACC[0]!),
    ...v128Zero,
    ...set(ACC[1]!),
    ...v128Zero,
    ...set(ACC[2]!),
    ...v128Zero,
    ...set(ACC[3]!),
    ...block,
    ...loop,
    ...get(Q),
    ...get(QEND),
    ...geU,
    ...brIf(1),
    ...get(Q),
    ...v128Load(),
    ...set(QV),
    ...accumulate(0),
    ...accumulate(1),
    ...accumulate(2),
    ...accumulate(3),
    ...get(Q),
    ...i32(16),
    ...add,
    ...set(Q),
    ...get(XJ),
    ...i32(4),
    ...add,
    ...set(XJ),
    ...br(0),
    ...end,
    ...end,
    // Any of the 16 scores at or above its subscription's bar?
    ...get(BARS),
    ...get(B),
    ...i32(16),
    ...mul,
    ...add,
    ...v128Load(),
    ...set(BAR),
    ...get(ACC[0]!),
    ...get(BAR),
    ...ge,
    ...get(ACC[1]!),
    ...get(BAR),
    ...ge,
    ...v128Or,
    ...get(ACC[2]!),
    ...get(BAR),
    ...ge,
    ...v128Or,
    ...get(ACC[3]!),
    ...get(BAR),
    ...ge,
    ...v128Or,
    ...anyTrue,
    ...ifThen,
    ...get(OUT),
    ...get(COUNT),
    ...i32(72),
    ...mul,
    ...add,
    ...tee(REC),
    ...i32(0),
    ...i32Store(0),
    ...get(REC),
    ...get(B),
    ...i32Store(4),
    ...get(REC),
    ...get(ACC[0]!),
    ...v128Store(8),
    ...get(REC),
    ...get(ACC[1]!),
    ...v128Store(24),
    ...get(REC),
    ...get(ACC[2]!),
    ...v128Store(40),
    ...get(REC),
    ...get(ACC[3]!),
    ...v128Store(56),
    ...get(COUNT),
    ...i32(1),
    ...add,
    ...set(COUNT),
    ...end,
    ...get(B),
    ...i32(1),
    ...add,
    ...set(B),
    ...br(0),
    ...end,
    ...end,
    ...get(COUNT),
  ];
}

/** A module exporting `match4` (f32) and `match4i16`, specialised for rows of `width` lanes. */
function moduleBytes(width: number): Uint8Array {
  const locals = vec([
    [...uleb(6), I32],
    [...uleb(6), V128],
  ]);
  const code = (lanes: Lanes) => {
    const c = [...locals, ...matchBody(width, lanes), ...end];
    return [...uleb(c.length), ...c];
  };
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([[I32]])]])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([[0], [0]])),
    ...section(
      7,
      vec([
        [...name('match4'), 0x00, 0],
        [...name('match4i16'), 0x00, 1],
      ]),
    ),
    ...section(10, vec([code('f32'), code('i16')])),
  ]);
}

export type Match4 = (
  x: number,
  subs: number,
  blocks: number,
  width: number,
  bars: number,
  out: number,
) => number;

export const RECORD_BYTES = 72;

/** What we use of WebAssembly (our tsconfig has no DOM lib, where its types live). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface Wasm {
  Memory: new (d: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const wasm = (globalThis as unknown as { WebAssembly?: Wasm }).WebAssembly;

/** One page of linear memory, growable (64 KiB pages). */
export function wasmMemory(): WasmMemory {
  if (!wasm) return arrayMemory();
  return new wasm.Memory({ initial: 1 });
}

/** Where WebAssembly is missing: plain memory for the scalar kernel, with the same grow contract. */
function arrayMemory(): WasmMemory {
  let buffer = new ArrayBuffer(65536);
  return {
    get buffer() {
      return buffer;
    },
    grow(pages: number) {
      const old = buffer.byteLength / 65536;
      const next = new ArrayBuffer(buffer.byteLength + pages * 65536);
      new Uint8Array(next).set(new Uint8Array(buffer));
      buffer = next;
      return old;
    },
  };
}

export interface SimdKernels {
  f32: Match4;
  i16: Match4;
}

/** The kernels for rows of `width` lanes bound to `memory`, or undefined where WebAssembly SIMD is unavailable. */
export function simdKernels(memory: WasmMemory, width: number): SimdKernels | undefined {
  if (!wasm) return undefined;
  let compiled = modules.get(width);
  if (compiled === undefined) {
    const bytes = moduleBytes(width);
    compiled = wasm.validate(bytes) ? new wasm.Module(bytes) : null;
    modules.set(width, compiled);
  }
  if (compiled === null) return undefined;
  const { exports } = new wasm.Instance(compiled, { env: { memory } });
  return { f32: exports.match4 as Match4, i16: exports.match4i16 as Match4 };
}

/** Compiled modules by width: every collection of a given dimension shares one. */
const modules = new Map<number, object | null>();

/**
 * The same function in scalar JavaScript over views of the same memory: the fallback, and the reference the
 * kernel is tested against.
 */
export function scalarMatch4(memory: { readonly buffer: ArrayBufferLike }): Match4 {
  return (x, subs, blocks, width, bars, out) => {
    const f = new Float32Array(memory.buffer);
    const iv = new Int32Array(memory.buffer);
    const x0 = x >> 2;
    let records = 0;
    for (let b = 0; b < blocks; b++) {
      const q = (subs >> 2) + b * width * 4;
      let passed = false;
      const acc = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
      for (let p = 0; p < 4; p++) {
        const xo = x0 + p * width;
        for (let lane = 0; lane < 4; lane++) {
          let s = 0;
          for (let j = 0; j < width; j++) s = Math.fround(s + Math.fround(f[xo + j]! * f[q + j * 4 + lane]!));
          acc[p * 4 + lane] = s;
          if (s >= f[(bars >> 2) + b * 4 + lane]!) passed = true;
        }
      }
      if (passed) {
        const rec = (out + records * RECORD_BYTES) >> 2;
        iv[rec] = 0;
        iv[rec + 1] = b;
        for (let i = 0; i < 16; i++) f[rec + 2 + i] = acc[i]!;
        records++;
      }
    }
    return records;
  };
}
