import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import bcrypt from 'bcryptjs';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { freeTcpPort } from '../sim/net-util.js';
import { Daemon, runCli, waitFor } from './helpers.js';

// TLS and basic auth from an exporter-toolkit web config file, with real certificates made by
// openssl at the start, real TLS clients, and bcrypt hashes made with bcryptjs. Daemons run without
// a Campaign install: these tests are about the endpoint.

const run = promisify(execFile);
let dir: string;
const pem: Record<string, Buffer> = {};
let hashes: { prometheus: string; other: string };

/** A CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a client certificate of another CA. */
async function makeCertificates(): Promise<void> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'rogue-ca']) {
    await openssl('req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '2', '-subj', `/CN=${ca}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  }
  const leaf = async (name: string, ca: string, ext: string) => {
    await openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    await writeFile(path.join(dir, `${name}.ext`), ext);
    await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  };
  await leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await leaf('server2', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  await leaf('rogue-client', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  for (const name of ['ca', 'client', 'rogue-client']) {
    pem[`${name}.crt`] = await readFile(path.join(dir, `${name}.crt`));
    if (name !== 'ca') pem[`${name}.key`] = await readFile(path.join(dir, `${name}.key`));
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** SHA-256 fingerprint of the server certificate (TLS only). */
  fingerprint?: string;
}

interface Call {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  user?: string;
  password?: string;
  method?: string;
}

/** One request on a fresh connection; rejects when the connection or handshake fails. */
function call(url: string, options: Call = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https:');
    const headers: Record<string, string> = {};
    if (options.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
    const requestOptions: https.RequestOptions = {
      method: options.method ?? 'GET',
      headers,
      agent: false,
      timeout: 5000,
      ...(secure ? { ca: options.ca, cert: options.cert, key: options.key } : {}),
    };
    const request = (secure ? https : http).request(url, requestOptions, (response) => {
      let body = '';
      const fingerprint = secure ? (response.socket as TLSSocket).getPeerCertificate().fingerprint256 : undefined;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body, ...(fingerprint ? { fingerprint } : {}) }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end();
  });
}

/** A daemon config (no Campaign install) pointing at a web config file; returns the files and listen. */
async function writeConfigs(name: string, web: object | string | undefined, listenHost = '127.0.0.1'): Promise<{ config: string; webFile: string; listen: string }> {
  const port = await freeTcpPort();
  const listen = `${listenHost}:${port}`;
  const webFile = path.join(dir, `${name}.web.yml`);
  if (web !== undefined) await writeFile(webFile, typeof web === 'string' ? web : YAML.stringify(web));
  const config = path.join(dir, `${name}.agent.yaml`);
  await writeFile(
    config,
    YAML.stringify({
      listen,
      stateDir: path.join(dir, 'state'),
      ...(web === undefined ? {} : { webConfigFile: webFile }),
      campaign: { installDir: path.join(dir, 'no-install') },
      modules: { system: { enabled: false } },
    }),
  );
  return { config, webFile, listen };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chk-web-'));
  await makeCertificates();
  hashes = { prometheus: await bcrypt.hash('scrape-secret', 8), other: await bcrypt.hash('other-secret', 8) };
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TLS with basic auth', () => {
  let daemon: Daemon;
  let files: { config: string; webFile: string; listen: string };
  let base: string;
  const good = () => ({ ca: pem['ca.crt']!, user: 'prometheus', password: 'scrape-secret' });

  beforeAll(async () => {
    // Relative file names: they resolve against the web config file's directory.
    files = await writeConfigs('tls-auth', {
      tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', min_version: 'TLS12' },
      http_server_config: { headers: { 'Strict-Transport-Security': 'max-age=31536000', 'X-Frame-Options': 'deny' } },
      basic_auth_users: { prometheus: hashes.prometheus },
    });
    base = `https://${files.listen}`;
    daemon = await Daemon.start(files.config, files.listen, async () => (await call(`${base}/healthz`, good())).status === 200);
  });

  afterAll(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
  });

  test('an https client trusting the CA gets /metrics, with the configured headers', async () => {
    const answer = await call(`${base}/metrics`, good());
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('campaign_agent_build_info');
    expect(answer.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(answer.headers['x-frame-options']).toBe('deny');
  });

  test('plain HTTP to the TLS port gets nothing', async () => {
    // Node's TLS server drops the connection (or, depending on the version, answers a bare 400).
    const plain = await call(`http://${files.listen}/metrics`).then(
      (answer) => `HTTP ${answer.status}: ${answer.body}`,
      (error: unknown) => `error: ${String(error)}`,
    );
    expect(plain).toMatch(/^(error: |HTTP 400)/);
    expect(plain).not.toContain('campaign_');
  });

  test('a client that does not trust the CA refuses the server', async () => {
    await expect(call(`${base}/metrics`, { user: 'prometheus', password: 'scrape-secret' })).rejects.toThrow(/self-signed|unable to (get|verify)/i);
  });

  test('no credentials: 401 with WWW-Authenticate, on every path, /healthz included', async () => {
    for (const pathname of ['/metrics', '/status', '/healthz', '/', '/nope']) {
      const answer = await call(`${base}${pathname}`, { ca: pem['ca.crt']! });
      expect([pathname, answer.status]).toEqual([pathname, 401]);
      expect(answer.headers['www-authenticate']).toBe('Basic realm="campaign-health"');
      expect(answer.body).toBe('unauthorized\n');
    }
  });

  test('wrong password, unknown user, empty password, malformed header: 401', async () => {
    for (const [user, password] of [
      ['prometheus', 'wrong'],
      ['prometheus', ''],
      ['nobody', 'scrape-secret'],
      ['', ''],
    ] as const) {
      const answer = await call(`${base}/metrics`, { ca: pem['ca.crt']!, user, password });
      expect([user, password, answer.status]).toEqual([user, password, 401]);
      expect(answer.body).not.toContain('campaign_');
    }
  });

  test('the right password: 200, again and again (verified once, then cached)', async () => {
    for (let i = 0; i < 5; i++) expect((await call(`${base}/status`, good())).status).toBe(200);
  });

  test('405 comes before authentication (no bcrypt spent on it)', async () => {
    const answer = await call(`${base}/metrics`, { ca: pem['ca.crt']!, method: 'POST' });
    expect(answer.status).toBe(405);
  });

  test('SIGHUP: an invalid web config is refused and the old one keeps running; a valid one applies users and certificates', async () => {
    const original = await readFile(files.webFile, 'utf8');
    const before = await call(`${base}/metrics`, good());
    try {
      await writeFile(files.webFile, `${original}\nbasic_auth_user: {}\n`);
      daemon.signal('SIGHUP');
      await waitFor(() => daemon.output().includes('config reload refused'), 5_000, () => daemon.output());
      expect(daemon.output()).toContain(`${files.webFile}: basic_auth_user: unknown key`);
      const after = await call(`${base}/metrics`, good());
      expect(after.status).toBe(200);
      expect(after.body).toMatch(/^campaign_agent_config_last_reload_success 0$/m);
      expect(after.fingerprint).toBe(before.fingerprint);

      // A new certificate and a new user list; both apply without a restart.
      await writeFile(files.webFile, YAML.stringify({ tls_server_config: { cert_file: path.join(dir, 'server2.crt'), key_file: 'server2.key' }, basic_auth_users: { other: hashes.other } }));
      daemon.signal('SIGHUP');
      await waitFor(async () => (await call(`${base}/healthz`, { ca: pem['ca.crt']!, user: 'other', password: 'other-secret' })).status === 200, 5_000, () => daemon.output());
      const reloaded = await call(`${base}/metrics`, { ca: pem['ca.crt']!, user: 'other', password: 'other-secret' });
      expect(reloaded.fingerprint).not.toBe(before.fingerprint);
      expect(reloaded.body).toMatch(/^campaign_agent_config_last_reload_success 1$/m);
      // The old user's cached verification went with the old config.
      expect((await call(`${base}/metrics`, good())).status).toBe(401);
    } finally {
      await writeFile(files.webFile, original);
      daemon.signal('SIGHUP');
      await waitFor(async () => (await call(`${base}/healthz`, good())).status === 200, 5_000, () => daemon.output());
    }
  });
});

describe('client certificates', () => {
  test('RequireAndVerifyClientCert: no certificate or one of another CA is refused; a certificate of client_ca_file is accepted', async () => {
    const files = await writeConfigs('mtls', { tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', client_auth_type: 'RequireAndVerifyClientCert', client_ca_file: 'ca.crt' } });
    const base = `https://${files.listen}`;
    const client = { ca: pem['ca.crt']!, cert: pem['client.crt']!, key: pem['client.key']! };
    const daemon = await Daemon.start(files.config, files.listen, async () => (await call(`${base}/healthz`, client)).status === 200);
    try {
      expect((await call(`${base}/metrics`, client)).body).toContain('campaign_agent_build_info');
      await expect(call(`${base}/metrics`, { ca: pem['ca.crt']! })).rejects.toThrow();
      await expect(call(`${base}/metrics`, { ca: pem['ca.crt']!, cert: pem['rogue-client.crt']!, key: pem['rogue-client.key']! })).rejects.toThrow();
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });

  test('VerifyClientCertIfGiven: no certificate is accepted, a verified one too, one of another CA is refused', async () => {
    const files = await writeConfigs('mtls-optional', { tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', client_auth_type: 'VerifyClientCertIfGiven', client_ca_file: 'ca.crt' } });
    const base = `https://${files.listen}`;
    const daemon = await Daemon.start(files.config, files.listen, async () => (await call(`${base}/healthz`, { ca: pem['ca.crt']! })).status === 200);
    try {
      expect((await call(`${base}/metrics`, { ca: pem['ca.crt']! })).status).toBe(200);
      expect((await call(`${base}/metrics`, { ca: pem['ca.crt']!, cert: pem['client.crt']!, key: pem['client.key']! })).status).toBe(200);
      await expect(call(`${base}/metrics`, { ca: pem['ca.crt']!, cert: pem['rogue-client.crt']!, key: pem['rogue-client.key']! })).rejects.toThrow();
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });
});

describe('basic auth over plain HTTP, and the exposure warning', () => {
  test('a non-loopback listen with basic auth: no warning; 401 then 200', async () => {
    const files = await writeConfigs('auth-any', { basic_auth_users: { prometheus: hashes.prometheus } }, '0.0.0.0');
    const base = `http://${files.listen.replace('0.0.0.0', '127.0.0.1')}`;
    const daemon = await Daemon.start(files.config, files.listen, async () => (await call(`${base}/healthz`, { user: 'prometheus', password: 'scrape-secret' })).status === 200);
    try {
      expect((await call(`${base}/metrics`)).status).toBe(401);
      expect((await call(`${base}/metrics`, { user: 'prometheus', password: 'nope' })).status).toBe(401);
      expect((await call(`${base}/metrics`, { user: 'prometheus', password: 'scrape-secret' })).status).toBe(200);
      expect(daemon.output()).toContain('campaign-health-agent started');
      expect(daemon.output()).not.toContain('without TLS or basic auth');
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });

  test('a non-loopback listen without TLS or basic auth logs a warning at start', async () => {
    const files = await writeConfigs('exposed', undefined, '0.0.0.0');
    const daemon = await Daemon.start(files.config, files.listen, async () => (await call(`http://${files.listen.replace('0.0.0.0', '127.0.0.1')}/healthz`)).status === 200);
    try {
      await waitFor(() => daemon.output().includes('without TLS or basic auth'), 5_000, () => daemon.output());
      const line = daemon.output().split('\n').find((entry) => entry.includes('without TLS or basic auth'))!;
      expect(JSON.parse(line)).toMatchObject({ level: 40, listen: files.listen });
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });

  test('the default loopback listen without a web config: no warning', async () => {
    const files = await writeConfigs('loopback', undefined);
    const daemon = await Daemon.start(files.config, files.listen);
    try {
      expect(daemon.output()).toContain('campaign-health-agent started');
      expect(daemon.output()).not.toContain('without TLS or basic auth');
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });
});

describe('an invalid web config file', () => {
  test.each([
    ['an unknown key', { tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', certfile: 'x' } }, 'tls_server_config.certfile: unknown key'],
    ['an exporter-toolkit key not implemented', { tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', cipher_suites: ['TLS_AES_128_GCM_SHA256'] } }, 'tls_server_config.cipher_suites: supported by exporter-toolkit but not by campaign-health-agent'],
    ['a missing certificate file', { tls_server_config: { cert_file: 'missing.crt', key_file: 'server.key' } }, 'tls_server_config.cert_file: cannot read'],
    ['a certificate with the wrong key', { tls_server_config: { cert_file: 'server.crt', key_file: 'client.key' } }, 'tls_server_config: the certificate, key and CA do not load together'],
    ['client certificates without a CA', { tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', client_auth_type: 'RequireAndVerifyClientCert' } }, 'tls_server_config.client_ca_file: required with client_auth_type RequireAndVerifyClientCert'],
    ['an unverified client auth type', { tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', client_auth_type: 'RequireAnyClientCert', client_ca_file: 'ca.crt' } }, 'tls_server_config.client_auth_type: RequireAnyClientCert accepts client certificates without verifying them'],
    ['TLS 1.0', { tls_server_config: { cert_file: 'server.crt', key_file: 'server.key', min_version: 'TLS10' } }, 'tls_server_config.min_version: TLS10 is not accepted'],
    ['a password instead of a hash', { basic_auth_users: { prometheus: 'PLAINTEXT-PASSWORD' } }, 'basic_auth_users.prometheus: expected a bcrypt hash'],
    ['invalid YAML', 'basic_auth_users: [\n', 'invalid YAML'],
  ] as const)('%s: the daemon refuses to start (exit 2) naming file and key', async (name, web, message) => {
    const files = await writeConfigs(`invalid-${name.replace(/\W+/g, '-')}`, web);
    const result = await runCli(['run', '--config', files.config], 15_000);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('invalid web config, not starting:');
    expect(result.stderr).toContain(`${files.webFile}: ${message}`);
    expect(result.stderr).not.toContain('PLAINTEXT-PASSWORD');
    // config check says the same.
    const check = await runCli(['config', 'check', '--config', files.config]);
    expect(check.exitCode).toBe(2);
    expect(check.stderr).toContain(message);
  });

  test('a missing web config file: exit 2 naming it', async () => {
    const files = await writeConfigs('absent', { basic_auth_users: {} });
    await rm(files.webFile);
    const result = await runCli(['run', '--config', files.config]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${files.webFile}: cannot read the web config file (ENOENT)`);
  });
});
