/** The transport a scenario asks for, pointed at the target. */
import type { Scenario } from '../scenarios/schema.js';
import { HttpTransport } from './http.js';
import type { Transport } from './transport.js';
import { WebSocketTransport } from './websocket.js';

export function makeTransport(sc: Scenario, target: string): Transport {
  const { kind, connections, pipelining } = sc.transport;
  const timeoutMs = sc.limits.timeout_ms;
  if (kind === 'websocket') return new WebSocketTransport({ target, connections, pipelining, timeoutMs });
  return new HttpTransport({ target, kind, connections, pipelining, timeoutMs });
}
