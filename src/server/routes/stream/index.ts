/**
 * surgevec's streaming extensions beside the Qdrant API (docs/API.md, "Streaming"): NDJSON ingest, a
 * pipelined WebSocket, and the change feed as Server-Sent Events. Needs @fastify/websocket registered first.
 */
import type { FastifyInstance } from 'fastify';
import { type ChangesOptions, changesRoutes } from './changes.js';
import { ndjsonRoutes } from './ndjson.js';
import { wsRoutes } from './ws.js';

export interface StreamRoutesOptions {
  changes?: ChangesOptions;
}

export async function streamRoutes(app: FastifyInstance, opts: StreamRoutesOptions = {}): Promise<void> {
  await app.register(ndjsonRoutes);
  await app.register(wsRoutes);
  await app.register(changesRoutes, opts.changes ?? {});
}
