import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from '../../../src/agent/agent.js';
import { parseConfig } from '../../../src/config/load.js';
import { Scheduler } from '../../../src/core/scheduler.js';
import { silentLogger } from '../../../src/util/logger.js';
import type { Timers } from '../../../src/core/confirm.js';
import type { ProbePlugin } from '../../../src/core/plugin.js';
import type { CheckState, CycleSnapshot, Logger } from '../../../src/core/contracts.js';

// Confirmation runs (defaults.confirmAfter): the engine with an injected clock and a timer queue the
// test drives. Scheduled ticks are the test calling runCycle at the schedule's times, every 30 s.

const INTERVAL = 30_000;

/** A clock and the timers on it: nothing fires until advance() reaches its time, and each fired run is awaited. */
class ManualTimers implements Timers {
  now = 0;
  /** Every delay ever asked for, in order (confirmations scheduled). */
  readonly asked: number[] = [];
  private queue: { at: number; run: () => unknown }[] = [];

  setTimeout(run: () => unknown, ms: number): unknown {
    const timer = { at: this.now + ms, run };
    this.asked.push(ms);
    this.queue.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((timer) => timer !== handle);
  }

  pending(): number {
    return this.queue.length;
  }

  async advance(to: number): Promise<void> {
    for (;;) {
      const next = this.queue.filter((timer) => timer.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.queue = this.queue.filter((timer) => timer !== next);
      this.now = next.at;
      await next.run();
    }
    this.now = to;
  }
}

/** The module under test: its one check reports `module.state`; `gate`, when set, holds the check until opened. */
interface Module {
  state: CheckState;
  runs: number;
  gate?: Promise<void>;
}

function probePlugin(module: Module): ProbePlugin {
  return {
    module: 'probe',
    scope: 'test',
    hint: 'test',
    runsOn: 'instance',
    defaultSchedule: '*/30 * * * * *',
    expected: () => true,
    checks: () => [
      {
        name: 'process',
        async run() {
          module.runs += 1;
          const state = module.state;
          await module.gate;
          return { state, message: `process ${state}` };
        },
      },
    ],
  };
}

let installDir: string;

beforeAll(async () => {
  installDir = await mkdtemp(path.join(tmpdir(), 'confirm-'));
  await mkdir(path.join(installDir, 'conf'));
  for (const file of ['serverConf.xml', 'config-default.xml', 'config-prod.xml']) await writeFile(path.join(installDir, 'conf', file), '<serverconf/>\n');
});

afterAll(async () => {
  await rm(installDir, { recursive: true, force: true });
});

const ROW = 'probe@prod';

function setup(yaml = '', log: Logger = silentLogger) {
  const module: Module = { state: 'ok', runs: 0 };
  const plugins = [probePlugin(module)];
  const timers = new ManualTimers();
  const config = (text: string) => parseConfig(plugins, `campaign: {installDir: ${installDir}, nlserverView: false}\n${text}`, 'test.yaml');
  let snapshots = 0;
  const snapshotFactory = (): CycleSnapshot => {
    snapshots += 1;
    return { processes: async () => [], sockets: async () => [] };
  };
  // snapshotReuseMs a minute: a confirmation must still look at a snapshot of its own.
  const agent = new Agent({ config: config(yaml), plugins, log, now: () => timers.now, timers, snapshotFactory, snapshotReuseMs: 60_000 });
  /** The schedule's tick at `at`: the clock moves there (firing confirmations due before), then the cycle runs. */
  const tick = async (at: number) => {
    await timers.advance(at);
    await agent.runCycle();
  };
  const row = () => agent.store.get(ROW)!;
  return { module, timers, agent, tick, row, config, snapshots: () => snapshots };
}

describe('confirmation runs (defaults.confirmAfter)', () => {
  test('(a) a module killed before a tick is critical confirmAfter after that tick: within one interval + 10 s', async () => {
    const { module, timers, agent, tick, row, snapshots } = setup();
    await tick(0);
    await tick(INTERVAL);
    expect(row().state).toBe('ok');
    const killedAt = INTERVAL + 1_000;
    module.state = 'critical';
    const firstFailing = 2 * INTERVAL;
    await tick(firstFailing);
    // Held by damping (1 of 2), and one confirmation asked for, 5 s later.
    expect(row()).toMatchObject({ state: 'ok' });
    expect(row().detail).toMatch(/^critical in 1 of 2 runs/);
    expect(agent.pendingConfirmations()).toEqual([ROW]);
    expect(timers.asked).toEqual([5_000]);
    const snapshotsBefore = snapshots();
    await timers.advance(firstFailing + 5_000);
    expect(row()).toMatchObject({ state: 'critical', since: firstFailing + 5_000, lastRun: firstFailing + 5_000 });
    expect(row().since - killedAt).toBeLessThanOrEqual(INTERVAL + 10_000);
    // It looked again: a snapshot of its own, although the last is younger than snapshotReuseMs.
    expect(snapshots()).toBe(snapshotsBefore + 1);
    expect(module.runs).toBe(4);
    // Critical now, in steady state: nothing more is confirmed.
    expect(agent.pendingConfirmations()).toEqual([]);
    await tick(3 * INTERVAL);
    expect(timers.asked).toHaveLength(1);
  });

  test('(a) failuresBeforeCritical 3: critical after two confirmations, 10 s after the first failing tick', async () => {
    const { module, timers, agent, tick, row } = setup('modules: {probe: {failuresBeforeCritical: 3}}');
    await tick(0);
    module.state = 'critical';
    await tick(INTERVAL);
    await timers.advance(INTERVAL + 5_000);
    expect(row().state).toBe('ok');
    expect(row().detail).toMatch(/^critical in 2 of 3 runs/);
    await timers.advance(INTERVAL + 10_000);
    expect(row()).toMatchObject({ state: 'critical', since: INTERVAL + 10_000 });
    expect(module.runs).toBe(4);
    expect(agent.pendingConfirmations()).toEqual([]);
  });

  test('(b) a single blip (down at the tick, up at the confirmation) changes nothing and asks for no further run', async () => {
    const { module, timers, agent, tick, row } = setup();
    await tick(0);
    module.state = 'critical';
    await tick(INTERVAL);
    module.state = 'ok';
    for (let t = 2 * INTERVAL; t <= 10 * INTERVAL; t += INTERVAL) {
      await tick(t);
      expect(row()).toMatchObject({ state: 'ok', since: 0 });
    }
    expect(row().detail).toBe('process: process ok');
    expect(timers.asked).toEqual([5_000]);
    // 11 ticks and the one confirmation.
    expect(module.runs).toBe(12);
    expect(agent.pendingConfirmations()).toEqual([]);
  });

  test('(c) steady state, ok or critical, asks for no confirmation over many ticks', async () => {
    for (const state of ['ok', 'critical', 'unknown', 'warning'] as const) {
      const { module, timers, tick, row } = setup();
      module.state = state;
      for (let t = 0; t <= 40 * INTERVAL; t += INTERVAL) await tick(t);
      expect(row().state).toBe(state);
      expect(timers.asked).toEqual([]);
      expect(module.runs).toBe(41);
    }
    // Within up (ok to warning) or within down (critical to unknown) nothing is held: nothing to confirm.
    const { module, timers, tick } = setup();
    for (let t = 0; t <= 10 * INTERVAL; t += INTERVAL) {
      module.state = t % (2 * INTERVAL) === 0 ? 'ok' : 'warning';
      await tick(t);
    }
    expect(timers.asked).toEqual([]);
  });

  test('recoveries are confirmed too when successesBeforeOk holds them; with the default (1) they are immediate', async () => {
    const damped = setup('modules: {probe: {successesBeforeOk: 2}}');
    damped.module.state = 'critical';
    await damped.tick(0);
    damped.module.state = 'ok';
    await damped.tick(INTERVAL);
    expect(damped.row().state).toBe('critical');
    await damped.timers.advance(INTERVAL + 5_000);
    expect(damped.row()).toMatchObject({ state: 'ok', since: INTERVAL + 5_000 });
    const plain = setup();
    plain.module.state = 'critical';
    await plain.tick(0);
    plain.module.state = 'ok';
    await plain.tick(INTERVAL);
    expect(plain.row()).toMatchObject({ state: 'ok', since: INTERVAL });
    expect(plain.timers.asked).toEqual([]);
  });

  test('(d) a scheduled run before the confirmation is due replaces it: no double run, its result counts', async () => {
    // confirmAfter longer than the time to the next tick.
    const { module, timers, agent, tick, row } = setup('defaults: {confirmAfter: 20s}\nmodules: {probe: {schedule: "*/10 * * * * *"}}');
    await tick(0);
    module.state = 'critical';
    await tick(10_000);
    expect(timers.pending()).toBe(1);
    await tick(20_000);
    expect(row()).toMatchObject({ state: 'critical', since: 20_000 });
    expect(timers.pending()).toBe(0);
    await timers.advance(45_000);
    expect(module.runs).toBe(3);
    expect(agent.pendingConfirmations()).toEqual([]);
  });

  test('(d) a tick while the confirmation runs shares its result: the row never runs twice at once', async () => {
    const { module, timers, tick, row, agent } = setup();
    await tick(0);
    module.state = 'critical';
    await tick(INTERVAL);
    let open!: () => void;
    module.gate = new Promise((resolve) => (open = resolve));
    const confirming = timers.advance(INTERVAL + 5_000);
    // The confirmation's check started and waits at the gate; the tick comes now.
    await new Promise((resolve) => setImmediate(resolve));
    expect(module.runs).toBe(3);
    const cycle = agent.runCycle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(module.runs).toBe(3);
    open();
    await Promise.all([confirming, cycle]);
    expect(module.runs).toBe(3);
    expect(row()).toMatchObject({ state: 'critical', since: INTERVAL + 5_000 });
  });

  test('(e) stopping the scheduler cancels pending confirmations, and none is asked for afterwards', async () => {
    const { module, timers, agent, tick, row } = setup();
    await tick(0);
    module.state = 'critical';
    await tick(INTERVAL);
    expect(timers.pending()).toBe(1);
    await new Scheduler(agent, silentLogger).stop(0);
    expect(timers.pending()).toBe(0);
    expect(agent.pendingConfirmations()).toEqual([]);
    // A run still finishing after the stop (here: one more cycle) schedules nothing.
    module.state = 'ok';
    await tick(2 * INTERVAL);
    module.state = 'critical';
    await tick(3 * INTERVAL);
    expect(row().detail).toMatch(/^critical in 1 of 2 runs/);
    expect(timers.pending()).toBe(0);
    await timers.advance(10 * INTERVAL);
    expect(module.runs).toBe(4);
  });

  test('(e) a config reload cancels pending confirmations; a re-plan removing or disabling the row too; rediscovery keeps them', async () => {
    const { module, timers, agent, tick, config } = setup();
    await tick(0);
    module.state = 'critical';
    await tick(INTERVAL);
    expect(timers.pending()).toBe(1);
    await agent.reconfigure(config(''));
    expect(timers.pending()).toBe(0);

    // A rediscovery (every minute) with the row still there keeps its confirmation.
    module.state = 'ok';
    await tick(2 * INTERVAL);
    module.state = 'critical';
    await tick(3 * INTERVAL);
    expect(timers.pending()).toBe(1);
    await agent.refresh();
    expect(agent.pendingConfirmations()).toEqual([ROW]);

    // The row disabled by the new config.
    await agent.reconfigure(config('modules: {probe: {enabled: false}}'));
    expect(timers.pending()).toBe(0);

    // The instance gone from the install.
    await agent.reconfigure(config(''));
    module.state = 'ok';
    await tick(4 * INTERVAL);
    module.state = 'critical';
    await tick(5 * INTERVAL);
    expect(timers.pending()).toBe(1);
    await unlink(path.join(installDir, 'conf', 'config-prod.xml'));
    try {
      await agent.refresh();
      expect(agent.rows()).toEqual([]);
      expect(timers.pending()).toBe(0);
    } finally {
      await writeFile(path.join(installDir, 'conf', 'config-prod.xml'), '<serverconf/>\n');
    }
    const runs = module.runs;
    await timers.advance(10 * INTERVAL);
    expect(module.runs).toBe(runs);
  });

  test('(f) confirmAfter 0 keeps the schedule: critical at the second failing tick, no timer ever', async () => {
    for (const yaml of ['defaults: {confirmAfter: 0}', 'modules: {probe: {confirmAfter: 0s}}']) {
      const { module, timers, tick, row } = setup(yaml);
      await tick(0);
      module.state = 'critical';
      await tick(INTERVAL);
      expect(row().state).toBe('ok');
      await tick(2 * INTERVAL);
      expect(row()).toMatchObject({ state: 'critical', since: 2 * INTERVAL });
      expect(timers.asked).toEqual([]);
    }
  });

  test('modules.<name>.confirmAfter overrides defaults.confirmAfter; confirmations are logged at debug', async () => {
    const lines: string[] = [];
    const log: Logger = { ...silentLogger, debug: (_fields, message) => void lines.push(String(message)) };
    const { module, timers, tick, row } = setup('defaults: {confirmAfter: 0}\nmodules: {probe: {confirmAfter: 2s}}', log);
    await tick(0);
    module.state = 'critical';
    await tick(INTERVAL);
    expect(timers.asked).toEqual([2_000]);
    await timers.advance(INTERVAL + 2_000);
    expect(row()).toMatchObject({ state: 'critical', since: INTERVAL + 2_000 });
    expect(lines).toEqual(expect.arrayContaining(['verdict held by flap damping: confirmation run scheduled', 'confirmation run']));
  });
});
