/**
 * `POST /collections/:name/points/stream`: NDJSON ingest of any size. The body is never buffered: lines are
 * read as they arrive and grouped into batches of `server.stream_batch_points`; at most two batches are in
 * the engine at once, and while a third one waits for a slot nothing more is read, so a fast sender is held
 * back by TCP instead of by our memory (bound: three batches plus one socket chunk). The answer is NDJSON
 * too, written as batches complete and paced by the client's reading of it.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type EngineApi, type Payload, type PointId, pointKey } from '../../../engine/index.js';
import { errors, SurgeError } from '../../../protocol/errors.js';
import type { IngestAcquire } from '../../admission/plugin.js';
import { toSurgeError } from '../../errors.js';
import { parseJson, stringifyJson } from '../../json.js';
import { collectionParam, writeOptions } from '../qdrant/params.js';

const IN_FLIGHT_BATCHES = 2;
const F32_MAX = 3.4028234663852886e38;
const NEWLINE = 0x0a;

/** The line numbers and points of one batch; vectors are written straight into a Float32Array. */
interface Batch {
  n: number;
  lines: number[];
  ids: PointId[];
  vectors: Float32Array;
  payloads: (Payload | null)[];
}

interface BatchOutcome {
  points: number;
  seq: number | null;
  status: string;
  failures: { line: number; error: SurgeError }[];
}

export function errorObject(e: SurgeError) {
  // A refusal by admission control says when to come back (a frame has no Retry-After header).
  const retry = (e.details as { retry_after_ms?: unknown } | undefined)?.retry_after_ms;
  return typeof retry === 'number'
    ? { code: e.code, message: e.message, hint: e.hint, retry_after_ms: retry }
    : { code: e.code, message: e.message, hint: e.hint };
}

/** Whole-batch refusals worth retrying point by point: the request's content, not the server, was wrong. */
function aboutThePoints(e: SurgeError): boolean {
  return errors[e.code].status === 400;
}

class NdjsonIngest {
  private batch: Batch;
  private readonly inFlight: Promise<void>[] = [];
  private batches = 0;
  private ok = 0;
  private failed = 0;
  private lastSeq: number | null = null;
  private fatal: SurgeError | undefined;
  private finished: Promise<void> | undefined;

  constructor(
    private readonly engine: EngineApi,
    private readonly collection: string,
    private readonly dim: number,
    private readonly batchSize: number,
    private readonly maxLineBytes: number,
    private readonly wait: boolean,
    private readonly out: PassThrough,
    /** Admission control's ingest gate: waiting on it stops reading the body (docs/OPERATIONS.md). */
    private readonly gate?: IngestAcquire,
  ) {
    this.batch = this.newBatch();
  }

  private newBatch(): Batch {
    return {
      n: 0,
      lines: [],
      ids: [],
      vectors: new Float32Array(this.batchSize * this.dim),
      payloads: [],
    };
  }

