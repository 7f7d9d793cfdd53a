import { describe, expect, test } from '@jest/globals';
import type { Row } from '../../../src/core/plan.js';
import type { CheckOutcome } from '../../../src/core/runner.js';
import { StatusStore } from '../../../src/core/store.js';
import { AgentMetrics } from '../../../src/metrics/agentMetrics.js';
import type { ProbePlugin } from '../../../src/core/plugin.js';
import type { CheckState } from '../../../src/core/contracts.js';

const plugin: ProbePlugin = {
  module: 'mta',
  scope: 'Delivers emails',
  hint: 'Check this module if mails are no longer being sent.',
  runsOn: 'instance',
  defaultSchedule: '*/30 * * * * *',
  expected: () => true,
  checks: () => [],
};
const row = (failuresBeforeCritical: number, successesBeforeOk: number): Row => ({
  key: 'mta@prod',
  module: 'mta',
  instance: 'prod',
  plugin,
  enabled: true,
  note: '',
  schedule: plugin.defaultSchedule,
  intervalMs: 30_000,
  timeoutMs: 10_000,
  failuresBeforeCritical,
  successesBeforeOk,
  confirmAfterMs: 0,
  checks: [],
});
const outcome = (state: CheckState): CheckOutcome => ({ name: 'process', state, message: `process ${state}`, durationMs: 1, lastRun: 0, values: {}, labels: {} });

/** Feeds one observed state per run, 30 s apart; returns the row state after each. */
function run(store: StatusStore, target: Row, observed: CheckState[]): string[] {
  return observed.map((state, index) => store.record(target, [outcome(state)], (index + 1) * 30_000).state);
}

describe('flap damping', () => {
  test('failuresBeforeCritical 2: one failed run keeps the verdict and says what it saw; two change it', () => {
    const store = new StatusStore(() => 0);
    const target = row(2, 1);
    store.sync([target], 0);
    expect(run(store, target, ['ok', 'critical', 'ok', 'critical', 'critical'])).toEqual(['ok', 'ok', 'ok', 'ok', 'critical']);
    const held = new StatusStore(() => 0);
    held.sync([target], 0);
    run(held, target, ['ok', 'critical']);
    expect(held.get('mta@prod')?.detail).toBe('critical in 1 of 2 runs before the state changes (failuresBeforeCritical): process: process critical');
    // The checks show the raw result, whatever the row's verdict.
    expect(held.get('mta@prod')?.checks[0]?.state).toBe('critical');
  });

  test('successesBeforeOk 3: recovery needs three good runs in a row', () => {
    const store = new StatusStore(() => 0);
    const target = row(1, 3);
    store.sync([target], 0);
    expect(run(store, target, ['critical', 'ok', 'ok', 'critical', 'ok', 'ok', 'ok'])).toEqual([
      'critical',
      'critical',
      'critical',
      'critical',
      'critical',
      'critical',
      'ok',
    ]);
  });

  test('the first verdict is never held (a one-shot check judges at once), nor moves within up or within down', () => {
    const store = new StatusStore(() => 0);
    const target = row(5, 5);
    store.sync([target], 0);
    expect(run(store, target, ['critical', 'unknown', 'critical'])).toEqual(['critical', 'unknown', 'critical']);
    const up = new StatusStore(() => 0);
    up.sync([target], 0);
    expect(run(up, target, ['ok', 'warning', 'ok'])).toEqual(['ok', 'warning', 'ok']);
  });

  test('1 and 1 switch damping off', () => {
    const store = new StatusStore(() => 0);
    const target = row(1, 1);
    store.sync([target], 0);
    expect(run(store, target, ['ok', 'critical', 'ok'])).toEqual(['ok', 'critical', 'ok']);
  });
});

describe('staleness', () => {
  test('a result older than 3 intervals plus the timeout turns unknown with "stale", and metrics follow', async () => {
    let now = 0;
    const store = new StatusStore(() => now);
    const metrics = new AgentMetrics('1');
    store.onStale = (status) => metrics.updateRow(status);
    metrics.beforeCollect = () => store.expireStale();
    const target = row(1, 1);
    store.sync([target], 0);
    metrics.updateRow(store.record(target, [outcome('ok')], 0));
    now = 3 * 30_000 + 10_000;
    expect(store.get('mta@prod')?.state).toBe('ok');
    expect(await metrics.registry.metrics()).toContain('campaign_module_up{module="mta",campaign_instance="prod"} 1');
    now += 1;
    // Nobody read /status: the scrape itself expires the result.
    expect(await metrics.registry.metrics()).toContain('campaign_module_up{module="mta",campaign_instance="prod"} 0');
    const stale = store.get('mta@prod')!;
    expect(stale.state).toBe('unknown');
    expect(stale.detail).toBe('stale: last checked 1m 40s ago (expected every 30s); the probe schedule stopped or hangs');
    // The next result replaces it at once: coming back from stale is not damped.
    const damped = row(3, 3);
    expect(store.record(damped, [outcome('ok')], now).state).toBe('ok');
  });

  test('disabled rows and rows never checked do not go stale', () => {
    let now = 0;
    const store = new StatusStore(() => now);
    store.sync([{ ...row(1, 1), enabled: false, note: 'off' }], 0);
    now = 10 * 3_600_000;
    expect(store.get('mta@prod')?.state).toBe('disabled');
    const fresh = new StatusStore(() => now);
    fresh.sync([row(1, 1)], now);
    now += 10 * 3_600_000;
    expect(fresh.get('mta@prod')?.detail).toBe('not checked yet');
  });
});

describe('checks that could not look', () => {
  const notLooked = (name: string, message: string): CheckOutcome => ({ ...outcome('unknown'), name, message, noEvidence: true });

  test('are left out of the verdict and of the checks, their reasons end the detail', () => {
    const store = new StatusStore(() => 0);
    const target = row(1, 1);
    store.sync([target], 0);
    const status = store.record(target, [outcome('ok'), notLooked('monitor_missing', 'not looked: nlserver integration off')], 30_000);
    expect(status.state).toBe('ok');
    expect(status.checks.map((check) => check.name)).toEqual(['process']);
    expect(status.notLooked.map((check) => check.name)).toEqual(['monitor_missing']);
    expect(status.detail).toBe('process: process ok; monitor_missing: not looked: nlserver integration off');
  });

  test('a row whose every check could not look is unknown, never ok', () => {
    const store = new StatusStore(() => 0);
    const target = row(1, 1);
    store.sync([target], 0);
    const status = store.record(target, [notLooked('memory', 'not looked: mta@prod not listed by nlserver pdump')], 30_000);
    expect(status.state).toBe('unknown');
    expect(status.detail).toBe('no check could look; memory: not looked: mta@prod not listed by nlserver pdump');
  });
});
