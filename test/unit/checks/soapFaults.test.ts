// SOAP answers recorded from real Campaign servers and printed in Adobe's docs (test/fixtures/soap/,
// sources in its README): read whole, Fault detail included, and judged by classifySoapFault and
// the soap check, served by a real HTTP server.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { classifySoapFault, soapCheck } from '../../../src/checks/soap.js';
import { faultCause, faultCodes, isAuthenticationFault, isSessionFault, parseSoapEnvelope, type SoapFault } from '../../../src/clients/soapEnvelope.js';
import { projectRoot } from '../../../src/util/paths.js';
import { makeContext } from '../ctx.js';

const FIXTURES = path.join(projectRoot(), 'test', 'fixtures', 'soap');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');

function faultOf(name: string): SoapFault {
  const parsed = parseSoapEnvelope(fixture(name));
  if (!parsed.ok) throw new Error(`${name}: ${parsed.reason}`);
  if (parsed.fault === undefined) throw new Error(`${name}: no Fault`);
  return parsed.fault;
}

const fault = (string: string, detail = '', code = 'SOAP-ENV:Server'): SoapFault => ({ code, string, detail });

describe('recorded answers are read whole', () => {
  test('v8.6.3 SOP-330023: faultcode SOAP-ENV:Error, no detail', () => {
    expect(faultOf('fault-sop-330023-v8.6.3.xml')).toEqual({
      code: 'SOAP-ENV:Error',
      string: "SOP-330023 An error occurred during the SOAP call. You don't have the required rights to view the detail.",
      detail: '',
    });
  });

  test('SOP-330011 with a three-line detail, innermost error first, line breaks kept', () => {
    const read = faultOf('fault-sop-330011-odb-deadlock.xml');
    expect(read.code).toBe('SOAP-ENV:Server');
    expect(read.string).toBe("SOP-330011 Error while executing the method 'addAbandonedCart' of service 'va:abandoned_cart_event'.");
    expect(read.detail.split('\n')).toEqual([
      'ODB-240000 ODBC error: [Microsoft][SQL Server Native Client 11.0][SQL Server]Transaction (Process ID 108) was deadlocked on lock | communication buffer resources with another process and has been chosen as the deadlock victim. Rerun the transaction. SQLState: 40001',
      "XSV-350023 Unable to save document of type 'abandoned_cart_events (va:abandoned_cart_event)'.",
      "SOP-330011 Error while executing the method 'Write' of service 'xtk:persist|xtk:session'.",
    ]);
    expect(faultCodes(read)).toEqual(['ODB-240000', 'XSV-350023', 'SOP-330011']);
  });

  test("Adobe's docs example: two-line detail, entities decoded, the stray text after faultstring ignored", () => {
    const odbc = faultOf('fault-write-odbc-sqlstate.doc.xml');
    expect(odbc.string).toBe("Error while executing 'Write' of the 'xtk:persist'.");
    expect(odbc.detail.split('\n')).toHaveLength(2);
    expect(odbc.detail).toMatch(/^ODBC error: \[Microsoft\].*SQLSTate: 23000\nODBC error: .*Cannot save the 'Options \(xtk:option\)' document$/);
    expect(faultOf('fault-write-postgresql.doc.xml').detail).toBe(
      "PostgreSQL error: ERROR:  duplicate key violates unique constraint \"nmsrecipient_id\"Impossible to save document of type 'Recipients (nms:recipient)'",
    );
  });

  test('answers without a Fault: Logon (v7 20.3 and 7.3.4), Logoff, a Date whose payload quotes XSV-350008', () => {
    for (const name of ['logon-response-v7-20.3-build9219.sdk.xml', 'logon-response-v7.3.4-build9364.xml', 'logoff-response.sdk.xml', 'date-response-with-session-text.sdk.xml']) {
      const parsed = parseSoapEnvelope(fixture(name));
      expect(parsed.ok && parsed.fault).toBeUndefined();
    }
  });
});

