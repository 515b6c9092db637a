/**
 * `surgevec bench`: run, list, report, compare. The benchmark code is loaded only when a bench command runs,
 * so `surgevec serve` never pays for it. Exit codes: 0 ok, 1 error, 2 a run that breached its SLA.
 */
import { type Command, Option } from 'commander';

interface RunFlags {
  scenario: string;
  target?: string;
  allowRemote?: boolean;
  duration?: number;
  rate?: number;
  dataset?: string;
  base?: number;
  queries?: number;
  transport?: string;
  connections?: number;
  pipelining?: number;
  ef?: number;
  seed?: number;
  maxRequests?: number;
  collection?: string;
  managed?: boolean;
  reload?: boolean;
  dataDir?: string;
  usdPerCoreHour?: number;
  sloP50?: number;
  sloP99?: number;
  sloErrorRate?: number;
  sloRecall?: number;
  apiKey?: string[];
  out: string;
  progress: boolean;
  quiet?: boolean;
}

const number = (v: string) => Number(v);
const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerBench(program: Command): Command {
  const bench = program
    .command('bench')
    .description('open-loop load generator: scenarios, SLA verdicts, HTML/Markdown reports (docs/BENCH.md)');

  bench
    .command('run')
    .description(
      'run a scenario against a target; writes <out>/<id>.json, .md and .html; exit 2 on SLA breach',
    )
    .requiredOption('--scenario <name|file>', 'built-in scenario (see `bench list`) or a scenario JSON file')
    .option('--target <url>', 'the server to load (default http://127.0.0.1:6333)')
    .option('--allow-remote', 'allow a target that is not a loopback address')
    .addOption(new Option('--duration <s>', 'run length in seconds').argParser(number))
    .addOption(
      new Option('--rate <rps>', "the arrival process's nominal rate (shape kept)").argParser(number),
    )
    .option('--dataset <name>', 'glove | mnist | synthetic[:dim]')
    .addOption(new Option('--base <n>', 'base points loaded').argParser(number))
    .addOption(new Option('--queries <n>', 'query vectors (recall is measured on them)').argParser(number))
    .addOption(
      new Option('--transport <kind>', 'http1 | http2 | websocket').choices(['http1', 'http2', 'websocket']),
    )
    .addOption(new Option('--connections <n>', 'connections / sessions / sockets').argParser(number))
    .addOption(new Option('--pipelining <n>', 'requests in flight per connection').argParser(number))
    .addOption(new Option('--ef <n>', 'params.hnsw_ef of every search').argParser(number))
    .addOption(new Option('--seed <n>', 'seed of arrivals and request choice').argParser(number))
    .addOption(new Option('--max-requests <n>', 'hard cap on scheduled requests').argParser(number))
    .option('--collection <name>', 'collection to use (default bench_<dataset>)')
    .option('--managed', 'start (and stop) a surgevec server for the run')
    .option('--reload', 'drop and reload the collection first')
    .option('--data-dir <dir>', 'data directory of a managed server')
    .addOption(new Option('--usd-per-core-hour <usd>', 'price for the cost estimate').argParser(number))
    .addOption(new Option('--slo-p50 <ms>', 'SLA: p50 below (default 10)').argParser(number))
    .addOption(new Option('--slo-p99 <ms>', 'SLA: p99 below (default 50)').argParser(number))
    .addOption(
      new Option('--slo-error-rate <x>', 'SLA: error rate below, a fraction (default 0.001)').argParser(
        number,
      ),
    )
    .addOption(new Option('--slo-recall <x>', 'SLA: recall at least (default 0.95)').argParser(number))
    .option('--api-key <key>', 'send this api-key (repeat for a tenant mix, equal weights)', collect)
    .option('--out <dir>', 'where the run files go', 'results')
    .option('--no-progress', 'no live console line')
    .option('--quiet', 'only the summary')
    .action(async (f: RunFlags) => {
      const { resolveScenario, runScenario, writeRunOutputs, consoleSummary } = await import(
        '../bench/index.js'
      );
      const scenario = resolveScenario(f.scenario, {
        duration: f.duration,
        rate: f.rate,
        dataset: f.dataset,
        base: f.base,
        queries: f.queries,
        transport: f.transport,
        connections: f.connections,
        pipelining: f.pipelining,
        ef: f.ef,
        seed: f.seed,
        maxRequests: f.maxRequests,
        collection: f.collection,
        managed: f.managed,
        reload: f.reload,
        usdPerCoreHour: f.usdPerCoreHour,
        sloP50: f.sloP50,
        sloP99: f.sloP99,
        sloErrorRate: f.sloErrorRate,
        sloRecall: f.sloRecall,
        apiKeys: f.apiKey,
      });
      const abort = new AbortController();
      const onInt = () => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping: waiting for answers in flight (Ctrl-C again to quit now)\n');
        abort.abort();
      };
      process.on('SIGINT', onInt);
      try {
        const run = await runScenario({
          scenario,
          target: f.target,
          allowRemote: f.allowRemote === true,
          progress: f.progress && f.quiet !== true,
          log: f.quiet ? () => {} : (line) => process.stderr.write(`bench: ${line}\n`),
          signal: abort.signal,
          dataDir: f.dataDir,
        });
        const files = await writeRunOutputs(run, f.out);
        process.stdout.write(consoleSummary(run));
        process.stdout.write(`run file ${files.json}\nreport   ${files.html}\n         ${files.md}\n`);
        if (!run.pass) process.exitCode = 2;
      } finally {
        process.off('SIGINT', onInt);
      }
    });

  bench
    .command('list')
    .description('the built-in scenarios and traces')
    .option('--json', 'as JSON (the resolved scenarios)')
    .option('--schema', 'print the JSON Schema of scenario files')
    .action(async (f: { json?: boolean; schema?: boolean }) => {
      const { BUILTIN_SCENARIOS, BUILTIN_TRACES, parseScenario, scenarioJsonSchema } = await import(
        '../bench/index.js'
      );
      if (f.schema) {
        process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
        return;
      }
      const all = BUILTIN_SCENARIOS.map((s) => parseScenario(s, `built-in ${s.name}`));
      if (f.json) {
        process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        return;
      }
      const w = Math.max(...all.map((s) => s.name.length));
      for (const s of all)
        process.stdout.write(
          `${s.name.padEnd(w)}  ${String(s.duration_s).padStart(4)} s  ${s.description}\n`,
        );
      process.stdout.write('\ntraces (arrival {"kind": "trace", "file": <name>}):\n');
      for (const [name, t] of Object.entries(BUILTIN_TRACES))
        process.stdout.write(`  ${name.padEnd(w)}  ${t.about}\n`);
    });

  bench
    .command('report')
    .description('print a run file as a summary; --html / --md write the reports again')
    .argument('<run.json>', 'a run file from `bench run`')
    .option('--html', 'write the HTML report')
    .option('--md', 'write the Markdown report')
    .option('--out <dir>', 'where to write them (default: next to the run file)')
    .action(async (file: string, f: { html?: boolean; md?: boolean; out?: string }) => {
      const { readRunFile, consoleSummary, htmlReport, markdownReport } = await import('../bench/index.js');
      const { writeFile, mkdir } = await import('node:fs/promises');
      const { basename, dirname, join } = await import('node:path');
      const run = await readRunFile(file);
      process.stdout.write(consoleSummary(run));
      const dir = f.out ?? dirname(file);
      const stem = basename(file).replace(/\.json$/, '');
      if (f.html || f.md) await mkdir(dir, { recursive: true });
      if (f.html) {
        await writeFile(join(dir, `${stem}.html`), htmlReport(run));
        process.stdout.write(`wrote ${join(dir, `${stem}.html`)}\n`);
      }
      if (f.md) {
        await writeFile(join(dir, `${stem}.md`), markdownReport(run));
        process.stdout.write(`wrote ${join(dir, `${stem}.md`)}\n`);
      }
    });

  bench
    .command('compare')
    .description('two run files side by side (Markdown on stdout)')
    .argument('<a.json>')
    .argument('<b.json>')
    .action(async (a: string, b: string) => {
      const { readRunFile, compareMarkdown } = await import('../bench/index.js');
      const { basename } = await import('node:path');
      process.stdout.write(
        compareMarkdown(await readRunFile(a), await readRunFile(b), basename(a), basename(b)),
      );
    });

  return bench;
}
