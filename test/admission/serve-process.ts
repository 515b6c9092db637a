/**
 * Test helper: a real `surgevec serve --port 0` process with a JSON config file, as an operator starts it.
 * Resolves once it prints its ready line; `stop()` sends SIGTERM and waits for the exit.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resident set size and its peak (VmRSS, VmHWM) in bytes, read from /proc. */
  memory(): { rss: number; peak: number };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startServer(config: object, prefix = 'surgevec-adm-'): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const env: NodeJS.ProcessEnv = { ...process.env, SURGEVEC_LOG_LEVEL: 'warn' };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'serve',
      '--port',
      '0',
      '--data-dir',
      join(dir, 'data'),
      '--config',
      file,
    ],
    { cwd: REPO, env },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 30 s:\n${out}`));
    }, 30_000);
    const onData = () => {
      const m = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve(m[1]!);
    };
    child.stdout.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before ready:\n${out}`));
    });
  });
  const memory = () => {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = (k: string) =>
      Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  };
  let stopped: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  return {
    url,
    pid: child.pid!,
    child,
    output: () => out,
    memory,
    exited,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const r = await exited;
        clearTimeout(kill);
        rmSync(dir, { recursive: true, force: true });
        return r;
      })();
      return stopped;
    },
  };
}
