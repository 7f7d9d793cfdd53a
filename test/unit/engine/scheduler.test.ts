import { describe, expect, test } from '@jest/globals';
import { Agent } from '../../../src/agent/agent.js';
import { parseConfig } from '../../../src/config/load.js';
import { Scheduler } from '../../../src/core/scheduler.js';
import { silentLogger } from '../../../src/util/logger.js';
import type { ProbePlugin } from '../../../src/core/plugin.js';
import type { Logger } from '../../../src/core/contracts.js';
import { until } from '../../sim/net-util.js';

/** A plugin whose single check takes `busyMs`, recording how many runs overlap. */
function slowPlugin(busyMs: number, stats: { runs: number; active: number; maxActive: number }): ProbePlugin {
  return {
    module: 'slow',
    scope: 'test',
    hint: 'test',
    runsOn: 'machine',
    defaultSchedule: '* * * * * *',
    expected: () => true,
    checks: () => [
      {
        name: 'busy',
        timeoutMs: 10_000,
        async run() {
          stats.runs += 1;
          stats.active += 1;
          stats.maxActive = Math.max(stats.maxActive, stats.active);
          await new Promise((resolve) => setTimeout(resolve, busyMs));
          stats.active -= 1;
          return { state: 'ok', message: 'done' };
        },
      },
    ],
  };
}

const warnings: string[] = [];
const recordingLog: Logger = { ...silentLogger, warn: (_obj, msg) => void warnings.push(String(msg)) };

describe('scheduler', () => {
  test('a tick that comes while the cycle still runs is skipped, never run alongside', async () => {
    const stats = { runs: 0, active: 0, maxActive: 0 };
    const plugins = [slowPlugin(2500, stats)];
    const config = parseConfig(plugins, 'campaign: {installDir: /nowhere}\nmodules: {slow: {enabled: true}}', 'test.yaml');
    const agent = new Agent({ config, plugins, log: recordingLog, snapshotFactory: () => ({ processes: async () => [], sockets: async () => [] }) });
    const scheduler = new Scheduler(agent, recordingLog);
    await scheduler.start();
    // Until a second cycle has started, however long the machine takes (the first one skipped ticks).
    await until(() => stats.runs >= 2, 'a second cycle');
    await scheduler.stop(5000);
    expect(stats.maxActive).toBe(1);
    expect(stats.runs).toBeGreaterThanOrEqual(2);
    expect(warnings).toContain('previous probe cycle still running: this tick is skipped');
  }, 60_000);

  test('fresh while cycles complete, stale when the clock runs past three intervals, false once stopped', async () => {
    const stats = { runs: 0, active: 0, maxActive: 0 };
    const plugins = [slowPlugin(0, stats)];
    const config = parseConfig(plugins, 'campaign: {installDir: /nowhere}\nmodules: {slow: {enabled: true, schedule: "0 0 * * * *", timeout: 1s}}', 'test.yaml');
    let now = Date.now();
    const agent = new Agent({ config, plugins, log: silentLogger, now: () => now, snapshotFactory: () => ({ processes: async () => [], sockets: async () => [] }) });
    const scheduler = new Scheduler(agent, silentLogger);
    expect(scheduler.fresh()).toBe(false);
    const starting = scheduler.start();
    // Until the first cycle is done there is nothing true to report: /healthz must say so.
    expect(scheduler.fresh()).toBe(false);
    await starting;
    expect(stats.runs).toBe(1);
    expect(scheduler.fresh()).toBe(true);
    now += 3 * 3_600_000 - 1;
    expect(scheduler.fresh()).toBe(true);
    now += 1_000 + 2;
    expect(scheduler.fresh()).toBe(false);
    await scheduler.stop();
    expect(scheduler.fresh()).toBe(false);
  });
});
