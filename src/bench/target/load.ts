/**
 * Puts a dataset's base into a collection on the target before the load starts: created with the dataset's
 * distance and integer indexes on the filter fields, loaded through surgevec's NDJSON stream (one request,
 * backpressured by TCP) or Qdrant's batched PUT /points on any other target, then awaited until indexed
 * (`status: green`), so the measured run does not race the index build. A collection already holding exactly
 * the rows is reused (`mode: if-missing`): loading 100k GloVe points and building their graph takes minutes.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { SurgeError } from '../../protocol/errors.js';
import type { BenchDataset } from '../datasets/bench-dataset.js';
import { FILTER_FIELDS } from '../datasets/bench-dataset.js';
import { pointJson, vectorJson } from '../workload/bodies.js';
import { collectionInfo, keyHeader, RestError, rest } from './rest.js';

export interface PrepareOptions {
  mode: 'if-missing' | 'always' | 'never';
  via: 'auto' | 'ndjson' | 'batch';
  batch: number;
  waitIndexed: boolean;
  indexTimeoutS: number;
  hnsw?: { m: number; ef_construct: number } | undefined;
  /** Rows [0, rows) are loaded (streaming ingest loads the rest during the run). Default all. */
  rows?: number;
  /** Sent as `api-key` on every setup call: the scenario's first tenant, who then owns the collection. */
  apiKey?: string | undefined;
  log: (line: string) => void;
}

export interface PrepareResult {
  loaded: boolean;
  loadMs: number;
  indexMs: number;
  via?: 'ndjson' | 'batch';
}

const path = (name: string) => `/collections/${encodeURIComponent(name)}`;

/** NDJSON text of rows [from, to), in chunks: never the whole body in memory. */
export function ndjsonRows(ds: BenchDataset, from: number, to: number, chunk = 256): Readable {
  let row = from;
  return Readable.from(
    (function* () {
      while (row < to) {
        const end = Math.min(to, row + chunk);
        let s = '';
        for (; row < end; row++) s += `${pointJson(row, vectorJson(ds.base, row * ds.dim, ds.dim))}\n`;
        yield s;
      }
    })(),
    { objectMode: false },
  );
}

interface StreamDone {
  done: boolean;
  points: number;
  errors: number;
  error?: unknown;
}