  async run(body: Readable): Promise<void> {
    let line = 0;
    let carry: Buffer[] = [];
    let carryBytes = 0;
    let overlong = false;
    try {
      // Async iteration pulls: while the loop awaits a batch slot, the stream is not read (TCP backpressure).
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (this.fatal || this.out.destroyed) {
          // Answer now; the rest of the body is read and dropped (closing early could cut the answer off).
          this.finished ??= this.finish();
          continue;
        }
        let start = 0;
        for (;;) {
          const nl = chunk.indexOf(NEWLINE, start);
          if (nl === -1) {
            const rest = chunk.length - start;
            if (rest > 0 && !overlong) {
              carryBytes += rest;
              if (carryBytes > this.maxLineBytes) {
                overlong = true;
                carry = [];
              } else carry.push(chunk.subarray(start));
            }
            break;
          }
          line++;
          let text: Buffer | undefined;
          if (!overlong) {
            const piece = chunk.subarray(start, nl);
            text = carry.length === 0 ? piece : Buffer.concat([...carry, piece]);
          }
          start = nl + 1;
          const wasOverlong = overlong || (text !== undefined && text.length > this.maxLineBytes);
          carry = [];
          carryBytes = 0;
          overlong = false;
          const pending = wasOverlong ? this.tooLong(line) : this.line(text!, line);
          if (pending) await pending;
          if (this.fatal || this.out.destroyed) break;
        }
      }
      if (!this.fatal && !this.out.destroyed) {
        if (overlong) await this.tooLong(++line);
        else if (carryBytes > 0) await this.line(Buffer.concat(carry), ++line);
        if (this.batch.n > 0) await this.submit();
      }
    } catch (e) {
      // The client went away (or the body stream broke): batches in flight still finish in the engine.
      this.fatal ??= toSurgeError(e);
    }
    this.finished ??= this.finish();
    await this.finished;
  }

  /** The summary line, once every batch in flight has been reported. */
  private async finish(): Promise<void> {
    await Promise.all(this.inFlight);
    const summary = { points: this.ok, errors: this.failed, last_seq: this.lastSeq };
    if (this.fatal) await this.emit({ done: false, ...summary, error: errorObject(this.fatal) });
    else await this.emit({ done: true, ...summary });
    this.out.end();
  }

  private tooLong(line: number): Promise<void> | undefined {
    return this.reject(
      line,
      new SurgeError('LIMIT_EXCEEDED', `the line is longer than ${this.maxLineBytes} bytes`, {
        limit: this.maxLineBytes,
      }),
    );
  }

  /** Validates one line into the current batch; returns a promise only when the caller must wait. */
  private line(bytes: Buffer, line: number): Promise<void> | undefined {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    let text = bytes.toString('utf8', 0, end);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (e) {
      return this.reject(line, new SurgeError('INVALID_JSON', `malformed JSON: ${(e as Error).message}`));
    }
    try {
      this.add(value, line);
    } catch (e) {
      return this.reject(line, toSurgeError(e));
    }
    return this.batch.n === this.batchSize ? this.submit() : undefined;
  }

  /** The checks that need no collection state beyond the dimension; the engine re-checks everything. */
  private add(value: unknown, line: number): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new SurgeError('INVALID_REQUEST', 'each line must be a JSON object {"id", "vector", "payload"}');
    }
    const { id, vector, payload } = value as Record<string, unknown>;
    pointKey(id);
    if (vector !== null && typeof vector === 'object' && !Array.isArray(vector)) {
      throw new SurgeError('UNSUPPORTED_FEATURE', 'named or sparse vectors are not supported');
    }
    if (!Array.isArray(vector)) throw new SurgeError('INVALID_VECTOR', 'vector must be an array of numbers');
    const dim = this.dim;
    if (vector.length !== dim) {
      throw new SurgeError(
        'DIMENSION_MISMATCH',
        `vector has ${vector.length} dimensions; the collection has ${dim}`,
        { expected: dim, got: vector.length },
      );
    }
    if (payload != null && (typeof payload !== 'object' || Array.isArray(payload))) {
      throw new SurgeError('INVALID_PAYLOAD', 'payload must be a JSON object');
    }
    const b = this.batch;
    const off = b.n * dim;
    for (let i = 0; i < dim; i++) {
      const x = vector[i];
      if (typeof x !== 'number' || !Number.isFinite(x) || Math.abs(x) > F32_MAX) {
        throw new SurgeError(
          'INVALID_VECTOR',
          `vector[${i}] is ${typeof x === 'number' ? String(x) : typeof x}; expected a finite float32 number`,
          { index: i },
        );
      }
      b.vectors[off + i] = x;
    }
    b.ids.push(id as PointId);
    b.payloads.push((payload ?? null) as Payload | null);
    b.lines.push(line);
    b.n++;
  }

  private reject(line: number, error: SurgeError): Promise<void> | undefined {
    this.failed++;
    return this.emit({ line, error: errorObject(error) });
  }

  /** Hands the current batch to the engine once one of the two slots is free. */
  private async submit(): Promise<void> {
    const batch = this.batch;
    this.batch = this.newBatch();
    while (this.inFlight.length >= IN_FLIGHT_BATCHES) await this.inFlight.shift();
    if (this.fatal) return;
    const release = await this.gate?.(batch.vectors.byteLength, batch.n);
    const number = ++this.batches;
    const work = this.upsert(batch);
    if (release) void work.then(release, release);
    // Reports go out in batch order, whatever order the engine finishes in.
    const previous = this.inFlight.at(-1) ?? Promise.resolve();
    this.inFlight.push(
      previous
        .then(() => work)
        .then(
          (r) => this.report(number, r),
          (e: unknown) => {
            this.fatal ??= toSurgeError(e);
          },
        ),
    );
  }

  private async upsert(b: Batch): Promise<BatchOutcome> {
    const dim = this.dim;
    const opts = { wait: this.wait };
    // An exact-size copy: a view of a larger buffer would cross to the engine thread whole.
    const vectors = b.n === this.batchSize ? b.vectors : b.vectors.slice(0, b.n * dim);
    try {
      const r = await this.engine.upsert(
        this.collection,
        { ids: b.ids, vectors, payloads: b.payloads },
        opts,
      );
      return { points: b.n, seq: r.operation_id, status: r.status, failures: [] };
    } catch (e) {
      const err = toSurgeError(e);
      if (!aboutThePoints(err)) throw err;
    }
    // Refused as a whole: one point at a time, so only the bad lines are reported.
    const singles: Promise<{ operation_id: number; status: string }>[] = new Array(b.n);
    for (let i = 0; i < b.n; i++) {
      singles[i] = this.engine.upsert(
        this.collection,
        { ids: [b.ids[i]!], vectors: vectors.slice(i * dim, (i + 1) * dim), payloads: [b.payloads[i]!] },
        opts,
      );
    }
    const settled = await Promise.allSettled(singles);
    const outcome: BatchOutcome = {
      points: 0,
      seq: null,
      status: opts.wait ? 'completed' : 'acknowledged',
      failures: [],
    };
    for (let i = 0; i < settled.length; i++) {
      const s = settled[i]!;
      if (s.status === 'fulfilled') {
        outcome.points++;
        outcome.seq = Math.max(outcome.seq ?? 0, s.value.operation_id);
        outcome.status = s.value.status;
      } else {
        const err = toSurgeError(s.reason);
        if (!aboutThePoints(err)) throw err;
        outcome.failures.push({ line: b.lines[i]!, error: err });
      }
    }
    return outcome;
  }

  private async report(number: number, r: BatchOutcome): Promise<void> {
    for (const f of r.failures) await this.reject(f.line, f.error);
    this.ok += r.points;
    if (r.seq !== null) this.lastSeq = Math.max(this.lastSeq ?? 0, r.seq);
    await this.emit({ batch: number, points: r.points, seq: r.seq, status: r.status });
  }

  /** Writes one answer line; the promise (when there is one) waits for the client to read. */
  private emit(obj: unknown): Promise<void> | undefined {
    const out = this.out;
    if (out.destroyed || out.writableEnded) return undefined;
    if (out.write(`${stringifyJson(obj)}\n`)) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
    });
  }
}

