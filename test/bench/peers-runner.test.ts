/**
 * The comparison runner end to end on real peers (in-process engine and LanceDB, clustered data): each peer is
 * tuned to the recall target by its own sweep, measured with 1 and 2 clients within the bounds, and a peer that
 * cannot run is reported without stopping the others. Flag validation and the reproducible command line.
 */
import { describe, expect, it } from 'vitest';
import type { LoadResult } from '../../src/bench/peers/measure.js';
import {
  canonicalCommand,
  comparisonOptions,
  type PeersFlags,
  parsePeersFlags,
} from '../../src/bench/peers/options.js';
import { effortLabel } from '../../src/bench/peers/peer.js';
import { peersMarkdown } from '../../src/bench/peers/report.js';
import { medianRound, PEERS_RESULT_SCHEMA, runComparison } from '../../src/bench/peers/runner.js';

describe('runComparison', () => {
  it('tunes every peer to the recall target, measures it within bounds, and isolates a failing peer', async () => {
    const settings = parsePeersFlags({
      dataset: 'clustered',
      points: '2000',
      queries: '100',
      dim: '48',
      peers: 'inprocess,pgvector,lancedb',
      clients: '1,2',
      recall: '0.97',
      efConstruction: '100',
      duration: '0.5',
      maxQueries: '200',
      warmup: '20',
      rounds: '2',
      // Nothing listens on port 1: pgvector must fail alone, quickly.
      pgUrl: 'postgres://postgres@127.0.0.1:1/postgres',
    });
    const lines: string[] = [];
    const result = await runComparison(comparisonOptions(settings, (l) => lines.push(l)));
    expect(result.schema).toBe(PEERS_RESULT_SCHEMA);
    expect(result.dataset).toMatchObject({ points: 2000, queries: 100, dim: 48, k: 10 });
    expect(result.peers.map((p) => p.name)).toEqual(['inprocess', 'pgvector', 'lancedb']);

    const failed = result.peers[1]!;
    expect(failed.error).toMatch(/ECONNREFUSED|connect/);
    expect(failed.load).toEqual([]);

    for (const p of [result.peers[0]!, result.peers[2]!]) {
      expect(p.error, p.name).toBeUndefined();
      const chosen = p.chosen!;
      expect(chosen.recall, p.name).toBeGreaterThanOrEqual(0.97);
      // The chosen rung is the first of its ladder to qualify: the rung measured just before it (same ladder) did not.
      const i = p.sweep!.indexOf(chosen);
      const before = p.sweep![i - 1];
      if (
        before &&
        (before.effort.refineFactor ?? 0) === (chosen.effort.refineFactor ?? 0) &&
        before.effort.ef < chosen.effort.ef
      ) {
        expect(before.recall, `${p.name} ${effortLabel(before.effort)}`).toBeLessThan(0.97);
      }
      expect(p.loadEffort).toEqual(chosen.effort);
      expect(p.load.map((l) => l.clients)).toEqual([1, 2]);
      for (const l of p.load) expect(l.roundsQps).toHaveLength(2);
      for (const l of p.load) {
        expect(l.errors).toBe(0);
        expect(l.queries).toBeGreaterThan(0);
        expect(l.queries).toBeLessThanOrEqual(200);
        expect(l.seconds).toBeLessThan(0.5 + 2);
        expect(l.p50Ms).toBeLessThanOrEqual(l.p99Ms);
        expect(l.p99Ms).toBeLessThanOrEqual(l.maxMs + 0.01);
        // Same effort, same graph: recall under load matches the sweep's (over the queries answered).
        if (l.queries >= 100) expect(l.recall).toBeCloseTo(chosen.recall, 2);
      }
      expect(p.maxRecall!.recall).toBeGreaterThanOrEqual(chosen.recall);
      expect(p.build!.totalMs).toBeGreaterThan(0);
    }

    const md = peersMarkdown(result);
    expect(md).toMatch(/\| inprocess \| ef \d+ \| 0\.9\d+ \|/);
    expect(md).toMatch(/\| pgvector \| failed: /);
    expect(md).toContain(result.command!);
    expect(lines.some((l) => l.startsWith('lancedb: '))).toBe(true);
  });
});

describe('medianRound', () => {
  const round = (qps: number, p99Ms: number) => ({ clients: 1, qps, p99Ms }) as LoadResult;
  it('reports the round with the median QPS, its percentiles with it, and every round in order', () => {
    expect(medianRound([round(900, 3), round(500, 9), round(700, 4)])).toMatchObject({
      qps: 700,
      p99Ms: 4,
      roundsQps: [900, 500, 700],
    });
    // An even count takes the lower middle: a noisy neighbour never flatters a figure.
    expect(medianRound([round(900, 3), round(500, 9)])).toMatchObject({ qps: 500, roundsQps: [900, 500] });
  });
});

describe('bench peers flags', () => {
  it('fills defaults: GloVe, 100k points, 1,000 queries, all four peers, 1 and 4 clients, recall 0.95', () => {
    const s = parsePeersFlags({});
    expect(s).toMatchObject({
      dataset: 'glove',
      points: 100_000,
      queries: 1000,
      peers: ['inprocess', 'http', 'pgvector', 'lancedb'],
      clients: [1, 4],
      recall: 0.95,
      m: 16,
      efConstruction: 200,
    });
  });

  it.each<[PeersFlags, string]>([
    [{ peers: 'inprocess,milvus' }, '--peers'],
    [{ peers: 'http,http' }, '--peers'],
    [{ clients: '1,0' }, '--clients'],
    [{ recall: '1.5' }, '--recall'],
    [{ points: 'lots' }, '--points'],
    [{ points: '400000' }, '--points'],
    [{ efConstruction: '3' }, '--ef-construction'],
    [{ m: '48', efConstruction: '64' }, '--ef-construction'],
    [{ m: '2' }, '--m'],
    [{ httpUrl: 'ftp://127.0.0.1' }, '--http-url'],
    [{ dataset: 'sift' }, '--dataset'],
  ])('rejects %o naming %s', (flags, flag) => {
    expect(() => parsePeersFlags(flags)).toThrowError(
      expect.objectContaining({ code: 'INVALID_REQUEST', message: expect.stringContaining(flag) }),
    );
  });

  it('spells out a command line that parses back to the same settings', () => {
    const s = parsePeersFlags({
      dataset: 'clustered',
      points: '5000',
      dim: '64',
      peers: 'lancedb,inprocess',
      clients: '1,8',
    });
    const argv = canonicalCommand(s, 'surgevec').split(' ').slice(3);
    const flags: Record<string, string> = {};
    for (let i = 0; i < argv.length; i += 2)
      flags[argv[i]!.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = argv[i + 1]!;
    expect(parsePeersFlags(flags)).toEqual(s);
  });
});
