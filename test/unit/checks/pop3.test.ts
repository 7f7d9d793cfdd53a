import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parsePop3Status, parseStatReply, pop3Check, type Pop3CheckOptions } from '../../../src/checks/pop3.js';
import { startDovecot, type SimDovecot } from '../../sim/dovecot.js';
import { makeContext } from '../ctx.js';
import { freeTcpPort, until } from '../../sim/net-util.js';

const PASSWORD = 'Bounce-s3cret pass';
const WRONG_PASSWORD = 'wrong-Pa55word';
const HOUR = 3_600_000;

let dir: string;

/** Writes a password file in the test's temp dir and returns its path. */
async function passwordFile(name: string, content: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

const closedPort = freeTcpPort;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pop3-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pop3Check against a real Dovecot', () => {
  let dovecot: SimDovecot;
  let goodFile: string;
  let where: string;
  const check = (user: string, extra: Partial<Pop3CheckOptions> = {}) =>
    pop3Check({ host: dovecot.host, port: dovecot.port, user, passwordFile: goodFile, backlogMaxAgeMs: HOUR, ...extra });

  beforeAll(async () => {
    dovecot = await startDovecot({
      users: [
        { user: 'bounce', password: PASSWORD },
        { user: 'backlog', password: PASSWORD },
        { user: 'crowded', password: PASSWORD },
      ],
      messages: { bounce: 3, crowded: 5 },
    });
    goodFile = await passwordFile('good', `${PASSWORD}\n`);
    where = `127.0.0.1:${dovecot.port}`;
  });

  afterAll(async () => {
    await dovecot.stop();
  });

  test('a healthy mailbox with 3 messages is ok, with the count and the response time', async () => {
    const result = await check('bounce').run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(new RegExp(`^POP3 mailbox bounce at ${where}: 3 messages \\(\\d+ B\\), login and STAT in \\d+(ms|s)$`));
    expect(result.values?.mailbox_messages).toBe(3);
    expect(result.values?.response_seconds).toBeGreaterThan(0);
  });

  test('the check only counts: the messages are still there after a run', async () => {
    await check('bounce').run(makeContext());
    expect((await check('bounce').run(makeContext())).values?.mailbox_messages).toBe(3);
  });

  test('the default name is pop3_mailbox', () => {
    expect(check('bounce').name).toBe('pop3_mailbox');
  });

  test('a password file ending with CRLF works: one line end is not part of the password', async () => {
    const file = await passwordFile('crlf', `${PASSWORD}\r\n`);
    expect((await check('bounce', { passwordFile: file }).run(makeContext())).state).toBe('ok');
  });

  test('a wrong password is unknown (the agent\'s credentials), and the password is not in the message', async () => {
    const file = await passwordFile('wrong', `${WRONG_PASSWORD}\n`);
    const result = await check('bounce', { passwordFile: file }).run(makeContext());
    expect(result).toEqual({ state: 'unknown', message: `POP3 login refused for user bounce at ${where}: [AUTH] Authentication failed.` });
    expect(result.message).not.toContain(WRONG_PASSWORD);
  });

  test('an unknown user is refused the same way', async () => {
    const result = await check('nobody_here').run(makeContext());
    expect(result.state).toBe('unknown');
    expect(result.message).toMatch(new RegExp(`^POP3 login refused for user nobody_here at ${where}: `));
  });

  test('a missing password file is unknown, naming the file and the errno', async () => {
    const file = path.join(dir, 'missing');
    const result = await check('bounce', { passwordFile: file }).run(makeContext());
    expect(result).toEqual({
      state: 'unknown',
      message: `POP3 mailbox bounce at ${where}: cannot use the POP3 password file ${file}: ENOENT (no such file)`,
    });
  });

  test('an empty password file (or one holding only a line end) is unknown', async () => {
    for (const [name, content] of [['empty', ''], ['newline', '\n']] as const) {
      const file = await passwordFile(name, content);
      const result = await check('bounce', { passwordFile: file }).run(makeContext());
      expect(result).toEqual({ state: 'unknown', message: `POP3 mailbox bounce at ${where}: cannot use the POP3 password file ${file}: it is empty` });
    }
  });

  test('a directory, or a file too big for a password, is unknown', async () => {
    const asDirectory = await check('bounce', { passwordFile: dir }).run(makeContext());
    expect(asDirectory).toEqual({ state: 'unknown', message: `POP3 mailbox bounce at ${where}: cannot use the POP3 password file ${dir}: it is not a regular file` });
    const big = await passwordFile('big', 'x'.repeat(5000));
    const tooBig = await check('bounce', { passwordFile: big }).run(makeContext());
    expect(tooBig.state).toBe('unknown');
    expect(tooBig.message).toBe(`POP3 mailbox bounce at ${where}: cannot use the POP3 password file ${big}: it is larger than 4096 bytes, not a password file`);
  });

  test('a password with a line break inside is refused before it reaches the protocol, without showing it', async () => {
    const file = await passwordFile('two-lines', `${PASSWORD}\nQUIT\n`);
    const result = await check('bounce', { passwordFile: file }).run(makeContext());
    expect(result.state).toBe('unknown');
    expect(result.message).toMatch(new RegExp(`^POP3 mailbox bounce at ${where}: cannot use the POP3 password file ${file}: it holds a line break or NUL inside the password`));
    expect(result.message).not.toContain(PASSWORD);
  });

  test('messages never drained: warning once they waited longer than backlogMaxAgeMs; drained: ok again', async () => {
    let now = Date.parse('2026-11-25T10:00:00Z');
    const memory = new Map<string, unknown>();
    const run = async () => check('backlog').run(makeContext({ now: () => now, memory }));

    expect((await run()).message).toMatch(/: 0 messages \(0 B\)/);
    await dovecot.deliver('backlog', 2);
    expect(await run()).toMatchObject({ state: 'ok', values: { mailbox_messages: 2 } });

    // More arrive, none leave: the clock keeps running from the first sighting.
    now += HOUR / 2;
    await dovecot.deliver('backlog', 1);
    expect(await run()).toMatchObject({ state: 'ok', values: { mailbox_messages: 3 } });

    now += HOUR / 2 + 60_000;
    const stale = await run();
    expect(stale).toMatchObject({ state: 'warning', values: { mailbox_messages: 3 } });
    expect(stale.message).toBe(
      `POP3 mailbox backlog at ${where}: 3 messages waiting for 1h 1m without the mailbox being drained: inMail may no longer be reading the bounce mailbox`,
    );

    // Drained, then new bounces: a fresh wait, not the old one.
    await dovecot.drain('backlog');
    now += 60_000;
    expect(await run()).toMatchObject({ state: 'ok', values: { mailbox_messages: 0 } });
    await dovecot.deliver('backlog', 1);
    now += 60_000;
    expect(await run()).toMatchObject({ state: 'ok', values: { mailbox_messages: 1 } });
    now += HOUR - 1000;
    expect((await run()).state).toBe('ok');
  });

  test('a count that goes down (inMail read some) restarts the clock even if it does not reach 0', async () => {
    let now = Date.parse('2026-11-25T12:00:00Z');
    const memory = new Map<string, unknown>();
    const run = async () => check('backlog').run(makeContext({ now: () => now, memory }));
    await dovecot.drain('backlog');
    await dovecot.deliver('backlog', 4);
    expect((await run()).state).toBe('ok');
    now += 2 * HOUR;
    expect((await run()).state).toBe('warning');
    await dovecot.drain('backlog');
    await dovecot.deliver('backlog', 1);
    expect(await run()).toMatchObject({ state: 'ok', values: { mailbox_messages: 1 } });
    now += HOUR;
    expect((await run()).state).toBe('ok');
    now += 1;
    expect((await run()).message).toMatch(/: 1 message waiting for 1h without the mailbox being drained/);
  });

  test('a clock set back does not hide a backlog: the wait counts from the jump, not from the future', async () => {
    let now = Date.parse('2026-11-25T14:00:00Z');
    const memory = new Map<string, unknown>();
    const run = async () => check('backlog').run(makeContext({ now: () => now, memory }));
    await dovecot.drain('backlog');
    await dovecot.deliver('backlog', 2);
    expect((await run()).state).toBe('ok');
    now -= 2 * HOUR;
    expect((await run()).state).toBe('ok');
    now += HOUR + 60_000;
    expect((await run()).message).toMatch(/: 2 messages waiting for 1h 1m without the mailbox being drained/);
  });

  test('maxMessages or more waiting is a warning at once', async () => {
    const atLimit = await check('crowded', { maxMessages: 5 }).run(makeContext());
    expect(atLimit).toEqual({
      state: 'warning',
      message: `POP3 mailbox crowded at ${where}: 5 messages waiting (warning from 5)`,
      values: { mailbox_messages: 5, response_seconds: expect.any(Number) },
    });
    expect((await check('crowded', { maxMessages: 6 }).run(makeContext())).state).toBe('ok');
  });

  test('an answer slower than slowMs is a warning', async () => {
    // Login and STAT take at least a few hundred microseconds: 0.001 ms is always passed.
    const result = await check('bounce', { slowMs: 0.001 }).run(makeContext());
    expect(result.state).toBe('warning');
    expect(result.message).toMatch(/: 3 messages \(\d+ B\), login and STAT in \d+ms; slow: answered in \d+ms \(warning above 0ms\)$/);
  });
});