describe('classifySoapFault on recorded and documented faults', () => {
  test.each([
    [
      'fault-sop-330011-odb-deadlock.xml',
      'critical',
      'SOAP answered a database error: ODB-240000 ODBC error: [Microsoft][SQL Server Native Client 11.0][SQL Server]Transaction (Process ID 108) was deadlocked on lock | communication buffer resources with another process and has been chos…',
    ],
    [
      'fault-write-pgs-220000.reconstructed.xml',
      'critical',
      'SOAP answered a database error: PGS-220000 PostgreSQL error: ERROR: duplicate key value violates unique constraint "nmstrackingurl_tagid" DETAIL: Key (stagid) = (1c7bdec2) already exists.',
    ],
    [
      'fault-write-odbc-sqlstate.doc.xml',
      'critical',
      "SOAP answered a database error: ODBC error: [Microsoft][ODBC SQL Server Driver][SQL Server]Cannot insert duplicate key row in object 'XtkOption' with unique index 'XtkOption_name'. SQLSTate: 23000",
    ],
    [
      'fault-write-postgresql.doc.xml',
      'critical',
      "SOAP answered a database error: PostgreSQL error: ERROR: duplicate key violates unique constraint \"nmsrecipient_id\"Impossible to save document of type 'Recipients (nms:recipient)'",
    ],
    ['fault-xsv-350008-session-expired.reconstructed.xml', 'ok', 'SOAP router answers (Fault: XSV-350008 Session has expired or is invalid. Please reconnect.)'],
    ['fault-xsv-350012-invalid-login.reconstructed.xml', 'ok', 'SOAP router answers (Fault: XSV-350012 Invalid login or password. Connection denied.)'],
    ['fault-pushevent-invalid-login.doc.xml', 'ok', 'SOAP router answers (Fault: Invalid login or password. Connection denied.)'],
    ['fault-sop-330023-v8.6.3.xml', 'warning', "SOAP answered a fault: SOP-330023 An error occurred during the SOAP call. You don't have the required rights to view the detail."],
    ['fault-sop-330006-method-not-defined.sdk.xml', 'warning', "SOAP answered a fault: SOP-330006 The method 'GetModifiedEntities' is not defined in SOAP service 'xtk:session'."],
    ['fault-sop-330011-no-detail.sdk.xml', 'warning', "SOAP answered a fault: SOP-330011 Error while executing the method 'GetModifiedEntities' of service 'xtk:session'."],
  ])('%s → %s', (name, state, message) => {
    expect(classifySoapFault(faultOf(name))).toEqual({ state, message });
  });

  test('no Fault is ok', () => {
    expect(classifySoapFault(undefined)).toEqual({ state: 'ok', message: 'SOAP router answers' });
  });

  test('the database error is quoted as its first line, cut at 200 characters', () => {
    const verdict = classifySoapFault(faultOf('fault-sop-330011-odb-deadlock.xml'));
    const quoted = verdict.message.replace('SOAP answered a database error: ', '');
    expect(quoted).toHaveLength(201);
    expect(quoted.endsWith('…')).toBe(true);
    expect(quoted).not.toContain('XSV-350023');
  });
});

