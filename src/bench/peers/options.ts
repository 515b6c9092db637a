/**
 * `bench peers` flags → validated comparison options. Bad input is a catalogue error naming the flag, and the
 * canonical command line (every value spelled out) goes into the result so a run can be repeated exactly.
 */
import { z } from 'zod';
import { SurgeError } from '../../protocol/errors.js';
import { GLOVE_QUERY_COUNT } from '../datasets/glove.js';
import { PEER_NAMES, type PeerName } from './peer.js';
import type { ComparisonOptions } from './runner.js';

/** Base rows of the GloVe-100 cache (341,479 words minus 1,000 held-out queries). */
export const GLOVE_BASE_ROWS = 340_479;

/** Raw flags as commander hands them over (strings, or undefined when not given). */
export interface PeersFlags {
  dataset?: string;
  points?: string;
  queries?: string;
  dim?: string;
  k?: string;
  peers?: string;
  clients?: string;
  recall?: string;
  m?: string;
  efConstruction?: string;
  duration?: string;
  maxQueries?: string;
  warmup?: string;
  rounds?: string;
  httpUrl?: string;
  pgUrl?: string;
  tmpDir?: string;
  out?: string;
}

export const PEERS_DEFAULTS = {
  dataset: 'glove',
  points: '100000',
  queries: '1000',
  dim: '100',
  k: '10',
  peers: PEER_NAMES.join(','),
  clients: '1,4',
  recall: '0.95',
  m: '16',
  efConstruction: '200',
  duration: '10',
  maxQueries: '20000',
  warmup: '200',
  rounds: '3',
  out: 'results',
} as const satisfies Partial<Record<keyof PeersFlags, string>>;

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const items = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

const schema = z.strictObject({
  dataset: z.enum(['glove', 'clustered']),
  points: count(100, 10_000_000),
  queries: count(1, 100_000),
  dim: count(2, 4096),
  k: count(1, 100),
  peers: items
    .pipe(z.array(z.enum(PEER_NAMES)).min(1))
    .refine((p) => new Set(p).size === p.length, 'a peer is listed twice'),
  clients: items.pipe(z.array(z.string().transform(Number).pipe(z.int().min(1).max(256))).min(1)),
  recall: z.coerce.number().gt(0).max(1),
  m: count(4, 100),
  efConstruction: count(8, 1000),
  duration: z.coerce.number().gt(0).max(3600),
  maxQueries: count(1, 10_000_000),
  warmup: count(0, 100_000),
  rounds: count(1, 20),
  httpUrl: z.url({ protocol: /^https?$/ }).optional(),
  pgUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string')
    .optional(),
  tmpDir: z.string().min(1).optional(),
  out: z.string().min(1),
});

export type PeersSettings = z.output<typeof schema>;

export function parsePeersFlags(flags: PeersFlags): PeersSettings {
  const merged: Record<string, unknown> = { ...PEERS_DEFAULTS };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) merged[key] = value;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = `--${String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new SurgeError('INVALID_REQUEST', `bench peers ${flag}: ${issue.message}`, { flag });
  }
  const s = parsed.data;
  if (s.dataset === 'glove') {
    if (s.points > GLOVE_BASE_ROWS)
      throw new SurgeError(
        'INVALID_REQUEST',
        `bench peers --points: GloVe-100 has ${GLOVE_BASE_ROWS} base rows`,
      );
    if (s.queries > GLOVE_QUERY_COUNT)
      throw new SurgeError(
        'INVALID_REQUEST',
        `bench peers --queries: GloVe-100 holds out ${GLOVE_QUERY_COUNT} queries`,
      );
    if (s.k > 100)
      throw new SurgeError('INVALID_REQUEST', 'bench peers --k: GloVe ground truth has 100 neighbours');
  }
  if (s.efConstruction < 2 * s.m) {
    throw new SurgeError(
      'INVALID_REQUEST',
      `bench peers --ef-construction: at least 2 × --m (${2 * s.m}), as pgvector requires`,
    );
  }
  if (s.k > s.points)
    throw new SurgeError('INVALID_REQUEST', `bench peers --k: ${s.k} is more than --points ${s.points}`);
  return s;
}

/** Every resolved value spelled out: the command that repeats this run. */
export function canonicalCommand(s: PeersSettings, program = 'npx tsx src/cli/main.ts'): string {
  const parts = [
    `${program} bench peers --dataset ${s.dataset} --points ${s.points} --queries ${s.queries}`,
    ...(s.dataset === 'clustered' ? [`--dim ${s.dim}`] : []),
    `--k ${s.k} --peers ${s.peers.join(',')} --clients ${s.clients.join(',')} --recall ${s.recall}`,
    `--m ${s.m} --ef-construction ${s.efConstruction} --duration ${s.duration} --max-queries ${s.maxQueries} --warmup ${s.warmup} --rounds ${s.rounds}`,
    ...(s.httpUrl ? [`--http-url ${s.httpUrl}`] : []),
    ...(s.pgUrl ? ['--pg-url <connection string>'] : []),
    `--out ${s.out}`,
  ];
  return parts.join(' ');
}

export function comparisonOptions(s: PeersSettings, log: (line: string) => void): ComparisonOptions {
  return {
    dataset: { name: s.dataset, points: s.points, queries: s.queries, k: s.k, dim: s.dim },
    peers: s.peers as PeerName[],
    clients: s.clients,
    recall: s.recall,
    m: s.m,
    efConstruction: s.efConstruction,
    bounds: { maxSeconds: s.duration, maxQueries: s.maxQueries, warmupQueries: s.warmup },
    rounds: s.rounds,
    peerOptions: {
      ...(s.httpUrl ? { httpUrl: s.httpUrl } : {}),
      ...(s.pgUrl ? { pgUrl: s.pgUrl } : {}),
      ...(s.tmpDir ? { tmpDir: s.tmpDir } : {}),
    },
    command: canonicalCommand(s),
    log,
  };
}
