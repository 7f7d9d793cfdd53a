import { describe, expect, test } from '@jest/globals';
import { AgentMetrics } from '../../../src/metrics/agentMetrics.js';
import { Restarter } from '../../../src/restarts/restarter.js';
import { offView } from '../../../src/clients/nlserver/view.js';
import { BUSY_WHO, Harness, MINUTE, T0, commandResult, configWith, recordingLogger, row, status, upView, type LogEntry } from './harness.js';

const ON = { restart: true };

describe('automatic restart rules', () => {
  test('off by default: no restarts key, or restart false, never acts nor pre-creates series', async () => {
    for (const modules of [{}, { mta: { restarts: {} } }, { mta: { restarts: { restart: false } } }]) {
      const h = new Harness(modules);
      h.restarter.sync([row()]);
      expect(await h.series(['critical', 'critical', 'critical', 'critical', 'critical'])).toEqual(['-', '-', '-', '-', '-']);
      expect(h.calls).toEqual([]);
      expect(h.rowsSeen).toEqual([[]]);
    }
  });

  test('afterFailures consecutive critical runs: start when the process is absent, after pdump -who', async () => {
    const h = new Harness({ mta: { restarts: ON } });
    expect(await h.series(['critical', 'critical', 'critical'])).toEqual(['-', '-', 'start:ok']);
    expect(h.calls).toEqual([
      ['pdump', '-who'],
      ['start', 'mta@prod'],
    ]);
    expect(h.counted).toEqual([{ module: 'mta', instance: 'prod', action: 'start', result: 'ok' }]);
    expect(h.logs.find((entry) => entry.msg === 'running nlserver start mta@prod')).toMatchObject({ level: 'warn', fields: { module: 'mta', instance: 'prod', action: 'start' } });
    expect(h.logs.find((entry) => entry.msg === 'nlserver start mta@prod succeeded')?.fields).toMatchObject({ result: 'ok' });
  });

  test('restart when the process is there but the row is critical; afterFailures is configurable', async () => {
    const h = new Harness({ wfserver: { restarts: { ...ON, afterFailures: 2 } } });
    const target = row('wfserver');
    expect(await h.series(['critical', 'critical'], { absent: false, target })).toEqual(['-', 'restart:ok']);
    // wfserver does not check sessions: no pdump -who.
    expect(h.calls).toEqual([['restart', 'wfserver@prod']]);
  });

  test('machine modules are named without an instance: nlserver restart web', async () => {
    const h = new Harness({ web: { restarts: { ...ON, afterFailures: 1 } } });
    expect(await h.series(['critical'], { absent: false, target: row('web', 'default', 'machine') })).toEqual(['restart:ok']);
    expect(h.actions()).toEqual(['restart web']);
  });

  test('ok and warning reset the count; unknown neither counts nor resets', async () => {
    const h = new Harness({ mta: { restarts: ON } });
    expect(await h.series(['critical', 'critical', 'ok', 'critical', 'critical', 'warning', 'critical', 'critical'])).toEqual(['-', '-', '-', '-', '-', '-', '-', '-']);
    expect(await h.series(['unknown', 'critical'])).toEqual(['-', 'start:ok']);
    expect(h.actions()).toEqual(['start mta@prod']);
  });

  test('grace: critical runs right after an action do not count, and the count starts again from 0', async () => {
    const h = new Harness({ mta: { restarts: { ...ON, grace: '5m' } } });
    expect(await h.series(['critical', 'critical', 'critical'])).toEqual(['-', '-', 'start:ok']);
    // Acted at T0+60s: the next 9 runs (T0+90s to T0+330s) fall inside the 5 min grace.
    expect(await h.series(Array(9).fill('critical'))).toEqual(Array(9).fill('-'));
    expect(h.logs.filter((entry) => entry.msg.startsWith('critical within the grace period')).length).toBe(9);
    // Out of grace (T0+360s on): afterFailures (3) more are needed, not one.
    expect(await h.series(['critical', 'critical', 'critical'])).toEqual(['-', '-', 'start:ok']);
    expect(h.actions()).toEqual(['start mta@prod', 'start mta@prod']);
  });

  test('grace is measured from the end of the action (a slow start does not eat it)', async () => {
    const h = new Harness({ mta: { restarts: { ...ON, afterFailures: 1, grace: '1m', skipWhenBusy: false } } });
    const run = h.restarter['options'].run!;
    // The start takes 2 minutes of the injected clock.
    (h.restarter['options'] as { run: typeof run }).run = async (args, timeoutMs) => {
      h.now += 2 * MINUTE;
      return run(args, timeoutMs);
    };
    expect(await h.observe('critical', { stepMs: 0 })).toMatchObject({ result: 'ok' });
    expect(await h.observe('critical', { stepMs: 0 })).toBeUndefined();
    h.now += MINUTE;
    expect(await h.observe('critical')).toMatchObject({ result: 'ok' });
  });

  test('restart loop: at most maxActions per window, then suppressed (gauge 1, one warn) until the window passes', async () => {
    const h = new Harness({ mta: { restarts: { ...ON, afterFailures: 2, maxActions: 3, window: '1h', grace: '5m' } } });
    // A module that dies again after every start: critical every run, 1 minute apart.
    const first = await h.series(Array(30).fill('critical'), { stepMs: MINUTE });
    const acted = first.map((result, index) => (result === '-' ? undefined : `${index}:${result}`)).filter(Boolean);
    // Runs 0-1 → start at 1; grace 5 min (runs 2-5 not counted); 6, 7 → start at 7; 12, 13 → start at 13;
    // 18, 19 → due again, but 3 actions within the hour: suppressed, and at every run after.
    expect(acted.slice(0, 4)).toEqual(['1:start:ok', '7:start:ok', '13:start:ok', '19:start:suppressed']);
    expect(acted.slice(4).every((entry) => entry!.endsWith(':start:suppressed'))).toBe(true);
    expect(h.actions()).toHaveLength(3);
    expect(h.suppressed.get('mta@prod')).toBe(true);
    const warns = h.logs.filter((entry) => entry.level === 'warn' && entry.msg.startsWith('restarts suppressed'));
    expect(warns).toHaveLength(1);
    expect(warns[0]!.fields).toMatchObject({ module: 'mta', instance: 'prod', result: 'suppressed', maxActions: 3, window: '1h' });

    // The first action (run 1, T0+1min) leaves the window at T0+61min: the gauge goes back to 0 and it acts again.
    h.now = T0 + 61 * MINUTE;
    expect(await h.observe('critical')).toMatchObject({ action: 'start', result: 'ok' });
    expect(h.suppressed.get('mta@prod')).toBe(false);
    expect(h.logs.some((entry) => entry.msg === 'restart window passed: automatic actions resume')).toBe(true);
    expect(h.actions()).toHaveLength(4);
    // Only one slot was free (actions at 7m and 13m are still in the window): right after this grace the
    // next due action is suppressed again.
    h.now = T0 + 66 * MINUTE;
    expect(await h.series(['critical', 'critical'])).toEqual(['-', 'start:suppressed']);
  });

  test('over two hours of a module that never stays up: never more than maxActions in any window', async () => {
    const h = new Harness({ mta: { restarts: { ...ON, afterFailures: 1, maxActions: 3, window: '1h', grace: '1m', skipWhenBusy: false } } });
    const times: number[] = [];
    for (let i = 0; i < 240; i++) {
      const event = await h.observe('critical');
      if (event?.result === 'ok') times.push(h.now - 30_000);
    }
    expect(times.length).toBeGreaterThan(3);
    for (const at of times) expect(times.filter((other) => other >= at && other < at + 60 * MINUTE).length).toBeLessThanOrEqual(3);
  });

  test('dry run: logs what would run, counts dry_run, runs nothing, and still applies grace and window', async () => {
    const h = new Harness({ mta: { restarts: { ...ON, dryRun: true, maxActions: 1 } } });
    expect(await h.series(['critical', 'critical', 'critical'])).toEqual(['-', '-', 'start:dry_run']);
    expect(h.actions()).toEqual([]);
    expect(h.calls).toEqual([['pdump', '-who']]);
    const line = h.logs.find((entry) => entry.fields.result === 'dry_run');
    expect(line).toMatchObject({ level: 'info', msg: 'dry run: would run nlserver start mta@prod' });
    expect(h.counted).toEqual([{ module: 'mta', instance: 'prod', action: 'start', result: 'dry_run' }]);
    h.now += 10 * MINUTE;
    expect(await h.series(['critical', 'critical', 'critical'])).toEqual(['-', '-', 'start:suppressed']);
  });

  test('nlserver view down (off, or pdump failing): skipped_view_down, nothing runs, the count is kept', async () => {
    const h = new Harness({ mta: { restarts: ON } });
    h.view = offView('nlserver integration switched off (campaign.nlserverView: false)');
    expect(await h.series(['critical', 'critical', 'critical', 'critical'])).toEqual(['-', '-', 'start:skipped_view_down', 'start:skipped_view_down']);
    const failing = upView();
    failing.pdump = { ...failing.pdump, ok: false, error: 'exited with code 1: unable to connect to the watchdog' };
    h.view = failing;
    expect(await h.observe('critical')).toMatchObject({ result: 'skipped_view_down', reason: 'nlserver pdump failed: exited with code 1: unable to connect to the watchdog' });
    h.view = undefined;
    expect(await h.observe('critical')).toMatchObject({ result: 'skipped_view_down' });
    expect(h.calls).toEqual([]);
    // The first skip of a streak is a warn, the same skip again info.
    const skips = h.logs.filter((entry) => entry.fields.result === 'skipped_view_down').map((entry) => entry.level);
    expect(skips).toEqual(['warn', 'info', 'info', 'info']);
    // Skips use no budget and keep the count: the view back, it acts on the next critical run.
    h.view = upView();
    expect(await h.observe('critical')).toMatchObject({ result: 'ok' });
  });

  test('mta and web: sessions in pdump -who hold the action back (skipped_busy), skipWhenBusy false does not look', async () => {
    const h = new Harness({ mta: { restarts: ON } });
    h.who = BUSY_WHO;
    expect(await h.series(['critical', 'critical', 'critical'])).toEqual(['-', '-', 'start:skipped_busy']);
    expect(h.logs.find((entry) => entry.fields.result === 'skipped_busy')?.fields.reason).toBe('1 session in progress (operator|console@prod)');
    expect(h.actions()).toEqual([]);
    h.who = BUSY_WHO.replace('operator|console', 'internal|monitoring');
    expect(await h.observe('critical')).toMatchObject({ action: 'start', result: 'ok' });

    const free = new Harness({ mta: { restarts: { ...ON, skipWhenBusy: false } } });
    free.who = BUSY_WHO;
    expect(await free.series(['critical', 'critical', 'critical'])).toEqual(['-', '-', 'start:ok']);
    expect(free.calls).toEqual([['start', 'mta@prod']]);
  });

  test('pdump -who that fails or times out counts as busy: cannot tell, not acting', async () => {
    const h = new Harness({ web: { restarts: { ...ON, afterFailures: 1 } } });
    const web = row('web', 'default', 'machine');
    h.whoResult = { exitCode: undefined, timedOut: true, failed: true, error: 'nlserver timed out after 2000 ms' };
    expect(await h.observe('critical', { target: web, absent: false })).toMatchObject({
      result: 'skipped_busy',
      reason: 'nlserver pdump -who failed (nlserver timed out after 2000 ms): cannot tell, not acting',
    });
    h.whoResult = { stdout: 'garbage' };
    expect(await h.observe('critical', { target: web, absent: false })).toMatchObject({ result: 'skipped_busy' });
    expect(h.actions()).toEqual([]);
  });

  test('failed and timed-out commands are counted as such, and still start the grace', async () => {
    const h = new Harness({ stat: { restarts: { ...ON, afterFailures: 1, grace: '1m' } } });
    const target = row('stat');
    h.actionResult = { exitCode: 1, failed: true, error: 'nlserver exited with code 1', stderr: 'ERROR: task did not start' };
    expect(await h.observe('critical', { target })).toMatchObject({ result: 'failed', reason: 'nlserver exited with code 1' });
    expect(h.logs.find((entry) => entry.fields.result === 'failed')).toMatchObject({ level: 'warn', fields: { stderr: 'ERROR: task did not start' } });
    expect(await h.observe('critical', { target })).toBeUndefined();
    h.now += MINUTE;
    h.actionResult = { exitCode: undefined, timedOut: true, failed: true, error: 'nlserver timed out after 60000 ms' };
    expect(await h.observe('critical', { target })).toMatchObject({ result: 'timeout' });
    expect(h.counted.map((labels) => labels.result)).toEqual(['failed', 'timeout']);
  });

  test('defence in depth: names that are not module or instance names never reach nlserver', async () => {
    const h = new Harness({ mta: { restarts: { ...ON, afterFailures: 1, skipWhenBusy: false } } });
    expect(await h.observe('critical', { target: row('mta', '-x;rm') })).toBeUndefined();
    expect(h.calls).toEqual([]);
    expect(h.logs.find((entry) => entry.level === 'error')?.fields.err).toContain('refusing to run nlserver for instance');
  });

  test('one action at a time per row: a run observed while an action is running is ignored', async () => {
    const h = new Harness({ mta: { restarts: { ...ON, afterFailures: 1, skipWhenBusy: false } } });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    (h.restarter['options'] as { run: unknown }).run = async (args: string[]) => {
      h.calls.push(args);
      await gate;
      return commandResult();
    };
    const first = h.restarter.observe(row(), status('critical'), async () => upView(), h.now);
    expect(await h.restarter.observe(row(), status('critical'), async () => upView(), h.now + 1000)).toBeUndefined();
    release();
    expect(await first).toMatchObject({ result: 'ok' });
    expect(h.calls).toHaveLength(1);
  });

  test('a disabled or blocked row is forgotten; a config change applies at the next run', async () => {
    const h = new Harness({ mta: { restarts: ON } });
    await h.series(['critical', 'critical']);
    expect(await h.observe('critical', { target: { ...row(), blocked: 'install not found' } })).toBeUndefined();
    // The count started over.
    expect(await h.series(['critical', 'critical'])).toEqual(['-', '-']);
    h.config = configWith({ mta: { restarts: { ...ON, afterFailures: 2 } } });
    expect(await h.observe('critical')).toMatchObject({ result: 'ok' });
  });
});

