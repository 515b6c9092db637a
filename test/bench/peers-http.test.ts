/** surgevec over HTTP — a real `surgevec serve` the peer starts on loopback port 0 — passes the peer contract. */
import { createPeer } from '../../src/bench/peers/create-peer.js';
import { peerContract } from './peers.contract.js';

peerContract('http (surgevec serve on loopback)', () => createPeer('http'));
