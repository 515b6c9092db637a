/** Markdown view of a peers comparison: the headline table, what each peer is, and each peer's recall sweep. */
import type { LoadResult } from './measure.js';
import { effortLabel } from './peer.js';
import type { ComparisonResult, PeerRun } from './runner.js';

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const sec = (msValue: number) => (msValue / 1000).toFixed(1);

function loadCells(l: LoadResult | undefined): string[] {
  if (!l) return ['–', '–'];
  const errors = l.errors ? ` (${l.errors} errors)` : '';
  return [`${int(l.qps)}${errors}`, `${ms(l.p50Ms)} / ${ms(l.p99Ms)}`];
}

function row(r: ComparisonResult, p: PeerRun): string {
  if (p.error) {
    return `| ${p.name} | failed: ${p.errorCode ? `${p.errorCode}: ` : ''}${p.error.split('\n')[0]!.slice(0, 160)} |${' – |'.repeat(3 + 2 * r.clients.length)}`;
  }
  const effort = p.loadEffort
    ? p.chosen
      ? effortLabel(p.loadEffort)
      : `${effortLabel(p.loadEffort)} (target not reached)`
    : '–';
  const recall = (p.chosen ?? p.maxRecall)?.recall;
  const cells = [p.name, effort, recall === undefined ? '–' : recall.toFixed(4)];
  for (const c of r.clients) cells.push(...loadCells(p.load.find((l) => l.clients === c)));
  cells.push(p.build ? `${sec(p.build.totalMs)} (${sec(p.build.loadMs)} + ${sec(p.build.indexMs)})` : '–');
  cells.push(
    p.maxRecall
      ? `${p.maxRecall.recall.toFixed(4)} at ${effortLabel(p.maxRecall.effort)}: ${int(p.maxRecall.load.qps)} QPS`
      : '–',
  );
  return `| ${cells.join(' | ')} |`;
}

export function peersMarkdown(r: ComparisonResult): string {
  const target = r.target.recall;
  const head = ['peer', `effort at recall@${r.dataset.k} ≥ ${target}`, 'recall'];
  for (const c of r.clients) head.push(`QPS, ${c} client${c === 1 ? '' : 's'}`, `p50 / p99 ms, ${c}`);
  head.push('build s (load + index)', 'max recall: QPS (1 client)');
  const lines = [
    `**${r.dataset.about}**; k = ${r.dataset.k}; HNSW m = ${r.index.m}, ef_construction = ${r.index.efConstruction}. ` +
      `${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memGiB} GiB, Node ${r.machine.node}, ` +
      `load average at start ${r.machine.loadavgAtStart.join(' / ')}; ${r.date}.`,
    '',
    `Throughput: closed loop, each client sends its next query when the previous answer arrives, at most ` +
      `${int(r.bounds.maxQueries)} queries or ${r.bounds.maxSeconds} s per measurement after ${r.bounds.warmupQueries} ` +
      `warm-up queries; ${r.rounds} round${r.rounds === 1 ? '' : 's'} visiting every peer in turn, each cell the median round ` +
      "(every round's QPS is in the JSON).",
    '',
    `| ${head.join(' | ')} |`,
    `|${' --- |'.repeat(head.length)}`,
    ...r.peers.map((p) => row(r, p)),
    '',
    ...r.peers.map((p) => `- **${p.name}**: ${p.description}`),
    '',
    'Recall by effort (one client, whole query set once):',
    '',
    ...r.peers
      .filter((p) => p.sweep?.length)
      .map(
        (p) =>
          `- ${p.name}: ${p
            .sweep!.map((s) => `${effortLabel(s.effort)} → ${s.recall.toFixed(3)} (${int(s.qps)} QPS)`)
            .join('; ')}`,
      ),
  ];
  if (r.command) lines.push('', 'Reproduce:', '', '```sh', r.command, '```');
  return `${lines.join('\n')}\n`;
}
