import { statfs } from 'node:fs/promises';
import { reason } from './procfs.js';

export interface Filesystem {
  sizeBytes: number;
  /** What an unprivileged user (nlserver) can still write: root's reserved blocks excluded. */
  availBytes: number;
  /** df's "Use%": used / (used + available), so the reading matches what an operator sees in df. */
  usedRatio: number;
}

/** The filesystem holding `dir` (Campaign's var/: logs, redirection files, exports), from statfs(2). */
export async function readFilesystem(dir: string): Promise<Filesystem> {
  let stats;
  try {
    stats = await statfs(dir);
  } catch (error) {
    throw new Error(`cannot statfs ${dir}: ${reason(error)}`);
  }
  const usedBytes = (stats.blocks - stats.bfree) * stats.bsize;
  const availBytes = stats.bavail * stats.bsize;
  return {
    sizeBytes: stats.blocks * stats.bsize,
    availBytes,
    usedRatio: usedBytes + availBytes === 0 ? 0 : usedBytes / (usedBytes + availBytes),
  };
}
