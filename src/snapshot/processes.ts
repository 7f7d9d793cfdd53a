import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessInfo } from '../core/contracts.js';
import { VANISHED_CODES } from './procfs.js';
import { statFiles, type StatFiles } from './statFiles.js';

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
  /** Where argv lives in the process's memory (fields 48, 49; 0 when we may not see it): new after an exec. */
  argStart: number;
  argEnd: number;
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
  // After the ')' come the fields numbered 3 onward in proc(5). Only the ones used are cut out: a
  // split of all 50 made 250,000 strings a cycle on a host with 5,000 processes, for the GC to sweep.
  const { fields: rest, count } = statFields(text, close + 1);
  const field = (n: number): string => {
    const value = rest[n];
    if (value === undefined) {
      throw new Error(`/proc/<pid>/stat line has ${count + 2} fields, expected at least ${n}`);
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
    // Linux >= 3.5 prints them; older kernels stop at field 44 or so, and then the cache keys on the rest.
    argStart: optionalNumber(rest[48]),
    argEnd: optionalNumber(rest[49]),
  };
}

/** The stat fields the agent reads, by their number in proc(5). */
const WANTED_FIELDS = new Set([3, 4, 9, 22, 24, 48, 49]);
const LAST_WANTED = 49;

/**
 * The wanted fields after `from` (field 3 onward), separated as split(/\s+/) would separate them, and
 * how many fields there were (counted up to the last wanted one).
 */
function statFields(text: string, from: number): { fields: (string | undefined)[]; count: number } {
  const fields: (string | undefined)[] = [];
  let count = 0;
  let i = from;
  while (i < text.length && count + 2 < LAST_WANTED) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) break;
    const start = i;
    while (i < text.length && !isSpace(text.charCodeAt(i))) i++;
    count++;
    const n = count + 2;
    if (WANTED_FIELDS.has(n)) fields[n] = text.slice(start, i);
  }
  return { fields, count };
}

