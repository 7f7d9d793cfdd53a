import { describe, expect, test } from '@jest/globals';
import { runCheck, type RunOptions } from '../../../src/core/runner.js';
import { exitCodeOf, worst } from '../../../src/core/states.js';
import { silentLogger } from '../../../src/util/logger.js';
import type { Check, CheckContext, CycleSnapshot } from '../../../src/core/contracts.js';

const snapshot: CycleSnapshot = { processes: async () => [], sockets: async () => [] };
const options = (timeoutMs = 200): RunOptions => ({ snapshot, now: Date.now, log: silentLogger, timeoutMs, memoryFor: () => new Map() });
const check = (run: Check['run'], extra: Partial<Check> = {}): Check => ({ name: 'probe', run, ...extra });

describe('runCheck', () => {
  test('passes a result through with its values and timing', async () => {
    const outcome = await runCheck(check(async () => ({ state: 'warning', message: 'slow', values: { response_seconds: 2.5 } })), options());
    expect(outcome).toMatchObject({ name: 'probe', state: 'warning', message: 'slow', values: { response_seconds: 2.5 } });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
  });

  test('a check that never settles becomes unknown and its signal is aborted', async () => {
    let aborted = false;
    const hang = check((ctx) => new Promise(() => ctx.signal.addEventListener('abort', () => (aborted = true))));
    const outcome = await runCheck(hang, options(50));
    expect(outcome.state).toBe('unknown');
    expect(outcome.message).toBe('check did not finish within 50ms (timeout)');
    expect(aborted).toBe(true);
  });

  test('the signal is made on demand: one asked for after the timeout or the end comes already aborted', async () => {
    let late: AbortSignal | undefined;
    const slow = check((ctx) => new Promise(() => setTimeout(() => (late = ctx.signal), 60)));
    await runCheck(slow, options(20));
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(late?.aborted).toBe(true);
    expect(String(late?.reason)).toBe('Error: timeout after 20ms');

    let kept: CheckContext | undefined;
    await runCheck(check(async (ctx) => ((kept = ctx), { state: 'ok', message: 'fine' })), options());
    expect(kept?.signal.aborted).toBe(true);
    expect(kept?.signal).toBe(kept?.signal);
    expect(String(kept?.signal.reason)).toBe('Error: check finished');
  });

  test('a per-check timeout overrides the module timeout', async () => {
    const outcome = await runCheck(check(() => new Promise(() => {}), { timeoutMs: 20 }), options(5000));
    expect(outcome.message).toBe('check did not finish within 20ms (timeout)');
  });

  test('a check that throws synchronously or rejects becomes unknown with the error', async () => {
    const sync = await runCheck(check(() => { throw new Error('boom\nsecond line'); }), options());
    expect(sync).toMatchObject({ state: 'unknown', message: 'check failed: boom' });
    const rejected = await runCheck(check(async () => Promise.reject(new TypeError('bad'))), options());
    expect(rejected).toMatchObject({ state: 'unknown', message: 'check failed: bad' });
  });

  test('a malformed result becomes unknown', async () => {
    const outcome = await runCheck(check(async () => ({ state: 'great', message: 1 }) as never), options());
    expect(outcome).toMatchObject({ state: 'unknown', message: 'check returned no valid result' });
  });

  test('memory survives between runs of the same check', async () => {
    const memory = new Map<string, unknown>();
    const counting = check(async (ctx) => {
      const runs = ((ctx.memory.get('runs') as number | undefined) ?? 0) + 1;
      ctx.memory.set('runs', runs);
      return { state: 'ok', message: `run ${runs}` };
    });
    await runCheck(counting, { ...options(), memoryFor: () => memory });
    expect((await runCheck(counting, { ...options(), memoryFor: () => memory })).message).toBe('run 2');
  });
});

describe('states', () => {
  test('critical outranks unknown, which outranks warning; disabled counts least', () => {
    expect(worst(['ok', 'warning', 'unknown', 'critical'])).toBe('critical');
    expect(worst(['ok', 'unknown', 'warning'])).toBe('unknown');
    expect(worst(['disabled', 'ok'])).toBe('ok');
    expect(worst([])).toBe('ok');
  });

  test('exit codes follow the Nagios convention', () => {
    expect(['ok', 'warning', 'critical', 'unknown', 'disabled'].map((state) => exitCodeOf(state as never))).toEqual([0, 1, 2, 3, 0]);
  });
});
