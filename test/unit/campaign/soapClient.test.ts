import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { CampaignSoapClient, CampaignSoapError, isSessionFault, redactSecrets } from '../../../src/clients/soapSession.js';
import { freePort, SimulatedHost } from '../../sim/host.js';

const LOGIN = 'monitoring';
const PASSWORD = 'Pa55-w0rd&<secret>';
const WORKFLOWS: Array<Record<string, string | number>> = [
  { internalName: 'tracking', label: 'Tracking', state: 0, failed: 0, lastStart: '2026-11-25 10:00:00.000Z' },
  { internalName: 'cleanup', label: 'Database cleanup', state: 13, failed: 1, lastStart: '2026-11-25 03:00:00.000Z' },
  { internalName: 'billing', label: 'Billing', state: 0, failed: 0 },
];
const SELECT_FAILED =
  '<queryDef schema="xtk:workflow" operation="select"><select><node expr="@internalName"/><node expr="@state"/></select>' +
  '<where><condition expr="@failed = 1"/></where></queryDef>';
const COUNT_ALL = '<queryDef schema="xtk:workflow" operation="count"/>';
const SESSION_TOKEN = /___[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The CampaignSoapError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<CampaignSoapError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CampaignSoapError) return error;
    throw error;
  }
  throw new Error('expected the query to fail');
}

/** Everything a secret could leak through when the client is logged, serialised or inspected. */
function exposedText(client: CampaignSoapClient, error?: CampaignSoapError): string {
  const parts = [JSON.stringify(client), inspect(client, { showHidden: true, depth: 5 })];
  if (error !== undefined) parts.push(error.message, String(error.stack), JSON.stringify(error), inspect(error, { showHidden: true }));
  return parts.join('\n');
}

