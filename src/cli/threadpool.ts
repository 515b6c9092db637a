/**
 * Sizes libuv's thread pool before anything uses it (it is read once, at first use): main.ts imports this
 * module first. The native core runs up to cores + 1 search calls on the pool and leaves at least one thread
 * to fs work (WAL writes and fsyncs), so the pool needs cores + 2 threads; an explicit setting wins.
 */
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 2));
