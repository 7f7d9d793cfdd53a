import { malformed, procPath, readText, wholeNumber } from './procfs.js';

export interface ShmSegment {
  /** The id `ipcrm shm <id>` takes. */
  shmid: number;
  /** How many processes have the segment attached. */
  nattch: number;
  bytes: number;
}

export interface ShmSummary {
  segments: number;
  /** Segments nobody has attached: left behind by a process that died without removing them. */
  orphaned: ShmSegment[];
}

/**
 * /proc/sysvipc/shm: a header line naming the columns, then one line per segment. Columns are found
 * by name because kernels differ in which ones they print (rss and swap came later).
 */
export function parseShm(text: string, file: string): ShmSegment[] {
  const [header = '', ...rows] = text.split('\n');
  const names = header.trim().split(/\s+/);
  const at = (column: string): number => {
    const index = names.indexOf(column);
    if (index < 0) throw malformed(file, 'a header line naming the shmid, size and nattch columns', header.trim());
    return index;
  };
  const shmidAt = at('shmid');
  const sizeAt = at('size');
  const nattchAt = at('nattch');
  const segments: ShmSegment[] = [];
  rows.forEach((row, index) => {
    if (row.trim() === '') return;
    const fields = row.trim().split(/\s+/);
    const expected = `line ${index + 2} to have ${names.length} columns, shmid, size and nattch numeric`;
    if (fields.length < names.length) throw malformed(file, expected, row.trim());
    segments.push({
      shmid: wholeNumber(fields[shmidAt], file, expected),
      bytes: wholeNumber(fields[sizeAt], file, expected),
      nattch: wholeNumber(fields[nattchAt], file, expected),
    });
  });
  return segments;
}

export function summarizeShm(segments: readonly ShmSegment[]): ShmSummary {
  return { segments: segments.length, orphaned: segments.filter((segment) => segment.nattch === 0) };
}

export async function readShm(procRoot = '/proc'): Promise<ShmSummary> {
  const file = procPath(procRoot, 'sysvipc/shm');
  return summarizeShm(parseShm(await readText(file), file));
}
