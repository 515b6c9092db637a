/**
 * Starts a worker thread from a module URL. Compiled builds run the .js directly; from TypeScript source
 * (tests, `tsx` scripts) the worker first registers tsx's loader, because Node 20 ignores `--import`
 * in a worker's execArgv.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}

/** The sibling module `name` of `base` (an import.meta.url), in the same flavour (.ts source or .js build). */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}
