import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from '../../../src/agent/agent.js';
import { parseConfig } from '../../../src/config/load.js';
import { Scheduler } from '../../../src/core/scheduler.js';
import { silentLogger } from '../../../src/util/logger.js';
import type { ProbePlugin } from '../../../src/core/plugin.js';
import type { Logger } from '../../../src/core/contracts.js';
import { until } from '../../sim/net-util.js';

const HOUR = 3_600_000;

/** One row per Campaign instance, one check that is always ok: what matters here is the plan. */
const perInstance: ProbePlugin = {
  module: 'probe',
  scope: 'test',
  hint: 'test',
  runsOn: 'instance',
  defaultSchedule: '*/30 * * * * *',
  expected: () => true,
  checks: () => [{ name: 'always', run: async () => ({ state: 'ok', message: 'fine' }) }],
};

let installDir: string;

beforeEach(async () => {
  installDir = await mkdtemp(path.join(tmpdir(), 'clock-jump-'));
  await mkdir(path.join(installDir, 'conf'));
  for (const file of ['serverConf.xml', 'config-default.xml', 'config-first.xml']) {
    await writeFile(path.join(installDir, 'conf', file), '<serverconf/>\n');
  }
});

afterEach(async () => {
  await rm(installDir, { recursive: true, force: true });
});

describe('the clock set back', () => {
  test('the install is read again at the next cycle, not once the clock has caught up', async () => {
    const plugins = [perInstance];
    const config = parseConfig(plugins, `campaign: {installDir: ${installDir}, nlserverView: false}`, 'test.yaml');
    let now = Date.parse('2026-11-25T12:00:00Z');
    const agent = new Agent({ config, plugins, log: silentLogger, now: () => now, snapshotFactory: () => ({ processes: async () => [], sockets: async () => [] }) });
    await agent.runCycle();
    expect(agent.rows().map((row) => row.key)).toEqual(['probe@first']);
    await writeFile(path.join(installDir, 'conf', 'config-second.xml'), '<serverconf/>\n');
    now -= 2 * HOUR;
    await agent.runCycle();
    expect(agent.rows().map((row) => row.key)).toEqual(['probe@first', 'probe@second']);
    // And then the usual minute from there.
    await writeFile(path.join(installDir, 'conf', 'config-third.xml'), '<serverconf/>\n');
    now += 30_000;
    await agent.runCycle();
    expect(agent.rows()).toHaveLength(2);
    now += 30_000;
    await agent.runCycle();
    expect(agent.rows()).toHaveLength(3);
  });

  test('a row staying in its state keeps since, but never ahead of the clock', async () => {
    const plugins = [perInstance];
    const config = parseConfig(plugins, `campaign: {installDir: ${installDir}, nlserverView: false}`, 'test.yaml');
    let now = Date.parse('2026-11-25T12:00:00Z');
    const agent = new Agent({ config, plugins, log: silentLogger, now: () => now, snapshotFactory: () => ({ processes: async () => [], sockets: async () => [] }) });
    await agent.runCycle();
    const first = now;
    now += 60_000;
    await agent.runCycle();
    expect(agent.store.get('probe@first')).toMatchObject({ state: 'ok', since: first, lastRun: now });
    now -= 2 * HOUR;
    await agent.runCycle();
    expect(agent.store.get('probe@first')).toMatchObject({ state: 'ok', since: now, lastRun: now });
  });

  test('the scheduler keeps running cycles after the system clock is set back two hours', async () => {
    let runs = 0;
    const ticking: ProbePlugin = {
      ...perInstance,
      module: 'tick',
      runsOn: 'machine',
      defaultSchedule: '* * * * * *',
      checks: () => [{ name: 'tick', run: async () => ((runs += 1), { state: 'ok', message: 'tick' }) }],
    };
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (_obj, msg) => void warnings.push(String(msg)) };
    // node-cron reads the wall clock through the global Date: shifted here, timers stay monotonic.
    const RealDate = Date;
    let shiftMs = 0;
    class ShiftedDate extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(RealDate.now() + shiftMs);
        else super(...(args as [number]));
      }
      static override now(): number {
        return RealDate.now() + shiftMs;
      }
    }
    globalThis.Date = ShiftedDate as DateConstructor;
    const plugins = [ticking];
    const config = parseConfig(plugins, `campaign: {installDir: ${installDir}, nlserverView: false}`, 'test.yaml');
    const agent = new Agent({ config, plugins, log, snapshotFactory: () => ({ processes: async () => [], sockets: async () => [] }) });
    const scheduler = new Scheduler(agent, log);
    try {
      await scheduler.start();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      shiftMs = -2 * HOUR;
      const before = runs;
      // Without the watch, node-cron's next tick waits until the clock has caught up: no run for 2h.
      await until(() => runs - before >= 2, 'two cycles after the clock was set back');
      expect(warnings).toContain('system clock stepped back: probe schedules re-armed, cycles run now');
      expect(scheduler.fresh()).toBe(true);
    } finally {
      await scheduler.stop();
      globalThis.Date = RealDate;
    }
  }, 60_000);
});
