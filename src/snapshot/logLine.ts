// One line of a Campaign module log (`var/<instance>/log/<module>.log`, written by syslogd).
//
// The fields, as the documented lines show them (their names are not documented):
//   2021-05-31T08:42:18.124Z <TAB> 66462 <TAB> 66501 <TAB> 1 <TAB> error <TAB> log <TAB> INT-150012 The HTTP query ...
//   2011-10-04 11:57:51.804Z B67B28C0 1 info log Updating table 'NmcTrackingLogMessages'
// time (ISO with a `T`, or the older form with a space), then one to four numeric or hexadecimal ids
// (pid, tid, ...; the older form has two; a minus sign is allowed), the level, a category, the message.
// Files have tabs; copies in documentation and forum posts have runs of spaces instead, so both separate
// the header fields. The message may start with a `XXX-nnnnnn` code, and may hold literal `\n` sequences
// (multi-line database errors are written on one line that way). A coded line is not an error by
// itself: the level field alone says what it is.

export interface LogLine {
  /** The line's own timestamp, ms since the epoch (UTC). */
  timeMs: number;
  /** Lower case, as written: `error`, `warning`, `info`... */
  level: string;
  /** Second field after the ids (`log` in every documented line). */
  category: string;
  /** `INT-150012` when the message starts with such a code. */
  code?: string;
  /** The message after the code, as written (literal `\n` sequences kept, trailing blanks removed). */
  text: string;
}

// Date and time, fraction optional (any precision), then `Z` or a numeric offset: a time without a
// zone is not read as UTC by guess (hours of error would move lines in or out of the window).
const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})(?=[\t ])/;
// After the time: ids, a level word with at least one non-hex letter (so an id is never taken for a
// level), a category, the message. Bounded repetitions: no catastrophic backtracking on long lines.
const FIELDS = /^[\t ]+((?:-?[0-9A-Fa-f]{1,16}[\t ]+){1,4})([A-Za-z]*[G-Zg-z][A-Za-z]*)[\t ]+([^\t ]+)(?:[\t ]+([^]*))?$/;
const CODE = /^([A-Z]{3}-\d{6})(?:[\t ]+|$)/;
// FIELDS puts the level between a blank (after the last id) and a blank (before the category): a line
// without `<blank>error<blank>` or `<blank>warning<blank>` (any case) cannot parse to either level.
const ERROR_OR_WARNING = /[\t ](?:error|warning)[\t ]/i;

/**
 * False when `line` can certainly not parse to an `error` or `warning` line: one regular-expression scan,
 * so that a reader interested only in those levels skips the full parse of the (many more) info lines.
 * True is no promise: the line may still be info (the word in its message) or no log line at all.
 */
export function mayBeErrorOrWarning(line: string): boolean {
  return ERROR_OR_WARNING.test(line);
}

/** The fields of one log line, or undefined when `line` is not a log line (never throws). */
export function parseLogLine(line: string): LogLine | undefined {
  const trimmed = line.replace(/[\r\n]+$/, '');
  const time = TIME.exec(trimmed);
  if (time === null) return undefined;
  const timeMs = utcMs(time);
  if (timeMs === undefined) return undefined;
  const fields = FIELDS.exec(trimmed.slice(time[0].length));
  if (fields === null) return undefined;
  const message = (fields[4] ?? '').trimEnd();
  const coded = CODE.exec(message);
  const base = { timeMs, level: (fields[2] as string).toLowerCase(), category: fields[3] as string };
  return coded === null ? { ...base, text: message } : { ...base, code: coded[1] as string, text: message.slice(coded[0].length) };
}

/** The message as written: code, a space, text. */
export function logMessage(line: Pick<LogLine, 'code' | 'text'>): string {
  return line.code === undefined ? line.text : line.text === '' ? line.code : `${line.code} ${line.text}`;
}

function utcMs(m: RegExpExecArray): number | undefined {
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (hour! > 23 || minute! > 59 || second! > 59) return undefined;
  const ms = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, fraction);
  const check = new Date(ms);
  // Date.UTC rolls 2021-02-30 over to March: such a date is not a real timestamp.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month! - 1 || check.getUTCDate() !== day) return undefined;
  return ms - offsetMs(m[8] as string);
}

function offsetMs(zone: string): number {
  if (zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
  return (zone.startsWith('-') ? -1 : 1) * minutes * 60_000;
}
