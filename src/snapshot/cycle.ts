import type { NlserverView } from '../nlserver/view.js';
import type { CycleSnapshot } from '../types.js';
import { readProcesses } from './processes.js';
import { readSockets } from './sockets.js';

/**
 * One probe cycle's view of the process and socket tables (and of `nlserver pdump` / `monitor -missing`). Each table is read lazily, at most once:
 * the promise itself is memoized, so checks that ask concurrently share a single read. A failed read
 * stays failed for the whole cycle (every check sees the same error) and is retried next cycle,
 * which gets a fresh snapshot.
 */
export function createCycleSnapshot(opts: { procRoot?: string; nlserver?: () => Promise<NlserverView> } = {}): CycleSnapshot {
  const procRoot = opts.procRoot ?? '/proc';
  return {
    processes: memoize(() => readProcesses(procRoot)),
    sockets: memoize(() => readSockets(procRoot)),
    ...(opts.nlserver ? { nlserver: memoize(opts.nlserver) } : {}),
  };
}

function memoize<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= read();
    return pending;
  };
}
