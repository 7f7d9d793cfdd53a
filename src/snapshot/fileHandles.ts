import { malformed, procPath, readText, wholeNumber } from './procfs.js';

export interface FileHandles {
  /** File handles the kernel has allocated (in use, since 2.6 the "free" field is always 0). */
  allocated: number;
  /** fs.file-max, the system-wide limit. */
  max: number;
}

const EXPECTED = 'three numbers "allocated free max" such as "756 0 2466177"';

/**
 * `756	0	2466177`. The max may be 9223372036854775807 (LONG_MAX, systemd's default on recent
 * distributions); as a double it loses digits, which does not matter for a ratio next to zero.
 */
export function parseFileNr(text: string, file: string): FileHandles {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 3) throw malformed(file, EXPECTED, text.trim());
  const [allocated, , max] = fields.map((field) => wholeNumber(field, file, EXPECTED));
  return { allocated: allocated!, max: max! };
}

export async function readFileHandles(procRoot = '/proc'): Promise<FileHandles> {
  const file = procPath(procRoot, 'sys/fs/file-nr');
  return parseFileNr(await readText(file), file);
}