describe('pop3Check when the server is down', () => {
  test('a stopped Dovecot is critical: connection refused', async () => {
    const dovecot = await startDovecot({ users: [{ user: 'bounce', password: PASSWORD }] });
    const file = await passwordFile('down', PASSWORD);
    const check = pop3Check({ host: dovecot.host, port: dovecot.port, user: 'bounce', passwordFile: file, backlogMaxAgeMs: HOUR });
    expect((await check.run(makeContext())).state).toBe('ok');
    await dovecot.stop();
    expect(await check.run(makeContext())).toEqual({
      state: 'critical',
      message: `POP3 mailbox bounce at 127.0.0.1:${dovecot.port}: connection refused`,
    });
  });

  test('a port where nothing listens is critical', async () => {
    const port = await closedPort();
    const file = await passwordFile('closed', PASSWORD);
    const result = await pop3Check({ host: '127.0.0.1', port, user: 'bounce', passwordFile: file, backlogMaxAgeMs: HOUR }).run(makeContext());
    expect(result).toEqual({ state: 'critical', message: `POP3 mailbox bounce at 127.0.0.1:${port}: connection refused` });
  });
});

/**
 * A scripted POP3 peer for what Dovecot does not do: odd greetings, junk, hanging, echoing the
 * password back. `answer` gets each command line and returns what to write (undefined: nothing).
 */
