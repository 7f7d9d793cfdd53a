import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { plugins } from '../../probes/index.js';
import { Agent } from '../../src/agent/agent.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { freePort, SimulatedHost } from '../sim/host.js';
import { recordingLogger, type LogEntry } from '../unit/remediation/harness.js';
import { runCli } from './helpers.js';

// Automatic restarts against a real simulated host and its stand-in nlserver: the agent runs
// `nlserver start mta@remed` itself, the module really comes back. Cycles are driven in-process with
// an injected clock (grace and window pass in an instant); processes and commands are real.
// Instance `remed` and no machine module: nothing here matches another test's simulated host.

const INSTANCE = 'remed';
const KEY = `mta@${INSTANCE}`;
const MINUTE = 60_000;
// Noon, local time: far from the daily restart window (06:00), where critical is only a warning.
const NOON = new Date(2026, 0, 15, 12, 0, 0).getTime();
const IDLE = ['internal|monitoring'];

let sim: SimulatedHost;

beforeAll(async () => {
  sim = await SimulatedHost.start({
    instances: [INSTANCE],
    machineModules: { watchdog: false, syslogd: false, web: false, trackinglogd: false },
    instanceModules: { mta: true, wfserver: false, inMail: false, stat: false },
    // Campaign's default: the injected clock (noon) is kept far from it.
    processRestartTime: '06:00:00',
  });
  await sim.setControl({ whoSessions: IDLE });
}, 120_000);

afterEach(async () => {
  await sim.setControl({ nlserverMode: 'normal', whoSessions: IDLE });
  await sim.startModule('mta', INSTANCE);
});

afterAll(async () => {
  await sim?.stop();
});

interface Run {
  agent: Agent;
  logs: LogEntry[];
  clock: { now: number };
  /** Moves the clock on, then runs one cycle of mta@remed. */
  cycle(stepMs?: number): Promise<void>;
  counted(action: string, result: string): number;
  suppressed(): number | undefined;
}

async function agentWith(remediation: Record<string, unknown>, mta: Record<string, unknown> = {}): Promise<Run> {
  const text = YAML.stringify({
    campaign: { installDir: sim.installDir, nlserverTimeout: '5s' },
    defaults: { timeout: '8s' },
    modules: { system: { enabled: false }, mta: { ...mta, restarts: { restart: true, ...remediation } } },
  });
  const config = parseConfig(plugins, text, path.join(sim.root, 'remed.yaml'));
  const logs: LogEntry[] = [];
  const clock = { now: NOON };
  const agent = new Agent({ config, plugins, log: recordingLogger(logs), now: () => clock.now });
  await agent.refresh();
  const snapshot = new Map<string, number>();
  const refresh = async () => {
    snapshot.clear();
    for (const name of ['campaign_restart_actions_total', 'campaign_restart_suppressed']) {
      const metric = agent.metrics.registry.getSingleMetric(name)!;
      const { values } = await metric.get();
      for (const entry of values) snapshot.set(`${name}${JSON.stringify(entry.labels)}`, entry.value);
    }
  };
  return {
    agent,
    logs,
    clock,
    async cycle(stepMs = MINUTE) {
      clock.now += stepMs;
      await agent.runCycle(new Set([KEY]));
      await refresh();
    },
    counted: (action, result) =>
      snapshot.get(`campaign_restart_actions_total${JSON.stringify({ module: 'mta', campaign_instance: INSTANCE, action, result })}`) ?? -1,
    suppressed: () => snapshot.get(`campaign_restart_suppressed${JSON.stringify({ module: 'mta', campaign_instance: INSTANCE })}`),
  };
}

const alive = (): boolean => sim.pid('mta', INSTANCE) !== undefined;
const processState = (run: Run): string | undefined => run.agent.store.get(KEY)?.checks.find((check) => check.name === 'process')?.state;

