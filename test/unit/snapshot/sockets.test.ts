import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCycleSnapshot } from '../../../src/snapshot/cycle.js';
import {
  decodeIPv4,
  decodeIPv6,
  isAnyAddress,
  isLoopback,
  parseSocketTable,
  readListeningPart,
  readSockets,
} from '../../../src/snapshot/sockets.js';

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

describe('address decoding', () => {
  test('IPv4 is one little-endian word', () => {
    expect(decodeIPv4('0100007F')).toBe('127.0.0.1');
    expect(decodeIPv4('00000000')).toBe('0.0.0.0');
    expect(decodeIPv4('0200000A')).toBe('10.0.0.2');
  });

  test('IPv6 is four little-endian words, printed compressed', () => {
    expect(decodeIPv6('00000000000000000000000001000000')).toBe('::1');
    expect(decodeIPv6('00000000000000000000000000000000')).toBe('::');
    expect(decodeIPv6('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
    expect(decodeIPv6('000000FD000000000000000002000000')).toBe('fd00::2');
    expect(decodeIPv6('000080FE00000000FF00FC00010000FE')).toBe('fe80::fc:ff:fe00:1');
    // A single zero group is not compressed (RFC 5952).
    expect(decodeIPv6('B80D0120010000000100010001000100')).toBe('2001:db8:0:1:1:1:1:1');
  });

  test('rejects malformed hex, saying what it expected', () => {
    expect(() => decodeIPv4('7F0001')).toThrow('is not 8 hex digits');
    expect(() => decodeIPv6('zz')).toThrow('is not 32 hex digits');
  });
});

describe('parseSocketTable', () => {
  test('reads proto, family, address, port, state and inode', () => {
    const text =
      TCP_HEADER +
      '   0: 0100007F:1F45 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0\n' +
      '   1: 0100007F:1F45 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 5678 1 0000000000000000 20 4 30 10 -1\n';
    expect(parseSocketTable(text, 'tcp', 4)).toEqual([
      { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: 8005, state: 'LISTEN', inode: 1234 },
      { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: 8005, state: 'ESTABLISHED', inode: 5678 },
    ]);
  });

  test('UDP 07 is a bound unconnected socket (UNCONN), 01 a connected one', () => {
    const text =
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n' +
      ' 1234: 00000000000000000000000000000000:1A0A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 99 2 0000000000000000 0\n' +
      ' 1235: 00000000000000000000000001000000:1E61 00000000000000000000000001000000:0035 01 00000000:00000000 00:00000000 00000000     0        0 98 2 0000000000000000 0\n';
    expect(parseSocketTable(text, 'udp', 6)).toEqual([
      { proto: 'udp', family: 6, localAddress: '::', localPort: 6666, state: 'UNCONN', inode: 99 },
      { proto: 'udp', family: 6, localAddress: '::1', localPort: 7777, state: 'ESTABLISHED', inode: 98 },
    ]);
  });

  test('a header-only table is empty', () => {
    expect(parseSocketTable(TCP_HEADER, 'tcp', 4)).toEqual([]);
  });

  test('a port, state or inode the kernel cannot print is rejected, not read as NaN (fuzz counterexamples)', () => {
    // Found by test/fuzz/snapshot.test.ts: columns shifted by one gave state "STATE_00000000:0000".
    const shifted = '   0: 00000000:0000 00:0000 00000000:0000 01 00000000:00000000 00:00000000 00000000  1000        0 1000000000 1 0 100 0 0 10 0';
    expect(() => parseSocketTable(TCP_HEADER + shifted, 'tcp', 4)).toThrow('/proc/net/tcp state "00000000:0000" is not two hex digits');
    const row = (local: string, inode = '1234'): string => `   0: ${local} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0 100 0 0 10 0`;
    expect(() => parseSocketTable(TCP_HEADER + row('0100007F:ZZZZ'), 'tcp', 4)).toThrow('local address "0100007F:ZZZZ" is not ADDRESS:PORT in hex');
    expect(() => parseSocketTable(TCP_HEADER + row('0100007F:1FFFFF'), 'tcp', 4)).toThrow('is not ADDRESS:PORT in hex');
    expect(() => parseSocketTable(TCP_HEADER + row('0100007F:1F45', 'x12'), 'tcp', 4)).toThrow('/proc/net/tcp inode "x12" is not a whole number');
    // Error messages quote at most 80 characters of the line.
    expect(() => parseSocketTable(TCP_HEADER + `0: ${'x'.repeat(100_000)}`, 'tcp', 4)).toThrow(/^\/proc\/net\/tcp line has 2 fields, expected at least 10: "0: x{77}…"$/);
  });
});

describe('isLoopback / isAnyAddress', () => {
  test.each([
    ['127.0.0.1', true, false],
    ['127.5.6.7', true, false],
    ['::1', true, false],
    ['0:0:0:0:0:0:0:1', true, false],
    ['::ffff:127.0.0.1', true, false],
    ['0.0.0.0', false, true],
    ['::', false, true],
    ['192.0.2.2', false, false],
    ['fd00::2', false, false],
    ['not an address', false, false],
  ])('%s: loopback %s, any %s', (address, loopback, any) => {
    expect(isLoopback(address)).toBe(loopback);
    expect(isAnyAddress(address)).toBe(any);
  });
});

async function listen(server: Server, host: string): Promise<number> {
  server.listen(0, host);
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

describe('readSockets on the real /proc', () => {
  const hasIPv6 = existsSync('/proc/net/tcp6');
  let udp: UdpSocket;
  let tcp4: Server;
  let tcp6: Server | undefined;
  let udpPort: number;
  let tcp4Port: number;
  let tcp6Port: number | undefined;

  beforeAll(async () => {
    udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    udpPort = udp.address().port;
    tcp4 = createServer();
    tcp4Port = await listen(tcp4, '127.0.0.1');
    if (hasIPv6) {
      tcp6 = createServer();
      tcp6Port = await listen(tcp6, '::1');
    }
  });

  afterAll(async () => {
    udp.close();
    await new Promise((resolve) => tcp4.close(resolve));
    if (tcp6) await new Promise((resolve) => tcp6?.close(resolve));
  });

  test('sees a UDP socket bound on 127.0.0.1 as UNCONN', async () => {
    const sockets = await readSockets();
    expect(sockets).toContainEqual(
      expect.objectContaining({ proto: 'udp', family: 4, localAddress: '127.0.0.1', localPort: udpPort, state: 'UNCONN' }),
    );
  });

  test('sees a TCP listener on 127.0.0.1 as LISTEN', async () => {
    const sockets = await readSockets();
    expect(sockets).toContainEqual(
      expect.objectContaining({ proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: tcp4Port, state: 'LISTEN' }),
    );
  });

  test('lists listening TCP sockets but not established connections, and only the protocol asked for', async () => {
    const client = connect(tcp4Port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    try {
      const clientPort = client.address() as AddressInfo;
      const tcp = await readSockets('/proc', 'tcp');
      expect(tcp.every((s) => s.proto === 'tcp' && s.state === 'LISTEN')).toBe(true);
      expect(tcp.map((s) => s.localPort)).toContain(tcp4Port);
      expect(tcp.map((s) => s.localPort)).not.toContain(clientPort.port);
      expect((await readSockets('/proc', 'udp')).every((s) => s.proto === 'udp')).toBe(true);
    } finally {
      client.destroy();
    }
  });

  test('sees a TCP listener on ::1 when the kernel has IPv6', async () => {
    const sockets = await readSockets();
    const onV6 = sockets.filter((s) => s.family === 6 && s.proto === 'tcp' && s.localPort === tcp6Port && s.state === 'LISTEN');
    // Without IPv6 there is no tcp6 table, so nothing to find: the expectation becomes "none".
    expect(onV6.map((s) => s.localAddress)).toEqual(hasIPv6 ? ['::1'] : []);
  });
});

describe('readSockets on a prepared proc tree', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'procnet-'));
    await mkdir(path.join(root, 'net'));
    await writeFile(
      path.join(root, 'net', 'udp'),
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n' +
        '  10: 0100007F:1A0A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0\n',
    );
    await writeFile(path.join(root, 'net', 'tcp'), TCP_HEADER);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a TCP table is read up to its first line that is not LISTEN, however long the rest', async () => {
    const line = (sl: number, port: string, state: string): string =>
      `${String(sl).padStart(4)}: 0100007F:${port} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${7000 + sl} 1 0000000000000000 100 0 0 10 0\n`;
    const table = path.join(root, 'tcp-long');
    const established = Array.from({ length: 500 }, (_, i) => line(i + 2, '9C40', '01')).join('');
    await writeFile(table, TCP_HEADER + line(0, '1F90', '0A') + line(1, '1F45', '0A') + established + line(999, '2710', '0A'));
    const part = readListeningPart(table) ?? '';
    expect(part.split('\n').filter(Boolean)).toHaveLength(3);
    expect(parseSocketTable(part, 'tcp', 4).map((s) => [s.localPort, s.state])).toEqual([
      [8080, 'LISTEN'],
      [8005, 'LISTEN'],
    ]);
    expect(readListeningPart(path.join(root, 'no-such-table'))).toBeUndefined();
  });

  test('missing tables (no IPv6) are empty, not errors', async () => {
    expect(await readSockets(root)).toEqual([
      { proto: 'udp', family: 4, localAddress: '127.0.0.1', localPort: 6666, state: 'UNCONN', inode: 4242 },
    ]);
  });

  test('a cycle snapshot reads each table once, even for concurrent callers', async () => {
    const snapshot = createCycleSnapshot({ procRoot: root });
    const [first, second] = await Promise.all([snapshot.sockets(), snapshot.sockets('udp', 4)]);
    expect(second).toEqual(first);
    expect(first).toHaveLength(1);
    // The table is gone, yet the same cycle still answers from what it read.
    await rm(path.join(root, 'net', 'udp'));
    expect(await snapshot.sockets()).toEqual(first);
    expect(await snapshot.sockets('udp')).toEqual(first);
    // A new cycle reads again and sees the change.
    expect(await createCycleSnapshot({ procRoot: root }).sockets()).toEqual([]);
  });

  test('a cycle snapshot memoizes processes too', async () => {
    const snapshot = createCycleSnapshot();
    const [a, b] = await Promise.all([snapshot.processes(), snapshot.processes()]);
    expect(b).toBe(a);
    expect(a.some((p) => p.pid === process.pid)).toBe(true);
  });
});
