/**
 * Starts the real server for the client's tests: `surgevec serve` as a child process on loopback, port 0
 * by default (or a given port, to come back on the same address after a kill), parsed from its ready line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY = /surgevec \S+ ready at (http:\/\/\S+)/;

export interface Served {
  url: string;
  port: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), and wait. */
  stop(): Promise<void>;
}

export async function serve(
  dataDir: string,
  options: { port?: number; config?: Record<string, unknown> } = {},
): Promise<Served> {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(options.port ?? 0)];
  args.push('--data-dir', dataDir);
  if (options.config) {
    const file = join(dataDir, '..', `config-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ log: { level: 'warn' }, ...options.config }));
    args.push('--config', file);
  } else {
    const file = join(dataDir, '..', `config-quiet-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ log: { level: 'warn' } }));
    args.push('--config', file);
  }
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`surgevec serve did not get ready in 30 s\n${out}`));
    }, 30_000);
    const onData = () => {
      const m = READY.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`surgevec serve exited (${code ?? signal}) before ready\n${out}`));
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    child,
    exited,
    output: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
