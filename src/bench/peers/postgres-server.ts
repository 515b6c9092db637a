/**
 * A private PostgreSQL server for the pgvector peer: `initdb`, the postmaster and `pg_ctl stop` run as the
 * `postgres` user when we are root (Postgres refuses to run as root), data directory and Unix socket in a fresh
 * temporary folder, TCP on 127.0.0.1 only, a free port. `stop()` is a fast shutdown that waits for the
 * postmaster to exit and then deletes the folder; a process exit hook does an immediate shutdown if the caller
 * never got to `stop()`.
 *
 * Installed by `scripts/peers/pgvector.sh` (PostgreSQL 15 from Debian, pgvector 0.8.0 from trixie's source).
 */
import { type ChildProcess, type ExecFileOptions, execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SurgeError } from '../../protocol/errors.js';

export const PG_MAJOR = 15;
const BIN_DIR = `/usr/lib/postgresql/${PG_MAJOR}/bin`;
const EXTENSION_DIR = `/usr/share/postgresql/${PG_MAJOR}/extension`;
const INSTALL_HINT = 'run `bash scripts/peers/pgvector.sh` (as root) first';

export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: 'postgres';
  readonly database: 'postgres';
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication on loopback). */
  readonly url: string;
  /** The temporary folder holding data, socket and log. */
  readonly dir: string;
  /** The postmaster's pid. */
  readonly pid: number;
  /** The last lines of the server log (for error messages). */
  logTail(): Promise<string>;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Parent of the temporary folder (default: the OS temp dir). It must be traversable by `postgres`. */
  tmpDir?: string;
  /** Extra server settings, passed as `-c name=value` arguments (no shell involved). */
  settings?: Record<string, string | number>;
  /** Wait at most this long for start and stop (default 60 s). */
  timeoutMs?: number;
}

interface Account {
  uid: number;
  gid: number;
}

/** Who runs the server: ourselves, unless we are root — then the `postgres` account from /etc/passwd. */
function serverAccount(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const f = line?.split(':');
  if (!f || f.length < 4) {
    throw new SurgeError('PEER_UNAVAILABLE', `no postgres user in /etc/passwd: ${INSTALL_HINT}`);
  }
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export function postgresInstalled(): { ok: true } | { ok: false; reason: string } {
  if (!existsSync(join(BIN_DIR, 'pg_ctl')))
    return { ok: false, reason: `PostgreSQL ${PG_MAJOR} is not installed (${BIN_DIR}/pg_ctl missing)` };
  if (!existsSync(join(EXTENSION_DIR, 'vector.control')))
    return {
      ok: false,
      reason: `pgvector is not installed for PostgreSQL ${PG_MAJOR} (${EXTENSION_DIR}/vector.control missing)`,
    };
  return { ok: true };
}

function run(bin: string, args: string[], account: Account | undefined, timeoutMs: number): Promise<string> {
  const opts: ExecFileOptions = {
    timeout: timeoutMs,
    ...(account ?? {}),
    env: { ...process.env, LC_ALL: 'C' },
  };
  return new Promise((resolve, reject) => {
    execFile(join(BIN_DIR, bin), args, { ...opts, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err)
        reject(
          new SurgeError(
            'PEER_UNAVAILABLE',
            `${bin} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`,
          ),
        );
      else resolve(String(stdout));
    });
  });
}

/** A port nobody listens on right now (the kernel picks it); start() retries if someone takes it meanwhile. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether `pid` still runs; a zombie (exited, not yet reaped by whoever inherited it) counts as gone. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const SAFE_NAME = /^[a-z_.]+$/;

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

/**
 * Starts the postmaster as our own child (not through `pg_ctl start`, whose postmaster is re-parented to init and
 * left as a zombie on machines whose init does not reap); resolves once it accepts connections.
 */
async function launch(
  data: string,
  logFile: string,
  args: string[],
  account: Account | undefined,
  timeoutMs: number,
): Promise<ChildProcess> {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(join(BIN_DIR, 'postgres'), ['-D', data, ...args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, LC_ALL: 'C' },
      ...(account ?? {}),
    });
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    if (/database system is ready to accept connections/.test(log)) return child;
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
      throw new SurgeError(
        'PEER_UNAVAILABLE',
        `postgres did not start:\n${log.split('\n').slice(-15).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const installed = postgresInstalled();
  if (!installed.ok) throw new SurgeError('PEER_UNAVAILABLE', `${installed.reason}: ${INSTALL_HINT}`);
  for (const k of Object.keys(opts.settings ?? {})) {
    if (!SAFE_NAME.test(k))
      throw new SurgeError('INVALID_REQUEST', `postgres setting name ${k} must match ${SAFE_NAME}`);
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const account = serverAccount();
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'surgevec-pg-'));
  const data = join(dir, 'data');
  let child: ChildProcess | undefined;
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, ...opts.settings };
  const settingArgs = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const emergencyStop = () => {
    try {
      execFileSync(join(BIN_DIR, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], {
        stdio: 'ignore',
        timeout: 10_000,
        ...(account ?? {}),
      });
    } catch {
      child?.kill('SIGKILL');
    }
  };

  try {
    if (account) await chown(dir, account.uid, account.gid);
    await run(
      'initdb',
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      account,
      timeoutMs,
    );
    let port = 0;
    let logFile = '';
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      logFile = join(dir, `postgres-${attempt}.log`);
      try {
        child = await launch(data, logFile, ['-p', String(port), ...settingArgs], account, timeoutMs);
        break;
      } catch (e) {
        // Someone took the port between our probe and the bind: try another one.
        if (attempt < 3 && /could not bind|already in use/.test((e as Error).message)) continue;
        throw e;
      }
    }
    process.once('exit', emergencyStop);
    const server = child;

    let stopping: Promise<void> | undefined;
    return {
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      dir,
      pid: server.pid!,
      logTail: async () =>
        (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n'),
      stop() {
        stopping ??= (async () => {
          process.off('exit', emergencyStop);
          try {
            await run(
              'pg_ctl',
              ['-D', data, '-m', 'fast', '-w', '-t', String(Math.ceil(timeoutMs / 1000)), 'stop'],
              account,
              timeoutMs + 5_000,
            );
          } catch {
            emergencyStop();
          }
          if (!(await waitExit(server, 10_000))) {
            server.kill('SIGKILL');
            await waitExit(server, 5_000);
          }
          await rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (e) {
    if (child) emergencyStop();
    if (child) await waitExit(child, 10_000);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
