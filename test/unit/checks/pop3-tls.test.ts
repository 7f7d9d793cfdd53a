import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pop3Check, type Pop3CheckOptions } from '../../../src/checks/pop3.js';
import { startDovecot, type SimDovecot } from '../../sim/dovecot.js';
import { makeTestCertificates, type TestCertificates } from '../../sim/test-certs.js';
import { makeContext } from '../ctx.js';
import { until } from '../../sim/net-util.js';

// POP3 over TLS against a real Dovecot with a test certificate made at test time: POP3S (implicit
// TLS) on one port, STLS (RFC 2595) on the plain one; and a Dovecot without TLS for "not offered".

const PASSWORD = 'Bounce-tls-s3cret';
const HOUR = 3_600_000;

let dir: string;
let certs: TestCertificates;
let passwordFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pop3-tls-test-'));
  passwordFile = path.join(dir, 'password');
  await writeFile(passwordFile, `${PASSWORD}\n`);
  certs = await makeTestCertificates();
});

afterAll(async () => {
  await certs?.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('pop3Check with TLS against a real Dovecot', () => {
  let dovecot: SimDovecot;
  let tlsPort: number;
  const base = (): Pop3CheckOptions => ({ host: dovecot.host, port: dovecot.port, user: 'bounce', passwordFile, backlogMaxAgeMs: HOUR });
  const implicit = (extra: Partial<Pop3CheckOptions> = {}) => pop3Check({ ...base(), port: tlsPort, tls: 'implicit', caFile: certs.caFile, ...extra });
  const stls = (extra: Partial<Pop3CheckOptions> = {}) => pop3Check({ ...base(), tls: 'starttls', caFile: certs.caFile, ...extra });

  beforeAll(async () => {
    dovecot = await startDovecot({
      users: [{ user: 'bounce', password: PASSWORD }],
      messages: { bounce: 3 },
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey },
    });
    tlsPort = dovecot.tlsPort as number;
  });

  afterAll(async () => {
    await dovecot?.stop();
  });

  test('POP3S (implicit TLS) with the test CA: ok, the TLS version in the message', async () => {
    const result = await implicit().run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(new RegExp(`^POP3 mailbox bounce at 127\\.0\\.0\\.1:${tlsPort} \\(TLSv1\\.[23]\\): 3 messages \\(\\d+ B\\), login and STAT in \\d+(ms|s)$`));
    expect(result.values?.mailbox_messages).toBe(3);
  });

  test('STLS on the plain port with the test CA: ok, "(STLS, TLSv1.x)" in the message', async () => {
    const result = await stls().run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(new RegExp(`^POP3 mailbox bounce at 127\\.0\\.0\\.1:${dovecot.port} \\(STLS, TLSv1\\.[23]\\): 3 messages \\(`));
  });

  test('the certificate is checked against the host by default; servername names another identity', async () => {
    // The test certificate is for 127.0.0.1 and localhost.
    expect((await implicit({ servername: 'localhost' }).run(makeContext())).state).toBe('ok');
    const mismatch = await implicit({ servername: 'mail.example' }).run(makeContext());
    expect(mismatch).toEqual({
      state: 'critical',
      message: `POP3 mailbox bounce at 127.0.0.1:${tlsPort}: TLS hostname mismatch: mail.example is not in the certificate's names (IP Address:127.0.0.1, DNS:localhost)`,
    });
  });

  test('a CA that did not sign the server certificate: critical with the verify error, implicit and STLS', async () => {
    const implicitResult = await implicit({ caFile: certs.wrongCaFile }).run(makeContext());
    expect(implicitResult.state).toBe('critical');
    expect(implicitResult.message).toMatch(new RegExp(`^POP3 mailbox bounce at 127\\.0\\.0\\.1:${tlsPort}: TLS certificate verify failed: unable to (verify the first certificate|get local issuer certificate)$`));
    const stlsResult = await stls({ caFile: certs.wrongCaFile }).run(makeContext());
    expect(stlsResult.state).toBe('critical');
    expect(stlsResult.message).toMatch(new RegExp(`^POP3 mailbox bounce at 127\\.0\\.0\\.1:${dovecot.port}: TLS certificate verify failed: unable to `));
  });

  test('without caFile the bundled roots apply: the test certificate is refused (verification is on by default)', async () => {
    const { caFile: _none, ...withoutCa } = { ...base(), port: tlsPort, tls: 'implicit' as const, caFile: undefined };
    const result = await pop3Check(withoutCa).run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(/: TLS certificate verify failed: /);
  });

  test('implicit TLS on the plain POP3 port: critical, the handshake failed', async () => {
    const result = await implicit({ port: dovecot.port }).run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(new RegExp(`^POP3 mailbox bounce at 127\\.0\\.0\\.1:${dovecot.port}: TLS handshake failed: `));
  });

  test('a login refused over TLS is unknown, with the TLS version, without the password', async () => {
    const wrong = path.join(dir, 'wrong');
    await writeFile(wrong, 'not-the-password\n');
    const result = await stls({ passwordFile: wrong }).run(makeContext());
    expect(result.state).toBe('unknown');
    expect(result.message).toMatch(new RegExp(`^POP3 login refused for user bounce at 127\\.0\\.0\\.1:${dovecot.port} \\(STLS, TLSv1\\.[23]\\): \\[AUTH\\] Authentication failed\\.$`));
    expect(result.message).not.toContain('not-the-password');
  });

  test('an unreadable or invalid CA file is unknown, naming the file', async () => {
    const missing = path.join(dir, 'missing-ca.pem');
    expect(await implicit({ caFile: missing }).run(makeContext())).toEqual({
      state: 'unknown',
      message: `POP3 mailbox bounce at 127.0.0.1:${tlsPort}: cannot use the CA file ${missing}: ENOENT (no such file)`,
    });
    const notPem = path.join(dir, 'not-pem.pem');
    await writeFile(notPem, 'this is not a certificate\n');
    expect(await stls({ caFile: notPem }).run(makeContext())).toEqual({
      state: 'unknown',
      message: `POP3 mailbox bounce at 127.0.0.1:${dovecot.port}: cannot use the CA file ${notPem}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)`,
    });
  });
});

describe('pop3Check with tls starttls against a Dovecot without TLS', () => {
  test('STLS not offered: critical, no fallback to clear text', async () => {
    const dovecot = await startDovecot({ users: [{ user: 'bounce', password: PASSWORD }] });
    try {
      const check = pop3Check({ host: dovecot.host, port: dovecot.port, user: 'bounce', passwordFile, backlogMaxAgeMs: HOUR, tls: 'starttls', caFile: certs.caFile });
      expect(await check.run(makeContext())).toEqual({
        state: 'critical',
        message: `POP3 mailbox bounce at 127.0.0.1:${dovecot.port}: STLS not offered: the server answered -ERR TLS support isn't enabled. (tls 'starttls' never falls back to clear text)`,
      });
    } finally {
      await dovecot.stop();
    }
  });
});

/** A POP3 peer recording the lines it gets; it answers STLS with `stlsAnswer`, then nothing more (it never starts TLS). */
async function recordingServer(stlsAnswer: string) {
  const seen: string[] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    socket.write('+OK ready\r\n');
    socket.setEncoding('utf8');
    let pending = '';
    let silent = false;
    socket.on('data', (data: string) => {
      if (silent) return;
      pending += data;
      let end: number;
      while ((end = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, end).replace(/\r$/, '');
        pending = pending.slice(end + 1);
        seen.push(line);
        if (line === 'STLS') {
          socket.write(stlsAnswer);
          silent = stlsAnswer.startsWith('+OK');
          if (silent) return;
        } else socket.write('+OK\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    seen,
    openConnections: () => open.size,
    async stop() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('pop3Check STLS against scripted servers: the password is never sent in clear text', () => {
  const checkOn = (port: number) =>
    pop3Check({ host: '127.0.0.1', port, user: 'bounce', passwordFile, backlogMaxAgeMs: HOUR, tls: 'starttls', caFile: certs.caFile });

  test('-ERR to STLS: critical, and nothing but STLS was sent', async () => {
    const server = await recordingServer('-ERR unknown command\r\n');
    try {
      const result = await checkOn(server.port).run(makeContext());
      expect(result).toEqual({
        state: 'critical',
        message: `POP3 mailbox bounce at 127.0.0.1:${server.port}: STLS not offered: the server answered -ERR unknown command (tls 'starttls' never falls back to clear text)`,
      });
      expect(server.seen).toEqual(['STLS']);
    } finally {
      await server.stop();
    }
  });

  test('+OK to STLS but no TLS after it: the abort ends the handshake wait, critical, and nothing else was sent', async () => {
    const server = await recordingServer('+OK Begin TLS negotiation\r\n');
    try {
      const ctx = makeContext();
      const running = checkOn(server.port).run(ctx);
      await until(() => server.seen.length > 0, 'STLS received');
      ctx.abort();
      const result = await running;
      expect(result.state).toBe('critical');
      expect(result.message).toMatch(new RegExp(`^POP3 mailbox bounce at 127\\.0\\.0\\.1:${server.port}: no answer within \\d+ ms, waiting for the TLS handshake$`));
      expect(server.seen).toEqual(['STLS']);
      await until(() => server.openConnections() === 0, 'the connection closed by the check');
    } finally {
      await server.stop();
    }
  });
});

describe('pop3Check TLS construction', () => {
  const base = { port: 110, user: 'bounce', passwordFile: '/etc/campaign-health/pop3.pass', backlogMaxAgeMs: HOUR };

  test("tls 'none' to a host that is not loopback is refused: the password would travel in clear text", () => {
    for (const host of ['mail.example', '192.0.2.10', '2001:db8::1', '128.0.0.1']) {
      expect(() => pop3Check({ ...base, host })).toThrow(
        `pop3Check pop3_mailbox: tls 'none' would send the POP3 password in clear text to ${host}; set tls to 'implicit' (POP3S, port 995) or 'starttls' (STLS), or allowPlaintext: true to accept clear text`,
      );
      expect(() => pop3Check({ ...base, host, tls: 'none', allowPlaintext: false })).toThrow('allowPlaintext: true');
    }
  });

  test('allowPlaintext: true accepts clear text to any host; loopback hosts need no permission; TLS needs none', () => {
    expect(() => pop3Check({ ...base, host: 'mail.example', allowPlaintext: true })).not.toThrow();
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      expect(() => pop3Check({ ...base, host })).not.toThrow();
    }
    expect(() => pop3Check({ ...base, host: 'mail.example', tls: 'implicit', port: 995 })).not.toThrow();
    expect(() => pop3Check({ ...base, host: 'mail.example', tls: 'starttls' })).not.toThrow();
  });

  test.each([
    [{ tls: 'ssl' }, `tls must be 'none', 'implicit' or 'starttls', got "ssl"`],
    [{ tls: 'implicit', caFile: 'ca.pem' }, 'caFile must be an absolute path, got "ca.pem"'],
    [{ caFile: '/etc/ssl/ca.pem' }, "caFile is set but tls is 'none' (no TLS, nothing to verify): set tls to 'implicit' or 'starttls'"],
    [{ servername: 'mail.example' }, "servername is set but tls is 'none'"],
    [{ tls: 'starttls', servername: 'mail example' }, 'servername must be a host name or IP address, got "mail example"'],
    [{ tls: 'starttls', allowPlaintext: 'yes' }, 'allowPlaintext must be true or false, got "yes"'],
  ])('rejects %j', (override, message) => {
    expect(() => pop3Check({ ...base, host: '127.0.0.1', ...(override as Partial<Pop3CheckOptions>) })).toThrow(message);
  });
});
