import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { plugins } from '../../probes/index.js';
import { Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/config/load.js';
import type { AgentConfig } from '../../src/config/schema.js';
import type { RowStatus } from '../../src/core/store.js';
import { silentLogger } from '../../src/util/logger.js';
import { projectRoot } from '../../src/util/paths.js';
import { SimulatedHost } from '../sim/host.js';

// The conf files as the agent finds them on a live simulated host: Adobe's `<serverConf>` sample shape
// reads fine; a conf file the agent cannot read, or a port it cannot read, makes the rows that depend
// on it unknown naming the file or attribute, and no default port is probed (the sim counts every
// connection to its web ports). The files are rewritten between tests and restored after each.
const INSTANCE = 'evconf';
const SAMPLE = path.join(projectRoot(), 'test', 'fixtures', 'conf', 'serverConf.xml.sample');
const MODULE_ROWS = ['web@default', 'syslogd@default', 'watchdog@default', 'trackinglogd@default', ...['mta', 'wfserver', 'inMail', 'stat'].map((m) => `${m}@${INSTANCE}`)];

let sim: SimulatedHost;
let config: AgentConfig;
let conf: string;
const originals = new Map<string, string>();

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: [INSTANCE] });
  conf = path.join(sim.installDir, 'conf');
  for (const name of ['serverConf.xml', 'config-default.xml', `config-${INSTANCE}.xml`]) originals.set(name, await readFile(path.join(conf, name), 'utf8'));
  const file = await sim.writeAgentConfig({ modules: { system: { enabled: false }, trackinglogd: { growthWarning: '1h', growthCritical: '6h' } } });
  ({ config } = await loadConfig(plugins, file));
}, 60_000);

afterEach(async () => {
  for (const [name, text] of originals) {
    await rm(path.join(conf, name), { recursive: true, force: true });
    await writeFile(path.join(conf, name), text);
  }
});

afterAll(async () => {
  await sim?.stop();
});

async function runAll(): Promise<Map<string, RowStatus>> {
  const agent = new Agent({ config, plugins, log: silentLogger });
  await agent.refresh();
  await agent.runCycle();
  return new Map(agent.store.all().map((row) => [row.key, row]));
}

describe('conf files', () => {
  test("Adobe's <serverConf> sample as serverConf.xml, the instance configs switching modules on, reads fine", async () => {
    await copyFile(SAMPLE, path.join(conf, 'serverConf.xml'));
    // The sample ships every module autoStart="false" and web on 8080/8005, stat port="": the
    // machine's config-default.xml gives the real ports, as a site's would.
    await writeFile(
      path.join(conf, 'config-default.xml'),
      [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<serverconf>',
        `  <web autoStart="true" httpPort="${sim.ports.http}" controlPort="${sim.ports.control}"/>`,
        '  <trackinglogd autoStart="true"/>',
        `  <stat port="${sim.ports.stat}"/>`,
        '</serverconf>',
        '',
      ].join('\n'),
    );
    const before = await sim.webConnections();
    const rows = await runAll();
    const notOk = MODULE_ROWS.map((key) => rows.get(key)!).filter((row) => row.state !== 'ok').map((row) => `${row.key} ${row.state}: ${row.detail}`);
    expect(notOk).toEqual([]);
    const web = rows.get('web@default')!;
    expect(web.checks.find((c) => c.name === 'http_port')?.message).toContain(String(sim.ports.http));
    // r_test and soap reached the sim's web.
    expect(await sim.webConnections()).toBeGreaterThan(before);
  }, 30_000);

  test.each([
    ['a directory in place of serverConf.xml', async () => {
      await rm(path.join(conf, 'serverConf.xml'));
      await mkdir(path.join(conf, 'serverConf.xml'));
    }],
    ['malformed XML in serverConf.xml', async () => {
      await writeFile(path.join(conf, 'serverConf.xml'), originals.get('serverConf.xml')!.replace('</serverconf>', '</serverconf'));
    }],
  ])('%s: every module row unknown naming the file, no port probed', async (_what, breakIt) => {
    await breakIt();
    const before = await sim.webConnections();
    const rows = await runAll();
    for (const key of MODULE_ROWS) {
      const row = rows.get(key)!;
      expect({ key, state: row.state }).toEqual({ key, state: 'unknown' });
      expect(row.detail).toContain('serverConf.xml');
      // Nothing was checked: no guess at autoStart or at Campaign's default ports.
      expect(row.checks).toEqual([]);
    }
    expect(await sim.webConnections()).toBe(before);
  }, 30_000);

  test('a placeholder in web httpPort and junk in stat port: those rows unknown naming the attribute, no default port probed', async () => {
    await writeFile(
      path.join(conf, 'config-default.xml'),
      originals.get('config-default.xml')!.replace('<web ', '<web httpPort="$(HTTP_PORT)" '),
    );
    await writeFile(path.join(conf, `config-${INSTANCE}.xml`), originals.get(`config-${INSTANCE}.xml`)!.replace(/<stat [^>]*\/>/, '<stat autoStart="true" port="77x7"/>'));
    const before = await sim.webConnections();
    const rows = await runAll();
    const web = rows.get('web@default')!;
    expect(web.state).toBe('unknown');
    expect(web.detail).toContain('<web httpPort="$(HTTP_PORT)"> holds a placeholder the agent cannot resolve');
    expect(web.checks).toEqual([]);
    const stat = rows.get(`stat@${INSTANCE}`)!;
    expect(stat.state).toBe('unknown');
    expect(stat.detail).toContain('<stat port="77x7">: expected a whole number from 1 to 65535');
    expect(await sim.webConnections()).toBe(before);
    // The other rows are unaffected.
    expect(rows.get(`mta@${INSTANCE}`)!.state).toBe('ok');
  }, 30_000);
});
