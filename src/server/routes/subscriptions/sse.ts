/**
 * `GET /collections/:name/subscriptions/:id/events`: a subscription's events as Server-Sent Events —
 * `id:` is the seq, `event:` the kind (`match`, `topk`, `reset`, `lagged`, `closed`). Resume with
 * `Last-Event-ID` (what EventSource sends on reconnect) or `?from_seq=`; without either, threshold mode
 * starts at the subscription's own seq and top-k mode with its current top-k.
 *
 * Heartbeats (every `subscriptions.heartbeat_ms`) are comments that also carry an `id:` when the delivery
 * has moved past events that did not concern it, so a reconnect resumes from there, not from the last match.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { OutgoingEvent, Sink } from '../../../subscriptions/index.js';
import { stringifyJson } from '../../json.js';
import { collectionParam } from '../qdrant/params.js';
import { resumeAfter } from '../stream/changes.js';
import { requestTenant } from './tenant.js';

/** SSE text of one event; events that carry a seq carry it as the id. */
export function sseText(e: OutgoingEvent): string {
  const id = 'seq' in e ? `id: ${e.seq}\n` : '';
  return `${id}event: ${e.event}\ndata: ${stringifyJson(e)}\n\n`;
}

class SseSink implements Sink {
  constructor(private readonly out: PassThrough) {}

  send(e: OutgoingEvent): boolean {
    if (this.closed) return true;
    return this.out.write(sseText(e));
  }

  onDrain(cb: () => void): void {
    if (this.closed) {
      cb();
      return;
    }
    const done = () => {
      this.out.off('drain', done);
      this.out.off('close', done);
      cb();
    };
    this.out.on('drain', done);
    this.out.on('close', done);
  }

  end(): void {
    if (!this.closed) this.out.end();
  }

  get closed(): boolean {
    return this.out.destroyed || this.out.writableEnded;
  }
}

export async function subscriptionSseRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.surge;
  const heartbeatMs = config.subscriptions.heartbeat_ms;

  app.get('/collections/:name/subscriptions/:id/events', { compress: false }, async (req, reply) => {
    const after = resumeAfter(req);
    const collection = (await app.subscriptions.collectionInfo(collectionParam(req))).name;
    const { id } = req.params as { id: string };
    const out = new PassThrough();
    const delivery = app.subscriptions.attach(requestTenant(req), collection, id, new SseSink(out));
    let lastId = -1;
    const heartbeat = setInterval(() => {
      if (out.destroyed || out.writableEnded || out.writableNeedDrain) return;
      const at = delivery.position;
      out.write(at > lastId && at > delivery.sentSeq ? `: heartbeat\nid: ${at}\n\n` : ': heartbeat\n\n');
      lastId = Math.max(lastId, at);
    }, heartbeatMs);
    heartbeat.unref();
    out.on('close', () => {
      clearInterval(heartbeat);
      delivery.detach();
    });
    // A first line sends the headers now, so the client knows it is subscribed.
    out.write(': surgevec subscription\n\n');
    delivery.start(after);
    return reply
      .type('text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(out);
  });
}
