/** The few Qdrant REST calls the bench makes outside the load itself (setup, checks), via undici. */
import { request } from 'undici';

export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The `api-key` header for a target that wants one (surgevec with tenants, Qdrant with an API key). */
export function keyHeader(apiKey: string | undefined): Record<string, string> {
  return apiKey === undefined ? {} : { 'api-key': apiKey };
}

export async function rest<T = unknown>(
  base: string,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  timeoutMs = 60_000,
  apiKey?: string,
): Promise<T> {
  const res = await request(`${base}${path}`, {
    method,
    headers: {
      ...keyHeader(apiKey),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) {
    const code = /"code"\s*:\s*"([A-Z_]+)"/.exec(text)?.[1];
    throw new RestError(
      res.statusCode,
      code,
      `${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`,
    );
  }
  const j = text ? (JSON.parse(text) as { result?: T }) : {};
  return j.result as T;
}

export interface CollectionInfo {
  status: string;
  points_count: number;
  indexed_vectors_count?: number;
  config?: { params?: { vectors?: { size?: number; distance?: string } } };
}

export async function collectionInfo(
  base: string,
  name: string,
  apiKey?: string,
): Promise<CollectionInfo | undefined> {
  try {
    return await rest<CollectionInfo>(
      base,
      'GET',
      `/collections/${encodeURIComponent(name)}`,
      undefined,
      undefined,
      apiKey,
    );
  } catch (e) {
    if (e instanceof RestError && e.status === 404) return undefined;
    throw e;
  }
}

/** `GET /` answers `{title, version}` on surgevec and Qdrant alike. */
export async function serverVersion(base: string): Promise<{ title?: string; version?: string } | undefined> {
  try {
    const res = await request(`${base}/`, { headersTimeout: 5000, bodyTimeout: 5000 });
    const j = (await res.body.json()) as { title?: string; version?: string };
    return { title: j.title, version: j.version };
  } catch {
    return undefined;
  }
}
