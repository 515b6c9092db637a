/**
 * `surgevec bench` end to end, as a user runs it: a real `surgevec serve` on port 0, then the CLI's
 * `bench run` against it (dataset loaded over NDJSON, indexed, Poisson load, /metrics scraped), `report`,
 * `compare` and `list`. The exit code follows the SLA verdict: 0 when it holds, 2 when it is breached.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunFile } from '../../src/bench/report/run-file.js';
import { runScenario } from '../../src/bench/run.js';
import { resolveScenario } from '../../src/bench/scenarios/resolve.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'surgevec-bench-e2e-'));
const out = join(work, 'results');
let server: ChildProcess;
let url = '';

function cli(
  args: string[],
  timeoutMs = 90_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`surgevec ${args.join(' ')} ran over ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  server = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--data-dir', join(work, 'data')],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stderr!.resume();
  url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ready line in 60 s: ${buf}`)), 60_000);
    server.stdout!.setEncoding('utf8').on('data', (s: string) => {
      buf += s;
      const m = /ready at (http:\/\/\S+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.once('exit', (code) => reject(new Error(`serve exited (${code}): ${buf}`)));
  });
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

const common = [
  '--dataset',
  'synthetic:32',
  '--base',
  '2000',
  '--queries',
  '200',
  '--rate',
  '50',
  '--duration',
  '4',
  '--no-progress',
  '--out',
];

describe('surgevec bench (CLI against a real server)', () => {
  it('run: loads the data, measures, writes json/md/html, exits 0 when the SLA holds and 2 when it does not', async () => {
    const ok = await cli([
      'bench',
      'run',
      '--scenario',
      'baseline',
      '--target',
      url,
      ...common,
      out,
      // A generous SLA: this test checks the plumbing of the verdict, not the speed of a shared VM.
      '--slo-p50',
      '2000',
      '--slo-p99',
      '5000',
      '--slo-error-rate',
      '0.5',
      '--slo-recall',
      '0.5',
    ]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(ok.stderr).toMatch(/loaded 2000 points .* via ndjson/);
    expect(ok.stdout).toMatch(/baseline against http:\/\/127\.0\.0\.1:\d+ — PASS/);
    const jsonFile = /run file (\S+\.json)/.exec(ok.stdout)![1]!;
    const run = await readRunFile(jsonFile);
    expect(run.pass).toBe(true);
    expect(existsSync(jsonFile.replace(/\.json$/, '.html'))).toBe(true);
    expect(existsSync(jsonFile.replace(/\.json$/, '.md'))).toBe(true);
    const s = run.summary;
    // 50/s for 4 s, Poisson with a fixed seed: about 200, every one answered.
    expect(s.requests.scheduled).toBeGreaterThan(130);
    expect(s.requests.scheduled).toBeLessThan(270);
    expect(s.requests.ok).toBe(s.requests.scheduled);
    expect(s.requests.dropped + s.requests.unsent).toBe(0);
    expect(s.latency_ms.p50).toBeGreaterThan(0);
    expect(s.recall!.mean).toBeGreaterThan(0.9);
    expect(s.recall!.samples).toBeGreaterThan(5);
    expect(s.server!.rss_mb_max).toBeGreaterThan(20);
    expect(s.cost!.usd_per_million_requests).toBeGreaterThan(0);
    expect(run.series.offered.reduce((a, b) => a + b, 0)).toBe(s.requests.scheduled);
    expect(run.target.server?.version).toMatch(/^\d+\.\d+/);

    // Same run, impossible SLA: the collection is reused (no reload) and the exit code is 2.
    const breach = await cli([
      'bench',
      'run',
      '--scenario',
      'baseline',
      '--target',
      url,
      ...common,
      out,
      '--slo-p99',
      '0.001',
    ]);
    expect(breach.code, breach.stderr).toBe(2);
    expect(breach.stderr).not.toMatch(/loaded \d+ points/);
    expect(breach.stdout).toMatch(/FAIL\s+p99 < 0\.001 ms/);

    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    expect(files.length).toBe(2);
    const [a, b] = files.map((f) => join(out, f));
    const cmp = await cli(['bench', 'compare', a!, b!]);
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(cmp.stdout).toMatch(/\| latency p99 \|/);
    const rep = await cli(['bench', 'report', a!, '--html', '--md', '--out', join(work, 'again')]);
    expect(rep.code, rep.stderr).toBe(0);
    expect(readdirSync(join(work, 'again')).sort()).toEqual(
      [a!, a!]
        .map((f, i) =>
          f
            .split('/')
            .pop()!
            .replace('.json', i ? '.md' : '.html'),
        )
        .sort(),
    );
  });

  it('refuses a non-loopback target before any work, and lists the built-ins', async () => {
    const t0 = performance.now();
    await expect(
      runScenario({ scenario: resolveScenario('baseline'), target: 'http://192.0.2.1:6333' }),
    ).rejects.toMatchObject({
      code: 'TARGET_NOT_ALLOWED',
      message: /192\.0\.2\.1 is not a loopback address/,
    });
    expect(performance.now() - t0).toBeLessThan(1000);
    const list = await cli(['bench', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^burst-50x\s+60 s/m);
    expect(list.stdout).toMatch(/flash-crowd/);
  });
});
