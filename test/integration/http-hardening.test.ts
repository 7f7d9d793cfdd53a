import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import YAML from 'yaml';
import { plugins } from '../../probes/index.js';
import { Agent } from '../../src/agent/agent.js';
import { parseConfig } from '../../src/config/load.js';
import { SERVER_LIMITS, startServer, type StatusServer } from '../../src/http/server.js';
import type { Logger } from '../../src/core/contracts.js';
import { freeTcpPort } from '../sim/net-util.js';
import { Daemon } from './helpers.js';

// The endpoint against misbehaving clients, over real sockets. The daemon runs without a Campaign
// install (every row unknown): these tests are about HTTP, not about Campaign.

let dir: string;
let daemon: Daemon;
let port: number;

/** Writes raw bytes, collects everything the server sends until it closes the connection. */
function raw(send: (socket: net.Socket) => void, timeoutMs = 15_000): Promise<{ data: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${timeoutMs} ms; received: ${JSON.stringify(data)}`));
    }, timeoutMs);
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', () => undefined); // a reset after the answer is the server closing: fine
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => send(socket));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chk-http-'));
  port = await freeTcpPort();
  const config = path.join(dir, 'agent.yaml');
  await writeFile(config, YAML.stringify({ listen: `127.0.0.1:${port}`, stateDir: path.join(dir, 'state'), campaign: { installDir: path.join(dir, 'no-install') }, modules: { system: { enabled: false } } }));
  daemon = await Daemon.start(config, `127.0.0.1:${port}`);
});

afterAll(async () => {
  if (daemon) expect(await daemon.stop()).toBe(0);
  await rm(dir, { recursive: true, force: true });
});

describe('methods and paths', () => {
  test.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s is 405 with Allow: GET, HEAD', async (method) => {
    const response = await fetch(`${daemon.baseUrl}/metrics`, { method, ...(method === 'OPTIONS' ? {} : { body: 'x=1' }) });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(response.headers.get('connection')).toBe('close');
    expect(await response.text()).toBe('method not allowed: use GET\n');
  });

  test('unknown paths are 404; GET and HEAD of the known ones still answer', async () => {
    for (const pathname of ['/nope', '/metrics/', '/status.json', '/../etc/passwd']) expect((await daemon.get(pathname)).status).toBe(404);
    expect((await daemon.get('/metrics')).body).toContain('campaign_agent_build_info');
    expect((await daemon.get('/status')).type).toContain('application/json');
    expect((await daemon.get('/')).type).toContain('text/html');
    expect((await daemon.get('/healthz')).status).toBe(200);
    const head = await fetch(`${daemon.baseUrl}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});

describe('compression', () => {
  test('/metrics and /status are gzipped when asked (as Prometheus asks), plain otherwise, same content', async () => {
    const get = (pathname: string, encoding?: string) =>
      new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        const request = net.connect(port, '127.0.0.1', () => {
          request.write(`GET ${pathname} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${encoding ? `Accept-Encoding: ${encoding}\r\n` : ''}\r\n`);
        });
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('error', reject);
        request.on('end', () => {
          const all = Buffer.concat(chunks);
          const split = all.indexOf('\r\n\r\n');
          const headers = Object.fromEntries(
            all.subarray(0, split).toString('latin1').split('\r\n').slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
          );
          resolve({ headers, body: all.subarray(split + 4) });
        });
      });
    for (const pathname of ['/metrics', '/status']) {
      const zipped = await get(pathname, 'gzip, deflate');
      const plain = await get(pathname);
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(Number(zipped.headers['content-length'])).toBe(zipped.body.length);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toBe('Accept-Encoding');
      const unzipped = gunzipSync(zipped.body).toString('utf8');
      // Both name the same series (values may move between the two requests).
      const names = (text: string) => [...new Set(text.split('\n').map((line) => line.split(/[{ ]/)[0]))].sort();
      expect(names(unzipped)).toEqual(names(plain.body.toString('utf8')));
      expect(zipped.body.length).toBeLessThan(plain.body.length);
    }
    const refused = await get('/metrics', 'gzip;q=0');
    expect(refused.headers['content-encoding']).toBeUndefined();
  });
});

