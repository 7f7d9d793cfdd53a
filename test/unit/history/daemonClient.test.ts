import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { askDaemon, DaemonError } from '../../../src/cli/daemonClient.js';
import { reportCommand } from '../../../src/cli/reportCommand.js';
import { eventsCommand } from '../../../src/cli/events.js';
import type { AgentConfig } from '../../../src/config/schema.js';
import { loadWebConfig, type WebConfig } from '../../../src/http/webConfig.js';
import { makeTestCertificates, type TestCertificates } from '../../sim/test-certs.js';

// The CLI's side of asking the daemon, against real servers on real sockets: TLS with the web
// config's certificate pinned, basic auth, and "nobody listens" as the only reason to fall back.

let certs: TestCertificates;
let dir: string;
const seen: (string | undefined)[] = [];

async function listen(server: http.Server | https.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function webConfig(certFile: string, keyFile: string): Promise<WebConfig> {
  const file = path.join(dir, `web-${path.basename(certFile)}.yml`);
  await writeFile(file, `tls_server_config:\n  cert_file: ${certFile}\n  key_file: ${keyFile}\n`);
  return loadWebConfig(file);
}

let tlsServer: https.Server;
let tlsListen: string;
let authServer: http.Server;
let authListen: string;

beforeAll(async () => {
  certs = await makeTestCertificates();
  dir = await mkdtemp(path.join(os.tmpdir(), 'report-client-'));
  tlsServer = https.createServer({ cert: await readFile(certs.selfSignedCert), key: await readFile(certs.selfSignedKey) }, (request, response) => {
    seen.push(request.headers.authorization);
    response.end(`report for ${request.url}`);
  });
  tlsListen = await listen(tlsServer);
  authServer = http.createServer((request, response) => {
    const ok = request.headers.authorization === `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;
    response.writeHead(ok ? 200 : 401).end(ok ? 'the report\n' : 'unauthorized\n');
  });
  authListen = await listen(authServer);
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => tlsServer?.close(resolve));
  await new Promise((resolve) => authServer?.close(resolve));
  await certs?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('asking the daemon', () => {
  test('TLS: the certificate named in the web config is trusted, self-signed or not, and credentials are sent', async () => {
    const web = await webConfig(certs.selfSignedCert, certs.selfSignedKey);
    const answer = await askDaemon(tlsListen, '/report?since=1h', { web, credentials: { user: 'ops', password: 'pw' } });
    expect(answer).toEqual({ kind: 'answer', status: 200, body: 'report for /report?since=1h', url: `https://${tlsListen}` });
    expect(seen.pop()).toBe(`Basic ${Buffer.from('ops:pw').toString('base64')}`);
  });

  test('TLS: another certificate than the configured one is refused, not fallen back from', async () => {
    const web = await webConfig(certs.serverCert, certs.serverKey);
    await expect(askDaemon(tlsListen, '/report', { web })).rejects.toThrow(DaemonError);
    const before = seen.length;
    await expect(askDaemon(tlsListen, '/report', { web, credentials: { user: 'ops', password: 'pw' } })).rejects.toThrow('is not the one in the web config: not trusted, nothing sent');
    // The credentials never reached the impostor.
    expect(seen.length).toBe(before);
  });

  test('nobody listening is "down"; a wildcard listen address is asked on loopback', async () => {
    const closed = http.createServer();
    const address = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const port = address.split(':')[1];
    expect(await askDaemon(`0.0.0.0:${port}`, '/report')).toEqual({ kind: 'down', reason: `nothing answers at 127.0.0.1:${port} (ECONNREFUSED)` });
  });
});

describe('campaign-health report and basic auth', () => {
  const config = (listenAt: string): AgentConfig => ({ listen: listenAt, stateDir: dir, webConfigFile: '/etc/campaign-health/web.yml' }) as unknown as AgentConfig;

  test('without credentials a 401 says how to give them, and nothing falls back to the file', async () => {
    const outcome = await reportCommand(config(authListen), undefined, { since: '7d', format: 'text' });
    expect(outcome).toEqual({ exitCode: 1, stdout: '', stderr: `the daemon at http://${authListen} needs basic auth (webConfigFile /etc/campaign-health/web.yml): pass --user NAME --password-file FILE\n` });
    // events asks the same way: no fallback to the file either.
    expect(await eventsCommand(config(authListen), undefined, { since: '24h', format: 'text' })).toEqual(outcome);
  });

  test('with --user and --password-file the daemon answers; --user alone is refused', async () => {
    const passwordFile = path.join(dir, 'password');
    await writeFile(passwordFile, 's3cret\n');
    expect(await reportCommand(config(authListen), undefined, { since: '7d', format: 'text', user: 'ops', passwordFile })).toEqual({ exitCode: 0, stdout: 'the report\n', stderr: `report from the running daemon at http://${authListen}\n` });
    // The same credentials serve events ("the report" is no event list: said, exit 1).
    expect(await eventsCommand(config(authListen), undefined, { since: '24h', format: 'text', user: 'ops', passwordFile })).toEqual({ exitCode: 1, stdout: '', stderr: `the daemon at http://${authListen} did not answer an event list\n` });
    expect((await reportCommand(config(authListen), undefined, { since: '7d', format: 'text', user: 'ops' })).exitCode).toBe(2);
    const wrong = path.join(dir, 'wrong');
    await writeFile(wrong, 'nope');
    expect((await reportCommand(config(authListen), undefined, { since: '7d', format: 'text', user: 'ops', passwordFile: wrong })).stderr).toContain('these credentials were refused');
  });

  test('a bad --since is refused before anything is asked, exit 2', async () => {
    expect(await reportCommand(config('127.0.0.1:1'), undefined, { since: 'soon', format: 'text' })).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: '--since: expected a duration such as 1h, 30m or 7d, or an ISO 8601 date or time (2026-12-05, 2026-12-05T03:00:00Z), got "soon"\n',
    });
  });

  test('daemon down and no event file: says both, exit 1', async () => {
    const closed = http.createServer();
    const address = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await reportCommand(config(address), undefined, { since: '7d', format: 'json' });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toBe(`the daemon did not answer (nothing answers at ${address} (ECONNREFUSED)) and its event file cannot be read: ${path.join(dir, 'events.jsonl')}: ENOENT\n`);
  });
});
