import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SimulatedHost } from '../sim/host.js';
import { check, durationMs, notLooked, row, runCli, type StatusDoc } from './helpers.js';

// One simulated host with three instances and every module; each test breaks one thing and repairs
// it. The `system` row depends on the machine running the tests, so it has its own tests.
let sim: SimulatedHost;
let config: string;
/** When beforeAll wrote the export job's file, dated 60 s back. */
let exportWrittenAt: number;

async function checkJson(configFile: string, ...extra: string[]): Promise<{ exitCode: number | undefined; doc: StatusDoc }> {
  const result = await runCli(['check', '--config', configFile, '--format', 'json', ...extra]);
  if (result.stdout === '') throw new Error(`no output; stderr:\n${result.stderr}`);
  return { exitCode: result.exitCode, doc: JSON.parse(result.stdout) as StatusDoc };
}

const states = (doc: StatusDoc) => doc.modules.map((entry) => `${entry.module}@${entry.instance}=${entry.state}`);

/** Writes a file dated `ageMs` back; returns when (so the age a later check reports is bounded). */
async function jobFile(dir: string, name: string, ageMs: number, content = 'id;email\n1;a@example.com\n'): Promise<number> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, content);
  const writtenAt = Date.now();
  const when = new Date(writtenAt - ageMs);
  await utimes(file, when, when);
  return writtenAt;
}

/**
 * `message` matches `pattern`, whose group is the age shown: at least `ageMs` (how old the file was
 * made) and at most that plus the time since `writtenAt` (when it was made so; the check ran since).
 */
