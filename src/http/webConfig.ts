import { readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import * as z from 'zod';
import { BasicAuth, BCRYPT_HASH } from './basicAuth.js';
import { ConfigError, describeIssue, parseYamlText } from '../config/load.js';

// The web config file (`webConfigFile`): TLS and basic auth of the HTTP endpoint, in the format of
// Prometheus' exporter-toolkit (`--web.config.file` of node_exporter and friends), so one file and
// one habit serve every exporter of a host. What this agent does not implement is refused by name,
// never silently ignored: a security setting that is not applied must not look applied.

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;

export interface WebTls {
  clientAuth: ClientAuthType;
  /** For tls.createServer / server.setSecureContext. */
  context: tls.SecureContextOptions;
}

export interface WebConfig {
  file: string;
  tls?: WebTls;
  auth?: BasicAuth;
  /** Added to every answer (http_server_config.headers). */
  headers: Record<string, string>;
}

/** A web config is a few lines; past this it is not one (and the YAML parser would work for nothing). */
const MAX_WEB_CONFIG_CHARS = 64 * 1024;

const show = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '(a value containing itself)';
  }
};

/** Keys of exporter-toolkit's format this agent does not implement, and what to do instead. */
const unsupported = (why: string) =>
  z
    .unknown()
    .refine(() => false, { error: `supported by exporter-toolkit but not by campaign-health-agent: ${why}` })
    .optional();

const fileSchema = z
  .string({ error: (issue) => `expected a file name, got ${show(issue.input)}` })
  .refine((text) => text.length > 0 && !text.includes('\0'), { error: (issue) => `expected a file name, got ${show(issue.input)}` });

const versionSchema = z.string({ error: (issue) => `expected TLS12 or TLS13, got ${show(issue.input)}` }).refine((text) => text in TLS_VERSIONS, {
  error: (issue) =>
    /^TLS1[01]$/.test(String(issue.input))
      ? `${String(issue.input)} is not accepted by campaign-health-agent (TLS 1.0 and 1.1 are obsolete): use TLS12 or TLS13`
      : `expected TLS12 or TLS13, got ${show(issue.input)}`,
});

const headerValue = z
  .string({ error: (issue) => `expected a header value, got ${show(issue.input)}` })
  .refine((text) => !/[\0-\x08\x0a-\x1f\x7f]/.test(text), { error: 'expected a header value on one line, without control characters' });

const tlsSchema = z
  .strictObject({
    cert_file: fileSchema,
    key_file: fileSchema,
    client_auth_type: z
      .string({ error: (issue) => `expected one of ${CLIENT_AUTH_TYPES.join(', ')}, got ${show(issue.input)}` })
      .refine((text) => (CLIENT_AUTH_TYPES as readonly string[]).includes(text), {
        error: (issue) =>
          ['RequestClientCert', 'RequireAnyClientCert'].includes(String(issue.input))
            ? `${String(issue.input)} accepts client certificates without verifying them and is not supported: use RequireAndVerifyClientCert (or VerifyClientCertIfGiven) with client_ca_file`
            : `expected one of ${CLIENT_AUTH_TYPES.join(', ')}, got ${show(issue.input)}`,
      })
      .default('NoClientCert'),
    client_ca_file: fileSchema.optional(),
    min_version: versionSchema.default('TLS12'),
    max_version: versionSchema.default('TLS13'),
    prefer_server_cipher_suites: z.boolean({ error: (issue) => `expected true or false, got ${show(issue.input)}` }).optional(),
    cert: unsupported('inline certificates; use cert_file'),
    key: unsupported('inline keys; use key_file'),
    client_ca: unsupported('inline CA certificates; use client_ca_file'),
    client_allowed_sans: unsupported('SAN matching of client certificates; give the clients a CA of their own (client_ca_file)'),
    cipher_suites: unsupported("Go cipher suite names; Node's OpenSSL defaults apply (min_version: TLS13 restricts to TLS 1.3 suites)"),
    curve_preferences: unsupported("Go curve names; Node's OpenSSL defaults apply"),
  })
  .superRefine((value, context) => {
    const verifies = value.client_auth_type !== 'NoClientCert';
    if (verifies && value.client_ca_file === undefined) {
      context.addIssue({ code: 'custom', path: ['client_ca_file'], message: `required with client_auth_type ${value.client_auth_type}: the CA that signs the client certificates` });
    }
    if (!verifies && value.client_ca_file !== undefined) {
      context.addIssue({ code: 'custom', path: ['client_auth_type'], message: 'client_ca_file is set but client_auth_type is NoClientCert: set RequireAndVerifyClientCert (or VerifyClientCertIfGiven), or remove client_ca_file' });
    }
    if (value.min_version === 'TLS13' && value.max_version === 'TLS12') {
      context.addIssue({ code: 'custom', path: ['max_version'], message: 'max_version TLS12 is below min_version TLS13' });
    }
  });

