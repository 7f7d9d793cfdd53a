import type { NlserverView } from '../clients/nlserver/view.js';
import type { CycleSnapshot, ProcessInfo, SocketProto } from '../core/contracts.js';
import { ProcessCache, isNlserver, readProcesses } from './processes.js';
import { readSockets } from './sockets.js';

/**
 * One probe cycle's view of the process and socket tables (and of `nlserver pdump` / `monitor -missing`). Each table is read lazily, at most once:
 * the promise itself is memoized, so checks that ask concurrently share a single read. A failed read
 * stays failed for the whole cycle (every check sees the same error) and is retried next cycle,
 * which gets a fresh snapshot.
 */
export function createCycleSnapshot(
  opts: { procRoot?: string; nlserver?: () => Promise<NlserverView>; processCache?: ProcessCache } = {},
): CycleSnapshot {
  const procRoot = opts.procRoot ?? '/proc';
  return {
    processes: memoize(() => readProcesses(procRoot, opts.processCache)),
    sockets: socketTables(procRoot),
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

/** Each of the four tables read at most once, when a check first asks for it. */
function socketTables(procRoot: string): CycleSnapshot['sockets'] {
  const table = memoizeBy((key: `${SocketProto}${4 | 6}`) => readSockets(procRoot, key.slice(0, 3) as SocketProto, Number(key.slice(3)) as 4 | 6));
  return async (proto, family) => {
    const keys = (proto ? [proto] : (['tcp', 'udp'] as const)).flatMap((p) => (family ? [family] : ([4, 6] as const)).map((f) => `${p}${f}` as const));
    return (await Promise.all(keys.map(table))).flat();
  };
}

/** One read per key, shared like memoize's. */
function memoizeBy<K, T>(read: (key: K) => Promise<T>): (key: K) => Promise<T> {
  const pending = new Map<K, Promise<T>>();
  return (key: K) => {
    let value = pending.get(key);
    if (!value) pending.set(key, (value = read(key)));
    return value;
  };
}

const nlserverOnly = new WeakMap<readonly ProcessInfo[], ProcessInfo[]>();

/**
 * The nlserver processes of a snapshot, zombies included: the module checks look only at these, so
 * that their cost does not grow with the host's process count (17 rows x 4 checks scanning 5,000
 * processes was 60 ms a cycle). Found once per process table, whatever snapshot it came from.
 */
export async function nlserverProcesses(snapshot: CycleSnapshot): Promise<ProcessInfo[]> {
  const all = await snapshot.processes();
  let found = nlserverOnly.get(all);
  if (!found) nlserverOnly.set(all, (found = all.filter(isNlserver)));
  return found;
}
