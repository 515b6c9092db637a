/**
 * pgvector on a real PostgreSQL 15 that our helper starts (scripts/peers/pgvector.sh installs it; `npm test` runs
 * that script first): the helper's life cycle, then the peer contract.
 */
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPeer } from '../../src/bench/peers/create-peer.js';
import { processAlive, startPostgres } from '../../src/bench/peers/postgres-server.js';
import { peerContract } from './peers.contract.js';

describe('startPostgres', () => {
  it('runs a private server on 127.0.0.1 as a non-root user, with pgvector, and stops it without leftovers', async () => {
    const server = await startPostgres({ settings: { work_mem: '8MB' } });
    try {
      expect(processAlive(server.pid)).toBe(true);
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1];
      expect(Number(uid)).not.toBe(0);
      const client = new pg.Client({
        host: server.host,
        port: server.port,
        user: server.user,
        database: server.database,
      });
      await client.connect();
      try {
        const settings = await client.query<{ listen: string; work_mem: string }>(
          "SELECT current_setting('listen_addresses') AS listen, current_setting('work_mem') AS work_mem",
        );
        expect(settings.rows[0]).toEqual({ listen: '127.0.0.1', work_mem: '8MB' });
        await client.query('CREATE EXTENSION vector');
        const d = await client.query<{ d: number }>("SELECT '[1,0]'::vector <=> '[0,1]'::vector AS d");
        expect(d.rows[0]!.d).toBeCloseTo(1, 6);
        const ext = await client.query<{ v: string }>(
          "SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'",
        );
        expect(ext.rows[0]!.v).toMatch(/^0\.8\./);
      } finally {
        await client.end();
      }
    } finally {
      await server.stop();
    }
    await server.stop(); // idempotent
    expect(processAlive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });

  it('refuses a setting name that is not a plain identifier', async () => {
    await expect(startPostgres({ settings: { 'x; rm -rf /': 1 } })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });
});

peerContract('pgvector (PostgreSQL started by startPostgres)', () => createPeer('pgvector'));