/** POST /points/stream; resolves to the final line, or undefined when the target has no such route. */
export async function streamNdjson(
  base: string,
  collection: string,
  body: Readable,
  onLine?: (line: string) => void,
  apiKey?: string,
): Promise<StreamDone | undefined> {
  const res = await request(`${base}${path(collection)}/points/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...keyHeader(apiKey) },
    body,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  if (res.statusCode === 404) {
    const text = await res.body.text();
    if (!text.includes('COLLECTION_NOT_FOUND')) return undefined;
    throw new RestError(404, 'COLLECTION_NOT_FOUND', text);
  }
  if (res.statusCode >= 400) throw new RestError(res.statusCode, undefined, await res.body.text());
  let tail = '';
  let last = '';
  let firstError = '';
  for await (const chunk of res.body) {
    tail += chunk;
    const lines = tail.split('\n');
    tail = lines.pop()!;
    for (const l of lines) {
      if (!l) continue;
      onLine?.(l);
      if (!firstError && l.startsWith('{"line"')) firstError = l;
      last = l;
    }
  }
  if (tail) last = tail;
  const done = JSON.parse(last) as StreamDone;
  if (!done.done || done.errors > 0) {
    throw new SurgeError(
      'INVALID_REQUEST',
      `loading ${collection} over NDJSON failed: ${last} ${firstError}`,
    );
  }
  return done;
}

async function putBatches(
  base: string,
  ds: BenchDataset,
  collection: string,
  rows: number,
  batch: number,
  apiKey?: string,
) {
  let next = 0;
  const worker = async () => {
    while (next < rows) {
      const from = next;
      const to = Math.min(rows, from + batch);
      next = to;
      const pts: string[] = [];
      for (let r = from; r < to; r++) pts.push(pointJson(r, vectorJson(ds.base, r * ds.dim, ds.dim)));
      const res = await request(`${base}${path(collection)}/points?wait=true`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...keyHeader(apiKey) },
        body: `{"points":[${pts.join(',')}]}`,
        headersTimeout: 300_000,
        bodyTimeout: 300_000,
      });
      const text = await res.body.text();
      if (res.statusCode >= 400)
        throw new RestError(res.statusCode, undefined, `PUT points: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

export async function createCollection(
  base: string,
  name: string,
  ds: BenchDataset,
  hnsw?: { m: number; ef_construct: number },
  apiKey?: string,
): Promise<void> {
  await rest(
    base,
    'PUT',
    path(name),
    { vectors: { size: ds.dim, distance: ds.distance }, ...(hnsw ? { hnsw_config: hnsw } : {}) },
    undefined,
    apiKey,
  );
  for (const field of Object.keys(FILTER_FIELDS)) {
    await rest(
      base,
      'PUT',
      `${path(name)}/index?wait=true`,
      { field_name: field, field_schema: 'integer' },
      undefined,
      apiKey,
    );
  }
}

export async function waitIndexed(
  base: string,
  name: string,
  timeoutS: number,
  log: (line: string) => void,
  apiKey?: string,
): Promise<void> {
  const deadline = performance.now() + timeoutS * 1000;
  let lastLog = 0;
  for (;;) {
    const info = await collectionInfo(base, name, apiKey);
    if (!info) throw new SurgeError('COLLECTION_NOT_FOUND', `collection ${name} disappeared while indexing`);
    if (info.status === 'green') return;
    const now = performance.now();
    if (now > deadline)
      throw new SurgeError(
        'INVALID_SCENARIO',
        `${name} still not indexed after ${timeoutS} s (load.index_timeout_s)`,
      );
    if (now - lastLog > 10_000) {
      lastLog = now;
      log(
        `indexing ${name}: ${info.indexed_vectors_count ?? '?'} of ${info.points_count} points in the graph`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function prepareCollection(
  base: string,
  name: string,
  ds: BenchDataset,
  o: PrepareOptions,
): Promise<PrepareResult> {
  const rows = o.rows ?? ds.baseCount;
  const key = o.apiKey;
  let info = await collectionInfo(base, name, key);
  const fits =
    info !== undefined &&
    info.points_count === rows &&
    (info.config?.params?.vectors?.size ?? ds.dim) === ds.dim;
  if (o.mode === 'never') {
    if (!info)
      throw new SurgeError('INVALID_SCENARIO', `collection ${name} does not exist and load.mode is "never"`);
    return { loaded: false, loadMs: 0, indexMs: 0 };
  }
  let loaded = false;
  let loadMs = 0;
  let via: 'ndjson' | 'batch' | undefined;
  if (o.mode === 'always' || !fits) {
    if (info) {
      o.log(`dropping ${name} (${info.points_count} points; want ${rows} × ${ds.dim})`);
      await rest(base, 'DELETE', path(name), undefined, undefined, key);
      info = undefined;
    }
    await createCollection(base, name, ds, o.hnsw, key);
    o.log(`loading ${rows} points of ${ds.id} into ${name}`);
    const t0 = performance.now();
    if (o.via !== 'batch') {
      const done = await streamNdjson(base, name, ndjsonRows(ds, 0, rows), undefined, key);
      if (done) via = 'ndjson';
      else if (o.via === 'ndjson')
        throw new SurgeError('INVALID_SCENARIO', 'the target has no NDJSON stream route');
    }
    if (!via) {
      await putBatches(base, ds, name, rows, o.batch, key);
      via = 'batch';
    }
    loadMs = performance.now() - t0;
    loaded = true;
    o.log(`loaded ${rows} points in ${(loadMs / 1000).toFixed(1)} s via ${via}`);
  }
  const t1 = performance.now();
  if (o.waitIndexed) await waitIndexed(base, name, o.indexTimeoutS, o.log, key);
  const indexMs = performance.now() - t1;
  if (loaded && o.waitIndexed) o.log(`indexed in ${(indexMs / 1000).toFixed(1)} s`);
  return via ? { loaded, loadMs, indexMs, via } : { loaded, loadMs, indexMs };
}
