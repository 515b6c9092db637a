/**
 * A real `surgevec serve` child process on loopback port 0, as a user starts it: the CLI from source (tsx) when
 * this module runs from source, the built one otherwise. Stopped with SIGTERM (graceful drain) and, if it
 * hangs, SIGKILL; a process exit hook kills it too, so an aborted bench leaves no server behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { SurgeError } from '../../protocol/errors.js';
import { findRepoRoot } from '../datasets/cache.js';

export interface SurgevecServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface StartSurgevecOptions {
  dataDir: string;
  /** JSON config file (layered under the flags). */
  configFile?: string;
  /** Give up waiting for the ready line after this long (default 60 s: tsx compiles on first start). */
  timeoutMs?: number;
}

const READY = /surgevec \S+ ready at (https?:\/\/\S+)/;

function cliArgs(): { cwd: string; args: string[] } {
  const root = findRepoRoot();
  return import.meta.url.endsWith('.ts')
    ? { cwd: root, args: ['--import', 'tsx', join(root, 'src/cli/main.ts')] }
    : { cwd: root, args: [join(root, 'dist/cli/main.js')] };
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startSurgevecServer(opts: StartSurgevecOptions): Promise<SurgevecServer> {
  const { cwd, args } = cliArgs();
  const argv = [...args, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', opts.dataDir];
  if (opts.configFile) argv.push('--config', opts.configFile);
  const child = spawn(process.execPath, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new SurgeError(
          'PEER_UNAVAILABLE',
          `surgevec serve was not ready within ${opts.timeoutMs ?? 60_000} ms`,
        ),
      );
    }, opts.timeoutMs ?? 60_000);
    const onData = (s: string) => {
      out = (out + s).slice(-4000);
      const m = READY.exec(out);
      if (!m) return;
      clearTimeout(timer);
      // Keep draining stdout (logs) so the child never blocks on a full pipe.
      child.stdout!.off('data', onData).on('data', () => {});
      child.off('exit', onExit);
      resolve(m[1]!);
    };
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(
        new SurgeError(
          'PEER_UNAVAILABLE',
          `surgevec serve exited before it was ready (code ${code}, signal ${signal}): ${stderr.trim()}`,
        ),
      );
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 20_000))) {
          child.kill('SIGKILL');
          await waitExit(child, 5_000);
        }
        process.off('exit', killOnExit);
      })();
      return stopping;
    },
  };
}
