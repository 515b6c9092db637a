/** Test helper: the routes an app really has, read from Fastify's route tree (a new route cannot be missed). */
import type { FastifyInstance, HTTPMethods } from 'fastify';

export function appRoutes(app: FastifyInstance): { method: HTTPMethods; path: string }[] {
  const out: { method: HTTPMethods; path: string }[] = [];
  const stack: string[] = [];
  // Each line is one radix-tree node: its text is appended to its parent's path.
  for (const line of app.printRoutes().split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:└── |├── )(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack[depth] = (depth === 0 ? '' : stack[depth - 1]!) + m[2]!;
    stack.length = depth + 1;
    for (const method of m[3]?.split(', ') ?? [])
      out.push({ method: method as HTTPMethods, path: stack[depth]! });
  }
  return out;
}
