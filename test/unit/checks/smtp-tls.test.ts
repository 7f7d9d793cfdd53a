import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { smtpCheck, type SmtpCheckOptions } from '../../../src/checks/smtp.js';
import { startSmtpServer, type SimSmtpServer } from '../../sim/smtp-server.js';
import { makeTestCertificates, type TestCertificates } from '../../sim/test-certs.js';
import { makeContext } from '../ctx.js';

// SMTP STARTTLS (RFC 3207) and implicit TLS against the simulated relay, with certificates made at
// test time.

let certs: TestCertificates;
let dir: string;

beforeAll(async () => {
  certs = await makeTestCertificates();
  dir = await mkdtemp(path.join(os.tmpdir(), 'smtp-tls-test-'));
});

afterAll(async () => {
  await certs?.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('smtpCheck STARTTLS', () => {
  let server: SimSmtpServer;
  let where: string;
  const check = (extra: Partial<SmtpCheckOptions> = {}) =>
    smtpCheck({ host: server.host, port: server.port, heloName: 'probe.example', tls: 'starttls', caFile: certs.caFile, ...extra });

  beforeAll(async () => {
    server = await startSmtpServer({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    where = `SMTP relay 127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server.stop();
  });

  test('offered and verified: ok, "(STARTTLS, TLSv1.x)"; EHLO, STARTTLS, EHLO again over TLS, QUIT', async () => {
    server.setMode('ok');
    const before = server.commands().length;
    const result = await check().run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(new RegExp(`^${where} \\(STARTTLS, TLSv1\\.[23]\\) answered 220 sim\\.example ESMTP, EHLO 250 in \\d+(ms|s)$`));
    expect(result.values?.response_seconds).toBeGreaterThan(0);
    expect(server.commands().slice(before)).toEqual(['EHLO probe.example', 'STARTTLS', 'EHLO probe.example', 'QUIT']);
  });

  test('a CA that did not sign the relay certificate: critical with the verify error', async () => {
    server.setMode('ok');
    const result = await check({ caFile: certs.wrongCaFile }).run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(new RegExp(`^${where}: TLS certificate verify failed: unable to (verify the first certificate|get local issuer certificate)$`));
  });

  test('without caFile the bundled roots apply: the test certificate is refused', async () => {
    server.setMode('ok');
    const result = await smtpCheck({ host: server.host, port: server.port, tls: 'starttls' }).run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(/: TLS certificate verify failed: /);
  });

  test('a certificate for other names: critical, hostname mismatch', async () => {
    server.setMode('ok');
    expect(await check({ servername: 'relay.example' }).run(makeContext())).toEqual({
      state: 'critical',
      message: `${where}: TLS hostname mismatch: relay.example is not in the certificate's names (IP Address:127.0.0.1, DNS:localhost)`,
    });
  });

  test('offered, then refused with 454: critical, nothing sent in clear text after it', async () => {
    server.setMode('starttls-refuse');
    const before = server.commands().length;
    expect(await check().run(makeContext())).toEqual({
      state: 'critical',
      message: `${where}: STARTTLS answered 454 4.7.0 TLS not available due to temporary reason (expected 220)`,
    });
    expect(server.commands().slice(before)).toEqual(['EHLO probe.example', 'STARTTLS']);
  });

  test('clear text injected after the 220 to STARTTLS is not taken for the answer over TLS', async () => {
    // The relay sends `220 ...` and `554 ...` in one write; kept, the 554 would answer the EHLO sent over TLS.
    server.setMode('starttls-inject');
    const before = server.commands().length;
    const result = await check().run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(/ EHLO 250 in /);
    expect(server.commands().slice(before)).toEqual(['EHLO probe.example', 'STARTTLS', 'EHLO probe.example', 'QUIT']);
  });

  test('an unreadable CA file is unknown, naming the file', async () => {
    const missing = path.join(dir, 'missing.pem');
    expect(await check({ caFile: missing }).run(makeContext())).toEqual({
      state: 'unknown',
      message: `${where}: cannot use the CA file ${missing}: ENOENT (no such file)`,
    });
    const broken = path.join(dir, 'broken.pem');
    await writeFile(broken, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    expect(await check({ caFile: broken }).run(makeContext())).toEqual({
      state: 'unknown',
      message: `${where}: cannot use the CA file ${broken}: certificate 1 of 1 is not a valid PEM certificate`,
    });
  });
});

describe('smtpCheck STARTTLS against a relay that does not offer it', () => {
  test('critical, no fallback to clear text: only EHLO was sent', async () => {
    const server = await startSmtpServer();
    try {
      const before = server.commands().length;
      const result = await smtpCheck({ host: server.host, port: server.port, heloName: 'probe.example', tls: 'starttls', caFile: certs.caFile }).run(makeContext());
      expect(result).toEqual({
        state: 'critical',
        message: `SMTP relay 127.0.0.1:${server.port}: STARTTLS not offered in the answer to EHLO (tls 'starttls' never falls back to clear text)`,
      });
      expect(server.commands().slice(before)).toEqual(['EHLO probe.example']);
    } finally {
      await server.stop();
    }
  });
});

describe('smtpCheck implicit TLS', () => {
  test('ok with the test CA, "(TLSv1.x)" in the message', async () => {
    const server = await startSmtpServer({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey }, implicitTls: true });
    try {
      const result = await smtpCheck({ host: server.host, port: server.port, heloName: 'probe.example', tls: 'implicit', caFile: certs.caFile }).run(makeContext());
      expect(result.state).toBe('ok');
      expect(result.message).toMatch(new RegExp(`^SMTP relay 127\\.0\\.0\\.1:${server.port} \\(TLSv1\\.[23]\\) answered 220 sim\\.example ESMTP, EHLO 250 in `));
      expect(server.commands()).toEqual(['EHLO probe.example', 'QUIT']);
    } finally {
      await server.stop();
    }
  });

  test('a self-signed certificate: critical "self-signed certificate", ok once trusted through caFile', async () => {
    const server = await startSmtpServer({ tls: { certFile: certs.selfSignedCert, keyFile: certs.selfSignedKey }, implicitTls: true });
    try {
      const check = (caFile?: string) =>
        smtpCheck({ host: server.host, port: server.port, tls: 'implicit', ...(caFile !== undefined ? { caFile } : {}) }).run(makeContext());
      expect(await check()).toEqual({
        state: 'critical',
        message: `SMTP relay 127.0.0.1:${server.port}: TLS certificate verify failed: self-signed certificate`,
      });
      expect((await check(certs.selfSignedCert)).state).toBe('ok');
    } finally {
      await server.stop();
    }
  });

  test('implicit TLS to a clear-text relay: critical, handshake failed', async () => {
    const server = await startSmtpServer();
    try {
      const result = await smtpCheck({ host: server.host, port: server.port, tls: 'implicit', caFile: certs.caFile }).run(makeContext());
      expect(result).toEqual({
        state: 'critical',
        message: `SMTP relay 127.0.0.1:${server.port}: TLS handshake failed: wrong version number: what the server sent is not TLS`,
      });
    } finally {
      await server.stop();
    }
  });
});

describe('smtpCheck TLS construction', () => {
  test.each([
    [{ tls: 'tls' }, `tls must be 'none', 'implicit' or 'starttls', got "tls"`],
    [{ tls: 'starttls', caFile: 'relative.pem' }, 'caFile must be an absolute path, got "relative.pem"'],
    [{ caFile: '/etc/ssl/ca.pem' }, "smtpCheck smtp_relay: caFile is set but tls is 'none'"],
  ])('rejects %j', (override, message) => {
    expect(() => smtpCheck({ host: '127.0.0.1', port: 25, ...(override as Partial<SmtpCheckOptions>) })).toThrow(message);
  });

  test('clear text to any relay is allowed: SMTP sends no password', () => {
    expect(() => smtpCheck({ host: 'relay.example', port: 25 })).not.toThrow();
  });
});
