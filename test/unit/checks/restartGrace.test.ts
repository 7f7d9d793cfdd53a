import { describe, expect, test } from '@jest/globals';
import { inWindow, parseTimeOfDay, withRestartGrace } from '../../../src/checks/restartGrace.js';
import type { Check, CheckResult } from '../../../src/core/contracts.js';
import { makeContext } from '../ctx.js';

const MINUTE = 60_000;
/** Today at hh:mm:ss server local time. */
const at = (hh: number, mm: number, ss = 0): number => new Date(2026, 10, 25, hh, mm, ss).getTime();
const fixed = (result: CheckResult): Check => ({ name: 'process', run: async () => result });

describe('daily restart grace', () => {
  const missing = fixed({ state: 'critical', message: "no 'nlserver mta ... -instance:prod' process found" });
  const [graced] = withRestartGrace([missing], { restartTime: '06:00:00', graceMs: 5 * MINUTE });

  test.each([
    [at(6, 0, 0), 'warning'],
    [at(6, 2, 30), 'warning'],
    [at(6, 5, 0), 'warning'],
    [at(6, 5, 1), 'critical'],
    [at(5, 59, 59), 'critical'],
    [at(18, 0, 0), 'critical'],
  ])('at %p a missing process is %s', async (now, state) => {
    const result = await graced!.run(makeContext({ now: () => now }));
    expect(result.state).toBe(state);
    if (state === 'warning') expect(result.message).toContain('(daily restart at 06:00:00, grace 5m: warning, not critical)');
  });

  test('other states pass through untouched', async () => {
    const [ok] = withRestartGrace([fixed({ state: 'ok', message: 'running' })], { restartTime: '06:00', graceMs: 5 * MINUTE });
    expect(await ok!.run(makeContext({ now: () => at(6, 1) }))).toEqual({ state: 'ok', message: 'running' });
  });

  test('serverConf processRestartTime moves the window; an invalid one falls back to 06:00:00', async () => {
    const [late] = withRestartGrace([missing], { restartTime: '23:58:00', graceMs: 5 * MINUTE });
    expect((await late!.run(makeContext({ now: () => at(0, 2) }))).state).toBe('warning');
    expect((await late!.run(makeContext({ now: () => at(6, 1) }))).state).toBe('critical');
    const [invalid] = withRestartGrace([missing], { restartTime: '25:00', graceMs: 5 * MINUTE });
    expect((await invalid!.run(makeContext({ now: () => at(6, 1) }))).state).toBe('warning');
  });

  test('window arithmetic across midnight, and time parsing', () => {
    expect(inWindow(at(0, 1), parseTimeOfDay('23:59:00')!, 5 * MINUTE)).toBe(true);
    expect(inWindow(at(23, 58), parseTimeOfDay('23:59:00')!, 5 * MINUTE)).toBe(false);
    expect(parseTimeOfDay('06:00')).toBe(6 * 60 * MINUTE);
    expect(parseTimeOfDay('6:00:30')).toBe(6 * 60 * MINUTE + 30_000);
    expect(parseTimeOfDay('06:60:00')).toBeUndefined();
    expect(parseTimeOfDay('six')).toBeUndefined();
  });
});
