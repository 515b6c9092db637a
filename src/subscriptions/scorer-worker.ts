/**
 * Worker-thread entry of WorkerScorer: holds the subscription matrices and scores batches, in message order.
 * Not reniced (the engine worker is): on a shared 2-core machine a nice-5 scorer fell seconds behind (delivery
 * p99 1.5 s vs 51 ms at nice 0, bench/subscriptions.ts), while ingest is protected anyway — the matcher's
 * input is bounded and falls back to the WAL, so writers never wait for scoring.
 */
import { parentPort } from 'node:worker_threads';
import type { ScoreMatrix } from './score-matrix.js';
import { applyScorerOp, type ScorerOp, type ScorerReply } from './scorer.js';

const port = parentPort!;
const spaces = new Map<number, ScoreMatrix>();

port.on('message', (ops: ScorerOp[]) => {
  for (const op of ops) {
    try {
      const c = applyScorerOp(spaces, op);
      if (op.t === 'score') {
        const reply: ScorerReply = { t: 'scored', id: op.id, ...c! };
        const buffers = new Set([c!.point.buffer, c!.slot.buffer, c!.score.buffer] as ArrayBuffer[]);
        port.postMessage(
          reply,
          [...buffers].filter((b) => b.byteLength > 0),
        );
      }
    } catch (e) {
      if (op.t === 'score') {
        port.postMessage({ t: 'failed', id: op.id, message: String(e) } satisfies ScorerReply);
      }
    }
  }
});