describe('request size and time limits', () => {
  test('a GET with a body over 1 KiB (Content-Length) is 413 and the connection is closed', async () => {
    const body = 'x'.repeat(4096);
    const { data } = await raw((socket) => socket.write(`GET /metrics HTTP/1.1\r\nHost: agent\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    expect(data).toMatch(/^HTTP\/1\.1 413 /);
    expect(data).toMatch(/\r\nconnection: close\r\n/i);
    expect(data).toContain('request body too large');
  });

  test('a chunked GET body growing over 1 KiB is 413 and the connection is closed', async () => {
    const { data } = await raw((socket) => {
      socket.write('GET /metrics HTTP/1.1\r\nHost: agent\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let i = 0; i < 4; i++) socket.write(`200\r\n${'y'.repeat(0x200)}\r\n`);
    });
    expect(data).toMatch(/^HTTP\/1\.1 413 /);
  });

  test('a GET with a small body is answered (the body is read and ignored)', async () => {
    const { data } = await raw((socket) => socket.write('GET /healthz HTTP/1.1\r\nHost: agent\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'));
    expect(data).toMatch(/^HTTP\/1\.1 200 /);
  });

  test('headers over 8 KiB are refused with 431', async () => {
    const { data } = await raw((socket) => socket.write(`GET /metrics HTTP/1.1\r\nHost: agent\r\nX-Big: ${'z'.repeat(10_000)}\r\n\r\n`));
    expect(data).toMatch(/^HTTP\/1\.1 431 /);
  });

  test('slowloris: headers sent byte by byte slower than headersTimeout are cut off', async () => {
    const header = `GET /metrics HTTP/1.1\r\nHost: agent\r\nX-Slow: ${'s'.repeat(200)}`;
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const result = await raw((socket) => {
      timer = setInterval(() => {
        if (socket.destroyed || sent >= header.length) return;
        socket.write(header[sent++]!);
      }, 100);
    }, 15_000).finally(() => clearInterval(timer));
    // Still sending (never reached the blank line) when the server gave up on it.
    expect(sent).toBeLessThan(header.length);
    // Cut by the headers timeout: not before it, and before the request timeout (the next limit that
    // would have cut it) however late a loaded machine runs the server's timer.
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(SERVER_LIMITS.headersTimeoutMs - 500);
    expect(result.closedAfterMs).toBeLessThan(SERVER_LIMITS.requestTimeoutMs);
    expect(result.data === '' || /^HTTP\/1\.1 408 /.test(result.data)).toBe(true);
  });

  test('an idle keep-alive connection is closed by the server', async () => {
    const result = await raw((socket) => socket.write('GET /healthz HTTP/1.1\r\nHost: agent\r\n\r\n'), 15_000);
    expect(result.data).toMatch(/^HTTP\/1\.1 200 /);
    // By the keep-alive timeout: not at once, and not twice as late (slack for a loaded machine's timers).
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(SERVER_LIMITS.keepAliveTimeoutMs - 500);
    expect(result.closedAfterMs).toBeLessThan(2 * SERVER_LIMITS.keepAliveTimeoutMs);
  });

  test('a malformed request line is a bare 400', async () => {
    const { data } = await raw((socket) => socket.write('GARBAGE\r\n\r\n'));
    expect(data).toMatch(/^HTTP\/1\.1 400 /);
  });
});

describe('errors of the agent itself', () => {
  let server: StatusServer;
  const logged: Array<{ obj: unknown; msg?: string }> = [];
  const log: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (obj, msg) => void logged.push({ obj, ...(msg === undefined ? {} : { msg }) }),
  };

  beforeAll(async () => {
    const config = parseConfig(plugins, YAML.stringify({ listen: '127.0.0.1:0', campaign: { installDir: path.join(dir, 'no-install') } }), 'in-process.yaml');
    const agent = new Agent({ config, plugins, log });
    // A rendering failure with a message that must stay inside the process.
    agent.metrics.renderResults = async () => {
      throw new Error('SECRET-DETAIL /etc/campaign-health/soap-password');
    };
    server = await startServer(agent, undefined, '127.0.0.1:0');
  });

  afterAll(async () => {
    await server?.close();
  });

  test('a failing handler answers a bare 500: no message, no stack; the log has both', async () => {
    const response = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).toBe('internal error\n');
    expect(body).not.toContain('SECRET');
    expect(body).not.toMatch(/\bat\s/);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const entry = logged.find((line) => line.msg === 'request failed');
    expect(JSON.stringify(entry?.obj)).toContain('SECRET-DETAIL');
    expect(JSON.stringify(entry?.obj)).toMatch(/server\.ts|http-hardening/);
    // The server keeps serving.
    expect((await fetch(`http://127.0.0.1:${server.address.port}/status`)).status).toBe(200);
  });
});

describe('/metrics renders the results once per version', () => {
  let server: StatusServer;
  let agent: Agent;
  let renders = 0;

  beforeAll(async () => {
    const config = parseConfig(plugins, YAML.stringify({ listen: '127.0.0.1:0', campaign: { installDir: path.join(dir, 'no-install') } }), 'in-process.yaml');
    agent = new Agent({ config, plugins, log: { debug() {}, info() {}, warn() {}, error() {} } });
    const render = agent.metrics.renderResults.bind(agent.metrics);
    agent.metrics.renderResults = () => {
      renders++;
      return render();
    };
    server = await startServer(agent, undefined, '127.0.0.1:0');
  });

  afterAll(async () => {
    await server?.close();
  });

  test("scrapes reuse the rendered results until a series changes; the process's own metrics are in every body", async () => {
    const scrape = async () => (await fetch(`http://127.0.0.1:${server.address.port}/metrics`)).text();
    const first = await scrape();
    for (let i = 0; i < 3; i++) await scrape();
    expect(renders).toBe(1);
    expect(first).toMatch(/^process_cpu_seconds_total /m);
    expect(first).toMatch(/^campaign_agent_build_info\{/m);
    expect(first).toMatch(/^campaign_agent_config_last_reload_success 1$/m);
    // A change of a series (here: the daemon records a refused reload) is in the next scrape.
    agent.metrics.configLoaded(false, Date.now());
    const next = await scrape();
    expect(renders).toBe(2);
    expect(next).toMatch(/^campaign_agent_config_last_reload_success 0$/m);
  });
});
