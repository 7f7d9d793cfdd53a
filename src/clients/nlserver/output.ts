// Shapes shared by every nlserver console output: the clock prefix, Campaign's banner, `No tasks`.
import type { ParsedOutput } from './types.js';

export type { ParsedOutput };

/** `HH:MM:SS > ` prefixes every console line of nlserver. */
const CLOCK_PREFIX = /^\d{1,2}:\d{2}:\d{2}\s+>\s*/;
// Both documented banner spellings: "Application server for" and "Application Server for".
const BANNER = /^Application server for Adobe Campaign/i;
const NO_TASKS = /^no tasks?\.?$/i;
const MAX_UNEXPECTED_KEPT = 10;
const MAX_LINE_KEPT = 120;

export function emptyOutput<T>(): ParsedOutput<T> {
  return { entries: [], noTasks: false, unexpected: [] };
}

/** Trimmed lines with the console clock removed; `raw` keeps the line as printed, for messages. */
export function consoleLines(text: string): { line: string; raw: string }[] {
  return text.split(/\r?\n/).map((raw) => ({ raw: raw.trim(), line: raw.trim().replace(CLOCK_PREFIX, '') }));
}

/** Consumes blank lines, the banner and `No tasks`; false for anything else. */
export function consumeCommon(line: string, result: ParsedOutput<unknown>): boolean {
  if (line === '') return true;
  if (BANNER.test(line)) {
    result.banner ??= line;
    return true;
  }
  if (NO_TASKS.test(line)) {
    result.noTasks = true;
    return true;
  }
  return false;
}

export function keepUnexpected(result: ParsedOutput<unknown>, line: string): void {
  if (result.unexpected.length >= MAX_UNEXPECTED_KEPT) return;
  // Control characters from a binary spewing garbage would mangle a log line or a table.
  const printable = line.replace(/[\u0000-\u001f\u007f]/g, '?');
  result.unexpected.push(printable.length > MAX_LINE_KEPT ? `${printable.slice(0, MAX_LINE_KEPT - 3)}...` : printable);
}
