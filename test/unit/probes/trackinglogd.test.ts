import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { plugins } from '../../../probes/index.js';
import { Agent } from '../../../src/agent/agent.js';
import { parseConfig } from '../../../src/config/load.js';
import { buildPlan } from '../../../src/core/plan.js';
import { checkId } from '../../../src/core/runner.js';
import { discoverInstall } from '../../../src/discovery/index.js';
import { statusDocument } from '../../../src/output/status.js';
import { silentLogger } from '../../../src/util/logger.js';

// trackinglogd is one process per machine (row trackinglogd@default) but watches one redir/log
// directory per Campaign instance. Each is a check named `redir_log` with the label redir_instance:
// the instance is a label value, never part of a check name, and the checks stay apart everywhere.

// Two names that one label-safe check name (redir_log_acme_prod) could not tell apart.
const INSTANCES = ['acme-prod', 'acme_prod'];
let installDir: string;

beforeAll(async () => {
  installDir = await mkdtemp(path.join(os.tmpdir(), 'trackinglogd-'));
  await mkdir(path.join(installDir, 'conf'));
  await writeFile(path.join(installDir, 'conf', 'serverConf.xml'), '<serverconf/>');
  await writeFile(path.join(installDir, 'conf', 'config-default.xml'), '<serverconf><trackinglogd autoStart="true"/></serverconf>');
  for (const instance of INSTANCES) {
    await writeFile(path.join(installDir, 'conf', `config-${instance}.xml`), '<serverconf/>');
    await mkdir(path.join(installDir, 'var', instance, 'redir', 'log'), { recursive: true });
  }
});

afterAll(async () => {
  await rm(installDir, { recursive: true, force: true });
});

const yaml = () => `campaign: {installDir: ${installDir}, nlserverView: false}\nmodules: {system: {enabled: false}}\n`;

describe('trackinglogd: one redir_log check per Campaign instance', () => {
  test('one check name, the instance in the redir_instance label, declared by the plugin', async () => {
    const plan = buildPlan(plugins, parseConfig(plugins, yaml(), 'test.yaml'), await discoverInstall({ installDir }));
    const row = plan.find((candidate) => candidate.key === 'trackinglogd@default')!;
    expect(row.plugin.checkLabels).toEqual(['redir_instance']);
    const redir = row.checks.filter((check) => check.name === 'redir_log');
    expect(redir.map((check) => check.labels)).toEqual(INSTANCES.map((instance) => ({ redir_instance: instance })));
    expect(redir.map((check) => checkId(check.name, check.labels))).toEqual(['redir_log{redir_instance="acme-prod"}', 'redir_log{redir_instance="acme_prod"}']);
    // No check name of any row carries an instance name.
    for (const candidate of plan) {
      for (const check of candidate.checks) for (const instance of INSTANCES) expect(check.name).not.toContain(instance.replace('-', '_'));
    }
  });

  test('series, memory and /status keep the two apart', async () => {
    let offsetMs = 0;
    const agent = new Agent({ config: parseConfig(plugins, yaml(), 'test.yaml'), plugins, log: silentLogger, now: () => Date.now() + offsetMs });
    await agent.refresh();
    const log = path.join(installDir, 'var', 'acme_prod', 'redir', 'log', '0x0000000000000001.log');
    await writeFile(log, 'first click\n');
    const key = new Set(['trackinglogd@default']);
    await agent.runCycle(key);
    // Ten minutes later, only acme_prod's log has grown: acme-prod has had no file for ten minutes.
    offsetMs = 10 * 60_000;
    await appendFile(log, 'second click\n');
    await agent.runCycle(key);

    const text = await agent.metrics.registry.metrics();
    const growth = (instance: string): number => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`campaign_file_growth_age_seconds{module="trackinglogd",campaign_instance="default",check="redir_log",redir_instance="${instance}"} `));
      expect(line).toBeDefined();
      return Number(line!.split(' ')[1]);
    };
    expect(growth('acme_prod')).toBeLessThan(60);
    expect(growth('acme-prod')).toBeGreaterThanOrEqual(600);
    for (const instance of INSTANCES) {
      expect(text).toContain(`campaign_check_success{module="trackinglogd",campaign_instance="default",check="redir_log",redir_instance="${instance}"} 1`);
    }
    // Checks without labels of their own have no redir_instance, not an empty one.
    expect(text).toMatch(/^campaign_check_success\{module="trackinglogd",campaign_instance="default",check="process"\} 0$/m);
    expect(text).not.toContain('redir_instance=""');

    const doc = statusDocument(agent.store.all(), { version: 'test', startedAt: 0 }, Date.now());
    const checks = doc.modules.find((entry) => entry.module === 'trackinglogd')!.checks;
    expect(checks.filter((check) => check.name === 'redir_log').map((check) => [check.labels, check.message.split(' ')[0]])).toEqual([
      [{ redir_instance: 'acme-prod' }, 'no'],
      [{ redir_instance: 'acme_prod' }, 'newest'],
    ]);
    expect(checks.find((check) => check.name === 'process')).not.toHaveProperty('labels');
  });
});
