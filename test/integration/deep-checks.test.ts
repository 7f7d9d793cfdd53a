import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { startDovecot } from '../sim/dovecot.js';
import { SimulatedHost } from '../sim/host.js';
import { startSmtpServer } from '../sim/smtp-server.js';
import { check, Daemon, row, type StatusDoc } from './helpers.js';

// The optional checks wired end to end through the daemon: SOAP deep checks (wfserver, tracking),
// the bounce mailbox over POP3 (real dovecot), the SMTP relay. Secrets live in files only and must
// not leak into /status, /metrics or the logs.
const SOAP_PASSWORD = 'Soap-Operator-Secret-7731';
const POP3_PASSWORD = 'Pop3-Bounce-Secret-5519';
const TRACKING = { internalName: 'tracking', label: 'Tracking', state: 0, failed: 0, lastStart: new Date().toISOString() };

let sim: SimulatedHost;
let dovecot: Awaited<ReturnType<typeof startDovecot>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let daemon: Daemon;

const deep = (doc: StatusDoc) => ({
  workflows: check(doc, 'wfserver', 'workflows_in_error', 'prod'),
  tracking: check(doc, 'tracking', 'tracking_workflow', 'prod'),
});

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: ['prod'], trackingIntervalMs: 200 });
  await sim.setControl({ soap: 'envelope', soapOperator: { login: 'monitoring', password: SOAP_PASSWORD }, soapWorkflows: [TRACKING] });
  dovecot = await startDovecot({ users: [{ user: 'bounces', password: POP3_PASSWORD }], messages: { bounces: 3 } });
  smtp = await startSmtpServer({ mode: 'ok' });
  const soapPasswordFile = path.join(sim.root, 'soap-password');
  const pop3PasswordFile = path.join(sim.root, 'pop3-password');
  await writeFile(soapPasswordFile, `${SOAP_PASSWORD}\n`, { mode: 0o600 });
  await writeFile(pop3PasswordFile, `${POP3_PASSWORD}\n`, { mode: 0o600 });
  const file = await sim.writeAgentConfig({
    defaults: { schedule: '* * * * * *', timeout: '20s' },
    campaign: { soap: { login: 'monitoring', passwordFile: soapPasswordFile } },
    modules: {
      // The machine running the tests is whatever it is: thresholds out of reach, readings real.
      system: { load: { max: 1000 }, memory: { warning: 1, critical: 1 }, swap: { warning: 1, critical: 1 }, disk: { warning: 1, critical: 1 } },
      trackinglogd: { growthWarning: '5s', growthCritical: '10s' },
      mta: { smtp: { host: smtp.host, port: smtp.port } },
      inMail: { pop3: { host: dovecot.host, port: dovecot.port, user: 'bounces', passwordFile: pop3PasswordFile, backlogMaxAge: '1h' } },
      tracking: { workflow: { lastRunField: '@lastStart', maxAge: '2h' } },
    },
  });
  const { listen } = YAML.parse(await readFile(file, 'utf8')) as { listen: string };
  daemon = await Daemon.start(file, listen);
}, 120_000);

afterAll(async () => {
  if (daemon) expect(await daemon.stop()).toBe(0);
  await smtp?.stop();
  await dovecot?.stop();
  await sim?.stop();
});