function expectAge(message: string, pattern: RegExp, ageMs: number, writtenAt: number): void {
  expect(message).toMatch(pattern);
  const shown = durationMs(pattern.exec(message)![1]!);
  expect(shown).toBeGreaterThanOrEqual(ageMs);
  expect(shown).toBeLessThanOrEqual(ageMs + (Date.now() - writtenAt));
}

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: ['prod', 'staging', 'test'], trackingIntervalMs: 200 });
  const exportDir = path.join(sim.varDir, 'prod', 'export');
  exportWrittenAt = await jobFile(exportDir, 'recipients_20261125.csv', 60_000);
  await jobFile(path.join(sim.varDir, 'staging', 'upload'), 'crm.csv', 60_000);
  await jobFile(path.join(sim.root, 'tracking-runs', 'prod'), 'tracking.log', 60_000, 'consolidation done\n');
  config = await sim.writeAgentConfig({
    defaults: { timeout: '20s' },
    modules: {
      system: { enabled: false },
      trackinglogd: { growthWarning: '5s', growthCritical: '10s' },
      export: { jobs: [{ name: 'recipients', instance: 'prod', glob: 'recipients_*.csv', maxAge: '1h' }] },
      import: { jobs: [{ name: 'crm', instance: 'staging', glob: '*.csv', maxAge: '1h', errorPattern: '\\berror\\b' }] },
      tracking: {
        jobs: [{ name: 'consolidation', instance: 'prod', path: path.join(sim.root, 'tracking-runs', '{instance}'), glob: '*.log', maxAge: '2h' }],
        redirectionUrl: { prod: `http://127.0.0.1:${sim.ports.http}` },
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe('a three-instance host, all modules', () => {
  test('zero false alarms: every row ok or disabled, one row per instance for instance modules', async () => {
    const { exitCode, doc } = await checkJson(config);
    expect(states(doc)).toEqual([
      'watchdog@default=ok',
      'syslogd@default=ok',
      'web@default=ok',
      'trackinglogd@default=ok',
      ...['mta', 'stat', 'inMail', 'wfserver'].flatMap((module) => ['prod', 'staging', 'test'].map((instance) => `${module}@${instance}=ok`)),
      'export@prod=ok',
      'export@staging=disabled',
      'export@test=disabled',
      'import@prod=disabled',
      'import@staging=ok',
      'import@test=disabled',
      'tracking@prod=ok',
      'tracking@staging=disabled',
      'tracking@test=disabled',
      'nlserver@default=ok',
      'system@default=disabled',
    ]);
    expect(exitCode).toBe(0);
    expect(row(doc, 'mta', 'staging').checks.map((entry) => entry.name)).toEqual(['process', 'monitor_missing', 'memory', 'log_errors', 'log']);
    // The mtachild count is a value, not a verdict: listed as not looked, never ok.
    expect(row(doc, 'mta', 'staging').notLooked?.map((entry) => entry.name)).toEqual(['children']);
    expect(row(doc, 'wfserver', 'prod').checks.map((entry) => entry.name)).toEqual(['process', 'monitor_missing', 'memory', 'log_errors', 'log', 'process_age']);
    expect(check(doc, 'stat', 'udp_port', 'test').message).toContain(String(sim.statPorts.test));
    expect(check(doc, 'web', 'memory').message).toMatch(/web uses [\d.]+ MiB \(nlserver pdump\)/);
    expect(check(doc, 'nlserver', 'pdump').message).toMatch(/^nlserver pdump: \d+ tasks in /);
    // 60 s old when written, read by the check some (machine-dependent) time later: `1m ago`, `1m 3s ago`, ...
    expectAge(check(doc, 'export', 'job_recipients', 'prod').message, /^recipients_20261125\.csv written (.+) ago$/, 60_000, exportWrittenAt);
    expect(check(doc, 'tracking', 'r_test', 'prod').state).toBe('ok');
    expect(row(doc, 'export', 'staging').detail).toContain('no job configured (modules.export.jobs)');
  });

  test('mta@staging killed: only that row is critical, with its hint; monitor -missing agrees', async () => {
    await sim.kill('mta', 'staging');
    try {
      const { exitCode, doc } = await checkJson(config);
      expect(row(doc, 'mta', 'staging')).toMatchObject({ state: 'critical', remediation: 'Check this module if mails are no longer being sent.' });
      expect(check(doc, 'mta', 'process', 'staging').state).toBe('critical');
      expect(check(doc, 'mta', 'monitor_missing', 'staging')).toMatchObject({ state: 'critical', message: 'mta@staging listed by nlserver monitor -missing (autoStart is on but it is not running)' });
      expect(row(doc, 'mta', 'prod').state).toBe('ok');
      expect(row(doc, 'mta', 'test').state).toBe('ok');
      expect(exitCode).toBe(2);
    } finally {
      await sim.startModule('mta', 'staging');
    }
  });

  test('stat@test killed: process and UDP port critical', async () => {
    await sim.kill('stat', 'test');
    try {
      const { doc } = await checkJson(config, '--module', 'stat');
      expect(row(doc, 'stat', 'test').state).toBe('critical');
      expect(check(doc, 'stat', 'udp_port', 'test').state).toBe('critical');
      expect(row(doc, 'stat', 'prod').state).toBe('ok');
    } finally {
      await sim.startModule('stat', 'test');
    }
  });

  test('inMail@prod killed, then wfserver@prod: critical with their own hints', async () => {
    await sim.kill('inMail', 'prod');
    await sim.kill('wfserver', 'prod');
    try {
      const { doc } = await checkJson(config, '--module', 'inMail', '--module', 'wfserver');
      expect(row(doc, 'inMail', 'prod')).toMatchObject({ state: 'critical', remediation: 'Check this module if bounce mails are no longer forwarded.' });
      expect(row(doc, 'wfserver', 'prod').state).toBe('critical');
      expect(row(doc, 'wfserver', 'prod').remediation).toMatch(/^If you encounter any problems, restart this module\./);
      expect(row(doc, 'inMail', 'staging').state).toBe('ok');
    } finally {
      await sim.startModule('inMail', 'prod');
      await sim.startModule('wfserver', 'prod');
    }
  });

  test('mta children are counted per instance', async () => {
    await sim.setControl({ mtaChildren: 2 });
    try {
      const { doc } = await (async () => {
        for (let attempt = 0; ; attempt++) {
          const result = await checkJson(config, '--module', 'mta');
          if (notLooked(result.doc, 'mta', 'children', 'prod').message.startsWith('2 ') || attempt > 20) return result;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      expect(notLooked(doc, 'mta', 'children', 'prod').message).toBe('2 mtachild processes for prod (counted, not judged)');
      expect(row(doc, 'mta', 'prod').state).toBe('ok');
    } finally {
      await sim.setControl({ mtaChildren: 0 });
    }
  });

  test('export job without fresh output, import job whose output reports an error: critical with their hints', async () => {
    const exportDir = path.join(sim.varDir, 'prod', 'export');
    const writtenAt = await jobFile(exportDir, 'recipients_20261125.csv', 3 * 3_600_000);
    await jobFile(path.join(sim.varDir, 'staging', 'upload'), 'crm.csv', 1000, 'started\nerror: IMP-398 duplicate key\n');
    try {
      const { doc } = await checkJson(config, '--module', 'export', '--module', 'import');
      expect(row(doc, 'export', 'prod')).toMatchObject({
        state: 'critical',
        remediation: 'The operator who scheduled this export needs to re-launch it. Either delta or full re-launch.',
      });
      expectAge(check(doc, 'export', 'job_recipients', 'prod').message, /^recipients_20261125\.csv written (.+) ago, older than 1h$/, 3 * 3_600_000, writtenAt);
      expect(row(doc, 'import', 'staging').state).toBe('critical');
      expect(check(doc, 'import', 'job_crm', 'staging').message).toContain('IMP-398 duplicate key');
    } finally {
      await jobFile(exportDir, 'recipients_20261125.csv', 60_000);
      await jobFile(path.join(sim.varDir, 'staging', 'upload'), 'crm.csv', 60_000);
    }
  });

  test('tracking: redirection server answering KO is critical with the tracking hint', async () => {
    await sim.setControl({ rTest: 'ko' });
    try {
      const { doc } = await checkJson(config, '--module', 'tracking');
      expect(row(doc, 'tracking', 'prod')).toMatchObject({ state: 'critical', remediation: "Check this module if tracking logs aren't forwarded anymore." });
      expect(check(doc, 'tracking', 'r_test', 'prod').state).toBe('critical');
    } finally {
      await sim.setControl({ rTest: 'ok' });
    }
  });

  test('modules switched off by config are disabled, never failing', async () => {
    const off = await sim.writeAgentConfig({ modules: { system: { enabled: false }, mta: { enabled: false }, trackinglogd: { growthWarning: '5s', growthCritical: '10s' } } }, 'off.yaml');
    const { doc } = await checkJson(off, '--module', 'mta');
    expect(states(doc)).toEqual(['mta@prod=disabled', 'mta@staging=disabled', 'mta@test=disabled']);
    expect(row(doc, 'mta', 'prod').detail).toBe('disabled by modules.mta.enabled: false');
  });
});