describe('classifySoapFault rules', () => {
  test('a SOP-330011 wrapper whose detail holds only a session code is ok; with anything else it is not', () => {
    const wrapper = "SOP-330011 Error while executing the method 'ExecuteQuery' of service 'xtk:queryDef'.";
    expect(classifySoapFault(fault(wrapper, 'XSV-350008 Session has expired or is invalid. Please reconnect.')).state).toBe('ok');
    expect(classifySoapFault(fault(wrapper, 'XSV-350008 Session has expired or is invalid.\nXSV-350063 No data source defined')).state).toBe('warning');
    expect(classifySoapFault(fault(wrapper, 'XSV-350063 No data source defined'))).toEqual({ state: 'warning', message: 'SOAP answered a fault: XSV-350063 No data source defined' });
  });

  test('a database error wins over a session code', () => {
    const verdict = classifySoapFault(fault('XSV-350008 Session has expired or is invalid.', 'PGS-220000 PostgreSQL error: could not connect to server: Connection refused'));
    expect(verdict).toEqual({ state: 'critical', message: 'SOAP answered a database error: PGS-220000 PostgreSQL error: could not connect to server: Connection refused' });
  });

  test.each([
    ['ODB-240000 ODBC error: x', true],
    ['PGS-220000 PostgreSQL error: x', true],
    ['WDB-200001 SQL statement could not be executed.', true],
    ['ORA-12154: TNS:could not resolve the connect identifier specified', true],
    ['Native error. SQLState: 08001', true],
    ['ODBC error: [Microsoft] SQLSTate: 23000', true],
    ['XSV-350023 Unable to save document', false],
    ['XTK-170024 The temporary schema is not defined', false],
    ['FLORA-123456 is not a code', false],
  ])('database marker in %s: %s', (detail, critical) => {
    expect(classifySoapFault(fault('SOP-330011 Error while executing the method', detail)).state).toBe(critical ? 'critical' : 'warning');
  });

  test('a database error in faultstring itself counts', () => {
    expect(classifySoapFault(fault('PGS-220000 PostgreSQL error: FATAL: the database system is starting up')).state).toBe('critical');
  });

  test('only the Fault is read: a successful answer quoting error codes is ok (the SDK false positive)', async () => {
    const parsed = parseSoapEnvelope(fixture('date-response-with-session-text.sdk.xml'));
    expect(parsed.ok).toBe(true);
    expect(classifySoapFault(parsed.ok ? parsed.fault : undefined).state).toBe('ok');
  });

  test('session tokens and given secrets are scrubbed before the cut', () => {
    const token = '___921f9b38-72ac-49ad-b481-ab32973efc50';
    const verdict = classifySoapFault(fault('SOP-330011 wrapper', `PGS-220000 PostgreSQL error: session ${token} password s3cr3t-pw`), ['s3cr3t-pw']);
    expect(verdict.message).toBe('SOAP answered a database error: PGS-220000 PostgreSQL error: session [redacted] password [redacted]');
    const warning = classifySoapFault(fault(`XSV-350099 bad token ${token}`));
    expect(warning.message).toBe('SOAP answered a fault: XSV-350099 bad token [redacted]');
  });

  test('a fault with no text at all is a warning naming its faultcode', () => {
    expect(classifySoapFault(fault('', '', 'SOAP-ENV:Client'))).toEqual({ state: 'warning', message: 'SOAP answered a fault: SOAP-ENV:Client' });
  });

  test('without codes, the cause is the first line that is not the wrapper wording', () => {
    expect(faultCause(fault('Simulated host: unsupported where condition', "Error while executing the method 'ExecuteQuery' of service 'xtk:queryDef'."))).toBe(
      'Simulated host: unsupported where condition',
    );
    expect(faultCause(faultOf('fault-pushevent-invalid-login.doc.xml'))).toBe('Invalid login or password. Connection denied.');
    expect(faultCause(faultOf('fault-sop-330011-no-detail.sdk.xml'))).toMatch(/^SOP-330011 /);
  });

  test('isSessionFault is session expiry only; isAuthenticationFault adds the refused logon', () => {
    const refused = faultOf('fault-xsv-350012-invalid-login.reconstructed.xml');
    const expired = faultOf('fault-xsv-350008-session-expired.reconstructed.xml');
    expect([isSessionFault(expired), isAuthenticationFault(expired)]).toEqual([true, true]);
    expect([isSessionFault(refused), isAuthenticationFault(refused)]).toEqual([false, true]);
    expect(isSessionFault(fault('XSV-350008 Session has expired', 'ODB-240000 ODBC error'))).toBe(false);
    expect(faultCause(faultOf('fault-sop-330011-odb-deadlock.xml'))).toMatch(/^ODB-240000 /);
  });
});

describe('soap check against a real HTTP server answering recorded faults', () => {
  let server: Server;
  let base: string;
  const routes = new Map<string, { status: number; body: string }>([
    ['/session', { status: 500, body: fixture('fault-xsv-350008-session-expired.reconstructed.xml') }],
    ['/database', { status: 200, body: fixture('fault-sop-330011-odb-deadlock.xml') }],
    ['/rights', { status: 500, body: fixture('fault-sop-330023-v8.6.3.xml') }],
    ['/payload', { status: 200, body: fixture('date-response-with-session-text.sdk.xml') }],
  ]);

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const route = routes.get(req.url ?? '');
        if (route === undefined) return res.writeHead(404).end();
        res.writeHead(route.status, { 'content-type': 'text/xml;charset=utf-8' }).end(route.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const run = (route: string) =>
    soapCheck({ name: 'soap', url: `${base}${route}`, action: 'xtk:queryDef#ExecuteQuery', envelope: '<x/>' }).run(makeContext());

  test('a session fault (the expected answer to a session-less call) is ok', async () => {
    expect(await run('/session')).toEqual({
      state: 'ok',
      message: 'SOAP router answers (Fault: XSV-350008 Session has expired or is invalid. Please reconnect.)',
      values: { response_seconds: expect.any(Number) },
    });
  });

  test('a database error in detail, answered with HTTP 200, is critical', async () => {
    const result = await run('/database');
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(/^SOAP answered a database error: ODB-240000 ODBC error: \[Microsoft\]/);
    expect(result.values?.response_seconds).toBeGreaterThan(0);
  });

  test('the v8 masked fault is a warning naming its code', async () => {
    expect(await run('/rights')).toMatchObject({ state: 'warning', message: expect.stringMatching(/^SOAP answered a fault: SOP-330023 /) });
  });

  test('a successful answer whose payload quotes XSV-350008 is ok, as an answer', async () => {
    expect((await run('/payload')).message).toMatch(/^SOAP router answers \(HTTP 200 in /);
  });
});
