/**
 * `surgevec bench peers`: surgevec (in-process, HTTP), pgvector and LanceDB side by side on the same data, each
 * at the cheapest search effort reaching the same recall. The bench code loads only when the command runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { PEERS_DEFAULTS as D, type PeersFlags } from '../bench/peers/options.js';

export function registerPeersCommand(bench: Command): void {
  bench
    .command('peers')
    .description(
      'compare surgevec (in-process, HTTP), pgvector and LanceDB on the same data at equal recall: ' +
        'sweep each to the target recall, then measure QPS and p50/p99 with 1 and N clients',
    )
    .option('--dataset <name>', 'glove (GloVe-100 cache) | clustered (seeded synthetic)', D.dataset)
    .option('--points <n>', 'base vectors loaded into every peer', D.points)
    .option('--queries <n>', 'query vectors (recall and load)', D.queries)
    .option('--dim <n>', 'dimensions of the clustered dataset', D.dim)
    .option('--k <n>', 'neighbours per query (recall@k)', D.k)
    .option('--peers <list>', 'comma-separated: inprocess,http,pgvector,lancedb', D.peers)
    .option('--clients <list>', 'concurrent clients per throughput measurement', D.clients)
    .option('--recall <r>', 'recall@k target every peer is tuned to', D.recall)
    .option('--m <n>', 'HNSW links per node, for every peer', D.m)
    .option('--ef-construction <n>', 'HNSW build candidate list, for every peer', D.efConstruction)
    .option('--duration <s>', 'at most this many seconds per throughput measurement', D.duration)
    .option('--max-queries <n>', 'at most this many queries per throughput measurement', D.maxQueries)
    .option('--warmup <n>', 'untimed queries before each throughput measurement', D.warmup)
    .option(
      '--rounds <n>',
      'throughput rounds over all peers in turn; each cell reports its median',
      D.rounds,
    )
    .option('--http-url <url>', 'http peer: an existing server instead of starting `surgevec serve`')
    .option('--pg-url <url>', 'pgvector peer: an existing PostgreSQL with pgvector instead of a private one')
    .option('--tmp-dir <dir>', "parent of the peers' temporary data directories")
    .option('--out <dir>', 'directory for the JSON and Markdown results', D.out)
    .action(async (flags: PeersFlags) => {
      const { parsePeersFlags, comparisonOptions } = await import('../bench/peers/options.js');
      const { runComparison } = await import('../bench/peers/runner.js');
      const { peersMarkdown } = await import('../bench/peers/report.js');
      const settings = parsePeersFlags(flags);
      const t0 = performance.now();
      const log = (line: string) =>
        process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
      // Ctrl-C: exit through process.exit so the peers' exit hooks stop Postgres and the server we started.
      const interrupt = () => process.exit(130);
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const result = await runComparison(comparisonOptions(settings, log));
        const markdown = peersMarkdown(result);
        await mkdir(settings.out, { recursive: true });
        const stem = join(settings.out, `peers-${result.date.replace(/[:.]/g, '-')}`);
        await writeFile(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
        await writeFile(`${stem}.md`, markdown);
        process.stdout.write(`${markdown}\nresults: ${stem}.json, ${stem}.md\n`);
        if (result.peers.some((p) => p.error)) process.exitCode = 1;
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
}
