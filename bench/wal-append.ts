/**
 * WAL append throughput under group commit: N records of a 100-float vector (~420 bytes framed as an op) at
 * concurrency 1, 16 and 256. Concurrency 1 is the fsync latency floor; the higher rows show how many records
 * one fdatasync carries. Run: `npx tsx bench/wal-append.ts [--records 100000] [--dir /path] [--no-fsync]`.
 * The directory decides the disk being measured (default: the OS temp dir).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Wal } from '../src/engine/wal/index.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    dir: { type: 'string', default: os.tmpdir() },
    'no-fsync': { type: 'boolean', default: false },
  },
});
const records = Number(values.records);
const fsync = !values['no-fsync'];

/** Stand-in for an upsert op: 20 bytes of header/id plus 100 float32s. */
function vectorOp(seq: number): Uint8Array {
  const op = new Uint8Array(20 + 400);
  const view = new DataView(op.buffer);
  view.setFloat64(4, seq, true);
  const vector = new Float32Array(op.buffer, 20, 100);
  for (let i = 0; i < vector.length; i++) vector[i] = Math.sin(seq + i);
  return op;
}

async function run(concurrency: number): Promise<void> {
  // The concurrency-1 row is bounded by fsync latency; cap it so the whole run stays short.
  const n = concurrency === 1 ? Math.min(records, 5_000) : records;
  const ops = Array.from({ length: Math.min(n, 1024) }, (_, i) => vectorOp(i));
  const dir = fs.mkdtempSync(path.join(values.dir, 'surgevec-wal-bench-'));
  try {
    const wal = await Wal.open(dir, { fsync });
    let next = 1;
    const writer = async () => {
      while (next <= n) {
        const seq = next++;
        await wal.append(seq, ops[seq % ops.length]!);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, writer));
    const seconds = (performance.now() - started) / 1000;
    const s = wal.stats();
    await wal.close();
    console.log(
      [
        `concurrency ${String(concurrency).padStart(3)}`,
        `${String(n).padStart(7)} records`,
        `${Math.round(n / seconds)
          .toLocaleString('en-US')
          .padStart(9)} records/s`,
        `${String(s.fsyncs).padStart(6)} fsyncs`,
        `${(s.fsyncs === 0 ? '-' : (s.appends / s.fsyncs).toFixed(1)).padStart(6)} records/fsync`,
        `${(s.bytes / seconds / 1e6).toFixed(1)} MB/s`,
      ].join('  '),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`WAL append bench: dir ${values.dir}, fsync ${fsync ? 'on' : 'off'}, op 420 bytes`);
for (const concurrency of [1, 16, 256]) await run(concurrency);