const webConfigSchema = z.strictObject({
  tls_server_config: tlsSchema.nullable().optional(),
  http_server_config: z
    .strictObject({
      // Node's HTTP/1.1 server: there is no HTTP/2 to turn on or off; accepted so shared files load.
      http2: z.boolean({ error: (issue) => `expected true or false, got ${show(issue.input)}` }).optional(),
      // The headers exporter-toolkit accepts, and only those; blank = unset.
      headers: z
        .strictObject({
          'Content-Security-Policy': headerValue.optional(),
          'X-Frame-Options': headerValue
            .refine((text) => text === '' || /^(deny|sameorigin)$/i.test(text), { error: (issue) => `expected deny or sameorigin, got ${show(issue.input)}` })
            .optional(),
          'X-Content-Type-Options': headerValue.refine((text) => text === '' || /^nosniff$/i.test(text), { error: (issue) => `expected nosniff, got ${show(issue.input)}` }).optional(),
          'X-XSS-Protection': headerValue.optional(),
          'Strict-Transport-Security': headerValue.optional(),
        })
        .nullable()
        .optional(),
    })
    .nullable()
    .optional(),
  basic_auth_users: z
    .record(
      z.string(),
      // Never echo the value: a plaintext password put here by mistake must not reach the journal.
      z.string({ error: 'expected a bcrypt hash such as $2y$10$... (htpasswd -nBC 10 "" | tr -d \':\\n\')' }).regex(BCRYPT_HASH, {
        error: 'expected a bcrypt hash such as $2y$10$... (htpasswd -nBC 10 "" | tr -d \':\\n\'); the value is not shown here',
      }),
      { error: (issue) => (issue.code === 'invalid_type' ? `expected a mapping of user names to bcrypt hashes, got ${show(issue.input)}` : undefined) },
    )
    .superRefine((users, context) => {
      for (const name of Object.keys(users)) {
        if (name.length === 0 || name.includes(':') || /[\0-\x1f\x7f]/.test(name)) {
          context.addIssue({ code: 'custom', path: [name], message: `expected a user name without ':' or control characters, got ${show(name)}` });
        }
      }
    })
    .nullable()
    .optional(),
  rate_limit: unsupported('rate limiting; the agent answers from cached results and limits request size and time'),
});

/**
 * Reads and checks the web config file: YAML, the schema, then the files it names (relative paths
 * resolve against the web config file's directory, as exporter-toolkit does) and whether the
 * certificate, key and CA load together. Every problem is a `<file>: <key>: <message>` line.
 */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`${file}: cannot read the web config file (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
  }
  // The same guards as the agent's config: size, nesting, alias bombs, self-referencing aliases.
  const raw = parseYamlText(text, file, MAX_WEB_CONFIG_CHARS, 'web config file');
  const result = webConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(file, result.error.issues.flatMap((issue) => describeIssue(file, issue)));
  const parsed = result.data;

  const problems: string[] = [];
  let webTls: WebTls | undefined;
  if (parsed.tls_server_config) {
    const settings = parsed.tls_server_config;
    const dir = path.dirname(file);
    const read = async (key: string, name: string): Promise<Buffer | undefined> => {
      const resolved = path.resolve(dir, name);
      try {
        return await readFile(resolved);
      } catch (error) {
        problems.push(`${file}: tls_server_config.${key}: cannot read ${resolved} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
        return undefined;
      }
    };
    const cert = await read('cert_file', settings.cert_file);
    const key = await read('key_file', settings.key_file);
    const ca = settings.client_ca_file === undefined ? undefined : await read('client_ca_file', settings.client_ca_file);
    if (cert && key && (settings.client_ca_file === undefined || ca)) {
      const context: tls.SecureContextOptions = {
        cert,
        key,
        ...(ca ? { ca } : {}),
        minVersion: TLS_VERSIONS[settings.min_version as TlsVersionName],
        maxVersion: TLS_VERSIONS[settings.max_version as TlsVersionName],
        ...(settings.prefer_server_cipher_suites === undefined ? {} : { honorCipherOrder: settings.prefer_server_cipher_suites }),
      };
      try {
        tls.createSecureContext(context);
        webTls = { clientAuth: settings.client_auth_type as ClientAuthType, context };
      } catch (error) {
        problems.push(`${file}: tls_server_config: the certificate, key and CA do not load together (${error instanceof Error ? error.message : String(error)})`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(file, problems);

  const users = new Map(Object.entries(parsed.basic_auth_users ?? {}));
  const headers = Object.fromEntries(Object.entries(parsed.http_server_config?.headers ?? {}).filter((entry): entry is [string, string] => Boolean(entry[1])));
  return {
    file,
    ...(webTls ? { tls: webTls } : {}),
    ...(users.size > 0 ? { auth: await BasicAuth.create(users) } : {}),
    headers,
  };
}
