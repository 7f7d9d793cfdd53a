import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpGetCheck } from '../../../src/checks/http.js';
import { redirTestExpectation } from '../../../src/checks/redirTest.js';
import { makeContext } from '../ctx.js';
import { until } from '../../sim/net-util.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1; each test installs the routes it needs. */
class TestServer {
  readonly routes = new Map<string, Handler>();
  private server: Server = createServer((req, res) => this.dispatch(req, res));
  port = 0;

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => this.server.once('listening', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(route: string): string {
    return `http://127.0.0.1:${this.port}${route}`;
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const handler = this.routes.get(req.url ?? '');
    if (handler) handler(req, res);
    else res.writeHead(404).end('no such route');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A port on which nothing listens: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('httpGetCheck', () => {
  const server = new TestServer();

  beforeAll(async () => {
    await server.start();
    server.routes.set('/ok', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'));
    server.routes.set('/error', (_req, res) => res.writeHead(500).end('<html>Internal error</html>'));
    server.routes.set('/moved', (_req, res) => res.writeHead(302, { location: '/login' }).end());
    server.routes.set('/r/test', (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/xml' }).end(`<redir status='OK' date='2024-05-01 10:00:00.112Z' build='9032' host='t.example.com' localHost='front_srv1'/>`),
    );
  });

  afterAll(async () => {
    await server.close();
  });

  test('ok on 200, recording the response time', async () => {
    const result = await httpGetCheck({ name: 'home', url: server.url('/ok') }).run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(new RegExp(`^GET ${server.url('/ok')}: HTTP 200 in \\d+(ms|s)$`));
    expect(result.values?.response_seconds).toBeGreaterThan(0);
  });

  test('each run opens its own connection and leaves none open after it (no keep-alive between runs)', async () => {
    const own = createServer((_req, res) => res.writeHead(200).end('ok'));
    const closed: number[] = [];
    let connections = 0;
    own.on('connection', (socket) => {
      const id = ++connections;
      socket.on('close', () => closed.push(id));
    });
    own.listen(0, '127.0.0.1');
    await new Promise((resolve) => own.once('listening', resolve));
    const url = `http://127.0.0.1:${(own.address() as AddressInfo).port}/`;
    try {
      for (let run = 0; run < 2; run++) {
        const result = await httpGetCheck({ name: 'home', url }).run(makeContext());
        expect(result.state).toBe('ok');
      }
      // A kept-alive socket would be reused by the second run and stay open (Node's default agent).
      expect(connections).toBe(2);
      await until(() => closed.length === 2, 'both connections closed');
    } finally {
      own.closeAllConnections();
      await new Promise((resolve) => own.close(resolve));
    }
  });

  test('critical on 500, naming expected and received status', async () => {
    const result = await httpGetCheck({ name: 'home', url: server.url('/error') }).run(makeContext());
    expect(result.state).toBe('critical');
    expect(result.message).toBe(`GET ${server.url('/error')}: expected HTTP 200, got 500`);
    expect(result.values?.response_seconds).toBeGreaterThan(0);
  });

  test('500 is fine when listed in expectStatus', async () => {
    const result = await httpGetCheck({ name: 'home', url: server.url('/error'), expectStatus: [200, 500] }).run(makeContext());
    expect(result.state).toBe('ok');
  });

  test('does not follow redirects, and shows where it would have gone', async () => {
    const result = await httpGetCheck({ name: 'home', url: server.url('/moved') }).run(makeContext());
    expect(result.message).toBe(`GET ${server.url('/moved')}: expected HTTP 200, got 302 (Location: /login)`);
  });

  test('expect judges the body; response time is added to its values', async () => {
    const result = await httpGetCheck({ name: 'redir', url: server.url('/r/test'), expect: redirTestExpectation }).run(makeContext());
    expect(result.state).toBe('ok');
    expect(result.message).toBe("/r/test answered status='OK' (build 9032, localHost front_srv1)");
    expect(result.values?.response_seconds).toBeGreaterThan(0);
  });

  test('expect sees body and status, and its verdict stands', async () => {
    const seen: Array<[string, number]> = [];
    const check = httpGetCheck({
      name: 'home',
      url: server.url('/ok'),
      expect: (body, status) => {
        seen.push([body, status]);
        return { state: 'warning', message: 'body says hello', values: { greeting: 1 } };
      },
    });
    const result = await check.run(makeContext());
    expect(seen).toEqual([['hello', 200]]);
    expect(result).toEqual({ state: 'warning', message: 'body says hello', values: { greeting: 1, response_seconds: expect.any(Number) } });
  });

  test('slower than slowMs is a warning', async () => {
    // The answer comes after at least 30 ms, so a 1 ms threshold is passed whatever the machine's speed.
    server.routes.set('/slow', (_req, res) => setTimeout(() => res.writeHead(200).end('late'), 30));
    const result = await httpGetCheck({ name: 'home', url: server.url('/slow'), slowMs: 1 }).run(makeContext());
    expect(result.state).toBe('warning');
    expect(result.message).toMatch(/: HTTP 200 in \d+ms; slow: answered in \d+ms \(warning above 1ms\)$/);
  });

  test('stops waiting when the signal aborts, with a critical "no answer"', async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    server.routes.set('/hang', () => arrived());
    const ctx = makeContext();
    const running = httpGetCheck({ name: 'home', url: server.url('/hang') }).run(ctx);
    await requestArrived;
    ctx.abort();
    const result = await running;
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(new RegExp(`^GET ${server.url('/hang')}: no answer within \\d+ ms$`));
  });

  test('aborts while the body is still streaming', async () => {
    let arrived!: () => void;
    const headersSent = new Promise<void>((resolve) => (arrived = resolve));
    server.routes.set('/trickle', (_req, res) => {
      res.writeHead(200);
      res.write('first part', () => arrived());
    });
    const ctx = makeContext();
    const running = httpGetCheck({ name: 'home', url: server.url('/trickle') }).run(ctx);
    await headersSent;
    ctx.abort();
    expect((await running).message).toMatch(/no answer within \d+ ms$/);
  });

  test('connection refused is critical with that reason', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/r/test`;
    const result = await httpGetCheck({ name: 'home', url }).run(makeContext());
    expect(result).toEqual({ state: 'critical', message: `GET ${url}: connection refused` });
  });

  test('reads at most maxBodyBytes and stops there', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    server.routes.set('/big', (_req, res) => {
      res.writeHead(200);
      // 64 KiB chunks until the client goes away; never ends by itself.
      const chunk = 'x'.repeat(65536);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => closed());
      pump();
    });
    let bodyLength = -1;
    const check = httpGetCheck({
      name: 'home',
      url: server.url('/big'),
      maxBodyBytes: 100_000,
      expect: (body) => {
        bodyLength = body.length;
        return null;
      },
    });
    const result = await check.run(makeContext());
    expect(result.state).toBe('ok');
    expect(bodyLength).toBe(100_000);
    // The client hung up instead of reading forever (otherwise this never resolves and the test times out).
    await serverSawClose;
  });
});

describe('httpGetCheck construction', () => {
  test.each([
    ['ftp://example.com/', 'url must use http or https, got "ftp"'],
    ['/r/test', 'url must be an absolute http:// or https:// URL, got "/r/test"'],
    ['http://admin:secret@example.com/', 'url must not carry credentials'],
  ])('rejects %s', (url, message) => {
    expect(() => httpGetCheck({ name: 'home', url })).toThrow(message);
  });

  test('rejects an empty expectStatus and impossible statuses', () => {
    expect(() => httpGetCheck({ name: 'home', url: 'http://x/', expectStatus: [] })).toThrow('expectStatus must list HTTP statuses');
    expect(() => httpGetCheck({ name: 'home', url: 'http://x/', expectStatus: [2000] })).toThrow('expectStatus must list HTTP statuses');
  });

  test('rejects a non-positive slowMs', () => {
    expect(() => httpGetCheck({ name: 'home', url: 'http://x/', slowMs: 0 })).toThrow('slowMs must be a positive number, got 0');
  });
});
