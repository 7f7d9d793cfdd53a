import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

// Reads what was appended to a module's log since the last run. syslogd keeps two files per module,
// `<module>.log` then `<module>_2.log` (each up to maxFileSizeMb): at rotation the live file is renamed
// to `_2` (the old `_2` goes) and a new live file is started. Files are followed by identity (device and
// inode) rather than by name, so the rest of a file renamed to `_2` is read from where we were, and the
// new live file (an identity never seen) from its start.
//
// - First run (the state is new, e.g. after an agent restart): the last `firstRunTailBytes` of each file
//   are read, so errors of the last window are seen again after a restart; older content is not read.
// - Later runs: only bytes appended since, at most `maxBytesPerRun` in all (the rest is `pendingBytes`,
//   read on the next runs). Rotated siblings come first, their content being older.
// - Truncation (size below our offset) or a file rewritten in place (its first bytes changed: an inode
//   reused for a new file, or copy-and-truncate grown past our offset): read again from the start.
// - A partial last line (no newline yet) is left for the next run; in a rotated sibling, which nobody
//   writes any more, it is a line. A line longer than MAX_LINE_BYTES (or than maxBytesPerRun) gives
//   its first bytes as a line, the rest is skipped.
// - Read with synchronous calls (open, fstat, read, close), each file opened once per run. Why not
//   fs.promises: at the shipped schedules this code runs cold every 30 s, and each FileHandle operation
//   is a round trip through libuv's thread pool plus promise machinery: profiled, the five operations
//   per file cost more CPU than the reading itself (~15 % of the daemon). These are small local files
//   and a run reads at most maxBytesPerRun (1 MiB by default) in all, so a synchronous read holds the
//   event loop for well under a millisecond (page cache: syslogd has just written them). The price: a
//   log directory on a hung network mount would now hold the whole daemon, not one pool thread, and a
//   check timeout cannot interrupt it; module logs are local files (var/<instance>/log).
// - A file whose size and change time (ctime: every write moves it, and unlike mtime no one can set it
//   back) are those of the last run is unchanged: its first bytes are not read again. Only a rewrite to
//   the very same size within one timestamp tick of the last look goes unseen until the file's next
//   write, when it is read from its start: later, not lost.

export interface LogTailOptions {
  /** The live file first (`<module>.log`), then rotated siblings (`<module>_2.log`). */
  files: readonly string[];
  /** At most this many bytes are read per run, over all files. */
  maxBytesPerRun: number;
  /** On the first run, each file is read from this many bytes before its end. */
  firstRunTailBytes: number;
}

/** What one file's reading is at, kept between runs. */
interface FileMark {
  /** Next byte to read. */
  offset: number;
  /** The bytes at `offset` belong to a line already cut (first-run start, overlong line): skipped to the next newline. */
  midLine: boolean;
  /** The file's first bytes, to notice a file rewritten under the same identity (a digest: no log text is kept). */
  head: Head;
  /** `size:ctimeNs` at the last look: unchanged, the head is not read again (a string: memory stays plain JSON). */
  version: string;
}

/** A digest of a file's first `length` bytes. */
interface Head {
  length: number;
  digest: string;
}

/** The reader's memory between runs: keep one per watched log (e.g. in CheckContext.memory). */
export interface LogTailState {
  started: boolean;
  /** By identity (`dev:ino`); only identities present on the last run are kept. */
  marks: Map<string, FileMark>;
}

export interface LogTailRead {
  /** Complete lines (without their newline), older files first, in file order. */
  lines: string[];
  /** True on the state's first run: `lines` are a look-back into what was written before. */
  firstRun: boolean;
  bytesRead: number;
  /** Bytes appended but left for the next run because of maxBytesPerRun. */
  pendingBytes: number;
  /** Candidates that do not exist (ENOENT). */
  missing: string[];
  /** Candidates that exist but could not be read, with the reason (`EACCES`, `not a regular file`...). */
  unreadable: Array<{ file: string; reason: string }>;
  /** Files read again from their start because they were truncated or rewritten. */
  restarted: string[];
}

export const MAX_LINE_BYTES = 64 * 1024;
/** Bytes of a file's start kept to recognise it. */
const HEAD_BYTES = 64;
const NEWLINE = 0x0a;

export function createLogTailState(): LogTailState {
  return { started: false, marks: new Map() };
}

/**
 * Reads the complete lines appended to `opts.files` since the last call with the same `state`, which it
 * updates. Never throws for a file it cannot read (see `missing`, `unreadable`); stops before the next
 * file once `signal` is aborted, keeping what it read.
 */
export async function readAppended(state: LogTailState, opts: LogTailOptions, signal?: AbortSignal): Promise<LogTailRead> {
  return readAppendedSync(state, opts, signal);
}