/** The characters of the regular expression class \s. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 ||
    code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}

/** An address field: a whole number, or 0 (unknown) for anything else, which only costs a cache hit. */
function optionalNumber(text: string | undefined): number {
  const value = text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : 0;
  return Number.isSafeInteger(value) ? value : 0;
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

/** A zombie keeps only its comm (its cmdline is empty), so comm counts as much as argv[0]. */
export function isNlserver(p: ProcessInfo): boolean {
  const program = p.argv[0];
  return p.comm === 'nlserver' || (program !== undefined && path.basename(program) === 'nlserver');
}

/** Boot time in ms since the epoch, from the `btime` line of /proc/stat. */
export function parseBootTimeMs(procStat: string): number {
  // Seconds since the epoch: 12 digits reach the year 33658 and stay exact once in milliseconds.
  const match = /^btime\s+(\d{1,12})$/m.exec(procStat);
  if (!match?.[1]) throw new Error('no "btime" line in /proc/stat');
  return Number(match[1]) * 1000;
}

/** What the previous passes learned of one pid. */
interface Known {
  identity: string;
  argv: string[];
  /** The last full reading (undefined for a kernel thread). */
  info?: ProcessInfo;
  kernelThread: boolean;
  comm: string;
  /** The pass of the last full reading of /proc/<pid>/stat. */
  readAt: number;
}

/** A quiet process is fully read again at least every this many passes (its state, zombie or not). */
export const QUIET_REREAD_PASSES = 10;
/** Younger processes are always fully read: they may still exec (a wrapper becoming nlserver). */
const QUIET_MIN_AGE_MS = 60_000;

/**
 * What one pass over /proc leaves for the next, by pid.
 *
 * Command lines: fixed at exec, so read again only when the process may have changed: a new start
 * time (pid reused), a new comm or new argument addresses (an exec: a new stack, placed elsewhere by
 * ASLR, and argv of another length anyway). A child read between fork and exec (its parent's argv) is
 * read again after the exec for the same reason. Not seen: a process that rewrites its own argv in
 * place (setproctitle) after we first read it; nlserver is not known to.
 *
 * Quiet processes: most of a host's processes are nothing to Campaign (not nlserver, not a child of
 * nlserver, older than a minute). For those a pass reads /proc/<pid>/comm (1.7 µs) instead of stat
 * (5-8 µs): the kept descriptor fails once the process is gone, so a reused pid is seen at once, and
 * a new comm means an exec, read in full. Their state is refreshed every QUIET_REREAD_PASSES passes:
 * until then a quiet process that became a zombie shows in the host-wide count of other zombies late.
 */
export class ProcessCache {
  private entries = new Map<string, Known>();
  private seen = new Map<string, Known>();
  private nlserverPids = new Set<number>();
  private nextNlserverPids = new Set<number>();
  /** Passes completed. */
  private pass = 0;
  /** Command lines read from /proc during the last pass (the rest came from the cache). */
  reads = 0;
  /** Processes taken as quiet in the last pass (comm read instead of stat). */
  quiet = 0;

  get(pid: string, identity: string): string[] | undefined {
    const entry = this.entries.get(pid);
    return entry?.identity === identity ? entry.argv : undefined;
  }

  /** The last reading of a process that may skip its stat this pass, if it is one. */
  quietEntry(pid: string, nowMs: number): Known | undefined {
    const entry = this.entries.get(pid);
    if (!entry || this.pass - entry.readAt >= QUIET_REREAD_PASSES) return undefined;
    return this.mayBeQuiet(entry, nowMs) ? entry : undefined;
  }

  /** Nothing to Campaign: a kernel thread, or neither nlserver nor its child, nor a zombie, nor young. */
  mayBeQuiet(entry: Omit<Known, 'readAt'>, nowMs: number): boolean {
    if (entry.kernelThread) return true;
    const info = entry.info;
    if (!info || info.stateLetter === 'Z' || nowMs - info.startedAtMs < QUIET_MIN_AGE_MS) return false;
    return !isNlserver(info) && !this.nlserverPids.has(info.ppid);
  }

  keep(pid: string, entry: Omit<Known, 'readAt'>, fullyRead: boolean): void {
    const readAt = fullyRead ? this.pass : (this.entries.get(pid)?.readAt ?? this.pass);
    this.seen.set(pid, { ...entry, readAt });
    if (entry.info && isNlserver(entry.info)) this.nextNlserverPids.add(entry.info.pid);
  }

  /** Called after a full pass: what was not seen in it is gone. */
  endPass(): void {
    this.entries = this.seen;
    this.seen = new Map();
    this.nlserverPids = this.nextNlserverPids;
    this.nextNlserverPids = new Set();
    this.pass++;
  }
}

/**
 * How many processes are read between two turns of the event loop: the reads are synchronous (a /proc
 * file costs a few microseconds to generate, and an async read adds several round trips to the thread
 * pool for each), so a large process table is read in slices that leave /metrics requests a turn.
 */
const SLICE_SIZE = 64;

/**
 * Every user-space process visible in `procRoot`, kernel threads excluded. stat files are read
 * synchronously, through descriptors kept between cycles (statFiles.ts: the kernel formats them
 * from the task alone, never waiting), command lines
 * asynchronously: the kernel copies them out of the process's memory under its mmap lock, and a
 * process stuck in a page fault (a hung NFS mount) makes that read wait, which must stall one
 * thread-pool thread and a check's timeout, not the daemon.
 */
export async function readProcesses(procRoot = '/proc', cache = new ProcessCache()): Promise<ProcessInfo[]> {
  const bootTimeMs = parseBootTimeMs(readFileSync(path.join(procRoot, 'stat'), 'utf8'));
  const pids = readdirSync(procRoot).filter((entry) => /^\d+$/.test(entry));
  const processes: ProcessInfo[] = [];
  const stats = statFiles(procRoot);
  const comms = statFiles(procRoot, 'comm');
  const nowMs = Date.now();
  cache.reads = 0;
  cache.quiet = 0;
  for (let i = 0; i < pids.length; i += SLICE_SIZE) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    const pending: Promise<ProcessInfo | undefined>[] = [];
    for (const pid of pids.slice(i, i + SLICE_SIZE)) {
      const info = readOneProcess({ procRoot, pid, bootTimeMs, cache, stats, comms, nowMs });
      // Not instanceof Promise: under jest's vm realms, fs/promises' promises are another realm's.
      if (info !== undefined && 'then' in info) pending.push(info);
      else if (info) processes.push(info);
    }
    for (const info of await Promise.all(pending)) if (info) processes.push(info);
  }
  cache.endPass();
  const listed = new Set(pids);
  stats.keepOnly(listed);
  comms.keepOnly(listed);
  return processes;
}

