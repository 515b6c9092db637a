/**
 * A tiny HTTP server with a known service time, for testing the generator against ground truth: every request
 * is answered `serviceMs` after it arrives; `stall(ms)` makes the whole server stop answering for `ms` (as in a
 * stop-the-world pause) without blocking this process's event loop, which the generator shares.
 */
import { createServer, type Server } from 'node:http';

export interface TinyServer {
  url: string;
  /** Requests received so far. */
  received: () => number;
  stall: (ms: number) => void;
  close: () => Promise<void>;
}

export async function tinyServer(serviceMs: number): Promise<TinyServer> {
  let received = 0;
  let stalledUntil = 0;
  const server: Server = createServer((req, res) => {
    received++;
    req.resume();
    req.on('end', () => {
      const answer = () => {
        const wait = stalledUntil - performance.now();
        if (wait > 0) {
          setTimeout(answer, wait);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"result":[],"status":"ok","time":0}');
      };
      setTimeout(answer, serviceMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('not listening');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    received: () => received,
    stall: (ms) => {
      stalledUntil = performance.now() + ms;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
