/**
 * Per-collection write-ahead log with group commit.
 *
 * One write+fdatasync is in flight at a time. Appends arriving meanwhile queue up; when the flight lands,
 * the whole queue goes out as one write and one fdatasync. Under load a single fsync (~1 ms on SSDs)
 * therefore covers hundreds of records, which is what makes ≥20k durable vectors/s possible; with a single
 * writer it degrades to one fsync per record, the latency floor. All I/O goes through `fs.promises` on the
 * libuv pool, so the event loop never waits on the disk.
 */
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SurgeError } from '../../protocol/errors.js';
import { encodeRecord, MAX_OP_BYTES } from './record.js';
import { recover, type WalOpenReport } from './recovery.js';
import { replaySegments, type WalRecord } from './replay.js';
import {
  asStorageError,
  ensureDir,
  markRecord,
  type Segment,
  seekOffset,
  segmentFileName,
  syncDir,
} from './segment-files.js';

export type { WalOpenReport } from './recovery.js';
export type { WalRecord } from './replay.js';

export interface WalOptions {
  /** A new file is started once the current one reaches this size (between records, never inside one). */
  segmentBytes?: number;
  /** Default true. false skips the per-group fdatasync (close still syncs): for benchmarks only. */
  fsync?: boolean;
}

export interface WalStats {
  /** Records made durable. */
  appends: number;
  /** fdatasync calls on log files; fewer than `appends` is group commit at work. */
  fsyncs: number;
  /** Bytes written to log files, framing included. */
  bytes: number;
  lastFsyncMs: number;
  /**
   * fdatasync latency as a fixed-bucket histogram (bounded memory, cheap to copy across the worker boundary):
   * `counts[i]` fsyncs took at most `boundsMs[i]` and more than the previous bound (not cumulative); the last
   * count is above the top bound. A single `lastFsyncMs` cannot show the tail that bounds write latency.
   */
  fsyncLatency: { boundsMs: readonly number[]; counts: number[]; sumMs: number };
}

/** From page-cache-fast NVMe (~50 µs) to a struggling network disk (seconds). */
export const FSYNC_BUCKETS_MS: readonly number[] = Object.freeze([
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000,
]);

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** `failed`: a write or fsync failed; after a failed fsync the page cache may not match the disk, so no retry. */
type WalState = 'open' | 'failed' | 'closing' | 'closed';

interface PendingAppend {
  seq: number;
  frame: Buffer;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface ActiveFile {
  segment: Segment;
  fh: FileHandle;
  /** Bytes written (the next write position). */
  pos: number;
  writtenSeq: number;
  /** Bytes covered by an fdatasync; behind `pos` only while a group is in flight or when fsync is off. */
  syncedPos: number;
}

export class Wal {
  private state: WalState = 'open';
  /** Why the WAL went to `failed` (kept when a failure happens during close). */
  private failure: SurgeError | undefined;
  private queue: PendingAppend[] = [];
  private flight: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Serialises truncateUpTo calls so two of them never unlink the same file. */
  private maintenance: Promise<void> = Promise.resolve();
  private active: ActiveFile | undefined;
  /** Highest seq handed to append (queued or durable): the floor for the next one. */
  private acceptedSeq: number;
  private durableSeq: number;
  private readonly counters: WalStats = {
    appends: 0,
    fsyncs: 0,
    bytes: 0,
    lastFsyncMs: 0,
    fsyncLatency: {
      boundsMs: FSYNC_BUCKETS_MS,
      counts: new Array(FSYNC_BUCKETS_MS.length + 1).fill(0),
      sumMs: 0,
    },
  };

  private constructor(
    readonly dir: string,
    private readonly segments: Segment[],
    readonly openReport: WalOpenReport,
    private readonly segmentBytes: number,
    private readonly fsyncEachGroup: boolean,
  ) {
    this.acceptedSeq = openReport.lastSeq;
    this.durableSeq = openReport.lastSeq;
  }

