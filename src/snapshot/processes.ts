import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessInfo } from '../types.js';

/**
 * Clock ticks per second used by `starttime` in /proc/<pid>/stat. sysconf(_SC_CLK_TCK) is not
 * reachable from Node without a child process; it is 100 on every mainstream Linux build (USER_HZ
 * is fixed at 100 for the userspace ABI), so we assume it.
 */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Page size used to turn the `rss` page count into bytes. 4096 on x86-64 and on the default arm64
 * kernel config; a 64 KiB-page kernel would under-report RSS, which only affects a metric.
 */
const PAGE_SIZE_BYTES = 4096;

/** PF_KTHREAD from include/linux/sched.h: set in the stat `flags` field of kernel threads. */
const PF_KTHREAD = 0x00200000;

/**
 * How many processes are read at once: reading all in parallel could exhaust file descriptors on a
 * busy host (2 files per process), reading them one by one is needlessly slow.
 */
const READ_BATCH_SIZE = 32;

/** Errors meaning "this process is gone or hidden from us": skipped, not reported. */
const VANISHED_CODES = new Set(['ENOENT', 'ESRCH', 'EACCES']);

/** The parts of /proc/<pid>/stat we use. */
export interface ParsedStat {
  pid: number;
  comm: string;
  stateLetter: string;
  ppid: number;
  flags: number;
  /** Clock ticks after boot. */
  startTimeTicks: number;
  /** Pages. */
  rssPages: number;
}

/**
 * Parses one /proc/<pid>/stat line. `comm` sits in parentheses and may itself contain spaces and
 * parentheses, so the fixed fields are counted from the LAST ')'.
 */
export function parseStat(text: string): ParsedStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) {
    throw new Error(`not a /proc/<pid>/stat line (expected "pid (comm) state ..."): ${JSON.stringify(text.slice(0, 80))}`);
  }
  // After the ')' come the fields numbered 3 onward in proc(5); field N sits at index N - 3.
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const field = (n: number): string => {
    const value = rest[n - 3];
    if (value === undefined) {
      throw new Error(`/proc/<pid>/stat line has ${rest.length + 2} fields, expected at least ${n}`);
    }
    return value;
  };
  // Whole numbers only: parseInt read `x` as NaN and `12abc` as 12, which then passed for a pid or a time.
  const number = (text: string, what: string): number => {
    const value = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
    if (Number.isNaN(value)) throw new Error(`/proc/<pid>/stat ${what} is not a whole number: ${JSON.stringify(text.slice(0, 40))}`);
    return value;
  };
  const pid = number(text.slice(0, open).trim(), 'pid');
  if (pid === 0) throw new Error('/proc/<pid>/stat pid is 0, expected a positive number');
  return {
    pid,
    comm: text.slice(open + 1, close),
    stateLetter: field(3),
    ppid: number(field(4), 'ppid (field 4)'),
    flags: number(field(9), 'flags (field 9)'),
    startTimeTicks: number(field(22), 'starttime (field 22)'),
    rssPages: number(field(24), 'rss (field 24)'),
  };
}

/**
 * Splits /proc/<pid>/cmdline into argv. A process that rewrote its title (setproctitle) leaves one
 * string with spaces, padded with NULs: that string is split on whitespace instead.
 */
export function parseCmdline(raw: string): string[] {
  const argv = raw.split('\0');
  while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
  const only = argv[0];
  if (argv.length === 1 && only !== undefined && /\s/.test(only)) {
    return only.trim().split(/\s+/);
  }
  return argv;
}

/** Boot time in ms since the epoch, from the `btime` line of /proc/stat. */
export function parseBootTimeMs(procStat: string): number {
  // Seconds since the epoch: 12 digits reach the year 33658 and stay exact once in milliseconds.
  const match = /^btime\s+(\d{1,12})$/m.exec(procStat);
  if (!match?.[1]) throw new Error('no "btime" line in /proc/stat');
  return Number(match[1]) * 1000;
}

/** Every user-space process visible in `procRoot`, kernel threads excluded. */
export async function readProcesses(procRoot = '/proc'): Promise<ProcessInfo[]> {
  const bootTimeMs = parseBootTimeMs(await readFile(path.join(procRoot, 'stat'), 'utf8'));
  const pids = (await readdir(procRoot)).filter((entry) => /^\d+$/.test(entry));
  const processes: ProcessInfo[] = [];
  for (let i = 0; i < pids.length; i += READ_BATCH_SIZE) {
    const batch = pids.slice(i, i + READ_BATCH_SIZE);
    const infos = await Promise.all(batch.map((pid) => readOneProcess(procRoot, pid, bootTimeMs)));
    for (const info of infos) if (info) processes.push(info);
  }
  return processes;
}

/** One process, or undefined when it is a kernel thread or vanished between readdir and read. */
async function readOneProcess(procRoot: string, pid: string, bootTimeMs: number): Promise<ProcessInfo | undefined> {
  let statText: string;
  let cmdline: string;
  try {
    [statText, cmdline] = await Promise.all([
      readFile(path.join(procRoot, pid, 'stat'), 'utf8'),
      readFile(path.join(procRoot, pid, 'cmdline'), 'utf8'),
    ]);
  } catch (error) {
    if (VANISHED_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
  const stat = parseStat(statText);
  // Kernel threads have an empty cmdline, but so do zombies: the flag tells them apart, and zombies
  // are kept (with an empty argv) so callers can see and report them.
  if ((stat.flags & PF_KTHREAD) !== 0) return undefined;
  return {
    pid: stat.pid,
    ppid: stat.ppid,
    argv: parseCmdline(cmdline),
    comm: stat.comm,
    startedAtMs: bootTimeMs + (stat.startTimeTicks * 1000) / CLOCK_TICKS_PER_SECOND,
    rssBytes: stat.rssPages * PAGE_SIZE_BYTES,
    stateLetter: stat.stateLetter,
  };
}
