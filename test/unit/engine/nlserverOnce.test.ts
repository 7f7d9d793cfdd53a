import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { plugins } from '../../../probes/index.js';
import { Agent } from '../../../src/agent/agent.js';
import { parseConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/util/logger.js';

// A real executable standing in for nlserver that records each run: however many module rows a
// cycle checks, pdump and monitor -missing run once each.
let dir: string;
let calls: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nlserver-once-'));
  calls = path.join(dir, 'calls.log');
  await mkdir(path.join(dir, 'conf'));
  await mkdir(path.join(dir, 'bin'));
  await writeFile(path.join(dir, 'conf', 'serverConf.xml'), '<serverconf/>');
  await writeFile(path.join(dir, 'conf', 'config-default.xml'), '<serverconf><web autoStart="true"/><trackinglogd autoStart="true"/></serverconf>');
  for (const instance of ['a', 'b', 'c']) {
    await writeFile(path.join(dir, 'conf', `config-${instance}.xml`), '<serverconf><mta autoStart="true"/><wfserver autoStart="true"/><inMail autoStart="true"/><stat autoStart="true"/></serverconf>');
  }
  const script = [
    `#!${process.execPath}`,
    "const fs = require('node:fs');",
    `fs.appendFileSync(${JSON.stringify(calls)}, process.argv.slice(2).join(' ') + '\\n');`,
    "console.log('Application server for Adobe Campaign Classic (7.3) of 01/03/2024');",
    "if (process.argv[2] === 'pdump') console.log('watchdog (1) - 3.1 MB');",
  ].join('\n');
  await writeFile(path.join(dir, 'bin', 'nlserver'), script);
  await chmod(path.join(dir, 'bin', 'nlserver'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the nlserver view', () => {
  test('one cycle over every row of a three-instance host runs pdump and monitor -missing once each', async () => {
    const config = parseConfig(plugins, `campaign: {installDir: ${dir}}\nmodules: {system: {enabled: false}}`, 'test.yaml');
    const agent = new Agent({ config, plugins, log: silentLogger });
    await agent.refresh();
    const checked = agent.rows().filter((row) => row.enabled && !row.blocked);
    expect(checked.length).toBeGreaterThanOrEqual(17);
    await agent.runCycle();
    expect((await readFile(calls, 'utf8')).trim().split('\n').sort()).toEqual(['monitor -missing', 'pdump']);
    expect(agent.store.get('nlserver@default')?.state).toBe('ok');
  });

  test('campaign.nlserverView: false runs no command at all', async () => {
    await rm(calls, { force: true });
    const config = parseConfig(plugins, `campaign: {installDir: ${dir}, nlserverView: false}\nmodules: {system: {enabled: false}}`, 'test.yaml');
    const agent = new Agent({ config, plugins, log: silentLogger });
    await agent.runCycle();
    await expect(readFile(calls, 'utf8')).rejects.toThrow('ENOENT');
    expect(agent.store.get('nlserver@default')?.state).toBe('disabled');
    // monitor_missing could not look: left out of the verdicts, its reason in the row's detail.
    const mta = agent.store.get('mta@a');
    expect(mta?.checks.map((check) => check.name)).not.toContain('monitor_missing');
    expect(mta?.notLooked.find((check) => check.name === 'monitor_missing')?.message).toBe(
      'not looked: nlserver integration switched off (campaign.nlserverView: false)',
    );
    expect(mta?.detail).toContain('monitor_missing: not looked: nlserver integration switched off (campaign.nlserverView: false)');
  });
});
