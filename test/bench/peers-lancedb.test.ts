/** LanceDB embedded, in a temporary directory, passes the peer contract. */
import { createPeer } from '../../src/bench/peers/create-peer.js';
import { peerContract } from './peers.contract.js';

peerContract('lancedb (embedded, IVF_HNSW_SQ)', () => createPeer('lancedb'));
