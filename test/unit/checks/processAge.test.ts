import { describe, expect, test } from '@jest/globals';
import { processAgeCheck } from '../../../src/checks/processAge.js';
import { processCountCheck } from '../../../src/checks/processCount.js';
import type { ProcessInfo } from '../../../src/core/contracts.js';
import { makeContext } from '../ctx.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;
const proc = (pid: number, argv: string[], ageMs: number, stateLetter = 'S'): ProcessInfo => ({
  pid,
  ppid: 1,
  argv: ['/usr/local/neolane/nl6/bin/nlserver', ...argv],
  comm: 'nlserver',
  startedAtMs: NOW - ageMs,
  rssBytes: 1,
  stateLetter,
});
const context = (processes: ProcessInfo[]) => ({ ...makeContext({ now: () => NOW }), snapshot: { processes: async () => processes, sockets: async () => [] } });

describe('process age (processes too old)', () => {
  const check = processAgeCheck({ module: 'wfserver', instance: 'prod', maxAgeMs: DAY + 300_000 });

  test('restarted this morning: ok', async () => {
    const result = await check.run(context([proc(10, ['wfserver', '-tracefile:wfserver@prod', '-instance:prod'], 3 * 3_600_000)]));
    expect(result).toEqual({ state: 'ok', message: 'wfserver@prod started 3h ago' });
  });

  test('older than a day and the grace: warning naming the pid', async () => {
    const result = await check.run(
      context([
        proc(10, ['wfserver', '-instance:prod'], 2 * DAY),
        proc(11, ['wfserver', '-instance:staging'], 9 * DAY),
      ]),
    );
    expect(result.state).toBe('warning');
    expect(result.message).toContain('wfserver@prod (pid 10) has run for 2d');
    expect(result.message).toContain('processes too old');
  });

  test('no process: nothing to judge here (the process check says it is missing)', async () => {
    expect((await check.run(context([])))).toEqual({ state: 'ok', message: 'no wfserver@prod process to age' });
  });
});

describe('process count (mtachild)', () => {
  const check = processCountCheck({ name: 'children', module: 'mtachild', instance: 'prod', value: 'mta_children' });

  test('zero while idle is counted, not judged: no verdict, never ok', async () => {
    expect(await check.run(context([]))).toEqual({ state: 'unknown', noEvidence: true, message: '0 mtachild processes for prod (counted, not judged)', values: { mta_children: 0 } });
  });

  test('counts this instance only, zombies excluded', async () => {
    const result = await check.run(
      context([
        proc(20, ['mtachild', '-tracefile:mtachild@prod', '-instance:prod', '-detach'], 1000),
        proc(21, ['mtachild', '-instance:prod'], 1000),
        proc(22, ['mtachild', '-instance:prod'], 1000, 'Z'),
        proc(23, ['mtachild', '-instance:staging'], 1000),
        proc(24, ['mta', '-instance:prod'], 1000),
      ]),
    );
    expect(result.values).toEqual({ mta_children: 2 });
  });
});
