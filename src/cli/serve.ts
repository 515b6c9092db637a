/**
 * `surgevec serve`: the engine in its worker thread, the Fastify app on top, graceful shutdown on
 * SIGTERM/SIGINT (readiness turns 503, no new connections, in-flight requests get a deadline, WAL flushed,
 * snapshot written, exit 0).
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/index.js';
import { WorkerEngine } from '../engine/index.js';
import { createLogger } from '../platform/logger.js';
import { buildApp } from '../server/app.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export async function serveCommand(config: Readonly<Config>): Promise<void> {
  const log = createLogger(config.log.level);
  const t0 = performance.now();
  const engine = await WorkerEngine.open(config);
  const app = await buildApp({ engine, config, logger: log, version: VERSION });
  const { host, port } = config.server;
  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const collections = (await engine.listCollections()).length;
  process.stdout.write(
    `surgevec ${VERSION} ready at ${config.server.tls_cert ? 'https' : 'http'}://` +
      `${host.includes(':') ? `[${host}]` : host}:${bound} ` +
      `(${collections} collection(s) in ${config.storage.data_dir}, ${Math.round(performance.now() - t0)} ms)\n`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining: readiness is now 503');
    app.surge.state = 'draining';
    const deadline = setTimeout(() => {
      log.warn('shutdown deadline reached: closing remaining connections');
      // An HTTP/2 server has no closeAllConnections (calling it threw): app.close() already sent GOAWAY to
      // its sessions, and their streams still open at the deadline are left to finish.
      (app.server as { closeAllConnections?: () => void }).closeAllConnections?.();
    }, config.server.shutdown_timeout_ms);
    try {
      await app.close();
      await engine.close();
      clearTimeout(deadline);
      log.info('stopped cleanly');
      process.exit(0);
    } catch (e) {
      log.error({ err: e }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
