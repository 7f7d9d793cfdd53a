import http from 'node:http';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { parseListen, type AgentConfig } from '../config/schema.js';
import type { HistoryEvent } from '../history/event.js';
import { EVENTS_FILE, MAX_EVENTS } from '../history/eventLog.js';
import { readEventFile } from '../history/readEvents.js';
import type { WebConfig } from '../http/webConfig.js';

/**
 * The CLI asking the running daemon (its `listen` address, TLS and basic auth as its web config sets
 * them), for `events` and `report`. Only "nobody listens" (refused, unreachable, no answer in time)
 * counts as the daemon being down and sends the command to the event file; any other failure (another
 * certificate, 401, 500) is an error to show: falling back to the file then would hide it, and the
 * report would count a running agent as down.
 */
export type DaemonAnswer = { kind: 'answer'; status: number; body: string; url: string } | { kind: 'down'; reason: string };

export interface Credentials {
  user: string;
  password: string;
}

export interface AskOptions {
  web?: WebConfig;
  /** Basic auth credentials, when the web config asks for them. */
  credentials?: Credentials;
  timeoutMs?: number;
}

/** What a CLI command prints and exits with (0, 1 when nothing could be read, 2 for a bad option). */
export interface CommandOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const failed = (exitCode: number, stderr: string): CommandOutcome => ({ exitCode, stdout: '', stderr: stderr.endsWith('\n') ? stderr : `${stderr}\n` });

/** The event file in the state directory (its format: src/history/eventFile.ts). */
export const eventFilePath = (config: AgentConfig): string => path.join(config.stateDir, EVENTS_FILE);

export class DaemonError extends Error {}

const DOWN_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** Where to connect for a listen address: a wildcard address is reached on loopback. */
export function connectTarget(listen: string): { host: string; port: number; display: string } {
  const target = parseListen(listen);
  if (!target) throw new DaemonError(`listen: expected host:port, got ${JSON.stringify(listen)}`);
  const host = target.host === '0.0.0.0' ? '127.0.0.1' : target.host === '::' ? '::1' : target.host;
  return { host, port: target.port, display: `${host.includes(':') ? `[${host}]` : host}:${target.port}` };
}

export async function askDaemon(listen: string, path: string, options: AskOptions = {}): Promise<DaemonAnswer> {
  const target = connectTarget(listen);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const tls = options.web?.tls;
  const url = `${tls ? 'https' : 'http'}://${target.display}`;
  const headers: http.OutgoingHttpHeaders = { Accept: '*/*' };
  if (options.credentials) headers.Authorization = `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`;
  const down = (error: NodeJS.ErrnoException): DaemonAnswer | undefined =>
    error.code !== undefined && DOWN_CODES.has(error.code) ? { kind: 'down', reason: `nothing answers at ${target.display} (${error.code})` } : undefined;
  let socket: TLSSocket | undefined;
  if (tls) {
    // The daemon's certificate is pinned: the CLI trusts exactly the certificate the web config names
    // (often self-signed, or issued for a host name rather than the loopback address asked), and
    // checks it before the request, credentials included, is written.
    try {
      socket = await pinnedConnection(target, certificateFingerprint(tls.context.cert), timeoutMs);
    } catch (error) {
      if (error instanceof DaemonError) throw error;
      const answer = down(error as NodeJS.ErrnoException);
      if (answer) return answer;
      const hint = tls.clientAuth === 'RequireAndVerifyClientCert' ? ' (the daemon requires a client certificate, which the CLI does not have)' : '';
      throw new DaemonError(`${target.display}: ${(error as Error).message}${hint}`);
    }
  }
  const connected = socket;
  return new Promise<DaemonAnswer>((resolve, reject) => {
    const request = http.request(
      { host: target.host, port: target.port, path, method: 'GET', headers, timeout: timeoutMs, ...(connected ? { createConnection: () => connected } : {}) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ kind: 'answer', status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), url }));
        response.on('error', (error) => reject(new DaemonError(`${target.display}: ${error.message}`)));
      },
    );
    request.on('timeout', () => {
      request.destroy();
      resolve({ kind: 'down', reason: `${target.display} did not answer within ${Math.round(timeoutMs / 1000)} s` });
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      const answer = down(error);
      if (answer) resolve(answer);
      else reject(new DaemonError(`${target.display}: ${error.message}`));
    });
    request.end();
  });
}

