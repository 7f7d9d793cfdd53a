import { procPath, readText } from './procfs.js';

export interface MemInfo {
  memTotalBytes: number;
  memAvailableBytes: number;
  swapTotalBytes: number;
  swapFreeBytes: number;
}

/** `MemTotal:       24684092 kB` → Map { MemTotal → 24684092 * 1024 }. Lines without a number are skipped. */
function fields(text: string): Map<string, number> {
  const values = new Map<string, number>();
  // At most 20 digits (a 64-bit counter): a longer number is no kernel value and could read as Infinity.
  for (const [, key, amount, unit] of text.matchAll(/^(\w+(?:\(\w+\))?):\s+(\d{1,20})(?:\s+(kB))?\s*$/gm)) {
    values.set(key!, Number(amount) * (unit === 'kB' ? 1024 : 1));
  }
  return values;
}

export function parseMeminfo(text: string, file: string): MemInfo {
  const values = fields(text);
  const need = (key: string): number => {
    const value = values.get(key);
    if (value === undefined) throw new Error(`${file}: expected a "${key}: <n> kB" line, found none`);
    return value;
  };
  return {
    memTotalBytes: need('MemTotal'),
    memAvailableBytes: values.get('MemAvailable') ?? estimateAvailable(values, need),
    swapTotalBytes: need('SwapTotal'),
    swapFreeBytes: need('SwapFree'),
  };
}

/**
 * Kernels before 3.14 (RHEL 6 before 6.6) have no MemAvailable; free + buffers + page cache is the
 * estimate free(1) showed on those hosts. Counting only MemFree would call every such host full.
 */
function estimateAvailable(values: Map<string, number>, need: (key: string) => number): number {
  return need('MemFree') + (values.get('Buffers') ?? 0) + (values.get('Cached') ?? 0);
}

export async function readMeminfo(procRoot = '/proc'): Promise<MemInfo> {
  const file = procPath(procRoot, 'meminfo');
  return parseMeminfo(await readText(file), file);
}