  static async open(dir: string, options: WalOptions = {}): Promise<Wal> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
      throw new RangeError(`segmentBytes must be a positive integer, got ${segmentBytes}`);
    }
    const absDir = path.resolve(dir);
    try {
      await ensureDir(absDir);
      const { segments, report } = await recover(absDir);
      const wal = new Wal(absDir, segments, report, segmentBytes, options.fsync ?? true);
      const last = segments.at(-1);
      if (last !== undefined) {
        const fh = await fs.open(last.file, 'r+');
        wal.active = { segment: last, fh, pos: last.bytes, writtenSeq: last.lastSeq, syncedPos: last.bytes };
      }
      return wal;
    } catch (e) {
      throw asStorageError(e, `WAL could not be opened in ${absDir}`);
    }
  }

  /** Seq of the last durable record; 0 when the log is empty. */
  get lastSeq(): number {
    return this.durableSeq;
  }

  /**
   * Resolves once the record is on disk (fdatasync). A rejection with STORAGE_ERROR means "not known to be
   * durable", not "absent": the bytes may have reached the disk before the fsync failed.
   */
  append(seq: number, op: Uint8Array): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return Promise.reject(this.closedError());
    if (this.state === 'failed') {
      const message = `WAL refuses appends after a failed write: ${this.failure?.message}`;
      return Promise.reject(new SurgeError('STORAGE_ERROR', message, { dir: this.dir }));
    }
    if (!Number.isSafeInteger(seq) || seq <= this.acceptedSeq) {
      return Promise.reject(
        new Error(`WAL seq must be an integer greater than the last one (${this.acceptedSeq}), got ${seq}`),
      );
    }
    if (op.length > MAX_OP_BYTES) {
      return Promise.reject(new RangeError(`WAL op of ${op.length} bytes exceeds ${MAX_OP_BYTES}`));
    }
    const frame = encodeRecord(seq, op);
    this.acceptedSeq = seq;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ seq, frame, resolve, reject });
      this.flight ??= this.fly();
    });
  }

  /**
   * Every durable record with seq > afterSeq, in order, read from the files chunk by chunk. Covers what was
   * durable when replay was called; do not truncateUpTo past `afterSeq` while iterating.
   */
  replay(afterSeq: number): AsyncGenerator<WalRecord> {
    if (this.state === 'closing' || this.state === 'closed') return failing(this.closedError());
    const plan = this.segments
      .filter((s) => s.lastSeq > afterSeq && s.bytes > 0)
      .map((s) => ({ file: s.file, bytes: s.bytes, from: seekOffset(s, afterSeq) }));
    return replaySegments(plan, afterSeq);
  }

  /** Seq of the oldest durable record the log still holds (older ones went with a snapshot). */
  get firstSeq(): number | undefined {
    return this.segments.find((s) => s.bytes > 0)?.firstSeq;
  }

  /** Deletes whole files whose records are all <= seq (after a snapshot covers them); never the last file. */
  truncateUpTo(seq: number): Promise<void> {
    const run = this.maintenance.then(() => this.deleteFilesUpTo(seq));
    this.maintenance = run.catch(() => undefined);
    return run;
  }

  /** Waits for queued appends, syncs and closes. Appends after this reject with ENGINE_CLOSED. */
  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    if (this.closing !== undefined) return this.closing;
    this.state = 'closing';
    this.closing = this.finishClose();
    return this.closing;
  }

  stats(): WalStats {
    const h = this.counters.fsyncLatency;
    return {
      ...this.counters,
      fsyncLatency: { boundsMs: h.boundsMs, counts: [...h.counts], sumMs: h.sumMs },
    };
  }

  private async fly(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      try {
        await this.writeGroup(group);
      } catch (e) {
        this.fail(e, group);
        break;
      }
      this.counters.appends += group.length;
      for (const p of group) p.resolve();
    }
    this.flight = undefined;
  }

  private async writeGroup(group: PendingAppend[]): Promise<void> {
    for (let start = 0; start < group.length; ) {
      const active = await this.fileFor(group[start]!.seq);
      // Records join this file while it is below segmentBytes, so a file overshoots by at most one record.
      let end = start;
      let bytes = 0;
      while (end < group.length && active.pos + bytes < this.segmentBytes) {
        bytes += group[end]!.frame.length;
        end++;
      }
      await this.writeRun(active, group, start, end, bytes);
      start = end;
    }
    if (this.active !== undefined) await this.sync(this.active, this.fsyncEachGroup);
  }

  private async writeRun(
    active: ActiveFile,
    group: PendingAppend[],
    start: number,
    end: number,
    bytes: number,
  ) {
    const data = end - start === 1 ? group[start]!.frame : Buffer.concat(frames(group, start, end), bytes);
    for (let done = 0; done < bytes; ) {
      const { bytesWritten } = await active.fh.write(data, done, bytes - done, active.pos + done);
      done += bytesWritten;
    }
    let at = active.pos;
    for (let i = start; i < end; i++) {
      markRecord(active.segment, group[i]!.seq, at);
      at += group[i]!.frame.length;
    }
    active.pos += bytes;
    active.writtenSeq = group[end - 1]!.seq;
    this.counters.bytes += bytes;
  }

  /** The file the record with `seq` goes to, starting a new one when the current file is full. */
  private async fileFor(seq: number): Promise<ActiveFile> {
    if (this.active !== undefined && this.active.pos < this.segmentBytes) return this.active;
    if (this.active !== undefined) {
      const full = this.active;
      try {
        await this.sync(full, this.fsyncEachGroup);
      } finally {
        this.active = undefined;
        await full.fh.close();
      }
    }
    const segment: Segment = {
      file: path.join(this.dir, segmentFileName(seq)),
      firstSeq: seq,
      lastSeq: seq - 1,
      bytes: 0,
      marks: [],
    };
    const fh = await fs.open(segment.file, 'wx');
    this.active = { segment, fh, pos: 0, writtenSeq: seq - 1, syncedPos: 0 };
    await syncDir(this.dir);
    this.segments.push(segment);
    return this.active;
  }

  /** Makes written bytes durable (fdatasync unless `fsync` is off) and publishes them to replay and lastSeq. */
  private async sync(active: ActiveFile, fsync: boolean): Promise<void> {
    if (fsync && active.syncedPos !== active.pos) {
      const pos = active.pos;
      const started = performance.now();
      await active.fh.datasync();
      const ms = performance.now() - started;
      this.counters.fsyncs++;
      this.counters.lastFsyncMs = ms;
      observeFsync(this.counters.fsyncLatency, ms);
      active.syncedPos = pos;
    }
    active.segment.bytes = active.pos;
    active.segment.lastSeq = active.writtenSeq;
    this.durableSeq = active.writtenSeq;
  }

  private fail(cause: unknown, group: PendingAppend[]): void {
    const file = this.active?.segment.file ?? this.dir;
    const error = asStorageError(cause, `WAL write or fsync failed in ${file}`);
    this.failure = error;
    if (this.state === 'open') this.state = 'failed';
    const rejected = group.concat(this.queue);
    this.queue = [];
    for (const p of rejected) p.reject(error);
  }

  private async deleteFilesUpTo(seq: number): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') throw this.closedError();
    let deleted = 0;
    try {
      // Stop before the last file: it is where appends go (rotation only ever adds files at the end).
      while (this.segments.length > 1 && this.segments[0]!.lastSeq <= seq) {
        await fs.unlink(this.segments[0]!.file);
        this.segments.shift();
        deleted++;
      }
    } catch (e) {
      throw asStorageError(e, `WAL could not delete an old file in ${this.dir}`);
    } finally {
      if (deleted > 0) await syncDir(this.dir);
    }
  }

  private async finishClose(): Promise<void> {
    await this.flight;
    await this.maintenance;
    const active = this.active;
    this.active = undefined;
    try {
      if (active !== undefined && this.failure === undefined) await this.sync(active, true);
    } catch (e) {
      throw asStorageError(e, `WAL fsync at close failed in ${this.dir}`);
    } finally {
      this.state = 'closed';
      await active?.fh.close();
    }
  }

  private closedError(): SurgeError {
    return new SurgeError('ENGINE_CLOSED', 'the WAL is closed', { dir: this.dir });
  }
}

function observeFsync(h: WalStats['fsyncLatency'], ms: number): void {
  let i = 0;
  while (i < h.boundsMs.length && ms > h.boundsMs[i]!) i++;
  h.counts[i]!++;
  h.sumMs += ms;
}

function frames(group: PendingAppend[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = start; i < end; i++) out.push(group[i]!.frame);
  return out;
}

// biome-ignore lint/correctness/useYield: rejects on first next(), like the generator it stands in for.
async function* failing(error: Error): AsyncGenerator<WalRecord> {
  throw error;
}
