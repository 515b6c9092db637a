/**
 * Request-arrival traces: CSV `time_s,requests` (gzip when the name ends in .gz), dense rows of one bucket each,
 * as in ../shared/traces/README.md. Built-in traces are copied into `src/bench/traces/` (README there gives
 * source and licence) so a checkout needs nothing outside the repo.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SurgeError } from '../../protocol/errors.js';
import { findRepoRoot } from '../datasets/cache.js';

export interface Trace {
  /** Where it was read from. */
  source: string;
  /** Bucket width in seconds (1 for *_1s files). */
  bucketS: number;
  /** Arrivals per bucket. */
  counts: Float64Array;
  /** Highest bucket rate (requests / bucket width), in requests/s. */
  peakRate: number;
  meanRate: number;
}

/** Built-in names → file names under src/bench/traces/. */
export const BUILTIN_TRACES: Readonly<Record<string, { file: string; about: string }>> = {
  'flash-crowd': {
    file: 'synthetic_flash_crowd_1s.csv',
    about:
      'synthetic, 1 h at 1 s: 50 rps, a 20× step at 600 s held 10 min, exponential decay (peak/mean 4.1)',
  },
  'azure-code': {
    file: 'azure_llm2023_code_1s.csv',
    about: 'real: Azure LLM inference 2023, code service, 57 min at 1 s (peak/mean 26), CC-BY 4.0',
  },
};

function builtinDir(): string {
  return join(findRepoRoot(), 'src', 'bench', 'traces');
}

export function parseTraceCsv(text: string, source: string): Trace {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.split(',').map((s) => s.trim());
  if (header?.[0] !== 'time_s' || header[1] !== 'requests') {
    throw new SurgeError(
      'INVALID_SCENARIO',
      `${source}: a trace starts with the header "time_s,requests" (got ${JSON.stringify(lines[0] ?? '')})`,
    );
  }
  const times: number[] = [];
  const counts = new Float64Array(lines.length - 1);
  for (let i = 1; i < lines.length; i++) {
    const [t, n] = lines[i]!.split(',');
    const time = Number(t);
    const count = Number(n);
    if (!Number.isFinite(time) || !Number.isFinite(count) || count < 0) {
      throw new SurgeError(
        'INVALID_SCENARIO',
        `${source}:${i + 1}: expected "time_s,requests", got "${lines[i]}"`,
      );
    }
    times.push(time);
    counts[i - 1] = count;
  }
  if (counts.length < 2)
    throw new SurgeError('INVALID_SCENARIO', `${source}: a trace needs at least two rows`);
  const bucketS = times[1]! - times[0]!;
  if (!(bucketS > 0)) throw new SurgeError('INVALID_SCENARIO', `${source}: time_s must increase`);
  let peak = 0;
  let sum = 0;
  for (const c of counts) {
    peak = Math.max(peak, c);
    sum += c;
  }
  return { source, bucketS, counts, peakRate: peak / bucketS, meanRate: sum / (counts.length * bucketS) };
}

/** Reads a built-in trace by name, or a CSV (optionally .gz) by path. */
export function loadTrace(nameOrPath: string): Trace {
  const builtin = BUILTIN_TRACES[nameOrPath];
  const path = builtin ? join(builtinDir(), builtin.file) : nameOrPath;
  if (!existsSync(path)) {
    throw new SurgeError(
      'INVALID_SCENARIO',
      `trace ${JSON.stringify(nameOrPath)} is neither a built-in trace (${Object.keys(BUILTIN_TRACES).join(', ')}) nor a file`,
    );
  }
  const raw = readFileSync(path);
  const text = path.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return parseTraceCsv(text, path);
}

/** Trace seconds covered. */
export function traceLengthS(trace: Trace): number {
  return trace.counts.length * trace.bucketS;
}