/** readAppended without the promise (see the header for why synchronous). */
function readAppendedSync(state: LogTailState, opts: LogTailOptions, signal?: AbortSignal): LogTailRead {
  const read: LogTailRead = { lines: [], firstRun: !state.started, bytesRead: 0, pendingBytes: 0, missing: [], unreadable: [], restarted: [] };
  const seen = new Set<string>();
  // A sibling that is the live file under another name (a rotation by link and unlink, caught halfway)
  // is still written to: its partial last line is not finished.
  const live = opts.files[0] === undefined ? undefined : identityOf(opts.files[0]);
  // Rotated siblings hold older lines than the live file: read first, so a cut run ends in the live file.
  const order = [...opts.files.slice(1).reverse(), ...opts.files.slice(0, 1)];
  for (const file of order) {
    if (signal?.aborted) break;
    readFile(file, file !== opts.files[0], live, state, opts, read, seen);
  }
  // Cut short: the files not visited keep their marks, and a first run stays a first run for them.
  if (signal?.aborted) return read;
  // A file gone from every name is forgotten.
  for (const identity of state.marks.keys()) if (!seen.has(identity)) state.marks.delete(identity);
  state.started = true;
  return read;
}

function readFile(
  file: string,
  rotated: boolean,
  live: string | undefined,
  state: LogTailState,
  opts: LogTailOptions,
  read: LogTailRead,
  seen: Set<string>,
): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') read.missing.push(file);
    else read.unreadable.push({ file, reason: code });
    return;
  }
  try {
    // The identity of what was opened, not of what the name points to a moment later.
    const info = fstatSync(fd, { bigint: true });
    if (!info.isFile()) {
      read.unreadable.push({ file, reason: 'not a regular file' });
      return;
    }
    const identity = `${info.dev}:${info.ino}`;
    // The same file under two names (a link, or a name given twice) is read once.
    if (seen.has(identity)) return;
    seen.add(identity);
    const size = Number(info.size);
    let mark = state.marks.get(identity);
    const version = `${info.size}:${info.ctimeNs}`;
    if (mark?.version !== version) {
      const start = readBytes(fd, 0, Math.min(size, HEAD_BYTES));
      const head = digest(start, start.length);
      if (mark !== undefined && (size < mark.offset || !sameStart(mark.head, start))) {
        read.restarted.push(file);
        mark = { offset: 0, midLine: false, head, version };
      }
      if (mark === undefined) mark = startMark(state.started, size, opts.firstRunTailBytes, head, version);
      if (head.length > mark.head.length) mark.head = head;
      mark.version = version;
    }
    // Assigned on every path above: known and unchanged, restarted, or new.
    const current = mark as FileMark;
    state.marks.set(identity, current);
    const available = size - current.offset;
    const budget = Math.max(0, opts.maxBytesPerRun - read.bytesRead);
    const length = Math.min(available, budget);
    read.pendingBytes += available - length;
    if (length <= 0) return;
    const bytes = readBytes(fd, current.offset, length);
    read.bytesRead += bytes.length;
    const finished = rotated && identity !== live && bytes.length === available;
    current.offset += takeLines(bytes, current, finished, Math.min(MAX_LINE_BYTES, opts.maxBytesPerRun), read.lines);
  } catch (error) {
    read.unreadable.push({ file, reason: errorCode(error) });
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Nothing to do about a failed close of a read-only descriptor.
    }
  }
}

/** A file seen for the first time: its last bytes on the first run; its whole content later (it is new). */
function startMark(started: boolean, size: number, firstRunTailBytes: number, head: Head, version: string): FileMark {
  if (started || size <= firstRunTailBytes) return { offset: 0, midLine: false, head, version };
  // Start one byte early: if that byte is a newline, the skip to the next newline skips only it.
  return { offset: size - firstRunTailBytes - 1, midLine: true, head, version };
}

/**
 * Appends the complete lines of `bytes` to `lines` and returns how many bytes were consumed. Lines are
 * decoded as UTF-8 only once whole, so a character cut at the end of a read is never mangled.
 */
function takeLines(bytes: Buffer, mark: FileMark, finished: boolean, maxLineBytes: number, lines: string[]): number {
  let start = 0;
  if (mark.midLine) {
    const newline = bytes.indexOf(NEWLINE);
    if (newline < 0) return bytes.length;
    start = newline + 1;
    mark.midLine = false;
  }
  for (let newline = bytes.indexOf(NEWLINE, start); newline >= 0; newline = bytes.indexOf(NEWLINE, start)) {
    lines.push(decode(bytes.subarray(start, Math.min(newline, start + maxLineBytes))));
    start = newline + 1;
  }
  const rest = bytes.length - start;
  if (rest === 0) return start;
  if (finished) {
    lines.push(decode(bytes.subarray(start)));
    return bytes.length;
  }
  if (rest >= maxLineBytes) {
    // Too long to ever be read whole (or to wait for): keep its start (time, level, code), skip the rest.
    lines.push(decode(bytes.subarray(start, start + maxLineBytes)));
    mark.midLine = true;
    return bytes.length;
  }
  return start;
}

function decode(line: Buffer): string {
  const text = line.toString('utf8');
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

/** Does the file still start with the bytes remembered? (It may have grown since, never shrunk.) */
function sameStart(remembered: Head, start: Buffer): boolean {
  return start.length >= remembered.length && digest(start, remembered.length).digest === remembered.digest;
}

function digest(start: Buffer, length: number): Head {
  return { length, digest: createHash('sha256').update(start.subarray(0, length)).digest('base64') };
}

/** `length` bytes from `position`; fewer if the file shrank meanwhile. */
function readBytes(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const bytesRead = readSync(fd, buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** `dev:ino` of what `file` names now, if anything. */
function identityOf(file: string): string | undefined {
  try {
    const info = statSync(file, { bigint: true });
    return `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : String(error);
}
