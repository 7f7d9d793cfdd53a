import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { plugins } from '../../../probes/index.js';
import { Agent } from '../../../src/agent/agent.js';
import { parseConfig } from '../../../src/config/load.js';
import { buildPlan } from '../../../src/core/plan.js';
import { checkId } from '../../../src/core/runner.js';
import { discoverInstall } from '../../../src/discovery/index.js';
import { silentLogger } from '../../../src/util/logger.js';
import type { CycleSnapshot } from '../../../src/core/contracts.js';

let installDir: string;

beforeAll(async () => {
  installDir = await mkdtemp(path.join(os.tmpdir(), 'plan-'));
  await mkdir(path.join(installDir, 'conf'));
  await mkdir(path.join(installDir, 'var', 'prod', 'redir', 'log'), { recursive: true });
  await writeFile(path.join(installDir, 'conf', 'serverConf.xml'), '<serverconf><web httpPort="18080" controlPort="18005"/></serverconf>');
  await writeFile(path.join(installDir, 'conf', 'config-default.xml'), '<serverconf><web args="-tomcat" autoStart="true"/><trackinglogd _autoStart="true"/></serverconf>');
  await writeFile(path.join(installDir, 'conf', 'config-prod.xml'), '<serverconf><mta autoStart="true"/></serverconf>');
});

afterAll(async () => {
  await rm(installDir, { recursive: true, force: true });
});

const config = (yaml = '') => parseConfig(plugins, `campaign: {installDir: ${installDir}}\n${yaml}`, 'test.yaml');

describe('plan', () => {
  test('rows follow autoStart; watchdog and syslogd are always expected', async () => {
    const plan = buildPlan(plugins, config(), await discoverInstall({ installDir }));
    expect(plan.map((row) => [row.key, row.enabled])).toEqual([
      ['watchdog@default', true],
      ['syslogd@default', true],
      ['web@default', true],
      ['trackinglogd@default', false],
      ['mta@prod', true],
      ['stat@prod', false],
      ['inMail@prod', false],
      ['wfserver@prod', false],
      ['export@prod', false],
      ['import@prod', false],
      ['tracking@prod', false],
      // No nlserver binary in this install: Campaign's view is off, the row says so.
      ['nlserver@default', false],
      ['system@default', true],
    ]);
    expect(plan.find((row) => row.key === 'stat@prod')?.note).toBe('not enabled on this host (no autoStart="true" for stat in config-prod.xml or serverConf.xml)');
    expect(plan.find((row) => row.key === 'export@prod')?.note).toBe('no log/export.log in var/prod and no job configured (modules.export.jobs); export is not a resident process');
    expect(plan.find((row) => row.module === 'trackinglogd')?.note).toBe('not enabled on this host (no autoStart="true" for trackinglogd in config-default.xml or serverConf.xml)');
    expect(plan.find((row) => row.module === 'web')?.note).toBe('enabled by autoStart in config-default.xml');
    expect(plan.find((row) => row.module === 'watchdog')?.note).toBe('expected on every Campaign server');
  });

  test('web checks use the ports from serverConf.xml', async () => {
    const web = buildPlan(plugins, config(), await discoverInstall({ installDir })).find((row) => row.module === 'web')!;
    expect(web.checks.map((check) => check.name)).toEqual(['process', 'monitor_missing', 'memory', 'log_errors', 'http_port', 'control_port', 'r_test', 'soap']);
    const agent = new Agent({ config: config(), plugins, log: silentLogger, snapshotFactory: () => ({ processes: async () => [], sockets: async () => [] }) });
    await agent.runCycle(new Set(['web@default']));
    const status = agent.store.get('web@default')!;
    expect(status.checks.find((check) => check.name === 'http_port')?.message).toContain('port 18080');
    expect(status.checks.find((check) => check.name === 'r_test')?.message).toContain('http://127.0.0.1:18080/r/test');
  });

  test('enabled: true and false override discovery', async () => {
    const plan = buildPlan(plugins, config('modules: {trackinglogd: {enabled: true}, watchdog: {enabled: false}}'), await discoverInstall({ installDir }));
    const trackinglogd = plan.find((row) => row.module === 'trackinglogd')!;
    expect(trackinglogd).toMatchObject({ enabled: true, note: 'enabled by modules.trackinglogd.enabled: true' });
    expect(trackinglogd.checks.map((check) => checkId(check.name, check.labels))).toEqual(['process', 'monitor_missing', 'memory', 'log_errors', 'redir_log{redir_instance="prod"}']);
    expect(plan.find((row) => row.module === 'watchdog')).toMatchObject({ enabled: false, note: 'disabled by modules.watchdog.enabled: false' });
  });

  test('schedule precedence: module, then defaults, then the probe', async () => {
    const install = await discoverInstall({ installDir });
    const schedules = (yaml: string) => Object.fromEntries(buildPlan(plugins, config(yaml), install).map((row) => [row.module, row.schedule]));
    expect(schedules('').web).toBe('*/30 * * * * *');
    expect(schedules('defaults: {schedule: "*/5 * * * * *"}').web).toBe('*/5 * * * * *');
    const both = schedules('defaults: {schedule: "*/5 * * * * *"}\nmodules: {web: {schedule: "0 * * * * *"}}');
    expect(both).toMatchObject({ web: '0 * * * * *', watchdog: '*/5 * * * * *' });
  });

  test('a missing install blocks auto rows with the discovery problem; explicit rows still run', async () => {
    const missing = parseConfig(plugins, 'campaign: {installDir: /nowhere/nl6}\nmodules: {watchdog: {enabled: true}}', 'test.yaml');
    const plan = buildPlan(plugins, missing, await discoverInstall({ installDir: '/nowhere/nl6' }));
    expect(plan.find((row) => row.module === 'web')?.blocked).toBe('Campaign install not found: /nowhere/nl6 does not exist (set campaign.installDir)');
    const watchdog = plan.find((row) => row.module === 'watchdog')!;
    expect(watchdog.enabled).toBe(true);
    expect(watchdog.blocked).toBeUndefined();
    expect(watchdog.checks.map((check) => check.name)).toEqual(['process', 'monitor_missing', 'memory', 'log_errors']);
  });
});

describe('agent cycle', () => {
  test('one cycle reads the process and socket tables once, however many modules run', async () => {
    let processReads = 0;
    let socketReads = 0;
    let snapshots = 0;
    const snapshotFactory = (): CycleSnapshot => {
      snapshots += 1;
      let processes: Promise<never[]> | undefined;
      let sockets: Promise<never[]> | undefined;
      return {
        processes: () => (processes ??= (processReads++, Promise.resolve([]))),
        sockets: () => (sockets ??= (socketReads++, Promise.resolve([]))),
      };
    };
    let now = 1_000_000;
    const agent = new Agent({ config: config(), plugins, log: silentLogger, snapshotFactory, now: () => now });
    await agent.runCycle();
    expect([snapshots, processReads, socketReads]).toEqual([1, 1, 1]);
    expect(agent.store.all().filter((row) => row.lastRun !== undefined).map((row) => row.key)).toEqual([
      'watchdog@default',
      'syslogd@default',
      'web@default',
      'mta@prod',
      'system@default',
    ]);
    now += 30_000;
    await agent.runCycle();
    expect([snapshots, processReads, socketReads]).toEqual([2, 2, 2]);
  });
});
