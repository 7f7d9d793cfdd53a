import { closeSync, openSync, readSync } from 'node:fs';

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