async function scriptedServer(greeting: string | undefined, answer: (line: string, socket: net.Socket) => string | undefined = () => '+OK\r\n') {
  let accepted = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    accepted++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    if (greeting !== undefined) socket.write(greeting);
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      pending += data;
      let end: number;
      while ((end = pending.indexOf('\n')) >= 0) {
        const reply = answer(pending.slice(0, end).replace(/\r$/, ''), socket);
        pending = pending.slice(end + 1);
        if (reply !== undefined) socket.write(reply);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    connections: () => accepted,
    openConnections: () => open.size,
    async stop() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('pop3Check against misbehaving servers', () => {
  let file: string;
  const checkOn = (port: number) => pop3Check({ host: '127.0.0.1', port, user: 'bounce', passwordFile: file, backlogMaxAgeMs: HOUR });

  beforeAll(async () => {
    file = await passwordFile('scripted', `${PASSWORD}\n`);
  });

  test('a -ERR greeting is critical', async () => {
    const server = await scriptedServer('-ERR [SYS/TEMP] too many connections\r\n');
    try {
      expect(await checkOn(server.port).run(makeContext())).toEqual({
        state: 'critical',
        message: `POP3 mailbox bounce at 127.0.0.1:${server.port}: greeting -ERR [SYS/TEMP] too many connections (expected +OK)`,
      });
    } finally {
      await server.stop();
    }
  });

  test('something that is not POP3 is critical, with what it said', async () => {
    const server = await scriptedServer('220 mail.example ESMTP Postfix\r\n');
    try {
      expect(await checkOn(server.port).run(makeContext())).toEqual({
        state: 'critical',
        message: `POP3 mailbox bounce at 127.0.0.1:${server.port}: not a POP3 answer (the greeting): "220 mail.example ESMTP Postfix" (expected +OK or -ERR)`,
      });
    } finally {
      await server.stop();
    }
  });

  test('a stream without line ends is cut and critical', async () => {
    const server = await scriptedServer('+OK'.padEnd(10_000, 'x'));
    try {
      const result = await checkOn(server.port).run(makeContext());
      expect(result).toEqual({
        state: 'critical',
        message: `POP3 mailbox bounce at 127.0.0.1:${server.port}: not a POP3 answer (the greeting): a line longer than 2048 characters`,
      });
      await until(() => server.openConnections() === 0, 'the connection closed by the check');
    } finally {
      await server.stop();
    }
  });

  test('a server that never greets: the abort ends the wait, critical, and the socket is closed', async () => {
    const server = await scriptedServer(undefined);
    try {
      const ctx = makeContext();
      const running = checkOn(server.port).run(ctx);
      await until(() => server.connections() === 1, 'the connection accepted');
      ctx.abort();
      const result = await running;
      expect(result.state).toBe('critical');
      expect(result.message).toMatch(new RegExp(`^POP3 mailbox bounce at 127\\.0\\.0\\.1:${server.port}: no answer within \\d+ ms, waiting for the greeting$`));
      await until(() => server.openConnections() === 0, 'the connection closed by the check');
    } finally {
      await server.stop();
    }
  });

  test('a server echoing the password in its refusal: the password never reaches the message', async () => {
    const server = await scriptedServer('+OK ready\r\n', (line) =>
      line.startsWith('PASS ') ? `-ERR [AUTH] bad password ${line.slice(5)} / ${line.slice(5).toUpperCase()} for bounce\r\n` : '+OK\r\n',
    );
    try {
      const result = await checkOn(server.port).run(makeContext());
      expect(result).toEqual({
        state: 'unknown',
        message: `POP3 login refused for user bounce at 127.0.0.1:${server.port}: [AUTH] bad password <password> / <password> for bounce`,
      });
      expect(result.message.toLowerCase()).not.toContain(PASSWORD.toLowerCase());
    } finally {
      await server.stop();
    }
  });

  test('a server echoing the password and closing mid-line: not in the message either', async () => {
    const server = await scriptedServer('+OK ready\r\n', (line, socket) => {
      if (line.startsWith('PASS ')) socket.end(`-ERR no such password: ${line.slice(5)}`);
      return line.startsWith('PASS ') ? undefined : '+OK\r\n';
    });
    try {
      expect(await checkOn(server.port).run(makeContext())).toEqual({
        state: 'critical',
        message: `POP3 mailbox bounce at 127.0.0.1:${server.port}: connection closed by the server in the middle of the answer to PASS: "-ERR no such password: <password>"`,
      });
    } finally {
      await server.stop();
    }
  });

  test('a STAT answer that is not "+OK count octets" is critical', async () => {
    const server = await scriptedServer('+OK ready\r\n', (line) => (line === 'STAT' ? '+OK lots of mail\r\n' : '+OK\r\n'));
    try {
      expect(await checkOn(server.port).run(makeContext())).toEqual({
        state: 'critical',
        message: `POP3 mailbox bounce at 127.0.0.1:${server.port}: not a POP3 STAT answer: "+OK lots of mail" (expected +OK <messages> <octets>)`,
      });
    } finally {
      await server.stop();
    }
  });

  test('STAT refused after login is critical: the mailbox cannot be read', async () => {
    const server = await scriptedServer('+OK ready\r\n', (line) => (line === 'STAT' ? '-ERR [SYS/TEMP] mailbox locked\r\n' : '+OK\r\n'));
    try {
      expect(await checkOn(server.port).run(makeContext())).toEqual({
        state: 'critical',
        message: `POP3 mailbox bounce at 127.0.0.1:${server.port}: STAT answered -ERR [SYS/TEMP] mailbox locked (expected +OK <messages> <octets>)`,
      });
    } finally {
      await server.stop();
    }
  });

  test('a close instead of +OK after QUIT is fine; the protocol lines are exactly USER, PASS, STAT, QUIT', async () => {
    const seen: string[] = [];
    const server = await scriptedServer('+OK ready\r\n', (line, socket) => {
      seen.push(line);
      if (line === 'QUIT') socket.destroy();
      return line === 'STAT' ? '+OK 2 640\r\n' : '+OK\r\n';
    });
    try {
      const result = await checkOn(server.port).run(makeContext());
      expect(result).toMatchObject({ state: 'ok', values: { mailbox_messages: 2 } });
      expect(result.message).toMatch(/: 2 messages \(640 B\), login and STAT in /);
      expect(seen).toEqual(['USER bounce', `PASS ${PASSWORD}`, 'STAT', 'QUIT']);
    } finally {
      await server.stop();
    }
  });
});

describe('pop3Check construction', () => {
  const base = { host: '127.0.0.1', port: 110, user: 'bounce', passwordFile: '/etc/campaign-health/pop3.pass', backlogMaxAgeMs: HOUR };
  test.each([
    [{ user: 'bounce\r\nDELE 1' }, 'user must be a non-empty name without line breaks or NUL, got "bounce\\r\\nDELE 1"'],
    [{ user: '' }, 'user must be a non-empty name without line breaks or NUL'],
    [{ passwordFile: 'pop3.pass' }, 'passwordFile must be an absolute path, got "pop3.pass"'],
    [{ backlogMaxAgeMs: 0 }, 'backlogMaxAgeMs must be a positive number, got 0'],
    [{ maxMessages: 2.5 }, 'maxMessages must be a positive integer, got 2.5'],
    [{ port: 70000 }, 'port must be an integer from 1 to 65535, got 70000'],
    [{ name: 'pop3-mailbox' }, 'check name must match [a-z0-9_]+'],
  ])('rejects %j', (override, message) => {
    expect(() => pop3Check({ ...base, ...override })).toThrow(message);
  });
});

describe('parsePop3Status', () => {
  test.each([
    ['+OK Dovecot (Debian) ready.', { ok: true, text: 'Dovecot (Debian) ready.' }],
    ['+OK', { ok: true, text: '' }],
    ['-ERR [AUTH] Authentication failed.', { ok: false, text: '[AUTH] Authentication failed.' }],
    ['-ERR', { ok: false, text: '' }],
    ['+OKAY', undefined],
    ['+ok lower case', undefined],
    ['220 mail.example ESMTP', undefined],
    ['', undefined],
    [' +OK', undefined],
  ])('%j', (line, expected) => {
    expect(parsePop3Status(line)).toEqual(expected);
  });
});

describe('parseStatReply', () => {
  test.each([
    ['+OK 3 1234', { count: 3, octets: 1234 }],
    ['+OK 0 0', { count: 0, octets: 0 }],
    ['+OK 2 320 messages waiting', { count: 2, octets: 320 }],
    ['+OK 3', undefined],
    ['+OK three 1234', undefined],
    ['+OK -1 0', undefined],
    ['+OK 1.5 10', undefined],
    ['-ERR 3 1234', undefined],
    ['+OK  3 1234', undefined],
    ['+OK 1234567890123456 1', undefined],
  ])('%j', (line, expected) => {
    expect(parseStatReply(line)).toEqual(expected);
  });
});
