import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { soapCheck } from '../../../src/checks/soap.js';
import { parseSoapEnvelope } from '../../../src/clients/soapEnvelope.js';
import { makeContext } from '../ctx.js';

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';

const LOGON_REQUEST = `<?xml version="1.0" encoding="utf-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11}"><SOAP-ENV:Body>
<Logon xmlns="urn:xtk:session"><sessiontoken/><strLogin>healthcheck</strLogin><strPassword>wrong</strPassword><elemParameters/></Logon>
</SOAP-ENV:Body></SOAP-ENV:Envelope>`;

const FAULT_11 = `<?xml version='1.0'?>
<SOAP-ENV:Envelope xmlns:xsd='http://www.w3.org/2001/XMLSchema' xmlns:SOAP-ENV='${SOAP11}'>
  <SOAP-ENV:Body>
    <SOAP-ENV:Fault>
      <faultcode>SOAP-ENV:Server</faultcode>
      <faultstring xsi:type="xsd:string" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">XSV-350008 Unable to log on as 'healthcheck': invalid password.</faultstring>
      <detail xsi:type="xsd:string" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">Error while executing the method 'Logon' of service 'xtk:session'.</detail>
    </SOAP-ENV:Fault>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`;

describe('parseSoapEnvelope', () => {
  test('SOAP-ENV prefix with a response in the Body', () => {
    const parsed = parseSoapEnvelope(
      `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11}"><SOAP-ENV:Body><GetEntityIfMoreRecentResponse xmlns="urn:xtk:persist"><pdomDoc/></GetEntityIfMoreRecentResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
    );
    expect(parsed).toEqual({ ok: true, body: { GetEntityIfMoreRecentResponse: { pdomDoc: '', '@_xmlns': 'urn:xtk:persist' } } });
  });

  test('soapenv prefix', () => {
    expect(parseSoapEnvelope(`<soapenv:Envelope xmlns:soapenv="${SOAP11}"><soapenv:Header/><soapenv:Body/></soapenv:Envelope>`).ok).toBe(true);
  });

  test('default namespace, SOAP 1.2', () => {
    expect(parseSoapEnvelope(`<Envelope xmlns="${SOAP12}"><Body><r xmlns="urn:x">1</r></Body></Envelope>`)).toEqual({
      ok: true,
      body: { r: { '#text': '1', '@_xmlns': 'urn:x' } },
    });
  });

  test('SOAP 1.1 Fault gives code, string and detail', () => {
    const parsed = parseSoapEnvelope(FAULT_11);
    expect(parsed.ok && parsed.fault).toEqual({
      code: 'SOAP-ENV:Server',
      string: "XSV-350008 Unable to log on as 'healthcheck': invalid password.",
      detail: "Error while executing the method 'Logon' of service 'xtk:session'.",
    });
  });

  test('SOAP 1.2 Fault gives Code/Value and Reason/Text', () => {
    const parsed = parseSoapEnvelope(
      `<env:Envelope xmlns:env="${SOAP12}"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason><env:Text xml:lang="en">Bad request &amp; worse</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`,
    );
    expect(parsed.ok && parsed.fault).toEqual({ code: 'env:Sender', string: 'Bad request & worse', detail: '' });
  });

  test('a prefix is resolved through its declaration, not its spelling', () => {
    // "soap" is bound to some other namespace here: looks like SOAP, is not.
    expect(parseSoapEnvelope(`<soap:Envelope xmlns:soap="urn:not-soap"><soap:Body/></soap:Envelope>`)).toEqual({
      ok: false,
      reason: 'root element is <soap:Envelope> in namespace "urn:not-soap", expected a SOAP Envelope',
    });
    // An unusual prefix bound to the SOAP namespace is fine.
    expect(parseSoapEnvelope(`<x:Envelope xmlns:x="${SOAP11}"><x:Body/></x:Envelope>`).ok).toBe(true);
  });

  test('an undeclared prefix is no namespace', () => {
    expect(parseSoapEnvelope(`<SOAP-ENV:Envelope><SOAP-ENV:Body/></SOAP-ENV:Envelope>`)).toEqual({
      ok: false,
      reason: 'root element is <SOAP-ENV:Envelope> in no namespace, expected a SOAP Envelope',
    });
  });

  test('a Body in another namespace does not count', () => {
    expect(parseSoapEnvelope(`<s:Envelope xmlns:s="${SOAP11}" xmlns:o="urn:other"><o:Body/></s:Envelope>`)).toEqual({
      ok: false,
      reason: 'SOAP Envelope has no Body',
    });
  });

  test('a Body that redeclares the prefix on itself is resolved there', () => {
    expect(parseSoapEnvelope(`<s:Envelope xmlns:s="${SOAP11}"><b:Body xmlns:b="${SOAP11}"/></s:Envelope>`).ok).toBe(true);
  });

  test('elements named constructor, __proto__ or prototype are read, not a crash (fuzz counterexample)', () => {
    // Found by test/fuzz/redirTest.test.ts: fast-xml-parser throws on these names; they come out as `#constructor`.
    const parsed = parseSoapEnvelope(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><constructor><__proto__/></constructor></s:Body></s:Envelope>`);
    expect(parsed).toEqual({ ok: true, body: { '#constructor': { '#__proto__': '' } } });
    expect(parseSoapEnvelope('<prototype/>')).toEqual({ ok: false, reason: 'root element is <#prototype> in no namespace, expected a SOAP Envelope' });
    // The parser also throws past 100 nested elements: a rejection too.
    expect(parseSoapEnvelope(`<s:Envelope xmlns:s="${SOAP11}"><s:Body>${'<a>'.repeat(101)}${'</a>'.repeat(101)}</s:Body></s:Envelope>`)).toEqual({
      ok: false,
      reason: 'cannot parse XML (Maximum nested tags exceeded)',
    });
  });

  test('the validator words are one short line: control characters and long names are cut (fuzz counterexample)', () => {
    // Found by test/fuzz/soap.test.ts: "\u0000" gave a reason holding a NUL; a 100 KB tag name a 100 KB reason.
    expect(parseSoapEnvelope('\u0000')).toEqual({ ok: false, reason: "not well-formed XML (char ' ' is not expected. at line 1)" });
    const parsed = parseSoapEnvelope(`<${'a'.repeat(100_000)}>`);
    expect(!parsed.ok && parsed.reason).toMatch(/^not well-formed XML \(Unclosed tag 'a{200,}… at line 1\)$/);
    expect(!parsed.ok && parsed.reason.length).toBeLessThan(350);
  });

  test('a Fault outside the SOAP namespace is just body content', () => {
    const parsed = parseSoapEnvelope(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><Fault xmlns="urn:app">x</Fault></s:Body></s:Envelope>`);
    expect(parsed.ok && parsed.fault).toBeUndefined();
  });

  test.each([
    ['HTML', '<html><body><h1>HTTP Status 500</h1><br></body></html>', /^not well-formed XML/],
    ['XHTML', '<html><body><h1>HTTP Status 500</h1></body></html>', /^root element is <html> in no namespace/],
    ['plain text', 'Internal Server Error', /^not well-formed XML/],
    ['empty', '', /^empty body$/],
  ])('%s is not a SOAP envelope', (_label, text, reason) => {
    const parsed = parseSoapEnvelope(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });
});

interface Recorded {
  method?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('soapCheck against a real HTTP server', () => {
  const answers = new Map<string, { status: number; type: string; body: string } | 'hang'>();
  const recorded: Recorded[] = [];
  let requestArrived: () => void = () => {};
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        recorded.push({ method: req.method, headers: req.headers, body });
        const answer = answers.get(req.url ?? '');
        if (answer === 'hang') return requestArrived();
        if (!answer) return res.writeHead(404).end();
        res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    answers.set('/fault', { status: 500, type: 'text/xml; charset=utf-8', body: FAULT_11 });
    answers.set('/envelope', {
      status: 200,
      type: 'text/xml',
      body: `<soapenv:Envelope xmlns:soapenv="${SOAP11}"><soapenv:Body><LogonResponse xmlns="urn:xtk:session"/></soapenv:Body></soapenv:Envelope>`,
    });
    answers.set('/html500', { status: 500, type: 'text/html', body: '<html><head><title>Error</title></head><body>Tomcat<br></body></html>' });
    answers.set('/text200', { status: 200, type: 'text/plain', body: 'OK' });
    answers.set('/wrongns', {
      status: 200,
      type: 'text/xml',
      body: `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://example.com/not-soap/"><SOAP-ENV:Body/></SOAP-ENV:Envelope>`,
    });
    answers.set('/hang', 'hang');
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const check = (route: string) =>
    soapCheck({ name: 'soaprouter', url: `${base}${route}`, action: 'xtk:session#Logon', envelope: LOGON_REQUEST });

  test('POSTs the envelope with the SOAP headers', async () => {
    recorded.length = 0;
    await check('/envelope').run(makeContext());
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.method).toBe('POST');
    expect(recorded[0]?.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(recorded[0]?.headers.soapaction).toBe('xtk:session#Logon');
    expect(recorded[0]?.body).toBe(LOGON_REQUEST);
  });

  test('a plain SOAP answer is ok', async () => {
    const result = await check('/envelope').run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(/^SOAP router answers \(HTTP 200 in \d+(ms|s)\)$/);
    expect(result.values?.response_seconds).toBeGreaterThan(0);
  });

  test('a Fault with HTTP 500 proves the router answers: ok', async () => {
    const result = await check('/fault').run(makeContext());
    expect(result).toEqual({
      state: 'ok',
      message: "SOAP router answers (Fault: XSV-350008 Unable to log on as 'healthcheck': invalid password.)",
      values: { response_seconds: expect.any(Number) },
    });
  });

  test('a long faultstring is cut at 120 characters', async () => {
    answers.set('/longfault', { status: 500, type: 'text/xml', body: FAULT_11.replace('invalid password.', 'y'.repeat(300)) });
    const message = (await check('/longfault').run(makeContext())).message;
    const fault = /\(Fault: (.*)\)$/.exec(message)?.[1] ?? '';
    expect(fault).toHaveLength(121);
    expect(fault.endsWith('…')).toBe(true);
  });

  test('an HTML error page with HTTP 500 is critical', async () => {
    const result = await check('/html500').run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(new RegExp(`^POST ${base}/html500: HTTP 500 is not a SOAP answer: not well-formed XML \\(`));
  });

  test('non-XML with HTTP 200 is critical', async () => {
    const result = await check('/text200').run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(/: HTTP 200 is not a SOAP answer: not well-formed XML/);
  });

  test('an Envelope in the wrong namespace is critical', async () => {
    const result = await check('/wrongns').run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toBe(
      `POST ${base}/wrongns: HTTP 200 is not a SOAP answer: root element is <SOAP-ENV:Envelope> in namespace "http://example.com/not-soap/", expected a SOAP Envelope`,
    );
  });

  test('a router that never answers is abandoned when the signal aborts', async () => {
    const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
    const ctx = makeContext();
    const running = check('/hang').run(ctx);
    await arrived;
    ctx.abort();
    const result = await running;
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(new RegExp(`^POST ${base}/hang: no answer within \\d+ ms$`));
  });

  test('construction rejects a SOAPAction with a line break and an empty envelope', () => {
    expect(() => soapCheck({ name: 's', url: base, action: 'a\r\nX-Evil: 1', envelope: LOGON_REQUEST })).toThrow('action must be one line');
    expect(() => soapCheck({ name: 's', url: base, action: 'a', envelope: '  ' })).toThrow('envelope must not be empty');
  });
});

describe('long root element names', () => {
  test('are left out of the reason, never cut (a cut secret would escape redaction)', () => {
    const name = `p${'w'.repeat(60)}`;
    const result = parseSoapEnvelope(`<${name}/>`);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain('an element with a 61-character name');
      expect(result.reason).not.toContain('pwww');
    }
  });
});
