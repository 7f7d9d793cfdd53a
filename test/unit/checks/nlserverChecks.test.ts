import { describe, expect, test } from '@jest/globals';
import { memoryCheck } from '../../../src/checks/memory.js';
import { monitorMissingCheck } from '../../../src/checks/monitorMissing.js';
import { nlserverCommandCheck } from '../../../src/checks/nlserverCommand.js';
import { parseMonitorMissing } from '../../../src/clients/nlserver/monitorMissing.js';
import { parsePdump } from '../../../src/clients/nlserver/pdump.js';
import { offView, type NlserverView } from '../../../src/clients/nlserver/view.js';
import type { ProcessInfo } from '../../../src/core/contracts.js';
import { makeContext } from '../ctx.js';

const BANNER = 'Application server for Adobe Campaign Classic (7.3 24.1 build 9356@abc1234) of 01/03/2024';

function view(pdump: string, missing = BANNER, failures: { pdump?: string; missing?: string } = {}): NlserverView {
  return {
    enabled: true,
    pdump: { ok: failures.pdump === undefined, ...(failures.pdump ? { error: failures.pdump } : {}), parsed: parsePdump(pdump), durationMs: 40 },
    missing: { ok: failures.missing === undefined, ...(failures.missing ? { error: failures.missing } : {}), parsed: parseMonitorMissing(missing), durationMs: 35 },
  };
}

function context(nlserver: NlserverView | undefined, processes: ProcessInfo[] = []) {
  const ctx = makeContext();
  return { ...ctx, snapshot: { processes: async () => processes, sockets: async () => [], ...(nlserver ? { nlserver: async () => nlserver } : {}) } };
}

const mtaProcess: ProcessInfo = {
  pid: 4242,
  ppid: 1,
  argv: ['/usr/local/neolane/nl6/bin/nlserver', 'mta', '-tracefile:mta@prod', '-instance:prod', '-detach'],
  comm: 'nlserver',
  startedAtMs: Date.now() - 60_000,
  rssBytes: 300 * 1024 * 1024,
  stateLetter: 'S',
};

describe('monitor_missing', () => {
  const check = monitorMissingCheck({ module: 'mta', instance: 'prod' });

  test('listed by monitor -missing: critical, whatever the process table says', async () => {
    const result = await check.run(context(view(`${BANNER}\nmta@prod (1) - 1 MB`, `${BANNER}\nmta@prod\ninMail@prod\n`), [mtaProcess]));
    expect(result.state).toBe('critical');
    expect(result.message).toContain('mta@prod listed by nlserver monitor -missing');
  });

  test('another instance missing is not this one', async () => {
    const result = await check.run(context(view(BANNER, `${BANNER}\nmta@staging\n`)));
    expect(result).toMatchObject({ state: 'ok', message: 'mta@prod not listed by nlserver monitor -missing' });
  });

  test('machine modules match web@default and a bare name', async () => {
    const web = monitorMissingCheck({ module: 'web' });
    expect((await web.run(context(view(BANNER, `${BANNER}\nweb@default\n`)))).state).toBe('critical');
    expect((await web.run(context(view(BANNER, `${BANNER}\nweb@prod\n`)))).state).toBe('ok');
  });

  test('inMail and inmail are the same module', async () => {
    const inMail = monitorMissingCheck({ module: 'inMail', instance: 'prod' });
    expect((await inMail.run(context(view(BANNER, `${BANNER}\ninmail@prod\n`)))).state).toBe('critical');
  });

  test('a view read before the module started again does not outvote the process table', async () => {
    const readAt = mtaProcess.startedAtMs - 30_000;
    const stale = { ...view(BANNER, `${BANNER}\nmta@prod\n`), readAt };
    const result = await check.run(context(stale, [mtaProcess]));
    expect(result).toMatchObject({ state: 'unknown', noEvidence: true });
    expect(result.message).toMatch(/^not looked: nlserver monitor -missing listed mta@prod .+ ago, but pid 4242 started since$/);
    // Read after the process started: Campaign's word stands (the process may be a stray one).
    const fresh = { ...stale, readAt: mtaProcess.startedAtMs + 1_000 };
    expect((await check.run(context(fresh, [mtaProcess]))).state).toBe('critical');
    // A process of another instance started since proves nothing about this one.
    const other = { ...mtaProcess, pid: 4343, argv: ['/usr/local/neolane/nl6/bin/nlserver', 'mta', '-tracefile:mta@staging', '-instance:staging'] };
    expect((await check.run(context(stale, [other]))).state).toBe('critical');
  });

  test('a failing command or no integration: no verdict, never ok, saying why', async () => {
    const failed = await check.run(context(view(BANNER, '', { missing: 'nlserver timed out after 5000 ms' })));
    expect(failed).toEqual({ state: 'unknown', noEvidence: true, message: 'not looked: nlserver monitor -missing failed (nlserver timed out after 5000 ms)' });
    const off = await check.run(context(offView('no executable nlserver at /x/bin/nlserver')));
    expect(off).toEqual({ state: 'unknown', noEvidence: true, message: 'not looked: no executable nlserver at /x/bin/nlserver' });
    expect(await check.run(context(undefined))).toEqual({ state: 'unknown', noEvidence: true, message: 'not looked: nlserver integration off' });
  });
});

