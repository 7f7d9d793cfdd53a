import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';

// The one procfs helper: how /proc files are found, read (synchronously, into one reused buffer; for
// indicators, with errors naming the file) and judged malformed.

// Why not systeminformation (removed, see docs/design.md#dependencies): its non-spawning readers cost
// ~8 x the CPU of a direct read, take fixed paths (no procRoot, so no fixtures) and swallow read errors
// into fallback values, which would turn "cannot read" into a plausible-looking reading.

/** `/proc/<relative>` under `procRoot`: the one place the path of a system file is built. */
export function procPath(procRoot: string, relative: string): string {
  return path.join(procRoot, relative);
}

/** For readText: every error is a failure, none means "gone". */
const NOTHING_VANISHES: ReadonlySet<string> = new Set();

/**
 * A system file's text (meminfo, loadavg...), failing with a message that names it (e.g. `cannot read
 * /proc/meminfo: ENOENT`). Read synchronously, as readProcFile does: kernel-made files of a few kB that
 * never wait on a disk. Through fs.promises each of them cost four thread-pool round trips (open, fstat,
 * read, close) for about a microsecond of kernel work: the daemon's cycles run cold, 30 s apart, and such
 * overhead is most of their cost. (Not for /proc/<pid>/cmdline: that read can wait on a stuck process.)
 */
export async function readText(file: string): Promise<string> {
  try {
    return readProcFile(file, NOTHING_VANISHES) as string;
  } catch (error) {
    throw new Error(`cannot read ${file}: ${reason(error)}`);
  }
}

/** The error for a file whose content is not what the kernel writes there. */
export function malformed(file: string, expected: string, got: string): Error {
  return new Error(`${file}: expected ${expected}, got ${JSON.stringify(got.length > 80 ? `${got.slice(0, 80)}…` : got)}`);
}

/**
 * A non-negative integer field, or the malformed-file error naming what was expected. At most 20 digits
 * (2^64 - 1 has 20): more is not a kernel counter, and 309 would read as Infinity.
 */
export function wholeNumber(text: string | undefined, file: string, expected: string): number {
  if (text === undefined || !/^\d{1,20}$/.test(text)) throw malformed(file, expected, text ?? '(nothing)');
  return Number(text);
}

/** `no such file or directory (ENOENT)`: Node's message repeats the path, which the caller already names. */
export function reason(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  const text = /^[A-Z]+: ([^,]+)/.exec(err.message ?? '')?.[1];
  if (err.code && text) return `${text} (${err.code})`;
  return err.code ?? (error instanceof Error ? error.message : String(error));
}

/** Errors meaning "this process is gone or hidden from us": skipped, not reported. */
export const VANISHED_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ESRCH', 'EACCES']);

/** Large enough for every stat line and nearly every command line; kept, so reads allocate nothing. */
const shared = Buffer.allocUnsafe(16 * 1024);
/** A socket table of 400,000 connections; a larger "file" under /proc is not one the kernel wrote. */
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * A /proc file's text, or undefined when it is gone or hidden from us (a process that exited). open, read, close
 * into one reused buffer: /proc files report size 0, so readFileSync would fstat and then read in
 * growing chunks, twice the system calls for a 300-byte stat line.
 */
export function readProcFile(file: string, vanished: ReadonlySet<string> = VANISHED_CODES): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    let buffer = shared;
    let length = 0;
    for (;;) {
      const count = readSync(fd, buffer, length, buffer.length - length, null);
      if (count === 0) break;
      length += count;
      // Long command lines and busy socket tables get a buffer of their own, dropped after the read.
      if (length === buffer.length) {
        if (buffer.length >= MAX_BYTES) throw new Error(`${file} is larger than ${MAX_BYTES / 2 ** 20} MiB`);
        const bigger = Buffer.allocUnsafe(buffer.length * 4);
        buffer.copy(bigger);
        buffer = bigger;
      }
    }
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (vanished.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