describe('optional checks through the daemon', () => {
  test('healthy: workflows, Tracking workflow, mailbox and relay are ok, with their metrics', async () => {
    const doc = await daemon.statusWhen((status) => status.state === 'ok');
    expect(deep(doc).workflows.message).toBe('no workflows in error');
    expect(deep(doc).tracking.state).toBe('ok');
    expect(check(doc, 'inMail', 'pop3_mailbox', 'prod').message).toContain('3 messages');
    expect(check(doc, 'mta', 'smtp_relay', 'prod').message).toMatch(/^SMTP relay 127\.0\.0\.1:\d+ answered 220 /);
    const metrics = (await daemon.get('/metrics')).body;
    expect(metrics).toContain('campaign_inmail_mailbox_messages{campaign_instance="prod"} 3');
    expect(metrics).toContain('campaign_workflows_in_error{campaign_instance="prod"} 0');
    expect(metrics).toMatch(/^campaign_tracking_workflow_last_run_timestamp_seconds\{campaign_instance="prod"\} \d{10}$/m);
    expect(metrics).toMatch(/^campaign_check_response_seconds\{module="mta",campaign_instance="prod",check="smtp_relay"\} /m);
  });

  test('the system row reads this machine: every indicator checked, campaign_system_* exported', async () => {
    const doc = await daemon.status();
    expect(row(doc, 'system').checks.map((entry) => entry.name)).toEqual([
      'load', 'memory', 'swap', 'core_files', 'shm_segments', 'processes_too_old', 'file_handles', 'processes', 'zombies', 'var_disk',
    ]);
    for (const entry of row(doc, 'system').checks) expect(entry.state).not.toBe('unknown');
    const metrics = (await daemon.get('/metrics')).body;
    expect(metrics).toMatch(/^campaign_system_memory_total_bytes [1-9]\d+$/m);
    expect(metrics).toMatch(/^campaign_system_load5 [\d.e-]+$/m);
    expect(metrics).toMatch(/^campaign_system_var_filesystem_size_bytes [1-9]\d+$/m);
    expect(metrics).toMatch(/^campaign_system_processes [1-9]\d*$/m);
  });

  test('failed workflows warn wfserver; a paused Tracking workflow makes tracking critical with its hint', async () => {
    await sim.setControl({ soapWorkflows: [{ ...TRACKING, state: 13, failed: 1 }, { internalName: 'crmSync', label: 'CRM', state: 13, failed: 1 }] });
    try {
      const doc = await daemon.statusWhen((status) => row(status, 'tracking', 'prod').state === 'critical' && deep(status).workflows.state === 'warning');
      expect(deep(doc).workflows).toMatchObject({ state: 'warning', message: '2 workflows in error: crmSync, tracking' });
      expect(row(doc, 'tracking', 'prod').remediation).toBe("Check this module if tracking logs aren't forwarded anymore.");
      expect((await daemon.get('/metrics')).body).toContain('campaign_workflows_in_error{campaign_instance="prod"} 2');
    } finally {
      await sim.setControl({ soapWorkflows: [TRACKING] });
    }
  });

  test('an expired session is renewed without a false alarm', async () => {
    await sim.setControl({ soapExpireSessions: 1 });
    const doc = await daemon.statusWhen((status) => deep(status).workflows.state === 'ok' && status.state === 'ok');
    expect(deep(doc).workflows.message).toBe('no workflows in error');
  });

  test('wrong SOAP password: the deep checks are unknown, naming the operator, never the password', async () => {
    await sim.setControl({ soapOperator: { login: 'monitoring', password: 'rotated-elsewhere' }, soapExpireSessions: 2 });
    try {
      const doc = await daemon.statusWhen((status) => deep(status).workflows.state === 'unknown');
      expect(deep(doc).workflows.message).toMatch(/^SOAP logon refused for operator monitoring: /);
    } finally {
      await sim.setControl({ soapOperator: { login: 'monitoring', password: SOAP_PASSWORD } });
    }
  });

  test('mailbox not drained past the backlog window, then the POP3 server down', async () => {
    await dovecot.deliver('bounces', 2);
    const grown = await daemon.statusWhen((status) => check(status, 'inMail', 'pop3_mailbox', 'prod').message.includes('5 messages'));
    expect(row(grown, 'inMail', 'prod').state).toBe('ok');
    await dovecot.stop();
    const down = await daemon.statusWhen((status) => row(status, 'inMail', 'prod').state === 'critical');
    expect(row(down, 'inMail', 'prod').remediation).toBe('Check this module if bounce mails are no longer forwarded.');
    expect(check(down, 'inMail', 'pop3_mailbox', 'prod').message).toContain(`127.0.0.1:${dovecot.port}`);
  });

  test('the relay rejecting mail makes mta critical', async () => {
    smtp.setMode('reject');
    try {
      const doc = await daemon.statusWhen((status) => row(status, 'mta', 'prod').state === 'critical');
      expect(check(doc, 'mta', 'smtp_relay', 'prod').message).toContain('554');
    } finally {
      smtp.setMode('ok');
    }
  });

  test('no secret in /status, /metrics, the text table or the logs', async () => {
    for (const pathname of ['/status', '/status?format=text', '/metrics']) {
      const body = (await daemon.get(pathname)).body;
      for (const secret of [SOAP_PASSWORD, POP3_PASSWORD, 'SIMSECRET', '___']) expect(body).not.toContain(secret);
    }
    for (const secret of [SOAP_PASSWORD, POP3_PASSWORD, 'SIMSECRET']) expect(daemon.output()).not.toContain(secret);
  });
});
