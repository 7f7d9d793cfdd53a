import path from 'node:path';
import { redactSecrets } from '../clients/soapSession.js';
import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { logMessage, mayBeErrorOrWarning, parseLogLine, type LogLine } from '../snapshot/logLine.js';
import { createLogTailState, readAppended, type LogTailRead, type LogTailState } from '../snapshot/logTail.js';
import { assertCheckName, formatBytes, formatDuration, snippet } from '../util/format.js';
import { scrubSecrets } from '../util/scrub.js';

export interface LogErrorsCheckOptions {
  /** Default `log_errors`. */
  name?: string;
  /** Absolute paths: the live log first (`<module>.log`), then its rotated siblings (`<module>_2.log`). */
  files: readonly string[];
  /** Error lines stamped within this long before now count; older ones are forgotten. Default 15 min. */
  windowMs?: number;
  /** An error line matching one of these (code and text) makes the check critical. Default none. */
  critical?: readonly RegExp[];
  /** Lines matching one of these (code and text) are skipped: neither judged nor counted. */
  ignore?: readonly RegExp[];
  /** Default 1 MiB: a busier log is read over several runs (the message says so). */
  maxBytesPerRun?: number;
  /** The first run (agent start) reads this much of each file's end. Default 256 KiB. */
  firstRunTailBytes?: number;
}

/**
 * A CheckResult that may say "could not look": the live log does not exist, so no error found is no
 * evidence of health. Local until the contract has it (proposed: `noEvidence?: true` on CheckResult,
 * the row leaving such a result out of its state and metrics).
 */
export interface LogErrorsResult extends CheckResult {
  noEvidence?: true;
}

export interface LogErrorsCheck extends Check {
  run(ctx: CheckContext): Promise<LogErrorsResult>;
}

export const LOG_ERRORS_DEFAULTS = {
  windowMs: 15 * 60_000,
  maxBytesPerRun: 1024 * 1024,
  firstRunTailBytes: 256 * 1024,
} as const;

/** Characters of the newest error's code and text in the message. */
const SHOWN_CHARS = 200;
/** The window is kept as counts per bucket: at most this many buckets (each at least 1 s). */
const MAX_BUCKETS = 900;
const MEMORY_KEY = 'logErrors';

/** An error line as remembered: its time and its text made safe to show. */
interface ErrorSeen {
  timeMs: number;
  shown: string;
}

interface Bucket {
  errors: number;
  critical: number;
}

/** What the check keeps between runs (ctx.memory): the reader's offsets and the errors of the window. */
interface LogErrorsMemory {
  tail: LogTailState;
  /** Error lines within the window, counted per bucket (key: bucket start, ms). */
  buckets: Map<number, Bucket>;
  newest?: ErrorSeen;
  newestCritical?: ErrorSeen;
  /** Newest error line ever seen (0: none since the agent started), kept beyond the window for the metric. */
  lastErrorMs: number;
}

/**
 * Recent `error` lines in a module's log. Warning when an error line is stamped within the window,
 * critical when one of them matches a `critical` pattern, ok otherwise; unknown (naming the file) when a
 * file exists but cannot be read; `noEvidence` when the live log does not exist. Lines are judged by
 * their own timestamp against ctx.now(), and by their level field only (a coded `info` line is not an
 * error). Values: `log_lines_read`, `log_error_lines` and `log_warning_lines` (lines appended since the
 * last run; the first run's look-back is not counted), `log_window_error_lines`,
 * `log_last_error_timestamp_seconds` (0 until an error is seen), `log_bytes_pending`.
 */