describe('CampaignSoapClient against the simulated host', () => {
  let sim: SimulatedHost;
  let dir: string;
  let passwordFile: string;
  let url: string;
  const signal = () => AbortSignal.timeout(10_000);
  const client = (overrides: Partial<ConstructorParameters<typeof CampaignSoapClient>[0]> = {}) =>
    new CampaignSoapClient({ url, login: LOGIN, passwordFile, ...overrides });

  beforeAll(async () => {
    sim = await SimulatedHost.start({
      machineModules: { watchdog: false, syslogd: false, trackinglogd: false },
      instanceModules: { mta: false, wfserver: false, inMail: false, stat: false },
    });
    url = `http://127.0.0.1:${sim.ports.http}/nl/jsp/soaprouter.jsp`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'soap-client-test-'));
    passwordFile = path.join(dir, 'password');
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  });

  beforeEach(async () => {
    await sim.setControl({ soap: 'envelope', soapOperator: { login: LOGIN, password: PASSWORD }, soapWorkflows: WORKFLOWS, soapSessionTtlMs: undefined });
  });

  afterAll(async () => {
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('logs on once, then queries with the session: rows carry the selected attributes', async () => {
    const c = client();
    expect(c.logons).toBe(0);
    expect(await c.query(SELECT_FAILED, signal())).toEqual({ rows: [{ internalName: 'cleanup', state: '13' }] });
    expect(await c.query(COUNT_ALL, signal())).toEqual({ rows: [{ count: '3' }], count: 3 });
    expect(c.logons).toBe(1);
  });

  test('an empty answer is no rows', async () => {
    const none = '<queryDef schema="xtk:workflow" operation="select"><where><condition expr="@internalName = \'nope\'"/></where></queryDef>';
    expect(await client().query(none, signal())).toEqual({ rows: [] });
  });

  test('concurrent queries share one logon', async () => {
    const c = client();
    const results = await Promise.all([c.query(COUNT_ALL, signal()), c.query(COUNT_ALL, signal()), c.query(SELECT_FAILED, signal())]);
    expect(results.map((r) => r.rows.length)).toEqual([1, 1, 1]);
    expect(c.logons).toBe(1);
  });

  test('an expired session is replaced by one new logon and the query retried', async () => {
    const c = client();
    await c.query(COUNT_ALL, signal());
    await sim.setControl({ soapExpireSessions: sim.getControl().soapExpireSessions + 1 });
    expect(await c.query(COUNT_ALL, signal())).toMatchObject({ count: 3 });
    expect(c.logons).toBe(2);
    expect(await c.query(COUNT_ALL, signal())).toMatchObject({ count: 3 });
    expect(c.logons).toBe(2);
  });

  test('a session that the server refuses right after a new logon is a fault, not a loop', async () => {
    // A lifetime of 0 ms: every session has expired by the time it is used.
    await sim.setControl({ soapSessionTtlMs: 0 });
    const c = client();
    const error = await failure(c.query(COUNT_ALL, signal()));
    expect(error.kind).toBe('fault');
    expect(error.message).toBe(
      `SOAP xtk:queryDef#ExecuteQuery for operator ${LOGIN} at ${url}: session refused right after a new logon: XSV-350008 Session has expired or is invalid. Please reconnect.`,
    );
    expect(c.logons).toBe(2);
  });

  test('a wrong password is logon-refused and the password shows nowhere', async () => {
    await sim.setControl({ soapOperator: { login: LOGIN, password: 'the-right-one' } });
    const c = client();
    const error = await failure(c.query(COUNT_ALL, signal()));
    expect(error.kind).toBe('logon-refused');
    expect(error.message).toBe(`SOAP logon refused for operator ${LOGIN}: XSV-350022 Unable to log on as '${LOGIN}': incorrect login or password. (${url})`);
    expect(c.logons).toBe(0);
    const exposed = exposedText(c, error);
    expect(exposed).not.toContain(PASSWORD);
    expect(exposed).not.toContain('Pa55-w0rd');
  });

  test('session and security tokens show nowhere after a logon', async () => {
    const c = client();
    await c.query(COUNT_ALL, signal());
    const exposed = exposedText(c);
    expect(exposed).not.toMatch(SESSION_TOKEN);
    expect(exposed).not.toContain(PASSWORD);
    expect(JSON.parse(JSON.stringify(c))).toEqual({ url, login: LOGIN, passwordFile, maxBodyBytes: 1024 * 1024 });
  });

  test('a fault other than an expired session is a fault, without a new logon', async () => {
    const c = client();
    const error = await failure(c.query('<queryDef schema="xtk:workflow" operation="select"><where><condition expr="@state > 1"/></where></queryDef>', signal()));
    expect(error.kind).toBe('fault');
    expect(error.message).toBe(
      `SOAP xtk:queryDef#ExecuteQuery for operator ${LOGIN} at ${url}: Simulated host: unsupported where condition "@state > 1" (only @field = 'text' or @field = number).`,
    );
    expect(c.logons).toBe(1);
  });

  test('a missing password file is a credentials-file error naming the file', async () => {
    const missing = path.join(dir, 'no-such-file');
    const error = await failure(client({ passwordFile: missing }).query(COUNT_ALL, signal()));
    expect(error.kind).toBe('credentials-file');
    expect(error.message).toBe(`SOAP xtk:session#Logon for operator ${LOGIN} at ${url}: password file ${missing} does not exist`);
  });

  test('an empty password file (a lone newline) is a credentials-file error', async () => {
    const empty = path.join(dir, 'empty');
    await writeFile(empty, '\n');
    const error = await failure(client({ passwordFile: empty }).query(COUNT_ALL, signal()));
    expect(error.kind).toBe('credentials-file');
    expect(error.message).toMatch(new RegExp(`: password file ${empty} is empty$`));
  });

  test('only one trailing newline is trimmed: a password with two is not the password', async () => {
    const twoNewlines = path.join(dir, 'two-newlines');
    await writeFile(twoNewlines, `${PASSWORD}\n\n`);
    expect((await failure(client({ passwordFile: twoNewlines }).query(COUNT_ALL, signal()))).kind).toBe('logon-refused');
    const crlf = path.join(dir, 'crlf');
    await writeFile(crlf, `${PASSWORD}\r\n`);
    expect(await client({ passwordFile: crlf }).query(COUNT_ALL, signal())).toMatchObject({ count: 3 });
  });

  test('an HTML error page is a bad answer', async () => {
    await sim.setControl({ soap: 'html' });
    const error = await failure(client().query(COUNT_ALL, signal()));
    expect(error.kind).toBe('bad-answer');
    expect(error.message).toMatch(new RegExp(`^SOAP xtk:session#Logon for operator ${LOGIN} at ${url}: HTTP 500 is not a SOAP answer: not well-formed XML`));
  });

  test('a router that never answers is a transport error once the signal aborts', async () => {
    await sim.setControl({ soap: 'hang' });
    const error = await failure(client().query(COUNT_ALL, AbortSignal.timeout(200)));
    expect(error.kind).toBe('transport');
    expect(error.message).toMatch(new RegExp(`^SOAP xtk:session#Logon for operator ${LOGIN} at ${url}: no answer within \\d+ ms$`));
  });

  test('nobody listening is a transport error', async () => {
    const closed = `http://127.0.0.1:${await freePort('tcp')}/nl/jsp/soaprouter.jsp`;
    const error = await failure(client({ url: closed }).query(COUNT_ALL, signal()));
    expect(error).toMatchObject({ kind: 'transport', message: `SOAP xtk:session#Logon for operator ${LOGIN} at ${closed}: connection refused` });
  });

  test('a query that is not a queryDef document is refused before anything is sent', async () => {
    const c = client();
    await expect(c.query('<select/>', signal())).rejects.toThrow('CampaignSoapClient.query: expected a <queryDef> document, root element is <select>');
    await expect(c.query('not xml', signal())).rejects.toThrow(/expected a <queryDef> document, not well-formed XML/);
    expect(c.logons).toBe(0);
  });
});

