/**
 * `GET /collections/:name/ws`: one WebSocket carries many requests. A frame `{"id", "op", …}` is answered
 * by `{"id", "result"}` or `{"id", "error": {code, message, hint}}`; requests run concurrently, so answers
 * may come out of order. Bodies are validated and converted by the same code as the REST routes.
 *
 * Bounded per connection: at most `server.ws_max_in_flight` requests are open (a request stays open until
 * its answer has left for the socket); a frame beyond that is answered at once with TOO_MANY_IN_FLIGHT,
 * never queued. If the client stops reading, the socket is paused until our send buffer drains.
 */
import type { FastifyInstance } from 'fastify';
import { SurgeError } from '../../../protocol/errors.js';
import { parseBody, selectorBody } from '../../../protocol/qdrant.js';
import { toSurgeError } from '../../errors.js';
import { parseJson, stringifyJson } from '../../json.js';
import type { SearchPriority } from '../../search-batcher.js';
import { collectionParam, selector } from '../qdrant/params.js';
import { upsertInput } from '../qdrant/points.js';
import { runQuery, searchRequest } from '../qdrant/search.js';
import { requestTenant } from '../subscriptions/tenant.js';
import { WsSubscriptions } from '../subscriptions/ws.js';
import { errorObject } from './ndjson.js';

/** What we use of a `ws` WebSocket (the package ships no types here). */
interface Socket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string, cb?: (err?: Error) => void): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close', listener: () => void): void;
  pause(): void;
  resume(): void;
}

const OPEN = 1;
/** Pause reading while this much is waiting to be sent; resume below a quarter of it. */
const SEND_BUFFER_HIGH = 4 << 20;

type FrameId = string | number | bigint | null;

/** Frames admission control admits, as the REST request of the same op would be. */
const FRAME_KIND: Record<string, 'read' | 'write'> = {
  search: 'read',
  query: 'read',
  upsert: 'write',
  delete: 'write',
};

function frameId(v: unknown): FrameId | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return v;
  return undefined;
}

function text(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

export async function wsRoutes(app: FastifyInstance): Promise<void> {
  const { engine, batcher, config } = app.surge;
  const cap = config.server.ws_max_in_flight;

  async function run(
    name: string,
    frame: Record<string, unknown>,
    priority?: SearchPriority,
  ): Promise<unknown> {
    const wait = { wait: frame.wait === true };
    switch (frame.op) {
      case 'upsert':
        return engine.upsert(name, upsertInput(frame), wait);
      case 'search':
        return batcher.search(name, searchRequest(frame, 'frame'), priority);
      case 'query':
        return { points: await runQuery(engine, batcher, name, frame, 'frame', priority) };
      case 'delete':
        return engine.deletePoints(name, selector(parseBody(selectorBody, frame, 'frame')), wait);
      default:
        throw new SurgeError(
          'INVALID_REQUEST',
          `frame.op must be "upsert", "search", "query", "delete", "subscribe" or "unsubscribe", got ${JSON.stringify(frame.op ?? null)}`,
        );
    }
  }

  app.get(
    '/collections/:name/ws',
    {
      websocket: true,
      // Before the upgrade: a missing collection is a plain HTTP 404, not a socket that fails every frame.
      preValidation: async (req) => {
        await engine.collectionInfo(collectionParam(req));
        // Without this a plain GET got @fastify/websocket's bare 404: no envelope, no code.
        if (!req.ws) {
          throw new SurgeError(
            'INVALID_REQUEST',
            'this endpoint needs a WebSocket upgrade (Upgrade: websocket)',
          );
        }
      },
    },
    (raw, req) => {
      const socket = raw as unknown as Socket;
      const name = collectionParam(req);
      let inFlight = 0;
      let paused = false;
      // Standing queries on this connection (op subscribe/unsubscribe); they end with the socket.
      const subscriptions = new WsSubscriptions(app, socket, requestTenant(req), name);
      // Admission control admits every data frame as it would a request (one socket must not bypass it).
      const admit = app.surge.frameGate?.(req);
      const priority = req.adm?.rank;
      socket.on('close', () => subscriptions.close());

      const sent = () => {
        if (paused && socket.bufferedAmount < SEND_BUFFER_HIGH / 4) {
          paused = false;
          socket.resume();
        }
      };
      const send = (answer: object, onSent?: () => void) => {
        if (socket.readyState !== OPEN) {
          onSent?.();
          return;
        }
        socket.send(stringifyJson(answer), () => {
          onSent?.();
          sent();
        });
        if (!paused && socket.bufferedAmount > SEND_BUFFER_HIGH) {
          paused = true;
          socket.pause();
        }
      };
      const fail = (id: FrameId, e: unknown, onSent?: () => void) =>
        send({ id, error: errorObject(toSurgeError(e)) }, onSent);

      socket.on('message', (data) => {
        let frame: unknown;
        const raw = text(data);
        try {
          frame = parseJson(raw);
        } catch (e) {
          fail(null, new SurgeError('INVALID_JSON', `malformed JSON frame: ${(e as Error).message}`));
          return;
        }
        if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
          fail(null, new SurgeError('INVALID_REQUEST', 'a frame is a JSON object {"id", "op", …}'));
          return;
        }
        const f = frame as Record<string, unknown>;
        const id = frameId(f.id);
        if (id === undefined) {
          fail(null, new SurgeError('INVALID_REQUEST', 'frame.id must be a string, a number or null'));
          return;
        }
        if (inFlight >= cap) {
          fail(
            id,
            new SurgeError('TOO_MANY_IN_FLIGHT', `${cap} requests are already open on this connection`, {
              limit: cap,
            }),
          );
          return;
        }
        inFlight++;
        const release = () => {
          inFlight--;
        };
        const kind = FRAME_KIND[String(f.op)];
        const work = subscriptions.handles(f.op)
          ? subscriptions.handle(f)
          : admit && kind
            ? admit(kind, Buffer.byteLength(raw), Array.isArray(f.points) ? f.points.length : 1).then(
                (done) => run(name, f, priority).finally(done),
              )
            : run(name, f, priority);
        work.then(
          (result) => send({ id, result }, release),
          (e: unknown) => fail(id, e, release),
        );
      });
    },
  );
}
