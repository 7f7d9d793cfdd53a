import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { assertCheckName, formatBytes, formatDuration } from '../util/format.js';

export interface FileGrowthCheckOptions {
  name: string;
  /** Absolute directory to watch. */
  dir: string;
  /** File name pattern, one path segment (e.g. `0x*.log`). */
  glob: string;
  warnAfterMs: number;
  criticalAfterMs: number;
}

/** The newest matching file as seen on one run. */
interface Observation {
  name: string;
  size: number;
  mtimeMs: number;
}

/** What the check remembers between runs (ctx.memory). */
interface GrowthMemory {
  /** When this check first ran: the reference point while no file matches. */
  firstRunMs: number;
  previous?: Observation;
  /** When this check last saw the newest file change (name, size or mtime). */
  changeSeenMs?: number;
}

const MEMORY_KEY = 'fileGrowth';
/** Files stat-ed at once; the abort signal is checked between batches. */
const STAT_BATCH_SIZE = 32;

/**
 * Is a directory of logs/spool files still being written to? Rotation, truncation and purge are
 * normal life for such a directory, so only the absence of any activity for a while is a problem.
 */
export function fileGrowthCheck(opts: FileGrowthCheckOptions): Check {
  const name = assertCheckName(opts.name);
  validateOptions(opts, name);
  const matches = picomatch(opts.glob);
  const thresholds = `warning after ${formatDuration(opts.warnAfterMs)}, critical after ${formatDuration(opts.criticalAfterMs)}`;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const listing = await listMatchingFiles(opts.dir, matches, ctx.signal);
      if (!listing.ok) return { state: 'critical', message: listing.reason };
      const newest = await findNewest(opts.dir, listing.names, ctx.signal);
      const now = ctx.now();
      const memory = remember(ctx.memory, now, newest);
      // Clock skew or a file touched with a future date must not produce a negative age.
      const ageMs = Math.max(0, now - lastActivityMs(memory, newest));
      const state = ageMs < opts.warnAfterMs ? 'ok' : ageMs < opts.criticalAfterMs ? 'warning' : 'critical';
      return {
        state,
        message: describe(state === 'ok', newest, ageMs, opts, thresholds),
        values: { newest_file_bytes: newest?.size ?? 0, seconds_since_growth: Math.round(ageMs) / 1000 },
      };
    },
  };
}

function validateOptions(opts: FileGrowthCheckOptions, name: string): void {
  if (!path.isAbsolute(opts.dir)) {
    throw new Error(`fileGrowthCheck ${name}: dir must be an absolute path, got ${JSON.stringify(opts.dir)}`);
  }
  if (opts.glob === '' || opts.glob.includes('/')) {
    throw new Error(`fileGrowthCheck ${name}: glob must be a file name pattern without '/', got ${JSON.stringify(opts.glob)}`);
  }
  if (!(opts.warnAfterMs > 0) || !(opts.criticalAfterMs >= opts.warnAfterMs)) {
    throw new Error(
      `fileGrowthCheck ${name}: need 0 < warnAfterMs <= criticalAfterMs, got warnAfterMs=${opts.warnAfterMs}, criticalAfterMs=${opts.criticalAfterMs}`,
    );
  }
}

type Listing = { ok: true; names: string[] } | { ok: false; reason: string };

async function listMatchingFiles(dir: string, matches: (name: string) => boolean, signal: AbortSignal): Promise<Listing> {
  signal.throwIfAborted();
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    // Symbolic links are kept here and resolved by stat; directories can never be the newest file.
    const names = entries.filter((e) => !e.isDirectory() && matches(e.name)).map((e) => e.name);
    return { ok: true, names };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    if (code === 'ENOENT') return { ok: false, reason: `directory ${dir} does not exist` };
    return { ok: false, reason: `cannot read directory ${dir}: ${code}` };
  }
}

/** Newest by mtime; equal mtimes go to the greater name (sequence-numbered files sort that way). */
async function findNewest(dir: string, names: string[], signal: AbortSignal): Promise<Observation | undefined> {
  let newest: Observation | undefined;
  for (let i = 0; i < names.length; i += STAT_BATCH_SIZE) {
    signal.throwIfAborted();
    const batch = await Promise.all(names.slice(i, i + STAT_BATCH_SIZE).map((name) => statFile(dir, name)));
    for (const file of batch) {
      if (file === undefined) continue;
      if (newest === undefined || file.mtimeMs > newest.mtimeMs || (file.mtimeMs === newest.mtimeMs && file.name > newest.name)) {
        newest = file;
      }
    }
  }
  return newest;
}

/** undefined when the file was purged since readdir, or is not a regular file. */
async function statFile(dir: string, name: string): Promise<Observation | undefined> {
  try {
    const info = await stat(path.join(dir, name));
    return info.isFile() ? { name, size: info.size, mtimeMs: info.mtimeMs } : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Updates and returns the memory for this run. */
function remember(store: Map<string, unknown>, now: number, newest: Observation | undefined): GrowthMemory {
  const memory = (store.get(MEMORY_KEY) as GrowthMemory | undefined) ?? { firstRunMs: now };
  // After the clock was set back, times remembered from before are in the future: kept as they are,
  // they would make a stall look fresh until the clock caught up (hours). Now is the latest they can be.
  memory.firstRunMs = Math.min(memory.firstRunMs, now);
  if (memory.changeSeenMs !== undefined) memory.changeSeenMs = Math.min(memory.changeSeenMs, now);
  if (newest !== undefined) {
    if (isActivity(memory.previous, newest)) memory.changeSeenMs = now;
    memory.previous = newest;
  }
  store.set(MEMORY_KEY, memory);
  return memory;
}

/**
 * Did the newest file change since the last run in a way that means someone is writing? A first
 * observation is not activity (a stalled file must be reported from the first run). A rotation (a
 * newer file takes over), growth, truncation or rewrite is. When the newest file is purged and an
 * older one resurfaces as newest, nothing was written: neutral.
 */
function isActivity(previous: Observation | undefined, current: Observation): boolean {
  if (previous === undefined) return false;
  if (current.name !== previous.name) return current.mtimeMs >= previous.mtimeMs;
  return current.size !== previous.size || current.mtimeMs !== previous.mtimeMs;
}

/**
 * The newest file's mtime, or when this check itself saw it change, whichever is later: a change we
 * saw is proof of life even when mtimes come from a skewed clock. With no file at all, the reference
 * is the first run of the check.
 */
function lastActivityMs(memory: GrowthMemory, newest: Observation | undefined): number {
  const seen = memory.changeSeenMs ?? Number.NEGATIVE_INFINITY;
  return Math.max(newest === undefined ? memory.firstRunMs : newest.mtimeMs, seen);
}

function describe(ok: boolean, newest: Observation | undefined, ageMs: number, opts: FileGrowthCheckOptions, thresholds: string): string {
  const age = formatDuration(ageMs);
  if (newest === undefined) {
    const missing = `no file matching ${opts.glob} in ${opts.dir}`;
    return ok ? `${missing} (watching for ${age})` : `${missing} for ${age} (${thresholds})`;
  }
  return ok ? `newest ${newest.name} grew ${age} ago (${formatBytes(newest.size)})` : `no growth of ${newest.name} for ${age} (${thresholds})`;
}
