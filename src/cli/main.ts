#!/usr/bin/env node
/** The `surgevec` command. The only place that wires real parts together; nothing imports cli/. */
import './threadpool.js'; // first: before any import can touch libuv's pool
import { Command, Option } from 'commander';
import { loadConfig } from '../config/index.js';
import { SurgeError } from '../protocol/errors.js';
import { registerBench } from './bench.js';
import { registerPeersCommand } from './bench-peers.js';
import { serveCommand } from './serve.js';

interface ServeFlags {
  host?: string;
  port?: number;
  dataDir?: string;
  config?: string;
  http2?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  admission?: boolean;
}

const program = new Command();
program.name('surgevec').description('Real-time vector search for streaming ingest and bursty traffic');

program
  .command('serve')
  .description('run the service on an embedded data directory (default ./data)')
  .option('--host <host>', 'interface to listen on (env SURGEVEC_HOST)', undefined)
  .addOption(new Option('--port <port>', 'TCP port (env SURGEVEC_PORT)').argParser((v) => Number(v)))
  .option('--data-dir <dir>', 'data directory (env SURGEVEC_DATA_DIR)')
  .option('--config <file>', 'JSON config file (layered: defaults < file < env < flags)')
  .option('--http2', 'serve HTTP/2: h2c (cleartext, prior knowledge), or h2 with HTTP/1.1 fallback under TLS')
  .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)')
  .option('--tls-key <file>', 'PEM private key for --tls-cert')
  .option('--no-admission', 'turn admission control off: no keys, quotas, limits, degradation or cache')
  .action(async (o: ServeFlags) => {
    const config = loadConfig({
      file: o.config,
      flags: {
        server: { host: o.host, port: o.port, http2: o.http2, tls_cert: o.tlsCert, tls_key: o.tlsKey },
        storage: { data_dir: o.dataDir },
        ...(o.admission === false ? { admission: { enabled: false } } : {}),
      },
    });
    await serveCommand(config);
  });

program
  .command('dataset')
  .description('build the cached benchmark datasets under .cache/ (GloVe-100 with exact ground truth)')
  .argument('<name>', 'dataset name: glove')
  .option('--quiet', 'print only the summary line')
  .action(async (name: string, o: { quiet?: boolean }) => {
    if (name !== 'glove')
      throw new SurgeError('INVALID_REQUEST', `unknown dataset ${name}; available: glove`);
    // Loaded lazily: the dataset code pulls in a 300 MB JSON package that serving never needs.
    const { datasetCommand } = await import('../bench/datasets/index.js');
    await datasetCommand('glove', { quiet: o.quiet ?? false });
  });

registerPeersCommand(registerBench(program));

program.parseAsync().catch((e: unknown) => {
  if (e instanceof SurgeError) {
    process.stderr.write(`error ${e.code}: ${e.message}\nhint: ${e.hint}\n`);
  } else {
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  }
  process.exit(1);
});
