import http from 'node:http';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { parseListen } from '../config/schema.js';
import type { WebConfig } from '../http/webConfig.js';

/**
 * The CLI asking the running daemon (its `listen` address, TLS and basic auth as its web config sets
 * them): `report` prefers the daemon's answer, computed from its live history. Only "nobody listens"
 * (refused, timed out) counts as the daemon being down; any other failure is an error to show, since
 * falling back to the file then would count a running agent as down.
 */
export type DaemonAnswer = { kind: 'answer'; status: number; body: string } | { kind: 'down'; reason: string };

export interface AskOptions {
  web?: WebConfig;
  /** Basic auth credentials, when the web config asks for them. */
  credentials?: { user: string; password: string };
  timeoutMs?: number;
}

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
        response.on('end', () => resolve({ kind: 'answer', status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
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
