/**
 * `surgevec serve`. Until the HTTP server lands (issue #4) this opens the engine on the data directory —
 * recovering it from snapshot + WAL — reports what it found, and runs until SIGINT/SIGTERM, then closes
 * cleanly (WAL flushed, snapshot written).
 */
import type { Config } from '../config/index.js';
import { WorkerEngine } from '../engine/index.js';

export async function serveCommand(config: Readonly<Config>): Promise<void> {
  const t0 = performance.now();
  const engine = await WorkerEngine.open(config);
  const names = await engine.listCollections();
  const ms = Math.round(performance.now() - t0);
  process.stdout.write(
    `surgevec engine ready in ${ms} ms: ${names.length} collection(s) in ${config.storage.data_dir}. ` +
      `The HTTP server (http://${config.server.host}:${config.server.port}) arrives in the next step; Ctrl-C stops.\n`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: closing the engine (flushing WAL, writing snapshots)\n`);
    await engine.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Keeps the process alive while the engine worker runs; signals end it.
  setInterval(() => {}, 1 << 30);
}
