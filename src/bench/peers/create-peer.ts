/**
 * Peer by name. Each implementation module (and the optional packages it needs: `pg`, `@lancedb/lancedb`) is
 * loaded only when that peer is asked for.
 */
import type { Peer, PeerName, PeerOptions } from './peer.js';

/** Loads a peer's module only when that peer is asked for. */
export async function createPeer(name: PeerName, options: PeerOptions = {}): Promise<Peer> {
  switch (name) {
    case 'inprocess':
      return (await import('./inprocess-peer.js')).createInProcessPeer(options);
    case 'http':
      return (await import('./http-peer.js')).createHttpPeer(options);
    case 'pgvector':
      return (await import('./pgvector-peer.js')).createPgvectorPeer(options);
    case 'lancedb':
      return (await import('./lancedb-peer.js')).createLanceDbPeer(options);
  }
}