describe('memory', () => {
  const check = memoryCheck({ module: 'mta', instance: 'prod', warningMb: 1600, alertMb: 1800 });
  const pdumpWith = (amount: string) => view(`${BANNER}\nmta@prod (4242) - ${amount}\nmta@other (4243) - 9000 MB\n`);

  test.each([
    ['15.6 MB', 'ok', Math.round(15.6 * 1024 * 1024)],
    ['1600 Mo', 'warning', 1600 * 1024 * 1024],
    ['1799.9 Mb', 'warning', Math.round(1799.9 * 1024 * 1024)],
    ['1800 MB', 'critical', 1800 * 1024 * 1024],
  ])('pdump says %s: %s', async (amount, state, bytes) => {
    const result = await check.run(context(pdumpWith(amount)));
    expect(result.state).toBe(state);
    expect(result.values).toEqual({ memory_bytes: bytes });
    if (state !== 'ok') expect(result.message).toContain('warning at 1600 MB, alert at 1800 MB');
  });

  test('thresholds are the ones given (serverConf overrides)', async () => {
    const strict = memoryCheck({ module: 'mta', instance: 'prod', warningMb: 10, alertMb: 20 });
    expect((await strict.run(context(pdumpWith('15.6 MB')))).state).toBe('warning');
  });

  test('not listed by pdump: no verdict (never ok), 0 bytes; the process check judges absence', async () => {
    expect(await check.run(context(view(`${BANNER}\nNo tasks\n`)))).toEqual({
      state: 'unknown',
      noEvidence: true,
      message: 'not looked: mta@prod not listed by nlserver pdump',
      values: { memory_bytes: 0 },
    });
  });

  test('without pdump and without a process: no verdict either', async () => {
    const result = await check.run(context(view('', BANNER, { pdump: 'nlserver exited with code 1' }), []));
    expect(result).toMatchObject({ noEvidence: true, message: 'not looked: no mta@prod process to measure (nlserver pdump failed (nlserver exited with code 1))' });
  });

  test('without pdump the resident size from /proc stands in, and the message says why', async () => {
    const result = await check.run(context(view('', BANNER, { pdump: 'nlserver exited with code 1' }), [mtaProcess]));
    expect(result.state).toBe('ok');
    expect(result.values).toEqual({ memory_bytes: 300 * 1024 * 1024 });
    expect(result.message).toBe('mta@prod resident 300.0 MiB from /proc (nlserver pdump failed (nlserver exited with code 1))');
  });
});

describe('the nlserver row', () => {
  test('ok: the count and the time taken, nlserver_up 1 labelled by command', async () => {
    const result = await nlserverCommandCheck('pdump').run(context(view(`${BANNER}\nweb@default (1) - 1 MB\nwatchdog (2) - 2 MB\n`)));
    expect(result).toEqual({ state: 'ok', message: 'nlserver pdump: 2 tasks in 40ms', values: { nlserver_up: 1 }, labels: { command: 'pdump' } });
  });

  test('unexpected lines are a parse warning that names one', async () => {
    const result = await nlserverCommandCheck('monitor_missing').run(context(view(BANNER, `${BANNER}\n??? what\n`)));
    expect(result.state).toBe('warning');
    expect(result.message).toContain('1 unexpected line(s), e.g. "??? what"');
    expect(result.values).toEqual({ nlserver_up: 1 });
  });

  test('a failed command is unknown and nlserver_up 0', async () => {
    const result = await nlserverCommandCheck('pdump').run(context(view('', BANNER, { pdump: 'nlserver timed out after 5000 ms' })));
    expect(result).toMatchObject({ state: 'unknown', values: { nlserver_up: 0 } });
    expect(result.message).toBe('nlserver pdump failed: nlserver timed out after 5000 ms; modules are judged from the process table');
  });
});
