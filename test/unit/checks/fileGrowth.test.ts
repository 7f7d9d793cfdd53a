import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { appendFile, mkdtemp, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileGrowthCheck } from '../../../src/checks/fileGrowth.js';
import { makeContext } from '../ctx.js';

const MINUTE = 60_000;
/** A fixed reference time, so ages come out exact. */
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'growth-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a file and sets its mtime, so its age is known exactly. */
async function file(name: string, bytes: number, mtimeMs: number): Promise<void> {
  await writeFile(path.join(dir, name), 'x'.repeat(bytes));
  await setMtime(name, mtimeMs);
}

async function setMtime(name: string, mtimeMs: number): Promise<void> {
  await utimes(path.join(dir, name), mtimeMs / 1000, mtimeMs / 1000);
}

function check() {
  return fileGrowthCheck({ name: 'mta_spool', dir, glob: '0x*.log', warnAfterMs: 30 * MINUTE, criticalAfterMs: 120 * MINUTE });
}

/** Successive runs of one check: shared memory, a clock the test moves. */
function runs() {
  const memory = new Map<string, unknown>();
  const c = check();
  return (atMs: number) => c.run(makeContext({ now: () => atMs, memory }));
}

describe('fileGrowthCheck', () => {
  test('a file that just grew is ok', async () => {
    await file('0x0000000000001000.log', 3277, T0 - 12_000);
    expect(await runs()(T0)).toEqual({
      state: 'ok',
      message: 'newest 0x0000000000001000.log grew 12s ago (3.2 KiB)',
      values: { newest_file_bytes: 3277, seconds_since_growth: 12 },
    });
  });

  test('a file growing on the real clock is ok', async () => {
    await writeFile(path.join(dir, '0x01.log'), 'start');
    await appendFile(path.join(dir, '0x01.log'), ' more');
    const result = await check().run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.values?.newest_file_bytes).toBe(10);
  });

  test('a stalled file turns warning, then critical', async () => {
    await file('0x01.log', 100, T0);
    const run = runs();
    expect((await run(T0 + 10 * MINUTE)).state).toBe('ok');
    expect(await run(T0 + 62 * MINUTE)).toEqual({
      state: 'warning',
      message: 'no growth of 0x01.log for 1h 2m (warning after 30m, critical after 2h)',
      values: { newest_file_bytes: 100, seconds_since_growth: 3720 },
    });
    expect((await run(T0 + 121 * MINUTE)).state).toBe('critical');
  });

  test('a stalled file is reported from the first run, not after a grace period', async () => {
    await file('0x01.log', 100, T0 - 3 * 60 * MINUTE);
    expect((await runs()(T0)).state).toBe('critical');
  });

  test('the newest file is chosen by mtime, whatever the name order', async () => {
    await file('0x02.log', 1, T0 - 90 * MINUTE);
    await file('0x01.log', 2, T0 - 1 * MINUTE);
    expect((await runs()(T0)).message).toBe('newest 0x01.log grew 1m ago (2 B)');
  });

  test('equal mtimes go to the greater name', async () => {
    await file('0x01.log', 1, T0 - MINUTE);
    await file('0x02.log', 2, T0 - MINUTE);
    expect((await runs()(T0)).message).toContain('newest 0x02.log');
  });

  test('files not matching the glob are ignored, however new', async () => {
    await file('0x01.log', 1, T0 - 90 * MINUTE);
    await file('other.log', 1, T0);
    await file('0x02.tmp', 1, T0);
    expect((await runs()(T0)).message).toBe('no growth of 0x01.log for 1h 30m (warning after 30m, critical after 2h)');
  });

  test('growth seen by the check counts even when the mtime stays old', async () => {
    await file('0x01.log', 100, T0 - 90 * MINUTE);
    const run = runs();
    expect((await run(T0)).state).toBe('warning');
    await appendFile(path.join(dir, '0x01.log'), 'more');
    // A copy tool or skewed clock leaves an old mtime: the size change alone is the activity.
    await setMtime('0x01.log', T0 - 90 * MINUTE);
    expect(await run(T0 + MINUTE)).toEqual({
      state: 'ok',
      message: 'newest 0x01.log grew 0ms ago (104 B)',
      values: { newest_file_bytes: 104, seconds_since_growth: 0 },
    });
    expect((await run(T0 + 41 * MINUTE)).message).toBe('no growth of 0x01.log for 40m (warning after 30m, critical after 2h)');
  });

  test('rotation to a new newest file is activity', async () => {
    await file('0x01.log', 100, T0 - 90 * MINUTE);
    const run = runs();
    expect((await run(T0)).state).toBe('warning');
    await file('0x02.log', 0, T0 - 89 * MINUTE);
    const result = await run(T0 + MINUTE);
    expect(result.state).toBe('ok');
    expect(result.message).toBe('newest 0x02.log grew 0ms ago (0 B)');
  });

  test('truncation is activity, not a failure', async () => {
    await file('0x01.log', 5000, T0 - 5 * MINUTE);
    const run = runs();
    expect((await run(T0)).state).toBe('ok');
    await truncate(path.join(dir, '0x01.log'), 0);
    await setMtime('0x01.log', T0 - 5 * MINUTE);
    expect(await run(T0 + MINUTE)).toEqual({
      state: 'ok',
      message: 'newest 0x01.log grew 0ms ago (0 B)',
      values: { newest_file_bytes: 0, seconds_since_growth: 0 },
    });
  });

  test('purge of older files changes nothing', async () => {
    await file('0x01.log', 1, T0 - 300 * MINUTE);
    await file('0x02.log', 1, T0 - 200 * MINUTE);
    await file('0x03.log', 7, T0 - 2 * MINUTE);
    const run = runs();
    expect((await run(T0)).message).toBe('newest 0x03.log grew 2m ago (7 B)');
    await rm(path.join(dir, '0x01.log'));
    await rm(path.join(dir, '0x02.log'));
    expect((await run(T0 + MINUTE)).message).toBe('newest 0x03.log grew 3m ago (7 B)');
  });

  test('when the newest file is purged, the older one resurfacing is not activity', async () => {
    await file('0x01.log', 1, T0 - 200 * MINUTE);
    await file('0x02.log', 1, T0 - 10 * MINUTE);
    const run = runs();
    expect((await run(T0)).state).toBe('ok');
    await rm(path.join(dir, '0x02.log'));
    expect((await run(T0 + MINUTE)).message).toBe('no growth of 0x01.log for 3h 21m (warning after 30m, critical after 2h)');
  });

  test('an mtime in the future (clock skew) is age 0, not negative', async () => {
    await file('0x01.log', 1, T0 + 10 * MINUTE);
    expect((await runs()(T0)).values).toEqual({ newest_file_bytes: 1, seconds_since_growth: 0 });
  });

  test('a clock set back does not hide a stall: times seen before the jump count as now', async () => {
    await file('0x01.log', 100, T0 - MINUTE);
    const run = runs();
    expect((await run(T0)).state).toBe('ok');
    await appendFile(path.join(dir, '0x01.log'), 'more');
    await setMtime('0x01.log', T0);
    // Seen growing at T0 + 2h, then the clock is set back two hours and the file stalls.
    expect((await run(T0 + 120 * MINUTE)).state).toBe('ok');
    expect((await run(T0)).message).toBe('newest 0x01.log grew 0ms ago (104 B)');
    // 40 minutes later on the new clock: 40 minutes without growth, not "in the future".
    expect((await run(T0 + 40 * MINUTE)).message).toBe('no growth of 0x01.log for 40m (warning after 30m, critical after 2h)');
  });

  test('a clock set back before any file appeared: the wait counts from now, not from the future', async () => {
    const run = runs();
    expect((await run(T0 + 120 * MINUTE)).state).toBe('ok');
    expect((await run(T0)).state).toBe('ok');
    expect((await run(T0 + 31 * MINUTE)).message).toBe(`no file matching 0x*.log in ${dir} for 31m (warning after 30m, critical after 2h)`);
  });

  test('a missing directory is critical', async () => {
    const missing = path.join(dir, 'nope');
    const result = await fileGrowthCheck({ name: 'x', dir: missing, glob: '*.log', warnAfterMs: 1, criticalAfterMs: 2 }).run(makeContext());
    expect(result).toEqual({ state: 'critical', message: `directory ${missing} does not exist` });
  });

  test('a directory that cannot be read is critical, naming the error code', async () => {
    await file('plain', 1, T0);
    const notADir = path.join(dir, 'plain');
    const result = await fileGrowthCheck({ name: 'x', dir: notADir, glob: '*.log', warnAfterMs: 1, criticalAfterMs: 2 }).run(makeContext());
    expect(result).toEqual({ state: 'critical', message: `cannot read directory ${notADir}: ENOTDIR` });
  });

  test('no matching file: ok at first, then ages from the first run', async () => {
    await file('readme.txt', 1, T0);
    const run = runs();
    expect(await run(T0)).toEqual({
      state: 'ok',
      message: `no file matching 0x*.log in ${dir} (watching for 0ms)`,
      values: { newest_file_bytes: 0, seconds_since_growth: 0 },
    });
    expect(await run(T0 + 45 * MINUTE)).toEqual({
      state: 'warning',
      message: `no file matching 0x*.log in ${dir} for 45m (warning after 30m, critical after 2h)`,
      values: { newest_file_bytes: 0, seconds_since_growth: 2700 },
    });
    expect((await run(T0 + 3 * 60 * MINUTE)).state).toBe('critical');
  });

  test('an aborted run stops instead of reading on', async () => {
    await file('0x01.log', 1, T0);
    const ctx = makeContext();
    ctx.abort();
    await expect(check().run(ctx)).rejects.toThrow(/aborted/i);
  });

  test('construction rejects a relative dir, a path in the glob and inverted thresholds', () => {
    const base = { name: 'x', dir, glob: '*.log', warnAfterMs: 10, criticalAfterMs: 20 };
    expect(() => fileGrowthCheck({ ...base, dir: 'var/log' })).toThrow('dir must be an absolute path, got "var/log"');
    expect(() => fileGrowthCheck({ ...base, glob: 'sub/*.log' })).toThrow("glob must be a file name pattern without '/'");
    expect(() => fileGrowthCheck({ ...base, warnAfterMs: 30 })).toThrow('need 0 < warnAfterMs <= criticalAfterMs, got warnAfterMs=30, criticalAfterMs=20');
  });
});
