import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { plugins } from '../../probes/index.js';
import { Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/config/load.js';
import type { AgentConfig } from '../../src/config/schema.js';
import type { RowStatus } from '../../src/core/store.js';
import { statusDocument } from '../../src/output/status.js';
import { silentLogger } from '../../src/util/logger.js';
import { projectRoot } from '../../src/util/paths.js';
import { SimulatedHost } from '../sim/host.js';
import { waitFor } from './helpers.js';

// Evidence wired end to end on a simulated host, the Agent in-process (clock injected where age
// matters): the web row's SOAP Faults and real Logon/Logoff over HTTP, the module logs Campaign writes
// (var/<inst>/log/<module>.log), export/import rows enabled by their log and judged by it and by a
// hung run, and the nlserver view switched off. One host for the file; each test reads rows of its own.
const INSTANCES = ['evida', 'evidb', 'evidc'];
const SOAP_PASSWORD = 'Evidence-Soap-Secret-4410';
const HOUR = 3_600_000;
const SOAP_FIXTURES = path.join(projectRoot(), 'test', 'fixtures', 'soap');

let sim: SimulatedHost;
let config: AgentConfig;
let noViewConfig: AgentConfig;

const fixture = (name: string): Promise<string> => readFile(path.join(SOAP_FIXTURES, name), 'utf8');

/** A fresh Agent (fresh log offsets and memories) running the rows `keys` once or more. */
async function agentFor(options: { now?: () => number; config?: AgentConfig } = {}): Promise<Agent> {
  const agent = new Agent({ config: options.config ?? config, plugins, log: silentLogger, ...(options.now ? { now: options.now } : {}) });
  await agent.refresh();
  return agent;
}

function rowOf(agent: Agent, key: string): RowStatus {
  const found = agent.store.get(key);
  if (!found) throw new Error(`no row ${key}`);
  return found;
}

function checkOf(status: RowStatus, name: string): { state: string; message: string } {
  const found = [...status.checks, ...status.notLooked].find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name} in ${status.key}: ${JSON.stringify(status.checks.map((c) => c.name))}`);
  return found;
}

async function run(agent: Agent, key: string): Promise<RowStatus> {
  await agent.runCycle(new Set([key]));
  return rowOf(agent, key);
}

async function lineCount(file: string): Promise<number> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').length - 1;
}

beforeAll(async () => {
  // Busy logs: every module writes an info line every 50 ms.
  sim = await SimulatedHost.start({ instances: INSTANCES, logIntervalMs: 50, trackingIntervalMs: 200 });
  await sim.setControl({ soap: 'envelope', soapOperator: { login: 'monitoring', password: SOAP_PASSWORD } });
  const passwordFile = path.join(sim.root, 'soap-password');
  await writeFile(passwordFile, `${SOAP_PASSWORD}\n`, { mode: 0o600 });
  const modules = {
    system: { enabled: false },
    trackinglogd: { growthWarning: '1h', growthCritical: '6h' },
    web: { failuresBeforeCritical: 1 },
    wfserver: { logErrors: { ignore: ['XTK-170024'] } },
    inMail: { failuresBeforeCritical: 1, logErrors: { critical: ['PGS-220000'] } },
  };
  const file = await sim.writeAgentConfig({ defaults: { timeout: '5s' }, campaign: { soap: { login: 'monitoring', passwordFile } }, modules });
  ({ config } = await loadConfig(plugins, file));
  const noView = await sim.writeAgentConfig({ defaults: { timeout: '5s' }, campaign: { nlserverView: false }, modules }, 'agent-noview.yaml');
  ({ config: noViewConfig } = await loadConfig(plugins, noView));
}, 60_000);

afterAll(async () => {
  await sim?.stop();
});

describe('no false alarm', () => {
  test('a healthy three-instance host with every module and busy info-level logs is all ok', async () => {
    const agent = await agentFor();
    // Enough log lines to read on the first run, then more appended before the second.
    const mtaLog = sim.logPath('mta', 'evida');
    await waitFor(async () => (await lineCount(mtaLog)) >= 20, 10_000, () => `${mtaLog} never reached 20 lines`);
    await agent.runCycle();
    const before = await lineCount(mtaLog);
    await waitFor(async () => (await lineCount(mtaLog)) >= before + 10, 10_000, () => `${mtaLog} stopped growing`);
    await agent.runCycle();
    const rows = agent.store.all();
    const enabled = rows.filter((row) => row.state !== 'disabled');
    const keys = enabled.map((row) => row.key).sort();
    for (const module of ['mta', 'wfserver', 'inMail', 'stat']) for (const instance of INSTANCES) expect(keys).toContain(`${module}@${instance}`);
    for (const module of ['web', 'syslogd', 'watchdog', 'trackinglogd', 'nlserver']) expect(keys).toContain(`${module}@default`);
    const notOk = enabled.filter((row) => row.state !== 'ok').map((row) => `${row.key} ${row.state}: ${row.detail}`);
    expect(notOk).toEqual([]);
    // Every resident module row looked at its log and found it clean; its lines were read.
    for (const instance of INSTANCES) {
      const logErrors = checkOf(rowOf(agent, `mta@${instance}`), 'log_errors');
      expect(logErrors.state).toBe('ok');
      expect(logErrors.message).toMatch(/^no error in the last 15m; \d+ lines? read/);
    }
    // Utilities without a log are not expected here.
    for (const module of ['export', 'import']) expect(rowOf(agent, `${module}@evida`).state).toBe('disabled');
    const web = rowOf(agent, 'web@default');
    expect(checkOf(web, 'soap')).toMatchObject({ state: 'ok' });
    expect(checkOf(web, 'logon').state).toBe('ok');
    expect(checkOf(web, 'logon').message).toMatch(/^logged on and off as monitoring \(server build 9356\)/);
    expect(JSON.stringify(rows)).not.toContain(SOAP_PASSWORD);
  }, 60_000);
});

describe('web: SOAP Faults and a real Logon', () => {
  afterEach(async () => {
    await sim.setControl({ soapFaults: undefined });
  });

  test('a database Fault (SOP-330011 wrapping PGS-220000) is critical, naming PGS-220000', async () => {
    // The reconstructed PGS-220000 fault, its faultstring prefixed with the SOP-330011 wrapper
    // Campaign puts on a method's failure (as in fault-sop-330011-odb-deadlock.xml).
    const xml = (await fixture('fault-write-pgs-220000.reconstructed.xml')).replace('>Error while executing', '>SOP-330011 Error while executing');
    expect(xml).toContain('SOP-330011');
    await sim.setControl({ soapFaults: { ExecuteQuery: xml } });
    const web = await run(await agentFor(), 'web@default');
    const soap = checkOf(web, 'soap');
    expect(soap.state).toBe('critical');
    expect(soap.message).toMatch(/^SOAP answered a database error: PGS-220000 PostgreSQL error: ERROR: duplicate key/);
    expect(web.state).toBe('critical');
    expect(web.detail).toContain('PGS-220000');
  }, 30_000);

  test('a session Fault (XSV-350008) to the session-less call is ok', async () => {
    await sim.setControl({ soapFaults: { ExecuteQuery: await fixture('fault-xsv-350008-session-expired.reconstructed.xml') } });
    const web = await run(await agentFor(), 'web@default');
    expect(checkOf(web, 'soap')).toMatchObject({ state: 'ok' });
    expect(checkOf(web, 'soap').message).toContain('XSV-350008');
    expect(web.state).toBe('ok');
  }, 30_000);

  test('another Fault (SOP-330006) is a warning quoting it', async () => {
    await sim.setControl({ soapFaults: { ExecuteQuery: await fixture('fault-sop-330006-method-not-defined.sdk.xml') } });
    const web = await run(await agentFor(), 'web@default');
    expect(checkOf(web, 'soap').state).toBe('warning');
    expect(checkOf(web, 'soap').message).toContain('SOP-330006');
  }, 30_000);

  test('a refused Logon is critical: xtk:session error, the password nowhere', async () => {
    await sim.setControl({ soapFaults: { Logon: await fixture('fault-xsv-350012-invalid-login.reconstructed.xml') } });
    const agent = await agentFor();
    const web = await run(agent, 'web@default');
    const logon = checkOf(web, 'logon');
    expect(logon.state).toBe('critical');
    expect(logon.message).toBe('xtk:session error: XSV-350012 Invalid login or password. Connection denied.');
    // The session-less soap check is not affected.
    expect(checkOf(web, 'soap').state).toBe('ok');
    expect(web.state).toBe('critical');
    const exported = JSON.stringify(web) + (await agent.metrics.registry.metrics());
    expect(exported).not.toContain(SOAP_PASSWORD);
  }, 30_000);

  test('the real operator check: a wrong password in the sim is refused by the sim itself', async () => {
    await sim.setControl({ soapOperator: { login: 'monitoring', password: 'another-password' } });
    try {
      const logon = checkOf(await run(await agentFor(), 'web@default'), 'logon');
      expect(logon.state).toBe('critical');
      expect(logon.message).toMatch(/^xtk:session error: XSV-350022 /);
      expect(logon.message).not.toContain(SOAP_PASSWORD);
    } finally {
      await sim.setControl({ soapOperator: { login: 'monitoring', password: SOAP_PASSWORD } });
    }
  }, 30_000);
});

describe('module logs as evidence', () => {
  test('a fresh error line is a warning quoting its code', async () => {
    await sim.appendLog('mta', 'evida', [{ level: 'error', message: 'ODB-240000 ODBC error: [Microsoft][ODBC Driver Manager] Data source name not found (simulated)' }]);
    const mta = await run(await agentFor(), 'mta@evida');
    const logErrors = checkOf(mta, 'log_errors');
    expect(logErrors.state).toBe('warning');
    expect(logErrors.message).toMatch(/^1 error line in the last 15m; newest .* ago: ODB-240000 ODBC error/);
    expect(mta.state).toBe('warning');
  }, 30_000);

  test('an error older than the window is ok', async () => {
    await sim.appendLog('mta', 'evidb', [{ level: 'error', message: 'ODB-240000 ODBC error: old trouble', at: new Date(Date.now() - 2 * HOUR) }]);
    const mta = await run(await agentFor(), 'mta@evidb');
    expect(checkOf(mta, 'log_errors').state).toBe('ok');
    expect(mta.state).toBe('ok');
  }, 30_000);

  test('info and warning lines with a code are not errors', async () => {
    await sim.appendLog('wfserver', 'evida', [
      { level: 'info', message: "ODB-240007 Teradata: will use 'Europe Central' as session time zone." },
      { level: 'warning', message: 'Connection seems to have been lost. Attempting to reconnect.' },
    ]);
    const wfserver = await run(await agentFor(), 'wfserver@evida');
    expect(checkOf(wfserver, 'log_errors').state).toBe('ok');
    expect(wfserver.state).toBe('ok');
  }, 30_000);

  test('an error matching an ignore pattern is ok', async () => {
    await sim.appendLog('wfserver', 'evidb', [{ level: 'error', message: "XTK-170024 The temporary 'temp:deliveryEmail-all' schema is not defined in the current context" }]);
    const wfserver = await run(await agentFor(), 'wfserver@evidb');
    expect(checkOf(wfserver, 'log_errors').state).toBe('ok');
    expect(wfserver.state).toBe('ok');
  }, 30_000);

  test('an error matching a critical pattern is critical', async () => {
    await sim.appendLog('inMail', 'evida', [{ level: 'error', message: 'PGS-220000 PostgreSQL error: could not connect to server (simulated)' }]);
    const inMail = await run(await agentFor(), 'inMail@evida');
    const logErrors = checkOf(inMail, 'log_errors');
    expect(logErrors.state).toBe('critical');
    expect(logErrors.message).toContain('1 matching a critical pattern');
    expect(logErrors.message).toContain('PGS-220000 PostgreSQL error');
    expect(inMail.state).toBe('critical');
  }, 30_000);

  test('a rotation between two runs (mv to _2, a new file) loses no error line', async () => {
    const agent = await agentFor();
    expect(checkOf(await run(agent, 'stat@evida'), 'log_errors').state).toBe('ok');
    const live = sim.logPath('stat', 'evida');
    await sim.appendLog('stat', 'evida', [{ level: 'error', message: 'BAS-010007 Function not implemented (iRc=-55)' }]);
    await rename(live, live.replace(/\.log$/, '_2.log'));
    // The module goes on writing: it creates the new live file.
    await waitFor(async () => (await stat(live).catch(() => undefined)) !== undefined, 10_000, () => `${live} never re-created`);
    const status = await run(agent, 'stat@evida');
    const logErrors = checkOf(status, 'log_errors');
    expect(logErrors.state).toBe('warning');
    expect(logErrors.message).toContain('BAS-010007 Function not implemented');
  }, 30_000);
});

describe('export and import: enabled by their log, judged by it and by a hung run', () => {
  test('export.log with an error line: the export row is enabled and warns with the code', async () => {
    await sim.appendLog('export', 'evidc', [
      { level: 'info', message: "Start of 'export@evidc'" },
      { level: 'error', message: "TIM-030008 Date '2': missing character(s) (iRc=-53)" },
    ]);
    const agent = await agentFor();
    const status = await run(agent, 'export@evidc');
    expect(status.state).toBe('warning');
    expect(checkOf(status, 'log_errors').message).toContain('TIM-030008');
    expect(checkOf(status, 'process_age')).toMatchObject({ state: 'ok', message: 'no export@evidc run in progress' });
    // Another instance without export.log: still disabled.
    expect(rowOf(agent, 'export@evidb').state).toBe('disabled');
  }, 30_000);

  test('a hung `nlserver import -instance:evidc` older than maxRunTime is a process_age warning', async () => {
    const pid = await sim.startUtility('import', 'evidc');
    try {
      // Seven hours later (maxRunTime 6h): the run started by the sim now looks 7h old.
      const agent = await agentFor({ now: () => Date.now() + 7 * HOUR });
      const status = await run(agent, 'import@evidc');
      const age = checkOf(status, 'process_age');
      expect(age.state).toBe('warning');
      expect(age.message).toMatch(new RegExp(`^import@evidc \\(pid ${pid}\\) has run for 7h.*more than 6h \\(maxRunTime\\): the run hangs$`));
      // Its own log lines are 7h old for that clock: no error in the window.
      expect(checkOf(status, 'log_errors').state).toBe('ok');
      expect(status.state).toBe('warning');
      // At the real time the same run is young: ok.
      const now = await run(await agentFor(), 'import@evidc');
      expect(checkOf(now, 'process_age').state).toBe('ok');
    } finally {
      await sim.kill('import', 'evidc');
    }
  }, 30_000);
});

describe('nlserver view off', () => {
  test('monitor_missing did not look: no success series, listed as notLooked in /status', async () => {
    // evidc's mta log holds no error line of the tests above.
    const agent = await agentFor({ config: noViewConfig });
    const status = await run(agent, 'mta@evidc');
    expect(status.state).toBe('ok');
    expect(status.notLooked.map((c) => c.name)).toContain('monitor_missing');
    expect(status.checks.map((c) => c.name)).not.toContain('monitor_missing');
    const metrics = await agent.metrics.registry.metrics();
    const success = metrics.split('\n').filter((line) => line.startsWith('campaign_check_success{'));
    expect(success.some((line) => line.includes('campaign_instance="evidc"') && line.includes('module="mta"'))).toBe(true);
    expect(success.filter((line) => line.includes('check="monitor_missing"'))).toEqual([]);
    const doc = statusDocument(agent.store.all(), { version: 'test', startedAt: agent.startedAt }, agent.now());
    const mta = doc.modules.find((m) => m.module === 'mta' && m.instance === 'evidc');
    expect(mta?.notLooked?.map((c) => c.name)).toContain('monitor_missing');
  }, 30_000);
});
