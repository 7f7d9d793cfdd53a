import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import bcrypt from 'bcryptjs';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BasicAuth, parseBasic, VERIFIED_TTL_MS } from '../../../src/http/basicAuth.js';
import { ConfigError } from '../../../src/config/load.js';
import { loadWebConfig } from '../../../src/http/webConfig.js';

// The web config file parser and the basic auth verifier, without a daemon (the daemon side is
// test/integration/web-config.test.ts).

let dir: string;

async function problemsOf(text: string, name = 'web.yml'): Promise<string[]> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  try {
    await loadWebConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chk-webcfg-'));
  await promisify(execFile)(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'tls.key', '-out', 'tls.crt', '-days', '1', '-subj', '/CN=localhost'],
    { cwd: dir },
  );
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadWebConfig', () => {
  test('an empty file, or empty sections: no TLS, no auth, no headers', async () => {
    for (const text of ['', 'tls_server_config:\nbasic_auth_users:\nhttp_server_config:\n', 'basic_auth_users: {}\n']) {
      const file = path.join(dir, 'empty.yml');
      await writeFile(file, text);
      const web = await loadWebConfig(file);
      expect(web).toEqual({ file, headers: {} });
    }
  });

  test('relative certificate names resolve against the file, defaults as exporter-toolkit', async () => {
    const file = path.join(dir, 'tls.yml');
    await writeFile(file, 'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nhttp_server_config:\n  http2: true\n  headers:\n    X-Frame-Options: sameorigin\n    X-XSS-Protection: ""\n');
    const web = await loadWebConfig(file);
    expect(web.tls?.clientAuth).toBe('NoClientCert');
    expect(web.tls?.context).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(web.headers).toEqual({ 'X-Frame-Options': 'sameorigin' });
  });

  test('each problem is one line naming the file and the key', async () => {
    const file = path.join(dir, 'bad.yml');
    const problems = await problemsOf(
      [
        'tls_server_config:',
        '  cert_file: tls.crt',
        '  key_file: tls.key',
        '  client_ca_file: tls.crt',
        '  curve_preferences: [X25519]',
        '  max_version: TLS11',
        'http_server_config:',
        '  headers:',
        '    X-Content-Type-Options: sniff',
        '    Server: campaign',
        'basic_auth_users:',
        '  "a:b": $2y$10$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0',
        'rate_limit: {interval: 1s}',
      ].join('\n'),
      'bad.yml',
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        `${file}: tls_server_config.curve_preferences: supported by exporter-toolkit but not by campaign-health-agent: Go curve names; Node's OpenSSL defaults apply`,
        `${file}: tls_server_config.max_version: TLS11 is not accepted by campaign-health-agent (TLS 1.0 and 1.1 are obsolete): use TLS12 or TLS13`,
        `${file}: http_server_config.headers.X-Content-Type-Options: expected nosniff, got "sniff"`,
        `${file}: http_server_config.headers.Server: unknown key`,
        `${file}: rate_limit: supported by exporter-toolkit but not by campaign-health-agent: rate limiting; the agent answers from cached results and limits request size and time`,
      ]),
    );
    expect(problems.some((line) => line.startsWith(`${file}: basic_auth_users`) && line.includes("without ':'"))).toBe(true);
    // client_ca_file without a verifying client_auth_type is refused only once the rest is valid.
    expect(await problemsOf('tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  client_ca_file: tls.crt\n', 'ca.yml')).toEqual([
      `${path.join(dir, 'ca.yml')}: tls_server_config.client_auth_type: client_ca_file is set but client_auth_type is NoClientCert: set RequireAndVerifyClientCert (or VerifyClientCertIfGiven), or remove client_ca_file`,
    ]);
  });

  test('a value that is not a bcrypt hash is never echoed', async () => {
    const problems = await problemsOf('basic_auth_users:\n  prometheus: hunter2-plaintext\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('basic_auth_users.prometheus: expected a bcrypt hash');
    expect(problems[0]).not.toContain('hunter2');
  });

  test('deep nesting and self-referencing aliases are refused like in the agent config, without harm', async () => {
    expect((await problemsOf(`tls_server_config: ${'['.repeat(1000)}${']'.repeat(1000)}\n`))[0]).toMatch(/invalid YAML: expected at most 64 levels of nesting/);
    // A second deep parse in one process once aborted Node: still alive and still refusing.
    expect((await problemsOf(`x: ${'{a: '.repeat(500)}1${'}'.repeat(500)}\n`))[0]).toMatch(/levels of nesting/);
    expect((await problemsOf('basic_auth_users: &a [*a]\n'))[0]).toMatch(/basic_auth_users\.0: expected a value, got a YAML alias to a node containing it/);
  });

  test('duplicate keys are refused', async () => {
    const problems = await problemsOf('basic_auth_users: {}\nbasic_auth_users: {}\n');
    expect(problems[0]).toMatch(/invalid YAML: Map keys must be unique/);
  });
});

describe('BasicAuth', () => {
  const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  test('parseBasic: the scheme is case-insensitive, the password may hold colons, malformed is undefined', () => {
    expect(parseBasic(header('u', 'p:a:ss'))).toEqual({ user: 'u', password: 'p:a:ss' });
    expect(parseBasic(`basic ${Buffer.from('u:p').toString('base64')}`)).toEqual({ user: 'u', password: 'p' });
    expect(parseBasic(undefined)).toBeUndefined();
    expect(parseBasic('Bearer abc')).toBeUndefined();
    expect(parseBasic(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBeUndefined();
  });

  test('right pair ok (then cached until the TTL), wrong or unknown denied, unknown users cost a bcrypt too', async () => {
    let now = 1_000_000;
    const hash = await bcrypt.hash('secret', 10);
    const auth = await BasicAuth.create(new Map([['prometheus', hash]]), () => now);
    // What each verify costs, counted rather than timed: the bcrypt compares it ran, by hash compared against.
    const compare = jest.spyOn(bcrypt, 'compare');
    const compared = async (value: string) => {
      compare.mockClear();
      const verdict = await auth.verify(value);
      return { verdict, hashes: compare.mock.calls.map((call) => call[1]) };
    };
    try {
      expect(await compared(header('prometheus', 'nope'))).toEqual({ verdict: 'denied', hashes: [hash] });
      // An unknown user is not answered at once: one compare too, against a decoy of the same cost (10).
      const unknown = await compared(header('nobody', 'nope'));
      expect(unknown.verdict).toBe('denied');
      expect(unknown.hashes).toHaveLength(1);
      expect(unknown.hashes[0]).not.toBe(hash);
      expect(bcrypt.getRounds(unknown.hashes[0]!)).toBe(10);

      expect(await compared(header('prometheus', 'secret'))).toEqual({ verdict: 'ok', hashes: [hash] });
      // Cached: no compare.
      expect(await compared(header('prometheus', 'secret'))).toEqual({ verdict: 'ok', hashes: [] });
      // A wrong password is never served from the cache of the right one.
      expect(await compared(header('prometheus', 'secret '))).toEqual({ verdict: 'denied', hashes: [hash] });
      now += VERIFIED_TTL_MS + 1;
      expect(await compared(header('prometheus', 'secret'))).toEqual({ verdict: 'ok', hashes: [hash] });
    } finally {
      compare.mockRestore();
    }
    expect(await auth.verify(undefined)).toBe('denied');
  });
});
