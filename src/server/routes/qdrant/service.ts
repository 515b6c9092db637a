/** `GET /` and the Kubernetes-style probes Qdrant serves. */
import type { FastifyInstance } from 'fastify';

export async function serviceRoutes(app: FastifyInstance): Promise<void> {
  const surge = app.surge;
  app.get('/', async () => ({
    title: 'surgevec - vector search for bursty traffic',
    version: surge.version,
  }));
  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('healthz check passed'));
  app.get('/livez', async (_req, reply) => reply.type('text/plain').send('healthz check passed'));
  app.get('/readyz', async (_req, reply) => {
    if (surge.state !== 'ready') return reply.code(503).type('text/plain').send('shutting down');
    return reply.type('text/plain').send('all shards are ready');
  });
}