export function logErrorsCheck(opts: LogErrorsCheckOptions): LogErrorsCheck {
  const name = assertCheckName(opts.name ?? 'log_errors');
  const windowMs = opts.windowMs ?? LOG_ERRORS_DEFAULTS.windowMs;
  const maxBytesPerRun = opts.maxBytesPerRun ?? LOG_ERRORS_DEFAULTS.maxBytesPerRun;
  const firstRunTailBytes = opts.firstRunTailBytes ?? LOG_ERRORS_DEFAULTS.firstRunTailBytes;
  validate(name, opts.files, windowMs, maxBytesPerRun, firstRunTailBytes);
  const files = [...opts.files];
  const critical = (opts.critical ?? []).map(stateless);
  const ignore = (opts.ignore ?? []).map(stateless);
  const bucketMs = Math.max(1000, Math.ceil(windowMs / MAX_BUCKETS));
  const window = formatDuration(windowMs);

  return {
    name,
    async run(ctx: CheckContext): Promise<LogErrorsResult> {
      const memory = recall(ctx.memory);
      const read = await readAppended(memory.tail, { files, maxBytesPerRun, firstRunTailBytes }, ctx.signal);
      const now = ctx.now();
      const cutoff = now - windowMs;
      const inWindow = (timeMs: number): boolean => bucketOf(timeMs) + bucketMs > cutoff;
      const bucketOf = (timeMs: number): number => Math.floor(timeMs / bucketMs) * bucketMs;

      let errors = 0;
      let warnings = 0;
      let newest: LogLine | undefined;
      let newestCritical: LogLine | undefined;
      for (const raw of read.lines) {
        // Only error and warning lines are judged or counted: the info lines (most of a log) skip the full parse.
        if (!mayBeErrorOrWarning(raw)) continue;
        const line = parseLogLine(raw);
        if (line === undefined || (line.level !== 'error' && line.level !== 'warning')) continue;
        // Built only when a pattern is to be tried: most checks have none.
        const message = ignore.length + critical.length === 0 ? '' : logMessage(line);
        if (ignore.some((pattern) => pattern.test(message))) continue;
        if (line.level === 'warning') {
          warnings++;
          continue;
        }
        errors++;
        // A line stamped in the future (clock skew) counts as written now.
        const timeMs = Math.min(line.timeMs, now);
        memory.lastErrorMs = Math.max(memory.lastErrorMs, timeMs);
        if (!inWindow(timeMs)) continue;
        const isCritical = critical.some((pattern) => pattern.test(message));
        const bucket = memory.buckets.get(bucketOf(timeMs)) ?? { errors: 0, critical: 0 };
        bucket.errors++;
        if (isCritical) bucket.critical++;
        memory.buckets.set(bucketOf(timeMs), bucket);
        line.timeMs = timeMs;
        if (newest === undefined || timeMs >= newest.timeMs) newest = line;
        if (isCritical && (newestCritical === undefined || timeMs >= newestCritical.timeMs)) newestCritical = line;
      }
      // Only the newest lines are made safe to show: scrubbing every error of a flood would cost for nothing.
      if (newest !== undefined && (memory.newest === undefined || newest.timeMs >= memory.newest.timeMs)) memory.newest = seen(newest);
      if (newestCritical !== undefined && (memory.newestCritical === undefined || newestCritical.timeMs >= memory.newestCritical.timeMs)) {
        memory.newestCritical = seen(newestCritical);
      }
      forgetOutside(memory, now, bucketMs, inWindow);

      let windowErrors = 0;
      let windowCritical = 0;
      for (const bucket of memory.buckets.values()) {
        windowErrors += bucket.errors;
        windowCritical += bucket.critical;
      }
      const counted = !read.firstRun;
      const values = {
        log_lines_read: read.lines.length,
        log_error_lines: counted ? errors : 0,
        log_warning_lines: counted ? warnings : 0,
        log_window_error_lines: windowErrors,
        log_last_error_timestamp_seconds: Math.floor(memory.lastErrorMs / 1000),
        log_bytes_pending: read.pendingBytes,
      };
      const notes = [behindNote(read, maxBytesPerRun), ...read.unreadable.map((u) => `cannot read ${u.file}: ${u.reason}`)].filter((n) => n !== '');

      if (windowErrors > 0) {
        const count = `${windowErrors} error line${windowErrors === 1 ? '' : 's'} in the last ${window}`;
        const shown = windowCritical > 0 ? memory.newestCritical : memory.newest;
        const which = windowCritical > 0 ? `, ${windowCritical} matching a critical pattern; newest critical` : '; newest';
        const detail = shown === undefined ? '' : `${which} ${formatDuration(now - shown.timeMs)} ago: ${shown.shown}`;
        return { state: windowCritical > 0 ? 'critical' : 'warning', message: join(`${count}${detail}`, notes), values };
      }
      if (read.unreadable.length > 0) return { state: 'unknown', message: join(`no error seen in the last ${window}`, notes), values };
      const live = files[0] as string;
      if (read.missing.includes(live)) {
        return { state: 'unknown', noEvidence: true, message: join(`${live} does not exist: no log to look at`, notes), values };
      }
      const lookBack = read.firstRun ? ` (first look: the last ${formatBytes(firstRunTailBytes)} of ${path.basename(live)})` : '';
      const count = read.lines.length;
      return { state: 'ok', message: join(`no error in the last ${window}; ${count} line${count === 1 ? '' : 's'} read${lookBack}`, notes), values };
    },
  };
}

