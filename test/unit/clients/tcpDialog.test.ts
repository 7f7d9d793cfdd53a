import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
  describeDialogFailure,
  describeTlsError,
  isLoopbackHost,
  openTcpDialog,
  readCaFile,
  TLS_HANDSHAKE,
} from '../../../src/clients/tcpDialog.js';
import { makeTestCertificates, type TestCertificates } from '../../sim/test-certs.js';
import { until } from '../../sim/net-util.js';

// The TLS side of the TCP dialog: implicit TLS at connect, the upgrade of a connection, failures as
// values in plain words, the CA file, and which hosts count as loopback.

let certs: TestCertificates;
let dir: string;

beforeAll(async () => {
  certs = await makeTestCertificates();
  dir = await mkdtemp(path.join(os.tmpdir(), 'tcp-dialog-test-'));
});

afterAll(async () => {
  await certs?.remove();
  await rm(dir, { recursive: true, force: true });
});

/** A TCP server that does `onSocket` with each connection; tracks the open ones. */
async function tcpServer(onSocket: (socket: net.Socket) => void) {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    accepted: () => accepted,
    openConnections: () => open.size,
    async stop() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const line = (text: string) => (text.includes('\n') ? text.trim() : undefined);

describe('openTcpDialog with implicit TLS', () => {
  test('a TLS echo server: the version is known after the handshake, lines go both ways', async () => {
    const pem = { cert: await readFile(certs.serverCert), key: await readFile(certs.serverKey) };
    const server = tls.createServer(pem, (socket) => {
      socket.write('hello\r\n');
      socket.on('data', (data) => socket.write(data));
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as net.AddressInfo;
    const ca = await readCaFile(certs.caFile);
    if (!ca.ok) throw new Error(ca.reason);
    try {
      const opened = await openTcpDialog({ host: '127.0.0.1', port, signal: new AbortController().signal, maxReplyBytes: 1024, tls: { servername: '127.0.0.1', ca: ca.pem } });
      if (!opened.ok) throw new Error(describeDialogFailure(opened.failure, opened.waitingFor, opened.elapsedMs));
      const { dialog } = opened;
      expect(dialog.tlsProtocol()).toMatch(/^TLSv1\.[23]$/);
      expect(await dialog.read(line)).toEqual({ ok: true, verdict: 'hello' });
      dialog.send('ping\r\n');
      expect(await dialog.read(line)).toEqual({ ok: true, verdict: 'ping' });
      await expect(dialog.startTls({ servername: '127.0.0.1' })).rejects.toThrow('startTls: TLS already started on this dialog');
      dialog.close();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a server that takes the connection and never answers the ClientHello: the abort ends the handshake, the socket is closed', async () => {
    // Reads (and ignores) what comes: a server that leaves the ClientHello unread never sees the close.
    const server = await tcpServer((socket) => socket.resume());
    try {
      const controller = new AbortController();
      const opening = openTcpDialog({ host: '127.0.0.1', port: server.port, signal: controller.signal, maxReplyBytes: 1024, tls: { servername: '127.0.0.1' } });
      await until(() => server.accepted() === 1, 'the connection accepted');
      controller.abort();
      const opened = await opening;
      expect(opened).toMatchObject({ ok: false, failure: { kind: 'aborted' }, waitingFor: TLS_HANDSHAKE });
      if (opened.ok) return;
      expect(describeDialogFailure(opened.failure, opened.waitingFor, opened.elapsedMs)).toMatch(/^no answer within \d+ ms, waiting for the TLS handshake$/);
      await until(() => server.openConnections() === 0, 'the connection closed by the dialog');
    } finally {
      await server.stop();
    }
  });

  test('a server that closes during the handshake: a failure value in plain words', async () => {
    const server = await tcpServer((socket) => socket.once('data', () => socket.destroy()));
    try {
      const opened = await openTcpDialog({ host: '127.0.0.1', port: server.port, signal: new AbortController().signal, maxReplyBytes: 1024, tls: { servername: '127.0.0.1' } });
      expect(opened.ok).toBe(false);
      if (opened.ok) return;
      expect(describeDialogFailure(opened.failure, opened.waitingFor, opened.elapsedMs)).toMatch(
        /^(TLS handshake failed: connection closed by the server before the handshake completed|TLS handshake failed: connection reset by peer|connection closed by the server, waiting for the TLS handshake)$/,
      );
    } finally {
      await server.stop();
    }
  });

  test('connection refused is reported as for clear text, waiting for the connect', async () => {
    const server = await tcpServer(() => {});
    await server.stop();
    const opened = await openTcpDialog({ host: '127.0.0.1', port: server.port, signal: new AbortController().signal, maxReplyBytes: 1024, tls: { servername: '127.0.0.1' } });
    expect(opened).toMatchObject({ ok: false, failure: { kind: 'error', reason: 'connection refused' }, waitingFor: 'connecting' });
  });
});

describe('startTls on a clear-text dialog', () => {
  test('clear text sent before the handshake and not read is dropped, not read as if it came over TLS', async () => {
    const pem = { cert: await readFile(certs.serverCert), key: await readFile(certs.serverKey) };
    const server = await tcpServer((socket) => {
      // A clear-text line, then TLS on the same connection at once (the next bytes are the ClientHello).
      socket.write('220 go ahead\r\n');
      const secure = new tls.TLSSocket(socket, { isServer: true, ...pem });
      secure.on('error', () => {});
      secure.once('secure', () => secure.write('250 over TLS\r\n'));
    });
    const ca = await readCaFile(certs.caFile);
    if (!ca.ok) throw new Error(ca.reason);
    try {
      const opened = await openTcpDialog({ host: '127.0.0.1', port: server.port, signal: new AbortController().signal, maxReplyBytes: 1024 });
      if (!opened.ok) throw new Error('not connected');
      const { dialog } = opened;
      // Wait until the greeting has arrived, but do not read it: it is pending clear text at the upgrade.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(dialog.tlsProtocol()).toBeUndefined();
      const secured = await dialog.startTls({ servername: 'localhost', ca: ca.pem });
      expect(secured).toEqual({ ok: true, protocol: expect.stringMatching(/^TLSv1\.[23]$/) });
      expect(await dialog.read(line)).toEqual({ ok: true, verdict: '250 over TLS' });
      dialog.close();
    } finally {
      await server.stop();
    }
  });
});

describe('describeTlsError', () => {
  const signal = new AbortController().signal;
  test.each([
    [{ code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }, 'certificate verify failed: certificate has expired'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, 'certificate verify failed: self-signed certificate'],
    [
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID', host: 'mail.example', cert: { subjectaltname: 'DNS:other.example' }, reason: 'Host: mail.example. is not in the cert\'s altnames: DNS:other.example' },
      "hostname mismatch: mail.example is not in the certificate's names (DNS:other.example)",
    ],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason: 'no names' }, 'hostname mismatch: no names'],
    [{ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', reason: 'tlsv1 alert protocol version', message: 'x' }, 'handshake failed: tlsv1 alert protocol version'],
    [{ code: 'ECONNRESET', message: 'Client network socket disconnected before secure TLS connection was established' }, 'handshake failed: connection closed by the server before the handshake completed'],
    [{ code: 'ECONNRESET', message: 'read ECONNRESET' }, 'handshake failed: connection reset by peer'],
    [new Error('something else'), 'handshake failed: something else'],
  ])('%j', (error, expected) => {
    expect(describeTlsError(Object.assign(new Error(String((error as { message?: string }).message ?? '')), error), signal, 0)).toBe(expected);
  });
});

describe('readCaFile', () => {
  test('a bundle of two certificates: both kept', async () => {
    const bundle = path.join(dir, 'bundle.pem');
    await writeFile(bundle, `# comment lines are ignored\n${await readFile(certs.caFile, 'utf8')}\n${await readFile(certs.wrongCaFile, 'utf8')}`);
    const read = await readCaFile(bundle);
    expect(read.ok).toBe(true);
    if (read.ok) expect(read.pem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
  });

  test.each([
    ['missing', undefined, 'ENOENT (no such file)'],
    ['empty', '', 'no PEM certificate in it (-----BEGIN CERTIFICATE-----)'],
    ['key-only', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'no PEM certificate in it (-----BEGIN CERTIFICATE-----)'],
    ['broken', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'certificate 1 of 1 is not a valid PEM certificate'],
    ['huge', 'x'.repeat(1024 * 1024 + 1), 'it is larger than 1048576 bytes, not a CA bundle'],
  ])('%s', async (name, content, reason) => {
    const file = path.join(dir, name);
    if (content !== undefined) await writeFile(file, content);
    expect(await readCaFile(file)).toEqual({ ok: false, reason: `cannot use the CA file ${file}: ${reason}` });
  });

  test('a directory is not a CA file', async () => {
    expect(await readCaFile(dir)).toEqual({ ok: false, reason: `cannot use the CA file ${dir}: it is not a regular file` });
  });
});

describe('isLoopbackHost', () => {
  test.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', true],
    ['LocalHost.', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['::', false],
    ['0.0.0.0', false],
    ['localhost.example', false],
    ['mail.example', false],
    ['127.0.0.1.example', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
