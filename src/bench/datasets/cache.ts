/**
 * Where benchmark datasets live on disk and how they get there safely: `<repo>/.cache/<name>/`, files written
 * to a temp name, fsynced and renamed (a crash never leaves half a file under the real name), one builder at a
 * time per directory (a lock file holding the builder's pid).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_PACKAGE_NAME = 'surgevec';

/**
 * Nearest ancestor of `from` whose package.json is named "surgevec". Starts at this module's directory by
 * default, so it works from `src/` under tsx and from `dist/` alike, whatever the current directory.
 */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === REPO_PACKAGE_NAME)
          return dir;
      } catch {
        // An unreadable package.json belongs to something else: keep climbing.
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`no ancestor of ${from} has a package.json named "${REPO_PACKAGE_NAME}"`);
    dir = parent;
  }
}

/** `<repo>/.cache/<name>`; `.cache/` is git-ignored. */
export function datasetCacheDir(name: string, repoRoot: string = findRepoRoot()): string {
  return join(repoRoot, '.cache', name);
}

/** The cache files are raw native typed arrays; they are specified little-endian, so refuse anything else. */
export function assertLittleEndian(): void {
  if (endianness() !== 'LE')
    throw new Error('dataset cache files are little-endian; this machine is big-endian');
}

export function bytesOf(a: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes `data` under a temp name, fsyncs, then renames over `path`: readers see the old file or the new one. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** One read into a fresh (4-byte aligned) buffer, so the bytes can back a Float32Array/Int32Array view. */
async function readAligned(path: string): Promise<ArrayBuffer> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const out = new ArrayBuffer(size);
    const view = new Uint8Array(out);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(view, done, size - done, done);
      if (bytesRead === 0) throw new Error(`${path}: file shrank while reading (${done} of ${size} bytes)`);
      done += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}

export async function readFloat32File(path: string): Promise<Float32Array> {
  assertLittleEndian();
  const buf = await readAligned(path);
  if (buf.byteLength % 4 !== 0)
    throw new Error(`${path}: ${buf.byteLength} bytes is not a whole number of floats`);
  return new Float32Array(buf);
}

export async function readInt32File(path: string): Promise<Int32Array> {
  assertLittleEndian();
  const buf = await readAligned(path);
  if (buf.byteLength % 4 !== 0)
    throw new Error(`${path}: ${buf.byteLength} bytes is not a whole number of int32s`);
  return new Int32Array(buf);
}

export async function readJsonFile<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOptions {
  /** Called once, when another live process holds the lock and we start waiting. */
  onWait?: (holderPid: number) => void;
  /** Give up after this long (default 30 minutes: a cold GloVe build on a slow machine). */
  timeoutMs?: number;
  pollMs?: number;
}

/**
 * Runs `fn` holding `lockPath` (created with O_EXCL, content = our pid). A lock whose pid is dead is stale (the
 * builder crashed or was killed) and is taken over. Two vitest forks that both need a cold cache thus build it
 * once: the second waits, then finds it complete.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  const pollMs = opts.pollMs ?? 250;
  let told = false;
  await mkdir(dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(String(process.pid));
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = Number.NaN;
    let ageMs = 0;
    try {
      ageMs = Date.now() - (await stat(lockPath)).mtimeMs;
      holder = Number.parseInt(await readFile(lockPath, 'utf8'), 10);
    } catch {
      continue; // released between our open and our read
    }
    // No pid after a few seconds: the holder died between creating the file and writing its pid.
    const stale = Number.isInteger(holder) && holder > 0 ? !processAlive(holder) : ageMs > 5_000;
    if (stale) {
      await unlink(lockPath).catch(() => {});
      continue;
    }
    if (!told && Number.isInteger(holder)) {
      told = true;
      opts.onWait?.(holder);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath} (held by pid ${holder})`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => {});
  }
}
