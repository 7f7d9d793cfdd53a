// The logon check against a real HTTP server speaking SOAP with answers recorded from real Campaign
// servers (test/fixtures/soap/): a real xtk:session#Logon, then xtk:session#Logoff of that session.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { logonCheck } from '../../../src/checks/logon.js';
import { CampaignSoapClient } from '../../../src/clients/soapSession.js';
import { projectRoot } from '../../../src/util/paths.js';
import { makeContext } from '../ctx.js';

const FIXTURES = path.join(projectRoot(), 'test', 'fixtures', 'soap');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');

const LOGIN = 'monitoring';
const PASSWORD = 'Pa55-w0rd&<secret>';
// The tokens of logon-response-v7.3.4-build9364.xml, as sent back.
const SESSION = '___7bb151d2-ee05-4bd2-9d5e-23e83547c528';
const SECURITY = '@DrRFO29Bk9-[...]oqyGLTsWjxC9Q==';

type Answer = { status: number; body: string } | 'hang' | 'close';
interface Recorded {
  action: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('logonCheck against a SOAP server answering recorded answers', () => {
  let server: Server;
  let url: string;
  let dir: string;
  let passwordFile: string;
  const answers = new Map<string, Answer>();
  const recorded: Recorded[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const action = String(req.headers.soapaction ?? '');
        recorded.push({ action, headers: req.headers, body });
        const answer = answers.get(action);
        if (answer === 'hang') return;
        if (answer === 'close' || answer === undefined) return req.socket.destroy();
        res.writeHead(answer.status, { 'content-type': 'text/xml;charset=utf-8' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/nl/jsp/soaprouter.jsp`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'logon-check-'));
    passwordFile = path.join(dir, 'password');
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  });

  beforeEach(() => {
    recorded.length = 0;
    answers.clear();
    answers.set('xtk:session#Logon', { status: 200, body: fixture('logon-response-v7.3.4-build9364.xml') });
    answers.set('xtk:session#Logoff', { status: 200, body: fixture('logoff-response.sdk.xml') });
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const client = (overrides: Partial<ConstructorParameters<typeof CampaignSoapClient>[0]> = {}) =>
    new CampaignSoapClient({ url, login: LOGIN, passwordFile, ...overrides });
  const run = async (c = client(), opts: { slowMs?: number } = {}) => logonCheck({ client: c, ...opts }).run(makeContext());

  /** Nothing a person or a log could see holds the password or a token. */
  function expectNoSecret(text: string): void {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('Pa55-w0rd');
    expect(text).not.toContain(SESSION);
    expect(text).not.toContain('DrRFO29Bk9');
  }

  test('success (v7.3.4 build 9364): ok, naming the operator, the build and the release', async () => {
    const result = await run();
    expect(result).toEqual({
      state: 'ok',
      message: expect.stringMatching(new RegExp(`^logged on and off as ${LOGIN} \\(server build 9364, release 7\\.3\\.4\\); Logon in \\d+(ms|s)$`)),
      values: { response_seconds: expect.any(Number) },
    });
    expect(result.values?.response_seconds).toBeGreaterThan(0);
    expectNoSecret(JSON.stringify(result));
  });

  test('the Logon carries the operator and the password; the Logoff is actually sent, with that session', async () => {
    await run();
    expect(recorded.map((r) => r.action)).toEqual(['xtk:session#Logon', 'xtk:session#Logoff']);
    const [logon, logoff] = recorded;
    expect(logon?.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(logon?.body).toContain(`<urn:strLogin>${LOGIN}</urn:strLogin>`);
    expect(logon?.body).toContain('<urn:strPassword>Pa55-w0rd&amp;&lt;secret&gt;</urn:strPassword>');
    expect(logon?.headers.cookie).toBeUndefined();
    expect(logoff?.headers.cookie).toBe(`__sessiontoken=${SESSION}`);
    expect(logoff?.headers['x-security-token']).toBe(SECURITY);
    expect(logoff?.body).toContain(`<urn:Logoff><urn:sessiontoken>${SESSION}</urn:sessiontoken></urn:Logoff>`);
    expect(logoff?.body).not.toContain('Pa55-w0rd');
  });

  test("success (v7 20.3 build 9219, acc-js-sdk's recorded answer): the release is 20.3, not a major of 7", async () => {
    answers.set('xtk:session#Logon', { status: 200, body: fixture('logon-response-v7-20.3-build9219.sdk.xml') });
    expect((await run()).message).toMatch(new RegExp(`^logged on and off as ${LOGIN} \\(server build 9219, release 20\\.3\\); Logon in `));
    expect(recorded[1]?.headers.cookie).toBe('__sessiontoken=___$session_token$');
  });

  test('a logon refused for its credentials is critical, xtk:session error with code and text; no Logoff', async () => {
    answers.set('xtk:session#Logon', { status: 403, body: fixture('fault-xsv-350012-invalid-login.reconstructed.xml') });
    const result = await run();
    expect(result).toEqual({ state: 'critical', message: 'xtk:session error: XSV-350012 Invalid login or password. Connection denied.' });
    expect(recorded.map((r) => r.action)).toEqual(['xtk:session#Logon']);
  });

  test('a refusal without a Campaign code names the faultcode and the detail that says why', async () => {
    answers.set('xtk:session#Logon', { status: 500, body: fixture('fault-pushevent-invalid-login.doc.xml') });
    expect(await run()).toEqual({ state: 'critical', message: 'xtk:session error: SOAP-ENV:Client Invalid login or password. Connection denied.' });
  });

  test('a database fault on Logon is critical, quoting the database error', async () => {
    answers.set('xtk:session#Logon', { status: 200, body: fixture('fault-sop-330011-odb-deadlock.xml') });
    const result = await run();
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(/^xtk:session error: ODB-240000 ODBC error: \[Microsoft\]\[SQL Server Native Client 11\.0\]/);
    expect(result.message.length).toBeLessThanOrEqual('xtk:session error: '.length + 201);
  });

  test("v8's masked fault is critical too: the logon did not happen", async () => {
    answers.set('xtk:session#Logon', { status: 500, body: fixture('fault-sop-330023-v8.6.3.xml') });
    expect(await run()).toEqual({
      state: 'critical',
      message: "xtk:session error: SOP-330023 An error occurred during the SOAP call. You don't have the required rights to view the detail.",
    });
  });

  test('a fault that echoes the password or a token does not show it', async () => {
    const echo = fixture('fault-xsv-350012-invalid-login.reconstructed.xml').replace(
      'Connection denied.',
      `Connection denied for password ${PASSWORD.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')} session ___921f9b38-72ac-49ad-b481-ab32973efc50`,
    );
    answers.set('xtk:session#Logon', { status: 403, body: echo });
    const result = await run();
    expect(result.state).toBe('critical');
    expect(result.message).toBe('xtk:session error: XSV-350012 Invalid login or password. Connection denied for password [redacted] session [redacted]');
  });

  test('logged on but the Logoff failed: a warning, the tokens not shown', async () => {
    answers.set('xtk:session#Logoff', { status: 500, body: fixture('fault-xsv-350008-session-expired.reconstructed.xml') });
    const faulted = await run();
    expect(faulted).toEqual({
      state: 'warning',
      message: `logged on as ${LOGIN} (server build 9364, release 7.3.4), but the Logoff failed: Fault: XSV-350008 Session has expired or is invalid. Please reconnect.`,
      values: { response_seconds: expect.any(Number) },
    });
    answers.set('xtk:session#Logoff', 'close');
    const dropped = await run();
    expect(dropped.state).toBe('warning');
    expect(dropped.message).toMatch(new RegExp(`, but the Logoff failed: SOAP xtk:session#Logoff for operator ${LOGIN} at ${url}: `));
    expectNoSecret(dropped.message);
  });

  test('a Logon answer without serverInfo is still ok, without a build', async () => {
    answers.set('xtk:session#Logon', {
      status: 200,
      body: fixture('logon-response-v7.3.4-build9364.xml').replace(/<pSessionInfo[\s\S]*<\/pSessionInfo>/, ''),
    });
    expect((await run()).message).toMatch(new RegExp(`^logged on and off as ${LOGIN}; Logon in `));
  });

  test('a token with a line break is a bad answer, never sent back in a header', async () => {
    answers.set('xtk:session#Logon', {
      status: 200,
      body: fixture('logon-response-v7.3.4-build9364.xml').replace(SESSION, `${SESSION}&#10;X-Evil: 1`),
    });
    const result = await run();
    expect(result).toEqual({
      state: 'critical',
      message: `SOAP xtk:session#Logon for operator ${LOGIN} at ${url}: HTTP 200: the Logon answer has a token that is not one line of visible ASCII`,
    });
    expect(recorded.map((r) => r.action)).toEqual(['xtk:session#Logon']);
  });

  test('a web module that does not answer is critical, naming the operator and the URL', async () => {
    answers.set('xtk:session#Logon', 'close');
    expect(await run()).toMatchObject({ state: 'critical', message: expect.stringMatching(new RegExp(`^SOAP xtk:session#Logon for operator ${LOGIN} at ${url}: `)) });
  });

  test('an unreadable password file is unknown: the agent, not Campaign, is at fault', async () => {
    const missing = path.join(dir, 'no-such-file');
    expect(await run(client({ passwordFile: missing }))).toEqual({
      state: 'unknown',
      message: `SOAP xtk:session#Logon for operator ${LOGIN} at ${url}: password file ${missing} does not exist`,
    });
    expect(recorded).toEqual([]);
  });

  test('a slow Logon is a warning when slowMs is set', async () => {
    const result = await run(client(), { slowMs: 0.001 });
    expect(result.state).toBe('warning');
    expect(result.message).toMatch(/; slow: answered in /);
  });

  test('the one-shot session is not the query session: logons stays 0, and nothing secret is kept on the client', async () => {
    const c = client();
    await run(c);
    expect(c.logons).toBe(0);
    expectNoSecret(JSON.stringify(c));
    expectNoSecret(inspect(c, { showHidden: true, depth: 5 }));
  });

  test('the check is named logon unless told otherwise', () => {
    expect(logonCheck({ client: client() }).name).toBe('logon');
    expect(logonCheck({ client: client(), name: 'soap_logon' }).name).toBe('soap_logon');
    expect(() => logonCheck({ client: client(), name: 'Bad Name' })).toThrow('check name must match');
  });
});
