/**
 * The side-by-side comparison on one dataset. Each peer is built with the same HNSW parameters and swept to its
 * own cheapest effort at the recall target, one peer at a time (none steals another's cores). Then throughput
 * with 1 and N concurrent clients at that effort, in rounds that visit every peer in turn, so that load from
 * other tenants of a shared machine falls on all peers rather than on whichever ran at the time; each cell
 * reports its median round. Also: build time, and throughput at the highest recall the peer reaches.
 * One result object; JSON and Markdown are views of it.
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { createPeer } from './create-peer.js';
import { loadPeersDataset, type PeersDatasetSpec } from './dataset.js';
import { type LoadBounds, type LoadResult, measureLoad } from './measure.js';
import {
  type BuildTiming,
  effortLabel,
  type Peer,
  type PeerName,
  type PeerOptions,
  type SearchEffort,
} from './peer.js';
import { type SweepPoint, sweepEffort } from './sweep.js';

export const PEERS_RESULT_SCHEMA = 'surgevec.bench.peers/1';

export interface ComparisonOptions {
  dataset: PeersDatasetSpec;
  peers: PeerName[];
  /** Concurrent clients for each throughput measurement, e.g. [1, 4]. */
  clients: number[];
  /** recall@k target (e.g. 0.95). */
  recall: number;
  m: number;
  efConstruction: number;
  bounds: LoadBounds;
  /** Throughput rounds; each cell reports its median round. */
  rounds: number;
  peerOptions?: Omit<PeerOptions, 'log' | 'maxClients'>;
  /** The command line, recorded in the result so a run can be repeated. */
  command?: string;
  log?: (line: string) => void;
}

export interface PeerRun {
  name: PeerName;
  description: string;
  build?: BuildTiming;
  sweep?: SweepPoint[];
  /** Cheapest effort reaching the target; absent when no rung did (then `load` is at the best rung). */
  chosen?: SweepPoint;
  /** The effort `load` was measured at. */
  loadEffort?: SearchEffort;
  /** One entry per client count: the median round. */
  load: LoadResult[];
  /** Highest recall reached, and single-client throughput there. */
  maxRecall?: SweepPoint & { load: LoadResult };
  /** Set when the peer could not run (not installed, failed to start …); the other peers still run. */
  error?: string;
  errorCode?: string;
}

export interface ComparisonResult {
  schema: typeof PEERS_RESULT_SCHEMA;
  date: string;
  command?: string;
  machine: { cpus: number; cpuModel: string; memGiB: number; node: string; loadavgAtStart: number[] };
  dataset: { about: string; points: number; queries: number; dim: number; metric: string; k: number };
  index: { m: number; efConstruction: number };
  target: { recall: number };
  bounds: LoadBounds;
  rounds: number;
  clients: number[];
  peers: PeerRun[];
}

