/**
 * Qdrant endpoints surgevec does not implement answer 501 with the feature's name, so a client sees
 * "snapshots are not supported" rather than a bare 404.
 */
import type { FastifyInstance } from 'fastify';
import { SurgeError } from '../../../protocol/errors.js';

const UNSUPPORTED: [string, string[], string][] = [
  ['/collections/:name/snapshots', ['GET', 'POST'], 'collection snapshots'],
  ['/collections/:name/snapshots/*', ['GET', 'PUT', 'POST', 'DELETE'], 'collection snapshots'],
  ['/snapshots', ['GET', 'POST'], 'full snapshots'],
  ['/snapshots/*', ['GET', 'DELETE'], 'full snapshots'],
  ['/cluster', ['GET'], 'distributed mode (cluster)'],
  ['/cluster/*', ['GET', 'POST', 'PUT', 'DELETE'], 'distributed mode (cluster)'],
  ['/collections/:name/cluster', ['GET', 'POST'], 'distributed mode (cluster)'],
  ['/collections/:name/shards', ['GET', 'PUT'], 'custom shards'],
  // Shard keys (POST …/shards/delete) and shard snapshots (GET/PUT/POST/DELETE …/shards/{id}/snapshot…).
  ['/collections/:name/shards/*', ['GET', 'PUT', 'POST', 'DELETE'], 'custom shards'],
  ['/collections/:name/vectors/:vector', ['PUT', 'DELETE'], 'named vectors'],
  ['/collections/:name/optimizations', ['GET'], 'optimization progress reports'],
  ['/collections/:name/points/recommend', ['POST'], 'recommend'],
  ['/collections/:name/points/recommend/*', ['POST'], 'recommend'],
  ['/collections/:name/points/discover', ['POST'], 'discover'],
  ['/collections/:name/points/discover/*', ['POST'], 'discover'],
  ['/collections/:name/points/search/groups', ['POST'], 'search groups'],
  ['/collections/:name/points/query/groups', ['POST'], 'query groups'],
  ['/collections/:name/points/search/matrix/*', ['POST'], 'distance matrix'],
  ['/collections/:name/points/vectors', ['PUT'], 'vector updates (upsert the point instead)'],
  ['/collections/:name/points/vectors/delete', ['POST'], 'named vector deletion'],
  ['/collections/:name/points/batch', ['POST'], 'batch update operations'],
  ['/collections/:name/facet', ['POST'], 'facets'],
  ['/telemetry', ['GET'], 'telemetry (use /metrics)'],
  ['/locks', ['GET', 'POST'], 'write locks'],
  ['/issues', ['GET', 'DELETE'], 'issues API'],
];

export async function unsupportedRoutes(app: FastifyInstance): Promise<void> {
  for (const [url, methods, feature] of UNSUPPORTED) {
    app.route({
      url,
      method: methods,
      handler: async () => {
        throw new SurgeError('UNSUPPORTED_ENDPOINT', `${feature}: not supported by surgevec`, { feature });
      },
    });
  }
}