function validate(name: string, files: readonly string[], windowMs: number, maxBytesPerRun: number, firstRunTailBytes: number): void {
  if (files.length === 0) throw new Error(`logErrorsCheck ${name}: files must name at least the live log`);
  for (const file of files) {
    if (!path.isAbsolute(file)) throw new Error(`logErrorsCheck ${name}: files must be absolute paths, got ${JSON.stringify(file)}`);
  }
  if (!(windowMs > 0)) throw new Error(`logErrorsCheck ${name}: windowMs must be positive, got ${windowMs}`);
  if (!(maxBytesPerRun >= 4096)) throw new Error(`logErrorsCheck ${name}: maxBytesPerRun must be at least 4096, got ${maxBytesPerRun}`);
  if (!(firstRunTailBytes >= 0)) throw new Error(`logErrorsCheck ${name}: firstRunTailBytes must be 0 or more, got ${firstRunTailBytes}`);
}

/** A pattern `test` can be called on again and again: without the g and y flags (their lastIndex is state). */
function stateless(pattern: RegExp): RegExp {
  return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
}

function recall(store: Map<string, unknown>): LogErrorsMemory {
  let memory = store.get(MEMORY_KEY) as LogErrorsMemory | undefined;
  if (memory === undefined) {
    memory = { tail: createLogTailState(), buckets: new Map(), lastErrorMs: 0 };
    store.set(MEMORY_KEY, memory);
  }
  return memory;
}

/** Code and text, literal `\n` as spaces, secrets scrubbed, then cut: the only form kept in memory. */
function seen(line: LogLine): ErrorSeen {
  const text = logMessage(line).replace(/\\n/g, ' ');
  return { timeMs: line.timeMs, shown: snippet(redactSecrets(scrubSecrets(text), []), SHOWN_CHARS) };
}

/**
 * Errors older than the window are forgotten. After the clock was set back, times remembered from
 * before are in the future: now is the latest they can be (else they would stay in the window for as
 * long as the clock went back).
 */
function forgetOutside(memory: LogErrorsMemory, now: number, bucketMs: number, inWindow: (timeMs: number) => boolean): void {
  const nowBucket = Math.floor(now / bucketMs) * bucketMs;
  for (const [start, bucket] of [...memory.buckets]) {
    if (start > nowBucket) {
      memory.buckets.delete(start);
      const current = memory.buckets.get(nowBucket) ?? { errors: 0, critical: 0 };
      memory.buckets.set(nowBucket, { errors: current.errors + bucket.errors, critical: current.critical + bucket.critical });
    } else if (!inWindow(start)) {
      memory.buckets.delete(start);
    }
  }
  for (const key of ['newest', 'newestCritical'] as const) {
    const error = memory[key];
    if (error === undefined) continue;
    error.timeMs = Math.min(error.timeMs, now);
    if (!inWindow(error.timeMs)) delete memory[key];
  }
  memory.lastErrorMs = Math.min(memory.lastErrorMs, now);
}

function behindNote(read: LogTailRead, maxBytesPerRun: number): string {
  if (read.pendingBytes === 0) return '';
  return `reading behind: ${formatBytes(read.pendingBytes)} left for the next runs (at most ${formatBytes(maxBytesPerRun)} a run)`;
}

function join(main: string, notes: string[]): string {
  return notes.length === 0 ? main : `${main}; ${notes.join('; ')}`;
}
