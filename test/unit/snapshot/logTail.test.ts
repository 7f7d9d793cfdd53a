import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { appendFile, link, mkdir, mkdtemp, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogTailState, MAX_LINE_BYTES, readAppended, type LogTailOptions, type LogTailState } from '../../../src/snapshot/logTail.js';

let dir: string;
let live: string;
let rotated: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'logtail-'));
  live = path.join(dir, 'mta.log');
  rotated = path.join(dir, 'mta_2.log');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (prefix: string, count: number): string => Array.from({ length: count }, (_, i) => `${prefix}${i}\n`).join('');

/** Successive runs over mta.log and mta_2.log with one state. */
function reader(options: Partial<LogTailOptions> = {}): { run: () => ReturnType<typeof readAppended>; state: LogTailState } {
  const state = createLogTailState();
  const opts: LogTailOptions = { files: [live, rotated], maxBytesPerRun: 1024 * 1024, firstRunTailBytes: 256 * 1024, ...options };
  return { run: () => readAppended(state, opts), state };
}

describe('first run', () => {
  test('reads the last firstRunTailBytes of the file, from the first whole line', async () => {
    await writeFile(live, 'first line, never read\nsecond\nthird\n');
    // 12 bytes from the end start inside "second": that cut line is skipped.
    const r = reader({ firstRunTailBytes: 12 });
    const read = await r.run();
    expect(read.firstRun).toBe(true);
    expect(read.lines).toEqual(['third']);
    expect(read.missing).toEqual([rotated]);
  });

  test('a start exactly at a line boundary keeps that line', async () => {
    await writeFile(live, 'aaaa\nbbbb\ncccc\n');
    expect((await reader({ firstRunTailBytes: 10 }).run()).lines).toEqual(['bbbb', 'cccc']);
  });

  test('a file smaller than the look-back is read whole; a look-back of 0 starts at the end', async () => {
    await writeFile(live, 'one\ntwo\n');
    expect((await reader().run()).lines).toEqual(['one', 'two']);
    const atEnd = reader({ firstRunTailBytes: 0 });
    expect((await atEnd.run()).lines).toEqual([]);
    await appendFile(live, 'three\n');
    expect((await atEnd.run()).lines).toEqual(['three']);
  });

  test('the rotated sibling is looked back into too, before the live file', async () => {
    await writeFile(rotated, 'old-a\nold-b\n');
    await writeFile(live, 'new-a\n');
    expect((await reader().run()).lines).toEqual(['old-a', 'old-b', 'new-a']);
  });
});

describe('later runs', () => {
  test('only what was appended', async () => {
    await writeFile(live, lines('a', 3));
    const r = reader();
    await r.run();
    await appendFile(live, lines('b', 2));
    const read = await r.run();
    expect(read.firstRun).toBe(false);
    expect(read.lines).toEqual(['b0', 'b1']);
    expect((await r.run()).lines).toEqual([]);
  });

  test('a partial last line waits for its newline', async () => {
    await writeFile(live, '');
    const r = reader();
    await r.run();
    await appendFile(live, 'whole\nhalf a li');
    expect((await r.run()).lines).toEqual(['whole']);
    expect((await r.run()).lines).toEqual([]);
    await appendFile(live, 'ne\r\nnext\n');
    expect((await r.run()).lines).toEqual(['half a line', 'next']);
  });

  test('a multi-byte character cut by the byte budget is not mangled', async () => {
    await writeFile(live, '');
    const r = reader({ maxBytesPerRun: 8 });
    await r.run();
    // 6 + 5 + 3 bytes: the first read of 8 bytes ends inside the 4-byte emoji.
    await appendFile(live, 'é€\n😀\nok\n');
    expect((await r.run()).lines).toEqual(['é€']);
    expect((await r.run()).lines).toEqual(['😀', 'ok']);
  });
});

