import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { plugins } from '../../probes/index.js';
import { Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/util/logger.js';
import { SimulatedHost } from '../sim/host.js';
import { check, notLooked, row, runCli, type StatusDoc } from './helpers.js';

// The nlserver view against the simulated host's stand-in CLI: missing, hanging, garbage, French
// units; then a frontal-only host; then the daily-restart window with an injected clock.
let sim: SimulatedHost;
let config: string;

async function checkJson(configFile: string, ...extra: string[]): Promise<{ exitCode: number | undefined; doc: StatusDoc; stderr: string }> {
  const result = await runCli(['check', '--config', configFile, '--format', 'json', ...extra]);
  if (result.stdout === '') throw new Error(`no output; stderr:\n${result.stderr}`);
  return { exitCode: result.exitCode, doc: JSON.parse(result.stdout) as StatusDoc, stderr: result.stderr };
}

const MODULES = ['--module', 'nlserver', '--module', 'mta', '--module', 'web'];

beforeAll(async () => {
  // Campaign's default restart time: the daily-restart test below sets the clock around it.
  sim = await SimulatedHost.start({ instances: ['prod'], trackingIntervalMs: 200, processRestartTime: '06:00:00' });
  // nlserver gets 4 s (the hanging test waits for it), checks 20 s: only a hung nlserver times out, however loaded the machine.
  config = await sim.writeAgentConfig({ defaults: { timeout: '20s' }, campaign: { nlserverTimeout: '4s' }, modules: { system: { enabled: false } } });
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe('the nlserver view', () => {
  test('French units (Mo) read as megabytes', async () => {
    await sim.setControl({ pdumpUnit: 'Mo' });
    try {
      const { doc } = await checkJson(config, ...MODULES);
      expect(check(doc, 'nlserver', 'pdump').state).toBe('ok');
      expect(check(doc, 'mta', 'memory', 'prod').message).toMatch(/^mta@prod uses [\d.]+ MiB \(nlserver pdump\)$/);
    } finally {
      await sim.setControl({ pdumpUnit: 'MB' });
    }
  });

  test('hanging nlserver: the view is unknown after its timeout, modules fall back to the process table', async () => {
    await sim.setControl({ nlserverMode: 'hang' });
    try {
      const { doc } = await checkJson(config, ...MODULES);
      expect(row(doc, 'nlserver').state).toBe('unknown');
      expect(check(doc, 'nlserver', 'pdump').message).toMatch(/^nlserver pdump failed: nlserver timed out after 4000 ms/);
      expect(row(doc, 'mta', 'prod').state).toBe('ok');
      expect(check(doc, 'mta', 'memory', 'prod').message).toContain('from /proc (nlserver pdump failed (nlserver timed out after 4000 ms))');
      // Without Campaign's list, monitor_missing could not look: no verdict, the reason in notLooked.
      expect(notLooked(doc, 'mta', 'monitor_missing', 'prod').message).toBe('not looked: nlserver monitor -missing failed (nlserver timed out after 4000 ms)');
    } finally {
      await sim.setControl({ nlserverMode: 'normal' });
    }
  });

  test('garbage output: not a crash, the view says what it got', async () => {
    await sim.setControl({ nlserverMode: 'garbage' });
    try {
      const { doc } = await checkJson(config, ...MODULES);
      expect(check(doc, 'nlserver', 'pdump').state).toBe('unknown');
      expect(check(doc, 'nlserver', 'pdump').message).toMatch(/^nlserver pdump failed: printed nothing of the documented shape: #~ /);
      expect(row(doc, 'web').state).toBe('ok');
    } finally {
      await sim.setControl({ nlserverMode: 'normal' });
    }
  });

  test('nlserver failing with an error exit: unknown, with its stderr', async () => {
    await sim.setControl({ nlserverMode: 'fail' });
    try {
      const { doc } = await checkJson(config, ...MODULES);
      expect(check(doc, 'nlserver', 'monitor_missing').message).toMatch(/failed: exited with code 1: .*unable to connect to the watchdog/);
    } finally {
      await sim.setControl({ nlserverMode: 'normal' });
    }
  });

  test('10 MB of output is cut, not buffered', async () => {
    await sim.setControl({ nlserverMode: 'huge' });
    try {
      const { doc } = await checkJson(config, ...MODULES);
      expect(check(doc, 'nlserver', 'pdump').message).toMatch(/output exceeded 262144 bytes/);
    } finally {
      await sim.setControl({ nlserverMode: 'normal' });
    }
  });

  test('no nlserver binary: the view row is disabled, modules say they use the process table', async () => {
    const noBinary = await sim.writeAgentConfig({ campaign: { nlserver: '/nonexistent/bin/nlserver' }, modules: { system: { enabled: false } } }, 'no-nlserver.yaml');
    const { doc, exitCode } = await checkJson(noBinary, ...MODULES);
    expect(row(doc, 'nlserver').state).toBe('disabled');
    expect(notLooked(doc, 'mta', 'monitor_missing', 'prod').message).toBe('not looked: no executable nlserver at /nonexistent/bin/nlserver');
    expect(exitCode).toBe(0);
  });

  test('nlserverView: true with no binary is unknown, not silently off', async () => {
    const forced = await sim.writeAgentConfig({ campaign: { nlserver: '/nonexistent/bin/nlserver', nlserverView: true }, modules: { system: { enabled: false } } }, 'forced.yaml');
    const { doc } = await checkJson(forced, '--module', 'nlserver');
    expect(check(doc, 'nlserver', 'pdump')).toMatchObject({ state: 'unknown' });
    expect(check(doc, 'nlserver', 'pdump').message).toContain('/nonexistent/bin/nlserver not found');
  });
});

describe('daily restart grace (clock injected)', () => {
  test('a module missing at 06:02 is a warning; once the grace (5m) is over, critical', async () => {
    const { config: agentConfig } = await loadConfig(plugins, config);
    const at = (hh: number, mm: number) => new Date(2026, 10, 25, hh, mm, 0).getTime();
    await sim.kill('wfserver', 'prod');
    try {
      let now = at(6, 2);
      const agent = new Agent({ config: agentConfig, plugins, log: silentLogger, now: () => now });
      await agent.refresh();
      await agent.runCycle(new Set(['wfserver@prod']));
      const during = agent.store.get('wfserver@prod')!;
      expect(during.state).toBe('warning');
      expect(during.detail).toContain('(daily restart at 06:00:00, grace 5m: warning, not critical)');
      // Runs every 30 s, as scheduled (a longer gap would make the result stale, which is another story).
      const stateAt = async (hh: number, mm: number, ss: number) => {
        now = at(hh, mm) + ss * 1000;
        await agent.runCycle(new Set(['wfserver@prod']));
        return agent.store.get('wfserver@prod')!.state;
      };
      for (const [mm, ss] of [[2, 30], [3, 0], [3, 30], [4, 0], [4, 30], [5, 0]] as const) expect(await stateAt(6, mm, ss)).toBe('warning');
      // Past the grace: failuresBeforeCritical (2) means one more warning run, then critical.
      expect(await stateAt(6, 5, 30)).toBe('warning');
      expect(await stateAt(6, 6, 0)).toBe('critical');
    } finally {
      await sim.startModule('wfserver', 'prod');
    }
  });
});

describe('a frontal-only host (web and trackinglogd, no mta)', () => {
  let frontal: SimulatedHost;
  afterAll(async () => {
    await frontal?.stop();
  });

  test('zero false alarms: no row fails, the instance modules are disabled', async () => {
    frontal = await SimulatedHost.start({ instances: ['prod'], instanceModules: { mta: false, stat: false, inMail: false, wfserver: false }, trackingIntervalMs: 200 });
    const frontalConfig = await frontal.writeAgentConfig({ modules: { system: { enabled: false }, trackinglogd: { growthWarning: '5s', growthCritical: '10s' } } });
    const { exitCode, doc } = await checkJson(frontalConfig);
    const failing = doc.modules.filter((entry) => entry.state !== 'ok' && entry.state !== 'disabled');
    expect(failing).toEqual([]);
    expect(doc.modules.filter((entry) => entry.state === 'ok').map((entry) => entry.module)).toEqual(['watchdog', 'syslogd', 'web', 'trackinglogd', 'nlserver']);
    expect(row(doc, 'mta', 'prod').detail).toBe('not enabled on this host (no autoStart="true" for mta in config-prod.xml or serverConf.xml)');
    expect(exitCode).toBe(0);
  }, 120_000);
});
