import { describe, expect, test } from '@jest/globals';
import { parseRedirTest, redirTestExpectation } from '../../../src/checks/redirTest.js';

describe('parseRedirTest', () => {
  test('single quotes, all documented attributes', () => {
    expect(
      parseRedirTest(`<redir status='OK' date='2024-05-01 10:00:00.112Z' build='9032' host='tracking.example.com' localHost='front_srv1'/>`),
    ).toEqual({
      status: 'OK',
      attributes: { status: 'OK', date: '2024-05-01 10:00:00.112Z', build: '9032', host: 'tracking.example.com', localHost: 'front_srv1' },
    });
  });

  test('double quotes, date with slashes', () => {
    expect(parseRedirTest(`<redir status="OK" date="2024/05/01 10:00:00" build="8977" host="tracking.campaign.net" localHost="front_srv1"/>`)).toEqual({
      status: 'OK',
      attributes: { status: 'OK', date: '2024/05/01 10:00:00', build: '8977', host: 'tracking.campaign.net', localHost: 'front_srv1' },
    });
  });

  test('hosted variant with instance and sourceIP, in another order', () => {
    const parsed = parseRedirTest(
      `<redir sourceIP='203.0.113.17' status='OK' instance='acme-prod' date='2024-05-01 10:00:00.112Z' build='9032' host='acme.campaign.adobe.com' localHost='acme-prod'/>`,
    );
    expect(parsed?.status).toBe('OK');
    expect(parsed?.attributes).toEqual({
      sourceIP: '203.0.113.17',
      status: 'OK',
      instance: 'acme-prod',
      date: '2024-05-01 10:00:00.112Z',
      build: '9032',
      host: 'acme.campaign.adobe.com',
      localHost: 'acme-prod',
    });
  });

  test('only status, date and sourceIP; empty host kept as empty', () => {
    expect(parseRedirTest(`<redir status='OK' date='2024-05-01' sourceIP='10.0.0.1' host=''/>`)).toEqual({
      status: 'OK',
      attributes: { status: 'OK', date: '2024-05-01', sourceIP: '10.0.0.1', host: '' },
    });
  });

  test('XML declaration, BOM, surrounding whitespace and an explicit end tag', () => {
    const body = `\uFEFF\n  <?xml version="1.0" encoding="utf-8"?>\n<redir status="OK" build="9032"></redir>\n\n`;
    expect(parseRedirTest(body)).toEqual({ status: 'OK', attributes: { status: 'OK', build: '9032' } });
  });

  test('numbers stay text', () => {
    expect(parseRedirTest(`<redir status='OK' build='09032'/>`)?.attributes.build).toBe('09032');
  });

  test('KO is parsed (judging it is the expectation\'s job)', () => {
    expect(parseRedirTest(`<redir status='KO' date='x'/>`)?.status).toBe('KO');
  });

  test('a <redir> without status has status ""', () => {
    expect(parseRedirTest('<redir/>')).toEqual({ status: '', attributes: {} });
  });

  test.each([
    ['empty', ''],
    ['HTML error page', '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><br></body></html>'],
    ['well-formed XHTML', '<html><body><p>maintenance</p></body></html>'],
    ['garbage', 'OK'],
    ['another root', `<status value='OK'/>`],
    ['redir nested elsewhere', `<root><redir status='OK'/></root>`],
    ['two roots', `<redir status='OK'/><redir status='OK'/>`],
    ['unterminated', `<redir status='OK'`],
  ])('%s is null', (_label, body) => {
    expect(parseRedirTest(body)).toBeNull();
  });
});

describe('redirTestExpectation', () => {
  test('ok with build and localHost', () => {
    expect(redirTestExpectation(`<redir status='OK' build='9032' localHost='front_srv1'/>`)).toEqual({
      state: 'ok',
      message: "/r/test answered status='OK' (build 9032, localHost front_srv1)",
    });
  });

  test('ok without them', () => {
    expect(redirTestExpectation(`<redir status="OK" date="2024/05/01 10:00:00" sourceIP="10.0.0.1"/>`)).toEqual({
      state: 'ok',
      message: "/r/test answered status='OK'",
    });
  });

  test('KO is critical', () => {
    expect(redirTestExpectation(`<redir status='KO' build='9032' localHost='front_srv1'/>`)).toEqual({
      state: 'critical',
      message: "/r/test answered status='KO' (build 9032, localHost front_srv1)",
    });
  });

  test('status is case-sensitive: "ok" is not OK', () => {
    expect(redirTestExpectation(`<redir status='ok'/>`).state).toBe('critical');
  });

  test('HTML is critical, quoting the start of it on one line', () => {
    const html = '<html>\n<head><title>503 Service Unavailable</title></head>\n<body>\tdown for maintenance, come back later please, we are very sorry</body></html>';
    expect(redirTestExpectation(html)).toEqual({
      state: 'critical',
      message:
        'not a <redir> answer: <html> <head><title>503 Service Unavailable</title></head> <body> down for maint…',
    });
  });

  test('control characters in the body do not reach the message', () => {
    expect(redirTestExpectation('\u001b[31mboom\u0007').message).toBe('not a <redir> answer: [31mboom');
  });

  test('empty body says so', () => {
    expect(redirTestExpectation('')).toEqual({ state: 'critical', message: 'not a <redir> answer: (empty body)' });
  });

  test('an element named constructor or __proto__ is not a crash (fuzz counterexample)', () => {
    // Found by test/fuzz/redirTest.test.ts: fast-xml-parser threw "[SECURITY] Invalid name: \"constructor\"".
    expect(parseRedirTest('<constructor/>')).toBeNull();
    expect(redirTestExpectation('<__proto__></__proto__>').state).toBe('critical');
    expect(parseRedirTest("<redir status='OK'><constructor/><prototype a='1'/></redir>")).toEqual({ status: 'OK', attributes: { status: 'OK' } });
  });
});