describe('rotation and truncation', () => {
  test('rotation mid-read: the rest of the old file from _2 (same identity), then the new file from its start', async () => {
    await writeFile(live, lines('a', 2));
    const r = reader();
    expect((await r.run()).lines).toEqual(['a0', 'a1']);
    await appendFile(live, lines('late', 2));
    await rename(live, rotated);
    await writeFile(live, lines('b', 2));
    const read = await r.run();
    expect(read.lines).toEqual(['late0', 'late1', 'b0', 'b1']);
    expect(read.restarted).toEqual([]);
    // And the next rotation drops the old _2: its identity is forgotten.
    await appendFile(live, 'b2\n');
    await rm(rotated);
    await rename(live, rotated);
    await writeFile(live, 'c0\n');
    expect((await r.run()).lines).toEqual(['b2', 'c0']);
    expect(r.state.marks.size).toBe(2);
  });

  test('the unterminated last line of a rotated file is a line: nobody will finish it', async () => {
    await writeFile(live, 'a0\n');
    const r = reader();
    await r.run();
    await appendFile(live, 'cut short');
    await rename(live, rotated);
    await writeFile(live, 'b0\n');
    expect((await r.run()).lines).toEqual(['cut short', 'b0']);
  });

  test('a sibling that is the live file under a second name (rotation by link, caught halfway) is read once, as the live file', async () => {
    await writeFile(live, 'a0\n');
    const r = reader();
    await r.run();
    await appendFile(live, 'a1\nstill being writ');
    await link(live, rotated);
    expect((await r.run()).lines).toEqual(['a1']);
    await rm(live);
    await appendFile(rotated, 'ten\n');
    await writeFile(live, 'b0\n');
    expect((await r.run()).lines).toEqual(['still being written', 'b0']);
  });

  test('the live file renamed and not yet recreated: its rest is read from _2, the live file is missing', async () => {
    await writeFile(live, 'a0\n');
    const r = reader();
    await r.run();
    await appendFile(live, 'a1\n');
    await rename(live, rotated);
    const read = await r.run();
    expect(read.lines).toEqual(['a1']);
    expect(read.missing).toEqual([live]);
  });

  test('truncation (size below the offset): read again from the start', async () => {
    await writeFile(live, lines('long-line-', 10));
    const r = reader();
    await r.run();
    await truncate(live, 0);
    await appendFile(live, 'fresh\n');
    const read = await r.run();
    expect(read.lines).toEqual(['fresh']);
    expect(read.restarted).toEqual([live]);
  });

  test('rewritten in place past the old offset (same inode, other first bytes): read again from the start', async () => {
    await writeFile(live, 'x0\n');
    const r = reader();
    await r.run();
    const inode = (await stat(live)).ino;
    await writeFile(live, lines('rewritten-', 3));
    expect((await stat(live)).ino).toBe(inode);
    const read = await r.run();
    expect(read.lines).toEqual(['rewritten-0', 'rewritten-1', 'rewritten-2']);
    expect(read.restarted).toEqual([live]);
  });

  test('rewritten in place to the same size, even with its modification time set back: read again from the start', async () => {
    // A whole second, so that setting it again gives the very same nanoseconds.
    const second = new Date(2001, 0, 1);
    await writeFile(live, 'aaaa\n');
    await utimes(live, second, second);
    const r = reader();
    await r.run();
    await writeFile(live, 'bbbb\n');
    await utimes(live, second, second);
    const read = await r.run();
    expect(read.lines).toEqual(['bbbb']);
    expect(read.restarted).toEqual([live]);
    expect((await r.run()).lines).toEqual([]);
  });
});

