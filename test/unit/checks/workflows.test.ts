import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { CampaignSoapClient } from '../../../src/clients/soapSession.js';
import { parseCampaignDate, trackingWorkflowCheck, workflowsInErrorCheck } from '../../../src/checks/workflows.js';
import { SimulatedHost } from '../../sim/host.js';
import { makeContext } from '../ctx.js';

type Row = Record<string, string | number>;

const LOGIN = 'monitoring';
const PASSWORD = 'wf-check-Secret-42';
const LAST_START = '2026-11-25 10:00:00.000Z';
const LAST_START_MS = Date.parse('2026-11-25T10:00:00.000Z');
const TRACKING: Row = { internalName: 'tracking', label: 'Tracking', state: 0, failed: 0, lastStart: LAST_START };
const HEALTHY: Row[] = [TRACKING, { internalName: 'cleanup', label: 'Database cleanup', state: 0, failed: 0 }];
const failedWorkflow = (internalName: string): Row => ({ internalName, label: `Label of ${internalName}`, state: 13, failed: 1 });
const at = (iso: string) => makeContext({ now: () => Date.parse(iso) });

describe('workflow checks against the simulated host', () => {
  let sim: SimulatedHost;
  let dir: string;
  let passwordFile: string;
  let url: string;
  let client: CampaignSoapClient;

  beforeAll(async () => {
    sim = await SimulatedHost.start({
      machineModules: { watchdog: false, syslogd: false, trackinglogd: false },
      instanceModules: { mta: false, wfserver: false, inMail: false, stat: false },
    });
    url = `http://127.0.0.1:${sim.ports.http}/nl/jsp/soaprouter.jsp`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'workflows-test-'));
    passwordFile = path.join(dir, 'password');
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    client = new CampaignSoapClient({ url, login: LOGIN, passwordFile });
  });

  beforeEach(async () => {
    await sim.setControl({ soap: 'envelope', soapOperator: { login: LOGIN, password: PASSWORD }, soapWorkflows: HEALTHY });
  });

  afterAll(async () => {
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('workflowsInErrorCheck', () => {
    test('0 workflows in error is ok, 2 after some fail is a warning naming them', async () => {
      const check = workflowsInErrorCheck({ client });
      expect(check.name).toBe('workflows_in_error');
      expect(await check.run(makeContext())).toEqual({ state: 'ok', message: 'no workflows in error', values: { workflows_in_error: 0 } });
      await sim.setControl({ soapWorkflows: [...HEALTHY, failedWorkflow('newsletterImport'), failedWorkflow('crmSync')] });
      expect(await check.run(makeContext())).toEqual({
        state: 'warning',
        message: '2 workflows in error: crmSync, newsletterImport',
        values: { workflows_in_error: 2 },
      });
    });

    test('one in error is singular; more than 5 are listed up to 5', async () => {
      const check = workflowsInErrorCheck({ client, name: 'wkf_errors' });
      await sim.setControl({ soapWorkflows: [...HEALTHY, failedWorkflow('a1')] });
      expect((await check.run(makeContext())).message).toBe('1 workflow in error: a1');
      await sim.setControl({ soapWorkflows: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'].map(failedWorkflow) });
      expect(await check.run(makeContext())).toEqual({
        state: 'warning',
        message: '7 workflows in error: a1, a2, a3, a4, a5 and 2 more',
        values: { workflows_in_error: 7 },
      });
    });

    test('an expired session is replaced transparently: one more logon, still ok', async () => {
      const fresh = new CampaignSoapClient({ url, login: LOGIN, passwordFile });
      const check = workflowsInErrorCheck({ client: fresh });
      expect((await check.run(makeContext())).state).toBe('ok');
      expect(fresh.logons).toBe(1);
      await sim.setControl({ soapExpireSessions: sim.getControl().soapExpireSessions + 1 });
      expect(await check.run(makeContext())).toMatchObject({ state: 'ok', values: { workflows_in_error: 0 } });
      expect(fresh.logons).toBe(2);
    });

    test('a wrong password is unknown, and the password is in no message nor in the client', async () => {
      const wrongFile = path.join(dir, 'wrong-password');
      const wrongPassword = 'not-the-Password-0815';
      await writeFile(wrongFile, wrongPassword);
      const wrong = new CampaignSoapClient({ url, login: LOGIN, passwordFile: wrongFile });
      const result = await workflowsInErrorCheck({ client: wrong }).run(makeContext());
      expect(result).toEqual({
        state: 'unknown',
        message: `SOAP logon refused for operator ${LOGIN}: XSV-350022 Unable to log on as '${LOGIN}': incorrect login or password. (${url})`,
      });
      for (const text of [JSON.stringify(result), JSON.stringify(wrong), inspect(wrong, { showHidden: true, depth: 5 })]) {
        expect(text).not.toContain(wrongPassword);
        expect(text).not.toContain(PASSWORD);
      }
    });

    test('a missing password file is unknown, naming the file', async () => {
      const missing = path.join(dir, 'missing', 'password');
      const result = await workflowsInErrorCheck({ client: new CampaignSoapClient({ url, login: LOGIN, passwordFile: missing }) }).run(makeContext());
      expect(result).toEqual({
        state: 'unknown',
        message: `SOAP xtk:session#Logon for operator ${LOGIN} at ${url}: password file ${missing} does not exist`,
      });
    });

    test('a router answering HTML is unknown (bad answer)', async () => {
      await sim.setControl({ soap: 'html' });
      const result = await workflowsInErrorCheck({ client: new CampaignSoapClient({ url, login: LOGIN, passwordFile }) }).run(makeContext());
      expect(result.state).toBe('unknown');
      expect(result.message).toMatch(/^SOAP xtk:session#Logon for operator monitoring at http:\S+: HTTP 500 is not a SOAP answer: not well-formed XML/);
    });

    test('a router that hangs is unknown (transport) once the check is aborted', async () => {
      await sim.setControl({ soap: 'hang' });
      const ctx = makeContext();
      const running = workflowsInErrorCheck({ client: new CampaignSoapClient({ url, login: LOGIN, passwordFile }) }).run(ctx);
      const timer = setTimeout(() => ctx.abort(), 200);
      const result = await running;
      clearTimeout(timer);
      expect(result.state).toBe('unknown');
      expect(result.message).toMatch(/^SOAP xtk:session#Logon for operator monitoring at http:\S+: no answer within \d+ ms$/);
    });
  });

  describe('trackingWorkflowCheck', () => {
    const check = (extra: Partial<Parameters<typeof trackingWorkflowCheck>[0]> = {}) =>
      trackingWorkflowCheck({ client, lastRunExpr: '@lastStart', maxAgeMs: 2 * 3_600_000, ...extra });
    const values = { tracking_workflow_last_run_timestamp_seconds: LAST_START_MS / 1000 };

    test('a tracking workflow that ran 30 minutes ago is ok and exports its last run', async () => {
      expect(check().name).toBe('tracking_workflow');
      expect(await check().run(at('2026-11-25T10:30:00Z'))).toEqual({
        state: 'ok',
        message: 'workflow tracking (Tracking) is not in error (state 0), last ran 30m ago',
        values,
      });
    });

    test('without lastRunExpr only existence and state are judged', async () => {
      expect(await trackingWorkflowCheck({ client }).run(makeContext())).toEqual({
        state: 'ok',
        message: 'workflow tracking (Tracking) is not in error (state 0)',
      });
    });

    test('a last run older than maxAgeMs is critical', async () => {
      expect(await check().run(at('2026-11-25T13:00:00Z'))).toEqual({
        state: 'critical',
        message: 'workflow tracking (Tracking) last ran 3h ago (critical above 2h)',
        values,
      });
    });

    test('an ISO last run with an offset is read too', async () => {
      await sim.setControl({ soapWorkflows: [{ ...TRACKING, lastStart: '2026-11-25T11:00:00+01:00' }] });
      expect(await check().run(at('2026-11-25T10:05:00Z'))).toMatchObject({ state: 'ok', message: expect.stringMatching(/last ran 5m ago$/), values });
    });

    test('a failed tracking workflow is critical', async () => {
      await sim.setControl({ soapWorkflows: [{ ...TRACKING, failed: 1, state: 13 }] });
      expect(await check().run(at('2026-11-25T10:30:00Z'))).toEqual({
        state: 'critical',
        message: 'workflow tracking (Tracking) is in error (failed = 1, state 13)',
        values,
      });
    });

    test.each([
      [13, 'paused'],
      [20, 'stopped'],
    ])('state %d is critical: %s', async (state, word) => {
      await sim.setControl({ soapWorkflows: [{ ...TRACKING, state }] });
      expect(await check().run(at('2026-11-25T10:30:00Z'))).toEqual({
        state: 'critical',
        message: `workflow tracking (Tracking) is ${word} (state ${state})`,
        values,
      });
    });

    test('no workflow with that internal name is critical', async () => {
      await sim.setControl({ soapWorkflows: HEALTHY.filter((row) => row.internalName !== 'tracking') });
      expect(await check().run(makeContext())).toEqual({ state: 'critical', message: 'no workflow with internal name tracking' });
      expect(await check({ internalName: 'cleanup', lastRunExpr: undefined, maxAgeMs: undefined }).run(makeContext())).toEqual({
        state: 'ok',
        message: 'workflow cleanup (Database cleanup) is not in error (state 0)',
      });
    });

    test('a last run field without a value is unknown, pointing at lastRunExpr', async () => {
      await sim.setControl({ soapWorkflows: [{ internalName: 'tracking', label: 'Tracking', state: 0, failed: 0 }] });
      expect(await check().run(makeContext())).toEqual({
        state: 'unknown',
        message: 'workflow tracking (Tracking): no @lastStart value (the workflow never ran, or @lastStart is not the field holding its last run: check lastRunExpr)',
      });
    });

    test('a last run that is not a date is unknown', async () => {
      await sim.setControl({ soapWorkflows: [{ ...TRACKING, lastStart: 'yesterday' }] });
      expect(await check().run(makeContext())).toEqual({ state: 'unknown', message: 'workflow tracking (Tracking): @lastStart is not a date: "yesterday"' });
    });

    test('client failures are unknown', async () => {
      await sim.setControl({ soap: 'html' });
      const result = await trackingWorkflowCheck({ client: new CampaignSoapClient({ url, login: LOGIN, passwordFile }) }).run(makeContext());
      expect(result.state).toBe('unknown');
      expect(result.message).toContain('is not a SOAP answer');
    });

    test('construction validates names, lastRunExpr and maxAgeMs', () => {
      expect(() => trackingWorkflowCheck({ client, lastRunExpr: 'lastStart' })).toThrow('lastRunExpr must be an attribute such as "@lastStart"');
      expect(() => trackingWorkflowCheck({ client, lastRunExpr: "@x' or 1=1" })).toThrow('lastRunExpr must be an attribute');
      expect(() => trackingWorkflowCheck({ client, internalName: "tracking' or @failed = 0 or @x = '" })).toThrow('internalName must match');
      expect(() => trackingWorkflowCheck({ client, maxAgeMs: 1000 })).toThrow('maxAgeMs needs lastRunExpr');
      expect(() => trackingWorkflowCheck({ client, lastRunExpr: '@lastStart', maxAgeMs: 0 })).toThrow('maxAgeMs must be a positive number, got 0');
      expect(() => workflowsInErrorCheck({ client, name: 'Workflows' })).toThrow('check name must match');
    });
  });
});

describe('parseCampaignDate', () => {
  test.each([
    ['2026-11-25 10:00:00.000Z', Date.parse('2026-11-25T10:00:00Z')],
    ['2026-11-25T10:00:00Z', Date.parse('2026-11-25T10:00:00Z')],
    ['2026-11-25 10:00:00', Date.parse('2026-11-25T10:00:00Z')],
    ['2026-11-25 11:00:00.5+0100', Date.parse('2026-11-25T10:00:00.5Z')],
    ['2026-11-25', undefined],
    ['2026-13-25 10:00:00Z', undefined],
    ['', undefined],
  ])('%j', (text, expected) => {
    expect(parseCampaignDate(text)).toBe(expected);
  });
});
