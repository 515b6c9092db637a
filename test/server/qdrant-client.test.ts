/**
 * Qdrant wire-compatibility, proven with the official client: the contract in
 * test/contracts/qdrant-api.contract.ts runs against (a) buildApp + an in-process Engine listening on port 0
 * and (b) the real CLI, `surgevec serve --port 0`, as a user starts it (worker-thread engine, pino logs on
 * stdout), stopped with SIGTERM and required to exit 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { buildApp } from '../../src/server/app.js';
import { qdrantApiContract, type ServerHandle } from '../contracts/qdrant-api.contract.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

qdrantApiContract('buildApp + in-process Engine', async (): Promise<ServerHandle> => {
  const dir = mkdtempSync(join(tmpdir(), 'surgevec-qdrant-app-'));
  const config = defaultConfig({ storage: { data_dir: dir } });
  const engine = await Engine.open(config);
  const app = await buildApp({ engine, config, version: VERSION });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('the app is not listening on a TCP port');
  let stopped = false;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const READY = /surgevec (\S+) ready at (http:\/\/\S+)/;

qdrantApiContract('surgevec serve --port 0 (CLI, worker engine)', async (): Promise<ServerHandle> => {
  const dir = mkdtempSync(join(tmpdir(), 'surgevec-qdrant-cli-'));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--data-dir', dir],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const ready = new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`surgevec serve did not print its ready line in 30 s\n${stdout}\n${stderr}`));
    }, 30_000);
    const onData = () => {
      const m = READY.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(m);
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`surgevec serve exited (${code ?? signal}) before ready\n${stdout}\n${stderr}`));
    });
  });
  const [, version, url] = await ready.catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  expect(version).toBe(VERSION);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(url).not.toMatch(/:0$/);

  let stopped = false;
  return {
    url: url!,
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      rmSync(dir, { recursive: true, force: true });
      expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
      expect(stdout).toMatch(/stopped cleanly/);
    },
  };
});
