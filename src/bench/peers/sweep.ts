/**
 * Finds the cheapest search effort at which a peer reaches a recall target. Each ladder is climbed from its
 * cheapest rung, one query at a time over the whole query set, until recall@k reaches the target; the ladder
 * top is always measured too, for the highest recall the peer reaches. With several ladders (LanceDB: ef alone,
 * ef with re-ranking) the winner is the one whose qualifying rung answered fastest.
 */
import { type QuerySet, queryAt, recallOf } from './measure.js';
import { effortLabel, type Peer, type SearchEffort } from './peer.js';

export interface SweepPoint {
  effort: SearchEffort;
  recall: number;
  /** One client, the whole query set once: a rough figure to rank rungs, not the reported throughput. */
  qps: number;
}

export interface SweepResult {
  target: number;
  /** Every rung measured, in the order measured. */
  points: SweepPoint[];
  /** The cheapest qualifying rung of the fastest ladder; undefined when no rung reaches the target. */
  chosen?: SweepPoint;
  /** The best recall seen (ties: the faster rung). */
  best: SweepPoint;
}

export async function measureRecall(peer: Peer, qs: QuerySet, effort: SearchEffort): Promise<SweepPoint> {
  await peer.setEffort(effort);
  const answers: number[][] = new Array(qs.count);
  const t0 = performance.now();
  for (let q = 0; q < qs.count; q++) answers[q] = await peer.search(queryAt(qs, q), qs.k);
  const seconds = (performance.now() - t0) / 1000;
  return { effort, recall: recallOf(answers, qs), qps: qs.count / seconds };
}

export async function sweepEffort(
  peer: Peer,
  qs: QuerySet,
  target: number,
  log: (line: string) => void = () => {},
): Promise<SweepResult> {
  const points: SweepPoint[] = [];
  const qualifying: SweepPoint[] = [];
  const measure = async (effort: SearchEffort) => {
    const p = await measureRecall(peer, qs, effort);
    points.push(p);
    log(
      `${peer.name}: ${effortLabel(effort)} → recall@${qs.k} ${p.recall.toFixed(4)}, ${Math.round(p.qps)} QPS (1 client)`,
    );
    return p;
  };
  for (const ladder of peer.ladders(qs.k)) {
    let reached: SweepPoint | undefined;
    for (const effort of ladder) {
      const p = await measure(effort);
      if (p.recall >= target) {
        reached = p;
        break;
      }
    }
    if (reached) qualifying.push(reached);
    const top = ladder[ladder.length - 1];
    if (top && reached?.effort !== top) await measure(top);
  }
  const faster = (a: SweepPoint, b: SweepPoint) => (b.qps > a.qps ? b : a);
  const best = points.reduce((a, b) =>
    b.recall > a.recall || (b.recall === a.recall && b.qps > a.qps) ? b : a,
  );
  const chosen = qualifying.length ? qualifying.reduce(faster) : undefined;
  return { target, points, ...(chosen ? { chosen } : {}), best };
}
