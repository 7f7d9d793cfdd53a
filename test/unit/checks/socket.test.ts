import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { socketCheck } from '../../../src/checks/socket.js';
import type { SocketInfo } from '../../../src/core/contracts.js';
import { makeContext } from '../ctx.js';

/** A context whose socket table is given data instead of /proc: for states the host cannot easily be put in. */
function contextWithSockets(sockets: SocketInfo[]) {
  const ctx = makeContext();
  return { ...ctx, snapshot: { processes: ctx.snapshot.processes, sockets: async () => sockets } };
}

function udp(localAddress: string, localPort: number): SocketInfo {
  return { proto: 'udp', family: localAddress.includes(':') ? 6 : 4, localAddress, localPort, state: 'UNCONN', inode: localPort };
}

/** A port near `port` that nothing binds for `proto` right now, so the check must not find it. */
async function unusedPortNear(port: number, proto: 'tcp' | 'udp'): Promise<number> {
  const bound = new Set((await makeContext().snapshot.sockets()).filter((s) => s.proto === proto).map((s) => s.localPort));
  for (let candidate = port + 1; candidate !== port; candidate = candidate === 65535 ? 1024 : candidate + 1) {
    if (!bound.has(candidate)) return candidate;
  }
  throw new Error('no free port');
}

describe('socketCheck on real sockets', () => {
  let udpSocket: UdpSocket;
  let tcpServer: Server;
  let udpPort: number;
  let tcpPort: number;

  beforeAll(async () => {
    udpSocket = createSocket('udp4');
    await new Promise<void>((resolve) => udpSocket.bind(0, '127.0.0.1', resolve));
    udpPort = udpSocket.address().port;
    tcpServer = createServer();
    tcpServer.listen(0, '127.0.0.1');
    await new Promise((resolve) => tcpServer.once('listening', resolve));
    tcpPort = (tcpServer.address() as AddressInfo).port;
  });

  afterAll(async () => {
    udpSocket.close();
    await new Promise((resolve) => tcpServer.close(resolve));
  });

  test('ok for a UDP socket bound on loopback', async () => {
    const result = await socketCheck({ proto: 'udp', port: udpPort }).run(makeContext());
    expect(result).toEqual({ state: 'ok', message: `UDP port ${udpPort} bound on 127.0.0.1`, values: { sockets: 1 } });
  });

  test('ok for a TCP listener on loopback', async () => {
    const result = await socketCheck({ proto: 'tcp', port: tcpPort }).run(makeContext());
    expect(result).toEqual({ state: 'ok', message: `TCP port ${tcpPort} listening on 127.0.0.1`, values: { sockets: 1 } });
  });

  test('a TCP listener does not satisfy a UDP check on the same port number', async () => {
    const result = await socketCheck({ proto: 'udp', port: tcpPort }).run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toContain(`no UDP socket bound on port ${tcpPort}`);
  });

  test('critical for a free port, naming the bound ports nearby', async () => {
    const free = await unusedPortNear(udpPort, 'udp');
    const result = await socketCheck({ proto: 'udp', port: free }).run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(new RegExp(`^no UDP socket bound on port ${free} \\(loopback or any address\\); UDP ports bound: .*\\b${udpPort}\\b`));
    expect(result.values).toEqual({ sockets: 0 });
  });

  test('never connects to the port: the listener accepts only our own later connection', async () => {
    let connections = 0;
    tcpServer.on('connection', (socket) => {
      connections++;
      socket.destroy();
    });
    await socketCheck({ proto: 'tcp', port: tcpPort }).run(makeContext());
    // Accepts happen in arrival order: had the check connected, ours would be the second one.
    const accepted = new Promise((resolve) => tcpServer.once('connection', resolve));
    const probe = createConnection(tcpPort, '127.0.0.1');
    probe.on('error', () => {});
    await accepted;
    probe.destroy();
    expect(connections).toBe(1);
  });
});

describe('socketCheck on a given socket table', () => {
  test('a socket bound only on a LAN address is not loopback-or-any, and the message says where it is', async () => {
    const ctx = contextWithSockets([udp('192.0.2.2', 6666), udp('127.0.0.1', 7777)]);
    const result = await socketCheck({ proto: 'udp', port: 6666 }).run(ctx);
    expect(result).toEqual({
      state: 'critical',
      message: 'no UDP socket bound on port 6666 (loopback or any address); port 6666 is bound only on 192.0.2.2',
      values: { sockets: 0 },
    });
  });

  test("'any' accepts a LAN address", async () => {
    const result = await socketCheck({ proto: 'udp', port: 6666, addresses: 'any' }).run(contextWithSockets([udp('192.0.2.2', 6666)]));
    expect(result.state).toBe('ok');
    expect(result.message).toBe('UDP port 6666 bound on 192.0.2.2');
  });

  test('wildcard addresses, IPv4 and IPv6, are accepted', async () => {
    const ctx = contextWithSockets([udp('0.0.0.0', 6666), udp('::', 6666)]);
    expect(await socketCheck({ proto: 'udp', port: 6666 }).run(ctx)).toEqual({
      state: 'ok',
      message: 'UDP port 6666 bound on 0.0.0.0, ::',
      values: { sockets: 2 },
    });
  });

  test('a connected UDP socket is not a bound service', async () => {
    const result = await socketCheck({ proto: 'udp', port: 6666 }).run(
      contextWithSockets([{ ...udp('127.0.0.1', 6666), state: 'ESTABLISHED' }, udp('127.0.0.1', 6667), udp('::1', 7777)]),
    );
    expect(result.message).toBe('no UDP socket bound on port 6666 (loopback or any address); UDP ports bound: 6667, 7777');
  });

  test('lists at most the 10 ports nearest the wanted one, in order', async () => {
    const ports = [1, 2, 3, 6660, 6661, 6662, 6663, 6664, 6665, 6667, 6668, 6669, 6670, 9999];
    const result = await socketCheck({ proto: 'udp', port: 6666 }).run(contextWithSockets(ports.map((p) => udp('127.0.0.1', p))));
    expect(result.message).toBe(
      'no UDP socket bound on port 6666 (loopback or any address); UDP ports bound: 6660, 6661, 6662, 6663, 6664, 6665, 6667, 6668, 6669, 6670',
    );
  });

  test('says so when nothing at all is bound', async () => {
    const result = await socketCheck({ proto: 'tcp', port: 8005 }).run(contextWithSockets([udp('127.0.0.1', 8005)]));
    expect(result.message).toBe('no TCP listener on port 8005 (loopback or any address); no TCP port is listening at all');
  });
});

describe('socketCheck construction', () => {
  test('default names', () => {
    expect(socketCheck({ proto: 'tcp', port: 8080 }).name).toBe('tcp_8080');
    expect(socketCheck({ proto: 'udp', port: 6666 }).name).toBe('udp_6666');
  });

  test.each([0, 65536, -1, 1.5, Number.NaN])('rejects port %s', (port) => {
    expect(() => socketCheck({ proto: 'tcp', port })).toThrow(`port must be an integer from 1 to 65535, got ${port}`);
  });

  test('rejects a name that is not metric-label safe', () => {
    expect(() => socketCheck({ proto: 'tcp', port: 80, name: 'Web-Port' })).toThrow('check name must match [a-z0-9_]+, got "Web-Port"');
  });
});
