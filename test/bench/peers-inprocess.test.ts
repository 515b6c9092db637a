/** The in-process surgevec engine (the upper bound of the comparison) passes the peer contract. */
import { createPeer } from '../../src/bench/peers/create-peer.js';
import { peerContract } from './peers.contract.js';

peerContract('inprocess (surgevec engine)', () => createPeer('inprocess'));