/**
 * Node's `requestTimeout` bounds how long a whole request may take to arrive — right against slow-loris
 * headers, wrong for a stream meant to run for minutes. Its expiry reaches us as a `clientError`; for a
 * socket that is inside a stream ingest it is ignored (the ingest already paces the sender).
 */
const streaming = new WeakSet<Socket>();
const guarded = new WeakSet<object>();

function guardRequestTimeout(app: FastifyInstance): void {
  const server = app.server;
  if (guarded.has(server)) return;
  guarded.add(server);
  const handlers = server.listeners('clientError') as ((err: Error, socket: Socket) => void)[];
  server.removeAllListeners('clientError');
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && streaming.has(socket)) return;
    for (const h of handlers) h.call(server, err, socket);
  });
}

export async function ndjsonRoutes(app: FastifyInstance): Promise<void> {
  const { engine, config } = app.surge;
  guardRequestTimeout(app);

  // The raw body stream goes to the route: no buffering, and so no bodyLimit (that applies to buffered bodies).
  app.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));

  app.post('/collections/:name/points/stream', { compress: false }, async (req, reply) => {
    const body = req.body as Readable | undefined;
    if (!body || typeof (body as Readable).pipe !== 'function') {
      throw new SurgeError(
        'UNSUPPORTED_MEDIA_TYPE',
        'send the points as NDJSON (Content-Type: application/x-ndjson)',
      );
    }
    const options = writeOptions(req);
    const info = await engine.collectionInfo(collectionParam(req));
    const out = new PassThrough();
    const ingest = new NdjsonIngest(
      engine,
      info.name,
      info.config.size,
      config.server.stream_batch_points,
      config.server.body_limit_bytes,
      options.wait === true,
      out,
      app.surge.ingestGate?.(req),
    );
    const socket = (req.raw as IncomingMessage).socket as Socket | undefined;
    if (socket) streaming.add(socket);
    void ingest.run(body).finally(() => {
      if (socket) streaming.delete(socket);
    });
    return reply.type('application/x-ndjson').header('cache-control', 'no-cache').send(out);
  });
}
