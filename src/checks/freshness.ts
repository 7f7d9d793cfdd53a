import { readdirSync, statSync, type Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { Check, CheckContext, CheckResult, CheckState } from '../core/contracts.js';
import { assertCheckName, formatDuration, snippet } from '../util/format.js';

export interface FreshnessCheckOptions {
  name: string;
  /** Absolute directory holding the evidence (a module log, a job's output). */
  dir: string;
  /** File name pattern, one path segment (`mta{,_2}.log`, `*.csv`). */
  glob: string;
  maxAgeMs: number;
  /** State when the newest file is older than maxAge, or when nothing matches. */
  staleState: CheckState;
  /** Looked for in the tail of the newest file; a match is critical (the job ran and failed). */
  errorPattern?: RegExp;
  /** Extra labels for the value metrics (e.g. `{ campaign_job }`). */
  labels?: Record<string, string>;
  /** Also report `last_success_timestamp_seconds` (jobs); a module log has no notion of success. */
  reportLastSuccess?: boolean;
  /**
   * Campaign's own var/<instance>/log: listed and stat-ed synchronously, as the module logs themselves
   * are read (snapshot/logTail.ts says why). A job's directory may be a network mount: left unset there.
   */
  localDir?: boolean;
}

// Errors of a run are at the end of its log; a job's output can be large, so only its tail is read.
const TAIL_BYTES = 64 * 1024;
const LAST_SUCCESS = 'lastSuccessMs';

/**
 * Is there recent evidence that something ran: a module's log written lately, an export's output
 * file produced within its period? Values: `newest_file_age_seconds`, and for jobs
 * `last_success_timestamp_seconds` (newest clean file).
 */
export function freshnessCheck(opts: FreshnessCheckOptions): Check {
  const name = assertCheckName(opts.name);
  if (!path.isAbsolute(opts.dir)) throw new Error(`freshnessCheck ${name}: dir must be an absolute path, got ${JSON.stringify(opts.dir)}`);
  if (!(opts.maxAgeMs > 0)) throw new Error(`freshnessCheck ${name}: maxAgeMs must be positive, got ${opts.maxAgeMs}`);
  const matches = picomatch(opts.glob, { dot: false });
  const where = `${opts.glob} in ${opts.dir}`;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const newest = await newestFile(opts.dir, matches, opts.localDir ? LOCAL : POOLED);
      if (typeof newest === 'string') return result(ctx, opts.staleState, newest);
      if (newest === undefined) return result(ctx, opts.staleState, `no file matching ${where}`);
      const ageMs = Math.max(0, ctx.now() - newest.mtimeMs);
      const file = path.basename(newest.file);
      const errorLine = opts.errorPattern ? await findError(newest.file, opts.errorPattern) : undefined;
      if (errorLine !== undefined) {
        return result(ctx, 'critical', `${file} (${formatDuration(ageMs)} old) reports an error: "${snippet(errorLine, 160)}"`, ageMs);
      }
      ctx.memory.set(LAST_SUCCESS, Math.max(newest.mtimeMs, (ctx.memory.get(LAST_SUCCESS) as number | undefined) ?? 0));
      const state = ageMs > opts.maxAgeMs ? opts.staleState : 'ok';
      const limit = state === 'ok' ? '' : `, older than ${formatDuration(opts.maxAgeMs)}`;
      return result(ctx, state, `${file} written ${formatDuration(ageMs)} ago${limit}`, ageMs);
    },
  };

  function result(ctx: CheckContext, state: CheckState, message: string, ageMs?: number): CheckResult {
    const lastSuccessMs = ctx.memory.get(LAST_SUCCESS) as number | undefined;
    const values: Record<string, number> = {};
    // Never a success seen: 0, so "time() - metric" alerts fire rather than the series being absent.
    if (opts.reportLastSuccess) values.last_success_timestamp_seconds = lastSuccessMs === undefined ? 0 : Math.floor(lastSuccessMs / 1000);
    if (ageMs !== undefined) values.newest_file_age_seconds = Math.round(ageMs / 1000);
    return { state, message, values, ...(opts.labels ? { labels: opts.labels } : {}) };
  }
}

type Newest = { file: string; mtimeMs: number } | string | undefined;

/** How a directory is looked at: through the thread pool, or synchronously (localDir). */
interface DirReader {
  list(dir: string): string[] | Promise<string[]>;
  stat(file: string): Stats | Promise<Stats>;
}
const POOLED: DirReader = { list: (dir) => readdir(dir), stat: (file) => stat(file) };
// Each async call is a round trip through the thread pool that wakes the daemon; awaiting a plain value
// is not: a local directory is answered before the event loop turns.
const LOCAL: DirReader = { list: (dir) => readdirSync(dir), stat: (file) => statSync(file) };

/** The newest matching regular file; a string says why the directory could not be read. */
async function newestFile(dir: string, matches: (name: string) => boolean, reader: DirReader): Promise<Newest> {
  let names: string[];
  try {
    names = (await reader.list(dir)).filter((entry) => matches(entry));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `directory ${dir} does not exist` : `cannot read directory ${dir} (${code ?? String(error)})`;
  }
  let newest: { file: string; mtimeMs: number } | undefined;
  for (const entry of names) {
    const file = path.join(dir, entry);
    let info: Stats;
    try {
      info = await reader.stat(file);
    } catch {
      continue; // gone since the listing (a purge ran), or not stat-able
    }
    if (info.isFile() && (!newest || info.mtimeMs > newest.mtimeMs)) newest = { file, mtimeMs: info.mtimeMs };
  }
  return newest;
}

async function findError(file: string, pattern: RegExp): Promise<string | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split(/\r?\n/);
    // The last matching line: the failure that ended the run.
    return lines.reverse().find((line) => pattern.test(line));
  } finally {
    await handle.close();
  }
}
