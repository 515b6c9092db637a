/**
 * Many idle connections beside the active load: WebSockets (`/collections/{c}/ws`) and change-feed streams
 * (`/collections/{c}/changes`, SSE) opened before the run and held open through it, to see what thousands of
 * quiet subscribers cost the server (memory, file descriptors, latency of the active queries). Opens run
 * `concurrency` at a time, each bounded by a timeout; failures are counted by code, never retried silently.
 */
import { Pool, WebSocket } from 'undici';
import { networkCode } from '../transports/transport.js';

export interface IdleOptions {
  base: string;
  collection: string;
  websocket: number;
  sse: number;
  concurrency: number;
  timeoutMs?: number;
}

export interface IdleResult {
  websocket: { wanted: number; opened: number; failed: number; closed_during_run: number };
  sse: { wanted: number; opened: number; failed: number; closed_during_run: number };
  open_ms: number;
  failures: Record<string, number>;
}

export class IdleConnections {
  private readonly sockets: WebSocket[] = [];
  private readonly streams: { destroy: () => void }[] = [];
  private pool: Pool | undefined;
  private running = false;
  readonly result: IdleResult;

  constructor(private readonly o: IdleOptions) {
    this.result = {
      websocket: { wanted: o.websocket, opened: 0, failed: 0, closed_during_run: 0 },
      sse: { wanted: o.sse, opened: 0, failed: 0, closed_during_run: 0 },
      open_ms: 0,
      failures: {},
    };
  }

  private fail(code: string): void {
    this.result.failures[code] = (this.result.failures[code] ?? 0) + 1;
  }

  private openWs(url: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      let settled = false;
      const timer = setTimeout(() => done(false, 'TIMEOUT'), timeoutMs);
      const done = (ok: boolean, code?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ok) {
          this.result.websocket.opened++;
          this.sockets.push(ws);
        } else {
          this.result.websocket.failed++;
          this.fail(code ?? 'WS_CONNECT_FAILED');
          ws.close();
        }
        resolve();
      };
      ws.addEventListener('open', () => done(true));
      ws.addEventListener('error', (ev) =>
        done(false, networkCode((ev as unknown as { error?: unknown }).error)),
      );
      ws.addEventListener('close', () => {
        if (!settled) done(false, 'WS_CLOSED');
        else if (this.running) this.result.websocket.closed_during_run++;
      });
    });
  }

  private async openSse(path: string, timeoutMs: number): Promise<void> {
    try {
      const res = await this.pool!.request({
        method: 'GET',
        path,
        headersTimeout: timeoutMs,
        bodyTimeout: 0,
      });
      if (res.statusCode !== 200) {
        this.result.sse.failed++;
        this.fail(`HTTP_${res.statusCode}`);
        await res.body.dump();
        return;
      }
      this.result.sse.opened++;
      res.body.on('data', () => {});
      res.body.on('error', () => {});
      res.body.on('close', () => {
        if (this.running) this.result.sse.closed_during_run++;
      });
      this.streams.push(res.body);
    } catch (e) {
      this.result.sse.failed++;
      this.fail(networkCode(e));
    }
  }

  async open(): Promise<IdleResult> {
    const t0 = performance.now();
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    const c = encodeURIComponent(this.o.collection);
    const wsUrl = `${this.o.base.replace(/^http/, 'ws')}/collections/${c}/ws`;
    const prefix = new URL(this.o.base).pathname.replace(/\/+$/, '');
    if (this.o.sse > 0) this.pool = new Pool(new URL(this.o.base).origin, { connections: this.o.sse });
    const jobs: (() => Promise<void>)[] = [];
    for (let i = 0; i < this.o.websocket; i++) jobs.push(() => this.openWs(wsUrl, timeoutMs));
    for (let i = 0; i < this.o.sse; i++)
      jobs.push(() => this.openSse(`${prefix}/collections/${c}/changes`, timeoutMs));
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(this.o.concurrency, jobs.length) }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }),
    );
    this.result.open_ms = Math.round(performance.now() - t0);
    this.running = true;
    return this.result;
  }

  async close(): Promise<IdleResult> {
    this.running = false;
    for (const ws of this.sockets) ws.close();
    for (const s of this.streams) s.destroy();
    await this.pool?.destroy();
    return this.result;
  }
}
