/** What the two surgevec peers (in-process and HTTP) share: the version they report and the metric names. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Distance } from '../../engine/index.js';
import { findRepoRoot } from '../datasets/cache.js';
import type { PeerMetric } from './peer.js';

export const SURGEVEC_DISTANCE: Record<PeerMetric, Distance> = { cosine: 'Cosine', l2: 'Euclid', dot: 'Dot' };

let version: string | undefined;

export function surgevecVersion(): string {
  version ??= (JSON.parse(readFileSync(join(findRepoRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
  return version;
}
