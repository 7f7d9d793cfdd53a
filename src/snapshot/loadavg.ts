import { availableParallelism } from 'node:os';
import { malformed, procPath, readText } from './procfs.js';

export interface LoadAverage {
  load1: number;
  load5: number;
  load15: number;
}

// A bounded integer part: 400 digits would read as Infinity.
const LOAD = /^\d{1,15}(?:\.\d+)?$/;

/** `0.39 0.45 0.62 3/113 1744`: the first three fields are the 1, 5 and 15 minute averages. */
export function parseLoadavg(text: string, file: string): LoadAverage {
  const [load1, load5, load15] = text.trim().split(/\s+/);
  for (const field of [load1, load5, load15]) {
    if (field === undefined || !LOAD.test(field)) {
      throw malformed(file, 'three load averages such as "0.39 0.45 0.62 3/113 1744"', text.trim());
    }
  }
  return { load1: Number(load1), load5: Number(load5), load15: Number(load15) };
}

export async function readLoadavg(procRoot = '/proc'): Promise<LoadAverage> {
  const file = procPath(procRoot, 'loadavg');
  return parseLoadavg(await readText(file), file);
}

/** How many `processor : N` entries /proc/cpuinfo lists; 0 when the format has none (e.g. s390). */
export function parseCpuinfo(text: string): number {
  return text.match(/^processor\s*:/gm)?.length ?? 0;
}

/**
 * The load average counts tasks of the whole host, so it is measured against every online CPU of the
 * host (/proc/cpuinfo), not against the agent's own CPU affinity. os.availableParallelism() is the
 * fallback when cpuinfo cannot tell: a load check with a slightly wrong maximum beats none.
 */
export async function readCpuCount(procRoot = '/proc'): Promise<number> {
  try {
    const count = parseCpuinfo(await readText(procPath(procRoot, 'cpuinfo')));
    if (count > 0) return count;
  } catch {
    // Fall through: see above.
  }
  return availableParallelism();
}