interface PassContext {
  procRoot: string;
  pid: string;
  bootTimeMs: number;
  cache: ProcessCache;
  stats: StatFiles;
  comms: StatFiles;
  /** Wall clock of the pass, for process ages (start times are wall-clock based too). */
  nowMs: number;
}

/**
 * One process, or undefined when it is a kernel thread or vanished between readdir and read; a
 * promise when its command line has to be read.
 */
function readOneProcess(pass: PassContext): ProcessInfo | undefined | Promise<ProcessInfo | undefined> {
  const { procRoot, pid, bootTimeMs, cache, stats, comms, nowMs } = pass;
  const quiet = cache.quietEntry(pid, nowMs);
  // The kept comm descriptor still reads: same process; same comm: no exec since.
  if (quiet && comms.readKept(pid) === `${quiet.comm}\n`) {
    cache.quiet++;
    cache.keep(pid, quiet, false);
    return quiet.info;
  }
  const statText = stats.read(pid);
  if (statText === undefined) return undefined;
  const stat = parseStat(statText);
  const kernelThread = (stat.flags & PF_KTHREAD) !== 0;
  // One descriptor per process: comm for the quiet ones (opened now, checked next pass), stat for the rest.
  const remember = (known: Omit<Known, 'readAt'>): void => {
    cache.keep(pid, known, true);
    if (cache.mayBeQuiet(known, nowMs)) {
      comms.read(pid);
      stats.forget(pid);
    } else {
      comms.forget(pid);
    }
  };
  if (kernelThread) {
    remember({ identity: '', argv: [], kernelThread, comm: stat.comm });
    return undefined;
  }
  const info = (argv: string[]): ProcessInfo => ({
    pid: stat.pid,
    ppid: stat.ppid,
    argv,
    comm: stat.comm,
    startedAtMs: bootTimeMs + (stat.startTimeTicks * 1000) / CLOCK_TICKS_PER_SECOND,
    rssBytes: stat.rssPages * PAGE_SIZE_BYTES,
    stateLetter: stat.stateLetter,
  });
  const identity = `${stat.startTimeTicks} ${stat.argStart} ${stat.argEnd} ${stat.comm}`;
  const cached = cache.get(pid, identity);
  if (cached) {
    const known = info(cached);
    remember({ identity, argv: cached, info: known, kernelThread, comm: stat.comm });
    return known;
  }
  cache.reads++;
  return readFile(path.join(procRoot, pid, 'cmdline'), 'utf8').then(
    (cmdline) => {
      // Kernel threads have an empty cmdline, but so do zombies: the flag told them apart above, and
      // zombies are kept (with an empty argv) so callers can see and report them.
      const argv = Object.freeze(parseCmdline(cmdline)) as string[];
      const known = info(argv);
      remember({ identity, argv, info: known, kernelThread, comm: stat.comm });
      return known;
    },
    (error: unknown) => {
      if (VANISHED_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw error;
    },
  );
}
