import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import net from 'node:net';
import os from 'node:os';
import { parseSmtpReply, smtpCheck } from '../../../src/checks/smtp.js';
import { startSmtpServer, type SimSmtpServer } from '../../sim/smtp-server.js';
import { makeContext } from '../ctx.js';
import { freeTcpPort, until } from '../../sim/net-util.js';

const closedPort = freeTcpPort;

describe('smtpCheck against a real SMTP responder', () => {
  let server: SimSmtpServer;
  let where: string;
  const check = (slowMs?: number) => smtpCheck({ host: server.host, port: server.port, heloName: 'probe.example', slowMs });

  beforeAll(async () => {
    server = await startSmtpServer();
    where = `SMTP relay 127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server.stop();
  });

  test('ok: greeting 220, EHLO 250 (multi-line), QUIT 221; records the response time', async () => {
    server.setMode('ok');
    const before = server.commands().length;
    const result = await check().run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(new RegExp(`^${where} answered 220 sim\\.example ESMTP, EHLO 250 in \\d+(ms|s)$`));
    expect(result.values?.response_seconds).toBeGreaterThan(0);
    expect(server.commands().slice(before)).toEqual(['EHLO probe.example', 'QUIT']);
  });

  test('the default name is smtp_relay, and EHLO announces this machine', async () => {
    server.setMode('ok');
    const before = server.commands().length;
    const defaults = smtpCheck({ host: server.host, port: server.port });
    expect(defaults.name).toBe('smtp_relay');
    expect((await defaults.run(makeContext())).state).toBe('ok');
    expect(server.commands().slice(before)).toEqual([`EHLO ${os.hostname()}`, 'QUIT']);
  });

  test('a multi-line greeting is read to its last line', async () => {
    server.setMode('multiline');
    const result = await check().run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(new RegExp(`^${where} answered 220 sim\\.example ESMTP simulated relay no mail is accepted here ready, EHLO 250 in `));
  });

  test('a 554 greeting is critical, with the code and the server text', async () => {
    server.setMode('reject');
    const result = await check().run(makeContext());
    expect(result).toEqual({ state: 'critical', message: `${where}: greeting 554 5.3.2 sim.example service unavailable (expected 220)` });
  });

  test('EHLO refused is critical, with the code and the server text', async () => {
    server.setMode('ehlo-reject');
    const result = await check().run(makeContext());
    expect(result).toEqual({ state: 'critical', message: `${where}: EHLO probe.example answered 502 5.5.1 EHLO not implemented (expected 250)` });
  });

  test('a connection closed before the greeting is critical', async () => {
    server.setMode('close');
    const result = await check().run(makeContext());
    expect(result).toEqual({ state: 'critical', message: `${where}: connection closed by the server, waiting for the greeting` });
  });

  test('a close instead of the 221 after QUIT is fine', async () => {
    server.setMode('drop-quit');
    const result = await check().run(makeContext());
    expect(result.state).toBe('ok');
  });

  test('something that is not SMTP is critical "not an SMTP reply", with what it said', async () => {
    server.setMode('junk');
    const result = await check().run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toBe(
      `${where}: not an SMTP reply (the greeting): line 1 does not start with a reply code (200-599): "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 \u00dc"`,
    );
  });

  test('an endless reply is cut at 64 KiB and the connection dropped', async () => {
    server.setMode('flood');
    const before = server.connections();
    const result = await check().run(makeContext());
    expect(result).toEqual({
      state: 'critical',
      message: `${where}: not an SMTP reply: more than 64.0 KiB without a complete answer, waiting for the greeting`,
    });
    expect(server.connections()).toBe(before + 1);
    await until(() => server.openConnections() === 0, 'the flooding connection closed by the check');
  });

  test('a server that accepts and never greets: the abort ends the wait and closes the socket', async () => {
    server.setMode('hang');
    const before = server.connections();
    const ctx = makeContext();
    const running = check().run(ctx);
    await until(() => server.connections() === before + 1, 'the connection accepted');
    ctx.abort();
    const result = await running;
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(new RegExp(`^${where}: no answer within \\d+ ms, waiting for the greeting$`));
    await until(() => server.openConnections() === 0, 'the hanging connection closed by the check');
  });

  test('an answer slower than slowMs is a warning', async () => {
    // The greeting comes at least 50 ms after the connection, so 1 ms is passed whatever the machine.
    server.setMode('slow');
    const result = await check(1).run(makeContext());
    expect(result.state).toBe('warning');
    expect(result.message).toMatch(/ answered 220 sim\.example ESMTP, EHLO 250 in \d+ms; slow: answered in \d+ms \(warning above 1ms\)$/);
  });

  test('a check whose timeout already passed does not connect', async () => {
    server.setMode('ok');
    const before = server.connections();
    const ctx = makeContext();
    ctx.abort();
    const result = await check().run(ctx);
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(new RegExp(`^${where}: no connection within \\d+ ms$`));
    expect(server.connections()).toBe(before);
  });

  test('setMode applies to the next connection', async () => {
    server.setMode('reject');
    expect((await check().run(makeContext())).state).toBe('critical');
    server.setMode('ok');
    expect((await check().run(makeContext())).state).toBe('ok');
  });
});

describe('smtpCheck without an SMTP server', () => {
  test('connection refused is critical with that reason', async () => {
    const port = await closedPort();
    const result = await smtpCheck({ host: '127.0.0.1', port }).run(makeContext());
    expect(result).toEqual({ state: 'critical', message: `SMTP relay 127.0.0.1:${port}: connection refused` });
  });

  test('a connection reset is critical with that reason', async () => {
    const resetting = net.createServer((socket) => socket.resetAndDestroy());
    resetting.listen(0, '127.0.0.1');
    await new Promise((resolve) => resetting.once('listening', resolve));
    const { port } = resetting.address() as net.AddressInfo;
    try {
      const result = await smtpCheck({ host: '127.0.0.1', port }).run(makeContext());
      expect(result.state).toBe('critical');
      // The reset may reach the client before its connect completes (on loopback it often does).
      expect(result.message).toMatch(new RegExp(`^SMTP relay 127\\.0\\.0\\.1:${port}: connection reset by peer(, waiting for the greeting)?$`));
    } finally {
      await new Promise((resolve) => resetting.close(resolve));
    }
  });

  test('a host name that does not resolve is critical', async () => {
    // An empty label is refused by the resolver itself, so this needs no DNS server.
    const result = await smtpCheck({ host: 'relay..invalid', port: 25 }).run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(/^SMTP relay relay\.\.invalid:25: host name (not found|lookup failed)/);
  });
});

describe('smtpCheck construction', () => {
  test.each([
    [{ host: '', port: 25 }, 'host must be a host name or IP address, got ""'],
    [{ host: '127.0.0.1', port: 0 }, 'port must be an integer from 1 to 65535, got 0'],
    [{ host: '127.0.0.1', port: 25, heloName: 'a b' }, 'heloName must be one word of printable ASCII'],
    [{ host: '127.0.0.1', port: 25, heloName: 'x\r\nRSET' }, 'heloName must be one word of printable ASCII'],
    [{ host: '127.0.0.1', port: 25, slowMs: -1 }, 'slowMs must be a positive number, got -1'],
    [{ host: '127.0.0.1', port: 25, name: 'SMTP' }, 'check name must match [a-z0-9_]+'],
  ])('rejects %j', (opts, message) => {
    expect(() => smtpCheck(opts)).toThrow(message);
  });

  test('IPv6 literals are shown in brackets', async () => {
    const port = await closedPort();
    const result = await smtpCheck({ host: '::1', port }).run(makeContext());
    expect(result.message).toMatch(new RegExp(`^SMTP relay \\[::1\\]:${port}: `));
  });
});

describe('parseSmtpReply', () => {
  test.each([
    ['', { complete: false, lines: [] }],
    ['2', { complete: false, lines: [] }],
    ['220 mail.example ESMTP', { complete: false, lines: [] }],
    ['220 mail.example ESMTP\r\n', { complete: true, code: 220, lines: ['mail.example ESMTP'] }],
    ['220 mail.example ESMTP\n', { complete: true, code: 220, lines: ['mail.example ESMTP'] }],
    ['250\r\n', { complete: true, code: 250, lines: [''] }],
    ['220-first\r\n', { complete: false, code: 220, lines: ['first'] }],
    ['220-first\r\n220', { complete: false, code: 220, lines: ['first'] }],
    ['220-first\r\n220-second\r\n220 last\r\n', { complete: true, code: 220, lines: ['first', 'second', 'last'] }],
    ['250-a\r\n250 b\r\n221 after\r\n', { complete: true, code: 250, lines: ['a', 'b'] }],
    ['554 5.3.2 no service\r\n', { complete: true, code: 554, lines: ['5.3.2 no service'] }],
  ])('%j', (text, expected) => {
    expect(parseSmtpReply(text)).toEqual(expected);
  });

  test.each([
    { text: 'HTTP/1.1 400 Bad Request\r\n', error: 'line 1 does not start with a reply code (200-599)' },
    { text: 'SSH-2.0', error: 'line 1 does not start with a reply code (200-599)' },
    { text: '\u0016\u0003\u0001', error: 'line 1 does not start with a reply code (200-599)' },
    { text: '\r\n', error: 'line 1 does not start with a reply code (200-599)' },
    { text: '+OK POP3 ready\r\n', error: 'line 1 does not start with a reply code (200-599)' },
    { text: '2200 too long a code\r\n', error: 'line 1 does not start with a reply code (200-599)' },
    { text: '220x\r\n', error: 'line 1 does not start with a reply code (200-599)' },
    { text: '120 one hundred is not SMTP\r\n', error: 'line 1 does not start with a reply code (200-599)' },
    { text: '220-first\r\nnot a line\r\n', error: 'line 2 does not start with a reply code (200-599)' },
    { text: '220-first\r\n250 other code\r\n', error: 'line 2 has code 250, the reply started with 220' },
    { text: `220 ${'x'.repeat(3000)}\r\n`, error: 'line 1 is longer than 2048 characters' },
    { text: `220-${'x'.repeat(3000)}`, error: 'line 1 is longer than 2048 characters' },
  ])('junk #$# is refused: $error', ({ text, error }) => {
    const reply = parseSmtpReply(text);
    expect(reply.complete).toBe(false);
    expect(reply.error).toBe(error);
  });

  test('a line of 2048 characters whose CR has come but not its LF is still arriving (fuzz counterexample)', () => {
    const line = `220-${'x'.repeat(2044)}`;
    expect(parseSmtpReply(`${line}\r`)).toEqual({ complete: false, lines: [] });
    expect(parseSmtpReply(`${line}x\r`).error).toBe('line 1 is longer than 2048 characters');
    expect(parseSmtpReply(`${line}\r\n220 done\r\n`)).toMatchObject({ complete: true, code: 220 });
  });
});
