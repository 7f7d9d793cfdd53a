import { procPath, readText, wholeNumber } from './procfs.js';

/** kernel.pid_max: the highest pid plus one, so the most tasks (processes and threads) that can exist. */
export function parsePidMax(text: string, file: string): number {
  const pidMax = wholeNumber(text.trim(), file, 'one number such as "4194304"');
  if (pidMax === 0) throw new Error(`${file}: expected a positive number such as "4194304", got "0"`);
  return pidMax;
}

export async function readPidMax(procRoot = '/proc'): Promise<number> {
  const file = procPath(procRoot, 'sys/kernel/pid_max');
  return parsePidMax(await readText(file), file);
}