describe('the byte budget', () => {
  test('at most maxBytesPerRun a run; the rest on the next runs, no line lost or read twice', async () => {
    await writeFile(live, '');
    const r = reader({ maxBytesPerRun: 1024 * 1024 });
    await r.run();
    const text = lines('line number ', 200_000); // 3.1 MiB
    await appendFile(live, text);
    const total = Buffer.byteLength(text);
    const seen: string[] = [];
    const reads = [];
    for (let i = 0; i < 5; i++) {
      const read = await r.run();
      reads.push({ bytes: read.bytesRead, pending: read.pendingBytes });
      seen.push(...read.lines);
    }
    // A run ending inside a line reads that line's start again on the next run: a few bytes more in all.
    expect(reads.map((x) => x.bytes).slice(0, 3)).toEqual([1024 * 1024, 1024 * 1024, 1024 * 1024]);
    expect(reads[3]!.bytes).toBeGreaterThan(total - 3 * 1024 * 1024);
    expect(reads[3]!.bytes).toBeLessThan(total - 3 * 1024 * 1024 + 100);
    expect(reads[4]!.bytes).toBe(0);
    expect(reads[0]!.pending).toBe(total - 1024 * 1024);
    expect(reads[3]!.pending).toBe(0);
    expect(seen.length).toBe(200_000);
    expect(seen[0]).toBe('line number 0');
    expect(seen.at(-1)).toBe('line number 199999');
    expect(new Set(seen).size).toBe(200_000);
  });

  test('the budget is shared: the old file is finished first, the live one continues next run', async () => {
    await writeFile(live, '');
    const r = reader({ maxBytesPerRun: 40 });
    await r.run();
    await appendFile(live, lines('old-', 6)); // 36 bytes
    await rename(live, rotated);
    await writeFile(live, lines('new-', 6));
    expect((await r.run()).lines).toEqual(['old-0', 'old-1', 'old-2', 'old-3', 'old-4', 'old-5']);
    expect((await r.run()).lines).toEqual(['new-0', 'new-1', 'new-2', 'new-3', 'new-4', 'new-5']);
  });

  test('a line longer than MAX_LINE_BYTES gives its start, the rest is skipped', async () => {
    await writeFile(live, '');
    const r = reader();
    await r.run();
    await appendFile(live, `head ${'x'.repeat(3 * MAX_LINE_BYTES)}\nnext\n`);
    const read = await r.run();
    expect(read.lines.map((l) => l.length)).toEqual([MAX_LINE_BYTES, 4]);
    expect(read.lines[0]!.startsWith('head x')).toBe(true);
  });

  test('an unterminated line longer than the budget gives its start and does not block the reading', async () => {
    await writeFile(live, '');
    const r = reader({ maxBytesPerRun: 16 });
    await r.run();
    await appendFile(live, `${'y'.repeat(40)}\nafter\n`);
    expect((await r.run()).lines).toEqual(['y'.repeat(16)]);
    const rest: string[] = [];
    for (let i = 0; i < 4; i++) rest.push(...(await r.run()).lines);
    expect(rest).toEqual(['after']);
  });
});

describe('files that cannot be read', () => {
  test('missing: listed, nothing read, no throw', async () => {
    const read = await reader().run();
    expect(read.missing).toEqual([rotated, live]);
    expect(read.unreadable).toEqual([]);
    expect(read.lines).toEqual([]);
  });

  test('a directory where the log should be: unreadable, naming it', async () => {
    await mkdir(live);
    const read = await reader().run();
    expect(read.unreadable).toEqual([{ file: live, reason: 'not a regular file' }]);
  });

  test('an open error other than ENOENT (here ENOTDIR: a file where the log directory should be) names the code', async () => {
    const notADir = path.join(dir, 'log');
    await writeFile(notADir, 'a regular file where the directory should be\n');
    const state = createLogTailState();
    const read = await readAppended(state, { files: [path.join(notADir, 'mta.log')], maxBytesPerRun: 4096, firstRunTailBytes: 4096 });
    expect(read.unreadable).toEqual([{ file: path.join(notADir, 'mta.log'), reason: 'ENOTDIR' }]);
  });

  test('an aborted signal stops before the next file and keeps the first run a first run', async () => {
    await writeFile(live, 'a\n');
    const controller = new AbortController();
    controller.abort();
    const state = createLogTailState();
    const read = await readAppended(state, { files: [live], maxBytesPerRun: 4096, firstRunTailBytes: 4096 }, controller.signal);
    expect(read.lines).toEqual([]);
    expect(state.started).toBe(false);
  });
});
