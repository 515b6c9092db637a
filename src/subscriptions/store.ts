/**
 * Subscriptions on disk: `<data_dir>/subscriptions/subscriptions.log`, one JSON record per line —
 * `{"op":"create",…spec}` or `{"op":"delete","id"}` — appended with group commit (one write and one
 * fdatasync for all records that arrive while the previous flush is out), so 10,000 creations cost a
 * handful of fsyncs, not 10,000. A creation is answered once its record is durable. Opening replays the
 * log; a torn last line (a crash mid-append) is ignored, and a log mostly made of dead records is
 * rewritten (temporary file, fsync, rename, fsync of the directory).
 *
 * Vectors are stored as base64 of their float32 bytes: exact, and a third the size of JSON numbers.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Filter, WithPayload } from '../engine/index.js';
import { SurgeError } from '../protocol/errors.js';
import { parseJson, stringifyJson } from '../protocol/json.js';
import type { SubscriptionSpec } from './types.js';

type Record_ =
  | {
      op: 'create';
      id: string;
      tenant: string;
      collection: string;
      vector: string;
      filter: Filter | null;
      score_threshold: number | null;
      top_k: number | null;
      with_payload: WithPayload;
      seq: number;
      created_at: string;
    }
  | { op: 'delete'; id: string };

export interface StoreOptions {
  dir: string;
  fsync: boolean;
}

export class SubscriptionStore {
  private file: FileHandle | undefined;
  private pending: { line: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private failure: SurgeError | undefined;

  private constructor(
    private readonly path: string,
    private readonly fsync: boolean,
  ) {}

  /** Opens the store and returns the subscriptions it holds, in creation order. */
  static async open(o: StoreOptions): Promise<{ store: SubscriptionStore; specs: SubscriptionSpec[] }> {
    mkdirSync(o.dir, { recursive: true });
    const path = join(o.dir, 'subscriptions.log');
    const live = new Map<string, SubscriptionSpec>();
    let records = 0;
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line === '') continue;
        let r: Record_;
        try {
          r = parseJson(line) as Record_;
        } catch (e) {
          // Only the last line can be torn by a crash; anything before it is damage we must not paper over.
          if (lines.slice(i + 1).every((l) => l === '')) break;
          throw new SurgeError('STORAGE_ERROR', `${path}: line ${i + 1} is not a record: ${String(e)}`);
        }
        records++;
        if (r.op === 'create') live.set(r.id, fromRecord(r));
        else live.delete(r.id);
      }
    }
    const specs = [...live.values()];
    if (records > 64 && records > 2 * specs.length) rewrite(path, specs, o.fsync);
    const store = new SubscriptionStore(path, o.fsync);
    store.file = await open(path, 'a');
    return { store, specs };
  }

  create(spec: SubscriptionSpec): Promise<void> {
    return this.append(stringifyJson(toRecord(spec)));
  }

  delete(id: string): Promise<void> {
    return this.append(JSON.stringify({ op: 'delete', id }));
  }

  private append(line: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.file)
      return Promise.reject(new SurgeError('SHUTTING_DOWN', 'the subscription store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ line: `${line}\n`, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      try {
        await this.file!.write(group.map((g) => g.line).join(''));
        if (this.fsync) await this.file!.datasync();
        for (const g of group) g.resolve();
      } catch (e) {
        // As for the WAL: after a failed write or fsync the file's state is unknown; refuse further changes.
        this.failure = new SurgeError('STORAGE_ERROR', `${this.path}: ${String(e)}`);
        for (const g of [...group, ...this.pending.splice(0)]) g.reject(this.failure);
      }
    }
    this.flushing = undefined;
  }

  async close(): Promise<void> {
    await this.flushing;
    const f = this.file;
    this.file = undefined;
    await f?.close();
  }
}

function toRecord(s: SubscriptionSpec): Record_ {
  return {
    op: 'create',
    id: s.id,
    tenant: s.tenant,
    collection: s.collection,
    vector: Buffer.from(s.vector.buffer, s.vector.byteOffset, s.vector.byteLength).toString('base64'),
    filter: s.filter,
    score_threshold: s.score_threshold,
    top_k: s.top_k,
    with_payload: s.with_payload,
    seq: s.seq,
    created_at: s.created_at,
  };
}

function fromRecord(r: Extract<Record_, { op: 'create' }>): SubscriptionSpec {
  const bytes = Buffer.from(r.vector, 'base64');
  const vector = new Float32Array(bytes.length / 4);
  Buffer.from(vector.buffer).set(bytes);
  return {
    id: r.id,
    tenant: r.tenant,
    collection: r.collection,
    vector,
    filter: r.filter,
    score_threshold: r.score_threshold,
    top_k: r.top_k,
    with_payload: r.with_payload,
    seq: r.seq,
    created_at: r.created_at,
  };
}

function rewrite(path: string, specs: SubscriptionSpec[], fsync: boolean): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, specs.map((s) => `${stringifyJson(toRecord(s))}\n`).join(''));
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (fsync) {
    const dir = openSync(join(path, '..'), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