describe('automatic restarts on a simulated host', () => {
  test('mta@remed killed: after afterFailures critical cycles the agent runs nlserver start mta@remed and it comes back', async () => {
    const run = await agentWith({});
    await run.cycle();
    expect(run.suppressed()).toBe(0);
    expect(run.counted('start', 'ok')).toBe(0);
    await sim.kill('mta', INSTANCE);
    await run.cycle();
    await run.cycle();
    expect(processState(run)).toBe('critical');
    expect(alive()).toBe(false);
    expect(run.counted('start', 'ok')).toBe(0);
    await run.cycle();
    expect(run.counted('start', 'ok')).toBe(1);
    expect(alive()).toBe(true);
    expect(run.logs.find((entry) => entry.msg === 'running nlserver start mta@remed')).toMatchObject({
      level: 'warn',
      fields: { module: 'mta', instance: INSTANCE, action: 'start', failures: 3, argv: ['start', KEY] },
    });
    expect(run.logs.some((entry) => entry.msg === 'nlserver start mta@remed succeeded')).toBe(true);
    await run.cycle();
    expect(processState(run)).toBe('ok');
    expect(run.agent.store.get(KEY)?.checks.every((check) => check.state === 'ok')).toBe(true);
    // Nothing in the log carries the sim's database password.
    expect(JSON.stringify(run.logs)).not.toContain('SIMSECRET');
  }, 120_000);

  test('running but critical (its SMTP relay refuses): nlserver restart mta@remed, a new process', async () => {
    const closed = await freePort('tcp');
    const run = await agentWith({ afterFailures: 2 }, { smtp: { host: '127.0.0.1', port: closed } });
    const before = sim.pid('mta', INSTANCE);
    await run.cycle();
    expect(run.agent.store.get(KEY)?.checks.find((check) => check.name === 'smtp_relay')?.state).toBe('critical');
    expect(processState(run)).toBe('ok');
    await run.cycle();
    expect(run.counted('restart', 'ok')).toBe(1);
    expect(run.logs.some((entry) => entry.msg === 'running nlserver restart mta@remed')).toBe(true);
    const after = sim.pid('mta', INSTANCE);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  }, 120_000);

  test('restart loop: a module that dies after every start gets maxActions per window, then suppressed=1; after the window it acts again', async () => {
    const run = await agentWith({ afterFailures: 1, maxActions: 2, window: '1h', grace: '1m' });
    await sim.kill('mta', INSTANCE);
    for (let i = 0; i < 2; i++) {
      await run.cycle(2 * MINUTE);
      expect(alive()).toBe(true);
      await sim.kill('mta', INSTANCE);
    }
    expect(run.counted('start', 'ok')).toBe(2);
    for (let i = 0; i < 3; i++) {
      await run.cycle(2 * MINUTE);
      expect(run.suppressed()).toBe(1);
      expect(alive()).toBe(false);
    }
    expect(run.counted('start', 'suppressed')).toBe(3);
    expect(run.counted('start', 'ok')).toBe(2);
    expect(run.logs.filter((entry) => entry.msg.startsWith('restarts suppressed:'))).toHaveLength(1);

    run.clock.now += 60 * MINUTE;
    await run.cycle();
    expect(run.suppressed()).toBe(0);
    expect(run.counted('start', 'ok')).toBe(3);
    expect(alive()).toBe(true);
  }, 120_000);

  test('grace: failures right after an action do not trigger another', async () => {
    const run = await agentWith({ afterFailures: 1, grace: '5m' });
    await sim.kill('mta', INSTANCE);
    await run.cycle();
    expect(run.counted('start', 'ok')).toBe(1);
    await sim.kill('mta', INSTANCE);
    for (let i = 0; i < 4; i++) await run.cycle();
    expect(processState(run)).toBe('critical');
    expect(run.counted('start', 'ok')).toBe(1);
    expect(alive()).toBe(false);
    expect(run.logs.filter((entry) => entry.msg.startsWith('critical within the grace period'))).toHaveLength(4);
    // Five minutes after the action the grace is over: the next critical run acts.
    await run.cycle();
    expect(run.counted('start', 'ok')).toBe(2);
    expect(alive()).toBe(true);
  }, 120_000);

  test('dry run: logged and counted, nothing restarted', async () => {
    const run = await agentWith({ dryRun: true, afterFailures: 2 });
    await sim.kill('mta', INSTANCE);
    await run.cycle();
    await run.cycle();
    expect(run.counted('start', 'dry_run')).toBe(1);
    expect(run.counted('start', 'ok')).toBe(0);
    expect(run.logs.find((entry) => entry.fields.result === 'dry_run')).toMatchObject({ level: 'info', msg: 'dry run: would run nlserver start mta@remed' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(alive()).toBe(false);
  }, 120_000);

  test('nlserver view down: skipped_view_down, nothing runs; the view back, it acts at once', async () => {
    const run = await agentWith({ afterFailures: 2 });
    await sim.kill('mta', INSTANCE);
    // In the sim `fail` also makes `nlserver start` fail: only this test uses it.
    await sim.setControl({ nlserverMode: 'fail' });
    await run.cycle();
    await run.cycle();
    await run.cycle();
    expect(run.counted('start', 'skipped_view_down')).toBe(2);
    expect(run.counted('start', 'failed')).toBe(0);
    expect(alive()).toBe(false);
    const skip = run.logs.find((entry) => entry.fields.result === 'skipped_view_down');
    expect(skip).toMatchObject({ level: 'warn', msg: 'not running nlserver start mta@remed: the nlserver view is down' });
    expect(String(skip?.fields.reason)).toMatch(/^nlserver pdump failed: exited with code 1: .*unable to connect to the watchdog/);
    await sim.setControl({ nlserverMode: 'normal' });
    await run.cycle();
    expect(run.counted('start', 'ok')).toBe(1);
    expect(alive()).toBe(true);
  }, 120_000);

  test('skipWhenBusy: mta is not started while nlserver pdump -who lists a session; once idle it is', async () => {
    const run = await agentWith({ afterFailures: 1 });
    await sim.setControl({ whoSessions: ['internal|monitoring', 'operator|console'] });
    await sim.kill('mta', INSTANCE);
    await run.cycle();
    await run.cycle();
    expect(run.counted('start', 'skipped_busy')).toBe(2);
    expect(alive()).toBe(false);
    expect(run.logs.find((entry) => entry.fields.result === 'skipped_busy')?.fields.reason).toBe(`1 session in progress (operator|console@${INSTANCE})`);
    await sim.setControl({ whoSessions: IDLE });
    await run.cycle();
    expect(run.counted('start', 'ok')).toBe(1);
    expect(alive()).toBe(true);
  }, 120_000);
});

describe('restarts can only be configured where a restart makes sense', () => {
  test.each(['export', 'import', 'tracking'])('%s: config error', (module) => {
    const text = YAML.stringify({ campaign: { installDir: sim.installDir }, modules: { [module]: { restarts: { restart: true } } } });
    expect(() => parseConfig(plugins, text, 'agent.yaml')).toThrow(ConfigError);
    try {
      parseConfig(plugins, text, 'agent.yaml');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([expect.stringContaining(`agent.yaml: modules.${module}.restarts: automatic restarts are not available here: ${module} is an on-demand`)]);
    }
  });

  test('the CLI refuses such a config (exit 2, the reason on stderr)', async () => {
    const file = path.join(sim.root, 'export-remediation.yaml');
    await writeFile(file, YAML.stringify({ campaign: { installDir: sim.installDir }, modules: { export: { restarts: { restart: true } } } }));
    const result = await runCli(['config', 'check', '--config', file]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`modules.export.restarts: automatic restarts are not available here: export is an on-demand utility`);
  });
});