/** A TLS connection whose peer presented exactly the pinned certificate; DaemonError when another. */
function pinnedConnection(target: { host: string; port: number; display: string }, pinned: string | undefined, timeoutMs: number): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = tlsConnect({ host: target.host, port: target.port, rejectUnauthorized: false, timeout: timeoutMs });
    socket.once('timeout', () => socket.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.setTimeout(0);
      if (pinned === undefined || socket.getPeerCertificate().fingerprint256 !== pinned) {
        socket.destroy();
        reject(new DaemonError(`${target.display} presented a certificate that is not the one in the web config: not trusted, nothing sent`));
      } else resolve(socket);
    });
  });
}

function certificateFingerprint(cert: unknown): string | undefined {
  const pem = Array.isArray(cert) ? cert[0] : cert;
  if (typeof pem !== 'string' && !Buffer.isBuffer(pem)) return undefined;
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return undefined;
  }
}

/** --user and --password-file: the credentials, none, or why not (exit 2). The password never on the command line. */
export async function readCredentials(options: { user?: string; passwordFile?: string }): Promise<{ credentials?: Credentials } | { error: string }> {
  if (options.user === undefined) return options.passwordFile === undefined ? {} : { error: '--password-file needs --user' };
  if (options.passwordFile === undefined) return { error: '--user needs --password-file (the password is never given on the command line)' };
  try {
    return { credentials: { user: options.user, password: (await readFile(options.passwordFile, 'utf8')).replace(/\r?\n$/, '') } };
  } catch (error) {
    return { error: `--password-file: cannot read ${options.passwordFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
}

/** Where a command's data came from: the daemon's answer to its path, or, when nothing answers, the event file. */
export type Source =
  | { from: 'daemon'; url: string; body: string }
  | { from: 'file'; file: string; events: HistoryEvent[]; notes: string[] }
  | { from: 'nowhere'; outcome: CommandOutcome };

/**
 * Asks the running daemon for `requestPath`; only when nothing answers, reads the event file (as the
 * daemon does at start: a torn last line dropped, other lines that are not events counted). `notes`
 * say why the file was read and what was skipped, for the command to show.
 */
export async function daemonOrFile(config: AgentConfig, web: WebConfig | undefined, requestPath: string, credentials: Credentials | undefined): Promise<Source> {
  let answer: DaemonAnswer;
  try {
    answer = await askDaemon(config.listen, requestPath, { web, ...(credentials ? { credentials } : {}) });
  } catch (error) {
    if (!(error instanceof DaemonError)) throw error;
    return { from: 'nowhere', outcome: failed(1, `cannot ask the daemon: ${error.message}`) };
  }
  if (answer.kind === 'answer') {
    if (answer.status === 200) return { from: 'daemon', url: answer.url, body: answer.body };
    if (answer.status === 401) {
      return { from: 'nowhere', outcome: failed(1, `the daemon at ${answer.url} needs basic auth (webConfigFile ${config.webConfigFile ?? ''}): pass --user NAME --password-file FILE${credentials ? '; these credentials were refused' : ''}`) };
    }
    return { from: 'nowhere', outcome: failed(1, `the daemon at ${answer.url} answered ${answer.status}: ${answer.body.trim().slice(0, 500)}`) };
  }
  const file = eventFilePath(config);
  const read = existsSync(file) ? readEventFile(file, MAX_EVENTS) : { events: [], invalid: 0, error: Object.assign(new Error('no such file'), { code: 'ENOENT' }) };
  if (read.error) {
    return { from: 'nowhere', outcome: failed(1, `the daemon did not answer (${answer.reason}) and its event file cannot be read: ${file}: ${(read.error as NodeJS.ErrnoException).code ?? String(read.error)}`) };
  }
  const notes = [`the daemon did not answer (${answer.reason}): read from its event file ${file}`];
  if (read.invalid > 0) notes.push(`${read.invalid} line(s) of ${file} are not events and were skipped`);
  if (read.tornAt !== undefined) notes.push(`the last line of ${file} was cut short (a write interrupted) and was skipped`);
  return { from: 'file', file, events: read.events, notes };
}
