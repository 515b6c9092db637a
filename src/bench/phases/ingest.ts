/**
 * Streaming ingest beside the query load: rows [from, to) of the base go to `POST /points/stream` as one
 * NDJSON request paced at `rate` points/s (line i is due at start + i / rate; lines are produced only when
 * the socket takes them, so a slow server pushes back instead of filling our memory). Insert→visible latency
 * is measured per point from its *due* time to the change-feed event (SSE, src/server/routes/stream/changes.ts)
 * that carries its id — an applied write is searchable — so backpressure delays count, as in the open loop.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import type { BenchDataset } from '../datasets/bench-dataset.js';
import {
  type Histogram,
  newHistogram,
  type Percentiles,
  percentiles,
  recordMs,
} from '../generator/histogram.js';
import { streamNdjson } from '../target/load.js';
import { pointJson, vectorJson } from '../workload/bodies.js';

export interface IngestOptions {
  base: string;
  collection: string;
  ds: BenchDataset;
  from: number;
  to: number;
  rate: number;
  /** How long to wait for the last change events after the stream's answer. */
  settleMs?: number;
}

export interface IngestResult {
  points: number;
  rate_target: number;
  /** Points acknowledged by the stream's answer. */
  acknowledged: number;
  duration_s: number;
  achieved_rate: number;
  /** insert→visible (due time → change event), or null when the target has no change feed. */
  visible_ms: Percentiles | null;
  visible_seen: number;
  method: 'change-feed' | 'none';
  error?: string;
}

/** Reads an SSE stream and calls `onIds` with the ids of every event that carries them. */
async function followChanges(
  base: string,
  collection: string,
  onIds: (ids: number[]) => void,
  signal: AbortSignal,
): Promise<boolean> {
  const res = await request(`${base}/collections/${encodeURIComponent(collection)}/changes`, {
    signal,
    headersTimeout: 10_000,
    bodyTimeout: 0,
  }).catch(() => undefined);
  if (res?.statusCode !== 200) {
    await res?.body.dump().catch(() => {});
    return false;
  }
  void (async () => {
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += chunk;
        let end = buf.indexOf('\n\n');
        while (end >= 0) {
          const ev = buf.slice(0, end);
          buf = buf.slice(end + 2);
          for (const line of ev.split('\n')) {
            if (!line.startsWith('data: ')) continue;
            try {
              const data = JSON.parse(line.slice(6)) as { ids?: unknown };
              if (Array.isArray(data.ids)) onIds(data.ids.filter((x): x is number => typeof x === 'number'));
            } catch {
              // not a change event
            }
          }
          end = buf.indexOf('\n\n');
        }
      }
    } catch {
      // aborted at the end of the phase
    }
  })();
  return true;
}

export async function runIngest(o: IngestOptions): Promise<IngestResult> {
  const n = o.to - o.from;
  let start = performance.now();
  const due = (row: number) => start + ((row - o.from) / o.rate) * 1000;
  const seen = new Uint8Array(n);
  let seenCount = 0;
  const visible: Histogram = newHistogram();
  const abort = new AbortController();
  let allSeen: () => void = () => {};
  const allSeenP = new Promise<void>((r) => {
    allSeen = r;
  });
  const feed = await followChanges(
    o.base,
    o.collection,
    (ids) => {
      const now = performance.now();
      for (const id of ids) {
        const i = id - o.from;
        if (i < 0 || i >= n || seen[i]) continue;
        seen[i] = 1;
        seenCount++;
        recordMs(visible, Math.max(0, now - due(id)));
      }
      if (seenCount === n) allSeen();
    },
    abort.signal,
  );

  start = performance.now();
  let row = o.from;
  let waiting = false;
  let timer: NodeJS.Timeout | undefined;
  const body = new Readable({
    read() {
      waiting = false;
      fill();
    },
  });
  const fill = () => {
    if (waiting) return;
    const dueRows = Math.min(o.to, o.from + Math.floor(((performance.now() - start) / 1000) * o.rate) + 1);
    if (row < dueRows) {
      let s = '';
      for (; row < dueRows; row++)
        s += `${pointJson(row, vectorJson(o.ds.base, row * o.ds.dim, o.ds.dim))}\n`;
      if (!body.push(s)) waiting = true;
    }
    if (row >= o.to) {
      clearInterval(timer);
      body.push(null);
    }
  };
  timer = setInterval(fill, 5);
  let acknowledged = 0;
  let error: string | undefined;
  try {
    const done = await streamNdjson(o.base, o.collection, body);
    acknowledged = done?.points ?? 0;
    if (!done) error = 'the target has no NDJSON stream route';
  } catch (e) {
    error = (e as Error).message.slice(0, 300);
  } finally {
    clearInterval(timer);
  }
  const durationS = (performance.now() - start) / 1000;
  if (feed && seenCount < n) {
    await Promise.race([allSeenP, new Promise((r) => setTimeout(r, o.settleMs ?? 5000))]);
  }
  abort.abort();
  const result: IngestResult = {
    points: n,
    rate_target: o.rate,
    acknowledged,
    duration_s: Math.round(durationS * 1000) / 1000,
    achieved_rate: Math.round((acknowledged / durationS) * 10) / 10,
    visible_ms: feed ? percentiles(visible) : null,
    visible_seen: seenCount,
    method: feed ? 'change-feed' : 'none',
  };
  if (error) result.error = error;
  return result;
}