describe('CampaignSoapClient construction', () => {
  const base = { url: 'http://127.0.0.1:8080/nl/jsp/soaprouter.jsp', login: 'monitoring', passwordFile: '/etc/campaign-health/password' };

  test('rejects URLs with credentials, empty logins and bad sizes', () => {
    expect(() => new CampaignSoapClient({ ...base, url: 'http://u:p@host/nl/jsp/soaprouter.jsp' })).toThrow('must not carry credentials');
    expect(() => new CampaignSoapClient({ ...base, url: 'ftp://host/' })).toThrow('url must use http or https');
    expect(() => new CampaignSoapClient({ ...base, login: ' ' })).toThrow('login must be a non-empty single line');
    expect(() => new CampaignSoapClient({ ...base, login: 'a\nb' })).toThrow('login must be a non-empty single line');
    expect(() => new CampaignSoapClient({ ...base, passwordFile: '' })).toThrow('passwordFile must not be empty');
    expect(() => new CampaignSoapClient({ ...base, maxBodyBytes: 0 })).toThrow('maxBodyBytes must be a positive integer, got 0');
  });
});

describe('redactSecrets', () => {
  test('replaces known secrets, longest first, and anything shaped like a session token', () => {
    const text = 'token ___921f9b38-72ac-49ad-b481-ab32973efc50 and ___921F9B38-72AC-49AD-B481-AB32973EFC50, security @abc== in @abc==x';
    expect(redactSecrets(text, ['@abc', '@abc==', undefined, ''])).toBe('token [redacted] and [redacted], security [redacted] in [redacted]x');
  });
});

describe('isSessionFault', () => {
  test.each([
    ['XSV-350008 Session has expired or is invalid. Please reconnect.', true],
    ['Your session has EXPIRED', true],
    ['Invalid session token', true],
    ["XSV-350022 Unable to log on as 'x': incorrect login or password.", false],
    ['Expired license', false],
  ])('%s → %s', (text, expected) => {
    expect(isSessionFault({ code: 'SOAP-ENV:Client', string: text, detail: '' })).toBe(expected);
  });
});

describe('CampaignSoapClient facing answers that quote the request', () => {
  test('a Logon answer that is not SOAP and quotes the password back does not show it', async () => {
    const secret = 'Echoed-Logon-Secret-77';
    const dir = await mkdtemp(path.join(os.tmpdir(), 'soap-echo-'));
    // Not SOAP, and its root element is whatever password it was sent: quoted in "root element is <...>".
    const server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const password = /<urn:strPassword>([^<]*)</.exec(body)?.[1] ?? 'none';
        response.writeHead(200, { 'content-type': 'text/xml' }).end(`<?xml version="1.0"?><${password}/>`);
      });
    });
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const passwordFile = path.join(dir, 'password');
      await writeFile(passwordFile, `${secret}\n`);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/nl/jsp/soaprouter.jsp`;
      const client = new CampaignSoapClient({ url, login: LOGIN, passwordFile });
      const error = await failure(client.query(COUNT_ALL, AbortSignal.timeout(5_000)));
      expect(error.kind).toBe('bad-answer');
      expect(error.message).toBe(`SOAP xtk:session#Logon for operator ${LOGIN} at ${url}: HTTP 200 is not a SOAP answer: root element is <[redacted]> in no namespace, expected a SOAP Envelope`);
      expect(exposedText(client, error)).not.toContain(secret);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
