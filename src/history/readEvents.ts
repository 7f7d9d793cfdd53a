import { closeSync, openSync, readSync } from 'node:fs';
import type { HistoryEvent } from './event.js';
import { parseEventLine } from './eventFile.js';

/** Read in pieces of this size: a large foreign file never sits in memory whole. */
const READ_CHUNK = 1 << 20;

export interface ReadResult {
  events: HistoryEvent[];
  /** Complete lines that are not events. */
  invalid: number;
  /** Byte offset of a torn last line (no newline), when there is one. */
  tornAt?: number;
  error?: unknown;
}

/** events.jsonl read in pieces, keeping its newest `keep` events (at least); a missing file is empty. */
export function readEventFile(file: string, keep: number): ReadResult {
  const result: ReadResult = { events: [], invalid: 0 };
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') result.error = error;
    return result;
  }
  try {
    const buffer = Buffer.alloc(READ_CHUNK);
    let pending = Buffer.alloc(0);
    let offset = 0;
    // Inside a line longer than any event (a binary file without newlines): skipped up to its end.
    let skipping = false;
    for (;;) {
      const count = readSync(fd, buffer, 0, READ_CHUNK, null);
      if (count === 0) break;
      const data = Buffer.concat([pending, buffer.subarray(0, count)]);
      let start = 0;
      for (let newline = data.indexOf(10, start); newline !== -1; newline = data.indexOf(10, start)) {
        const line = skipping ? '' : data.toString('utf8', start, newline);
        start = newline + 1;
        skipping = false;
        if (line.trim() === '') continue;
        const event = parseEventLine(line);
        if (event) result.events.push(event);
        else result.invalid += 1;
      }
      offset += start;
      pending = Buffer.from(data.subarray(start));
      if (pending.length > READ_CHUNK) {
        if (!skipping) result.invalid += 1;
        skipping = true;
        offset += pending.length;
        pending = Buffer.alloc(0);
      }
      // A runaway foreign file must not fill memory: only the newest events are kept anyway.
      if (result.events.length > 2 * keep) result.events = result.events.slice(-keep);
    }
    if (pending.length > 0) result.tornAt = offset;
  } catch (error) {
    result.error = error;
  } finally {
    closeSync(fd);
  }
  return result;
}
