/**
 * A `surgevec serve` process the bench starts itself, for scenarios that restart or kill the server
 * (cold start, failover). Spawned as a user would (the CLI in a child process, port 0 on loopback, ready when
 * it prints `surgevec X ready at http://…`); restarts reuse the first port so clients find it again.
 * The CLI is located by path next to this module (.ts under tsx, .js in a build), never imported.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRepoRoot } from '../datasets/cache.js';

const READY = /surgevec (\S+) ready at (https?:\/\/\S+)/;

export interface ManagedServerOptions {
  dataDir: string;
  /** Server config file contents; log level defaults to warn so the bench's console stays readable. */
  config?: Record<string, unknown> | undefined;
  readyTimeoutMs?: number;
}

function cliCommand(): { args: string[]; cwd: string } {
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  const main = fileURLToPath(new URL(`../../cli/main.${ts ? 'ts' : 'js'}`, here));
  return { args: ts ? ['--import', 'tsx', main] : [main], cwd: ts ? findRepoRoot() : dirname(main) };
}

export class ManagedServer {
  private child: ChildProcess | undefined;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  url = '';
  version = '';
  port = 0;
  /** Spawn → ready line, ms, of the last start. */
  readyMs = 0;
  stderrTail = '';

  private constructor(private readonly o: ManagedServerOptions) {}

  static async start(o: ManagedServerOptions): Promise<ManagedServer> {
    const s = new ManagedServer(o);
    await s.spawn();
    return s;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private configFile(): string {
    const file = join(dirname(this.o.dataDir), `${this.o.dataDir.split('/').pop()}.server.json`);
    const cfg = { ...(this.o.config ?? {}) } as Record<string, unknown>;
    cfg.log = { level: 'warn', ...((cfg.log as object | undefined) ?? {}) };
    mkdirSync(this.o.dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(cfg));
    return file;
  }

  private async spawn(): Promise<void> {
    const { args, cwd } = cliCommand();
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [
        ...args,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--data-dir',
        this.o.dataDir,
        '--config',
        this.configFile(),
      ],
      { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-4000);
    });
    let out = '';
    const m = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `surgevec serve printed no ready line in ${this.o.readyTimeoutMs ?? 120_000} ms\n${this.stderrTail}`,
          ),
        );
      }, this.o.readyTimeoutMs ?? 120_000);
      const onData = (s: string) => {
        out += s;
        const r = READY.exec(out);
        if (!r) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(r);
      };
      child.stdout!.setEncoding('utf8').on('data', onData);
      void this.exited!.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(
            `surgevec serve exited (${code ?? signal}) before it was ready\n${out}\n${this.stderrTail}`,
          ),
        );
      });
    });
    this.readyMs = performance.now() - t0;
    this.version = m[1]!;
    this.url = m[2]!;
    this.port = Number(new URL(this.url).port);
  }

  /** SIGTERM (graceful: WAL flushed, snapshot written), bounded: SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9: no shutdown at all, as a crash or an OOM kill. Resolves when the process is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Starts again on the same port; resolves at the ready line (`readyMs` = spawn → ready). */
  async restart(): Promise<void> {
    await this.spawn();
  }
}

/** Where a managed server keeps its data: under .cache/ in a checkout (reused across runs), else a temp dir. */
export function managedDataDir(datasetId: string, tmp: string): string {
  try {
    return join(findRepoRoot(), '.cache', 'bench-server', datasetId);
  } catch {
    return join(tmp, `surgevec-bench-${datasetId}`);
  }
}