describe('automatic restart metrics and sync', () => {
  test('series of the rows with restarts on exist from the first scrape and go with the row', async () => {
    const metrics = new AgentMetrics('test');
    const logs: LogEntry[] = [];
    let config = configWith({ mta: { restarts: ON }, web: { restarts: { ...ON, dryRun: true } } });
    const restarter = new Restarter({ config: () => config, log: recordingLogger(logs), metrics, run: async () => commandResult() });
    const plan = [row('mta', 'prod'), row('mta', 'test'), row('web', 'default', 'machine'), row('wfserver', 'prod'), { ...row('stat'), enabled: false }];
    restarter.sync(plan);
    const text = await metrics.registry.metrics();
    expect(text).toContain('campaign_restart_suppressed{module="mta",campaign_instance="prod"} 0');
    expect(text).toContain('campaign_restart_suppressed{module="web",campaign_instance="default"} 0');
    expect(text).not.toContain('campaign_restart_suppressed{module="wfserver"');
    expect(text).toContain('campaign_restart_actions_total{module="mta",campaign_instance="test",action="start",result="ok"} 0');
    expect(text).toContain('campaign_restart_actions_total{module="web",campaign_instance="default",action="restart",result="skipped_busy"} 0');
    expect(text.match(/^campaign_restart_actions_total\{/gm)).toHaveLength(3 * 2 * 7);
    expect(logs.find((entry) => entry.msg === 'automatic restarts on')?.fields).toEqual({ rows: ['mta@prod', 'mta@test', 'web@default'], dryRun: ['web@default'] });

    metrics.countRestart({ module: 'mta', instance: 'prod', action: 'start', result: 'ok' });
    metrics.restartSuppressed({ module: 'mta', instance: 'prod' }, true);
    const after = await metrics.registry.metrics();
    expect(after).toContain('campaign_restart_actions_total{module="mta",campaign_instance="prod",action="start",result="ok"} 1');
    expect(after).toContain('campaign_restart_suppressed{module="mta",campaign_instance="prod"} 1');

    // Re-sync keeps live values; turning it off for web removes web's series.
    config = configWith({ mta: { restarts: ON } });
    restarter.sync(plan);
    const last = await metrics.registry.metrics();
    expect(last).toContain('campaign_restart_suppressed{module="mta",campaign_instance="prod"} 1');
    expect(last).toContain('campaign_restart_actions_total{module="mta",campaign_instance="prod",action="start",result="ok"} 1');
    expect(last).not.toContain('module="web"');
  });

  test('nlserverView false: warned once at sync that every action will be skipped', () => {
    const logs: LogEntry[] = [];
    const config = configWith({ mta: { restarts: ON } });
    config.campaign.nlserverView = false;
    const restarter = new Restarter({ config: () => config, log: recordingLogger(logs), metrics: new AgentMetrics('test') });
    restarter.sync([row()]);
    restarter.sync([row()]);
    expect(logs.filter((entry) => entry.level === 'warn').map((entry) => entry.msg)).toEqual([
      'automatic restarts are on but campaign.nlserverView is false: every action will be skipped (skipped_view_down)',
    ]);
  });
});