export async function runComparison(opts: ComparisonOptions): Promise<ComparisonResult> {
  const log = opts.log ?? (() => {});
  const loadavgAtStart = loadavg().map((x) => Number(x.toFixed(2)));
  const data = await loadPeersDataset(opts.dataset, log);
  const qs = data.queries;
  const result: ComparisonResult = {
    schema: PEERS_RESULT_SCHEMA,
    date: new Date().toISOString(),
    ...(opts.command ? { command: opts.command } : {}),
    machine: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadavgAtStart,
    },
    dataset: {
      about: data.about,
      points: data.points,
      queries: qs.count,
      dim: data.dim,
      metric: data.metric,
      k: qs.k,
    },
    index: { m: opts.m, efConstruction: opts.efConstruction },
    target: { recall: opts.recall },
    bounds: opts.bounds,
    rounds: opts.rounds,
    clients: opts.clients,
    peers: [],
  };
  const maxClients = Math.max(...opts.clients);
  const live: Live[] = [];
  const fail = (l: Live | PeerRun, e: unknown) => {
    const run = 'run' in l ? l.run : l;
    run.error = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') run.errorCode = code;
    log(`${run.name}: FAILED: ${run.error}`);
  };

  try {
    // 1. Build and tune each peer alone; keep it open for the measurements.
    for (const name of opts.peers) {
      const run: PeerRun = { name, description: name, load: [] };
      result.peers.push(run);
      let peer: Peer | undefined;
      try {
        peer = await createPeer(name, { ...opts.peerOptions, maxClients, log });
        log(
          `${name}: building ${data.points} × ${data.dim} (m ${opts.m}, ef_construction ${opts.efConstruction})`,
        );
        run.build = await peer.build(data.base, {
          dim: data.dim,
          metric: data.metric,
          m: opts.m,
          efConstruction: opts.efConstruction,
        });
        run.description = peer.description;
        log(
          `${name}: built in ${s1(run.build.totalMs)} s (load ${s1(run.build.loadMs)} s, index ${s1(run.build.indexMs)} s)`,
        );
        const sweep = await sweepEffort(peer, qs, opts.recall, log);
        run.sweep = sweep.points;
        if (sweep.chosen) run.chosen = sweep.chosen;
        else
          log(
            `${name}: recall ${opts.recall} not reached (best ${sweep.best.recall.toFixed(4)}); measuring at the best rung`,
          );
        run.loadEffort = (sweep.chosen ?? sweep.best).effort;
        live.push({ run, peer, best: sweep.best, rounds: new Map() });
      } catch (e) {
        if (peer) run.description = peer.description;
        fail(run, e);
        await peer?.close().catch(() => {});
      }
    }

    // 2. Throughput in rounds, peers interleaved: a noisy neighbour slows every peer alike, not one of them.
    for (let round = 1; round <= opts.rounds; round++) {
      for (const l of live) {
        if (l.run.error) continue;
        try {
          await l.peer.setEffort(l.run.loadEffort!);
          for (const clients of opts.clients) {
            const r = await measureLoad(l.peer, qs, clients, opts.bounds);
            l.rounds.set(clients, [...(l.rounds.get(clients) ?? []), r]);
            log(
              `${l.run.name}: round ${round}, ${effortLabel(l.run.loadEffort!)}, ${clients} client(s): ${Math.round(r.qps)} QPS, ` +
                `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, recall ${r.recall.toFixed(4)}${r.errors ? `, ${r.errors} errors` : ''}`,
            );
          }
        } catch (e) {
          fail(l, e);
        }
      }
    }
    for (const l of live) {
      for (const clients of opts.clients) {
        const rs = l.rounds.get(clients);
        if (rs?.length) l.run.load.push(medianRound(rs));
      }
    }

    // 3. Throughput at the highest recall each peer reached (one client, one round).
    for (const l of live) {
      if (l.run.error) continue;
      try {
        const one = l.run.load.find((r) => r.clients === 1);
        if (l.best.effort === l.run.loadEffort && one) {
          l.run.maxRecall = { ...l.best, load: one };
          continue;
        }
        await l.peer.setEffort(l.best.effort);
        const r = await measureLoad(l.peer, qs, 1, opts.bounds);
        l.run.maxRecall = { ...l.best, load: r };
        log(
          `${l.run.name}: max recall ${l.best.recall.toFixed(4)} at ${effortLabel(l.best.effort)}: ${Math.round(r.qps)} QPS (1 client)`,
        );
      } catch (e) {
        fail(l, e);
      }
    }
  } finally {
    for (const l of live)
      await l.peer.close().catch((e: unknown) => log(`${l.run.name}: close failed: ${String(e)}`));
  }
  return result;
}

interface Live {
  run: PeerRun;
  peer: Peer;
  best: SweepPoint;
  /** Load results by client count, one per round. */
  rounds: Map<number, LoadResult[]>;
}

const s1 = (ms: number) => (ms / 1000).toFixed(1);

/** The round with the median QPS (the lower middle for an even count), with every round's QPS beside it. */
export function medianRound(rounds: LoadResult[]): LoadResult {
  const sorted = [...rounds].sort((a, b) => a.qps - b.qps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { ...median, roundsQps: rounds.map((r) => Math.round(r.qps)) };
}
