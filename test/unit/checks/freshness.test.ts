import { describe, expect, test, beforeEach, afterEach } from '@jest/globals';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freshnessCheck } from '../../../src/checks/freshness.js';
import { makeContext } from '../ctx.js';

const HOUR = 3_600_000;
/** The checks' clock (a whole second, so file times set from it read back exactly). */
const NOW = Math.floor(Date.now() / 1000) * 1000;
const at = () => makeContext({ now: () => NOW });
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'freshness-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, ageMs: number, content = 'line\n'): Promise<void> {
  const full = path.join(dir, name);
  await writeFile(full, content);
  const when = new Date(NOW - ageMs);
  await utimes(full, when, when);
}

/** The same behaviour whether the directory is read through the thread pool or synchronously (localDir). */
describe.each([false, true])('freshness (localDir: %s)', (localDir) => {
  const check = (extra: Partial<Parameters<typeof freshnessCheck>[0]> = {}) =>
    freshnessCheck({ name: 'job_daily', dir, glob: '*.csv', maxAgeMs: 2 * HOUR, staleState: 'critical', labels: { job: 'daily' }, reportLastSuccess: true, localDir, ...extra });

  test('a fresh file: ok, with its mtime as last success and its age', async () => {
    await file('old.csv', 5 * HOUR);
    await file('new.csv', HOUR);
    await file('ignored.txt', 0);
    const result = await check().run(at());
    expect(result.state).toBe('ok');
    expect(result.message).toBe('new.csv written 1h ago');
    expect(result.labels).toEqual({ job: 'daily' });
    expect(result.values!.newest_file_age_seconds).toBe(3600);
    expect(result.values!.last_success_timestamp_seconds).toBe((NOW - HOUR) / 1000);
  });

  test('too old: the stale state, naming the limit', async () => {
    await file('new.csv', 3 * HOUR);
    const result = await check().run(at());
    expect(result.state).toBe('critical');
    expect(result.message).toBe('new.csv written 3h ago, older than 2h');
    const warning = await check({ staleState: 'warning' }).run(at());
    expect(warning.state).toBe('warning');
  });

  test('no matching file, or no directory: the stale state, and last success 0 so alerts fire', async () => {
    const none = await check().run(makeContext());
    expect(none).toMatchObject({ state: 'critical', message: `no file matching *.csv in ${dir}` });
    expect(none.values).toEqual({ last_success_timestamp_seconds: 0 });
    const gone = await check({ dir: path.join(dir, 'missing') }).run(makeContext());
    expect(gone.message).toBe(`directory ${path.join(dir, 'missing')} does not exist`);
  });

  test('an error at the end of the newest file is critical; the last clean run is remembered', async () => {
    const memory = new Map<string, unknown>();
    const errors = check({ errorPattern: /\berror\b/i });
    await file('a.csv', HOUR, 'started\nfinished ok\n');
    const clean = await errors.run(makeContext({ memory }));
    expect(clean.state).toBe('ok');
    await file('b.csv', 0, 'started\n2026-11-25T08:42:18Z\t1\terror\tIMP-398 duplicate key (iRc=-53)\n');
    const failed = await errors.run(makeContext({ memory }));
    expect(failed.state).toBe('critical');
    expect(failed.message).toContain('b.csv');
    expect(failed.message).toContain('IMP-398 duplicate key');
    expect(failed.values!.last_success_timestamp_seconds).toBe(clean.values!.last_success_timestamp_seconds);
  });

  test('module logs: the rotated file counts as the newest write', async () => {
    await file('mta.log', 30 * HOUR);
    await file('mta_2.log', HOUR);
    await file('mtachild.log', 0);
    const log = freshnessCheck({ name: 'log', dir, glob: 'mta{,_2}.log', maxAgeMs: 25 * HOUR, staleState: 'warning', localDir });
    const result = await log.run(at());
    expect(result.message).toBe('mta_2.log written 1h ago');
    // A log is not a job: it must not feed campaign_job_last_success_timestamp_seconds.
    expect(Object.keys(result.values!)).toEqual(['newest_file_age_seconds']);
  });

  test('bad options fail when the check is built', () => {
    expect(() => check({ dir: 'relative' })).toThrow('dir must be an absolute path');
    expect(() => check({ maxAgeMs: 0 })).toThrow('maxAgeMs must be positive');
  });
});

describe('freshness: localDir reads without the thread pool', () => {
  // Each thread-pool round trip wakes the daemon; a local directory is answered before the event loop turns.
  test.each([
    [true, false],
    [false, true],
  ])('localDir %s: an immediate queued before the run has fired when it ends: %s', async (localDir, fired) => {
    await file('mta.log', HOUR);
    const log = freshnessCheck({ name: 'log', dir, glob: 'mta{,_2}.log', maxAgeMs: 25 * HOUR, staleState: 'warning', localDir });
    let immediate = false;
    setImmediate(() => (immediate = true));
    const result = await log.run(at());
    expect(result.message).toBe('mta.log written 1h ago');
    expect(immediate).toBe(fired);
  });
});
