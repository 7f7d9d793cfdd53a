import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { VANISHED_CODES } from './procfs.js';

/**
 * Reads /proc/<pid>/<file> (stat, comm) through descriptors kept open from one cycle to the next. Opening and
 * closing cost the kernel more than formatting the line itself: a kept descriptor re-read from
 * offset 0 is about half the work, which on a host with 5,000 processes is 25 ms a cycle. A
 * descriptor belongs to the task it was opened on, not to the pid: once that process is gone, reads
 * fail with ESRCH, so a reused pid can never be read through an old descriptor.
 *
 * One table per proc root for the whole process (agents come and go in tests; descriptors must not
 * go with them). Every lookup and close is synchronous, so concurrent passes never read a closed,
 * reused descriptor number.
 */
export class StatFiles {
  private readonly kept = new Map<string, number>();
  private readonly buffer = Buffer.allocUnsafe(4096);

  constructor(
    private readonly procRoot: string,
    private readonly file: 'stat' | 'comm' = 'stat',
    /** At most this many descriptors are kept; beyond, files are opened and closed per read. */
    private readonly budget = defaultBudget(),
  ) {}

  /** The file's text for `pid`, or undefined when the process is gone or hidden from us; `keep: false` closes it after. */
  read(pid: string, keep = true): string | undefined {
    const fd = this.kept.get(pid);
    if (fd !== undefined) {
      const text = this.readFd(fd);
      if (text !== undefined) return text;
      // Its process is gone; the pid may already belong to another one, opened afresh below.
      this.drop(pid);
    }
    let opened: number;
    try {
      opened = openSync(path.join(this.procRoot, pid, this.file), 'r');
    } catch (error) {
      if (VANISHED_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw error;
    }
    const text = this.readFd(opened);
    if (text !== undefined && keep && this.kept.size < this.budget) this.kept.set(pid, opened);
    else closeSync(opened);
    return text;
  }

  /**
   * Through the kept descriptor only: undefined when there is none, or when its process is gone (the
   * descriptor is then closed). A text means: still the same process as when it was opened.
   */
  readKept(pid: string): string | undefined {
    const fd = this.kept.get(pid);
    if (fd === undefined) return undefined;
    const text = this.readFd(fd);
    if (text === undefined) this.drop(pid);
    return text;
  }

  /** Closes the descriptors of pids no longer listed in /proc. */
  keepOnly(pids: ReadonlySet<string>): void {
    for (const pid of this.kept.keys()) if (!pids.has(pid)) this.drop(pid);
  }

  /** Closes the descriptor of one pid, if kept. */
  forget(pid: string): void {
    this.drop(pid);
  }

  get size(): number {
    return this.kept.size;
  }

  private readFd(fd: number): string | undefined {
    try {
      // A stat line is about 300 bytes; 4 KiB leaves room for the longest comm and every field.
      const count = readSync(fd, this.buffer, 0, this.buffer.length, 0);
      return this.buffer.toString('utf8', 0, count);
    } catch (error) {
      if (VANISHED_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw error;
    }
  }

  private drop(pid: string): void {
    const fd = this.kept.get(pid);
    this.kept.delete(pid);
    if (fd !== undefined) closeSync(fd);
  }
}

const tables = new Map<string, StatFiles>();

/** The shared table of a proc root and file. */
export function statFiles(procRoot: string, file: 'stat' | 'comm' = 'stat'): StatFiles {
  const key = `${procRoot}\0${file}`;
  let table = tables.get(key);
  if (!table) tables.set(key, (table = new StatFiles(procRoot, file)));
  return table;
}

/**
 * A quarter of the soft limit on open files, at most 8192: the rest stays for sockets, logs and
 * nlserver's pipes. Node raises the soft limit to the hard one at start (systemd's is 524288).
 */
function defaultBudget(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) ? Math.min(8192, Math.floor(soft / 4)) : 256;
  } catch {
    return 256;
  }
}
