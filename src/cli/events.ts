import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { AgentConfig } from '../config/schema.js';
import { parseListen } from '../config/schema.js';
import type { HistoryEvent } from '../history/event.js';
import { eventRecord, parseEventLine, parseEventText } from '../history/eventFile.js';
import { EVENTS_FILE } from '../history/eventLog.js';
import { parseEventQuery, selectEvents } from '../history/query.js';
import type { WebConfig } from '../http/webConfig.js';
import { formatDuration } from '../util/format.js';

export interface EventsOptions {
  since: string;
  module?: string;
  instance?: string;
  limit?: string;
  format: 'text' | 'json';
}

/** How long the daemon gets to answer before the state file is read instead. */
const DAEMON_TIMEOUT_MS = 3_000;

/**
 * `campaign-health events`: the running daemon's GET /events (address from the config's `listen`, TLS
 * and its certificate from webConfigFile) or, when it does not answer, the state file itself. Which one
 * was read goes to stderr. Returns the exit code: 0, 1 when neither could be read, 2 for a bad option.
 */
export async function eventsCommand(config: AgentConfig, web: WebConfig | undefined, options: EventsOptions, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const params = new URLSearchParams({ since: options.since });
  if (options.module !== undefined) params.set('module', options.module);
  if (options.instance !== undefined) params.set('instance', options.instance);
  if (options.limit !== undefined) params.set('limit', options.limit);
  // Checked here with the daemon's own rules, so that a typo gets the same message either way.
  const parsed = parseEventQuery(params, Date.now());
  if ('error' in parsed) {
    err(`--${parsed.error}\n`);
    return 2;
  }
  let events: HistoryEvent[];
  const daemon = await fromDaemon(config, web, params);
  if ('events' in daemon) {
    err(`events from the running daemon at ${daemon.url}\n`);
    events = daemon.events;
  } else {
    const file = path.join(config.stateDir, EVENTS_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      err(`the daemon did not answer (${daemon.reason}) and the state file cannot be read: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
    const { events: all, invalid } = parseEventText(text);
    err(`the daemon did not answer (${daemon.reason}): events from the state file ${file}${invalid > 0 ? ` (${invalid} lines that are not events skipped)` : ''}\n`);
    events = selectEvents(all, parsed.query);
  }
  out(options.format === 'json' ? `${JSON.stringify({ events: events.map(eventRecord) }, null, 2)}\n` : eventsText(events));
  return 0;
}

/** One line per event, newest first: time (UTC), module@instance, from → to, detail. */
export function eventsText(events: readonly HistoryEvent[]): string {
  if (events.length === 0) return '(no events)\n';
  const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const rows = events.map((event) => {
    const where = event.instance === '' ? event.module : `${event.module}@${event.instance}`;
    const change = event.from === null ? (event.module === 'agent' ? event.to : `→ ${event.to}`) : `${event.from} → ${event.to}`;
    const down = event.downSince === undefined ? '' : ` [down ${formatDuration(Math.max(0, event.time - event.downSince))} since ${when(event.downSince)}]`;
    return [when(event.time), where, change, `${event.detail}${down}`];
  });
  const widths = [1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return `${rows.map((row) => `${row[0]}  ${row[1]!.padEnd(widths[0]!)}  ${row[2]!.padEnd(widths[1]!)}  ${row[3]}`.trimEnd()).join('\n')}\n`;
}

type DaemonAnswer = { events: HistoryEvent[]; url: string } | { reason: string };

async function fromDaemon(config: AgentConfig, web: WebConfig | undefined, params: URLSearchParams): Promise<DaemonAnswer> {
  const target = parseListen(config.listen);
  if (!target) return { reason: `listen ${config.listen} is not host:port` };
  // A wildcard listen address is reached on loopback.
  const host = target.host === '0.0.0.0' ? '127.0.0.1' : target.host === '::' ? '::1' : target.host;
  const tls = web?.tls;
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${target.port}/events?${params.toString()}`;
  try {
    const { status, body } = await get(url, tls ? pinnedCertificate(tls.context.cert) : undefined);
    if (status === 401) return { reason: `${url} asks for basic auth` };
    if (status !== 200) return { reason: `${url} answered ${status}: ${body.trim().slice(0, 200)}` };
    const document = JSON.parse(body) as { events?: unknown };
    if (!Array.isArray(document.events)) return { reason: `${url} did not answer an event list` };
    const events = document.events.map((record) => parseEventLine(JSON.stringify(record))).filter((event): event is HistoryEvent => event !== undefined);
    return { events, url: url.slice(0, url.indexOf('?')) };
  } catch (error) {
    return { reason: `${url.slice(0, url.indexOf('?'))}: ${error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error)}` };
  }
}

/** The SHA-256 fingerprint of the daemon's own certificate (the web config's cert_file): what the CLI trusts. */
function pinnedCertificate(cert: unknown): string | undefined {
  if (cert === undefined) return undefined;
  const pem = Array.isArray(cert) ? cert[0] : cert;
  try {
    return new X509Certificate(pem as string | Buffer).fingerprint256;
  } catch {
    return undefined;
  }
}

/**
 * One GET with a short timeout. Over TLS the daemon is recognised by its certificate: the one its web
 * config names (any name, any issuer), never another, whatever CA signed it.
 */
function get(url: string, fingerprint: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https:');
    const request = secure
      ? https.get(url, { rejectUnauthorized: false, timeout: DAEMON_TIMEOUT_MS })
      : http.get(url, { timeout: DAEMON_TIMEOUT_MS });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${DAEMON_TIMEOUT_MS} ms`)));
    request.on('error', reject);
    if (secure) {
      request.on('socket', (socket) =>
        socket.once('secureConnect', () => {
          const peer = (socket as TLSSocket).getPeerCertificate();
          if (fingerprint === undefined || peer.fingerprint256 !== fingerprint) request.destroy(new Error('the certificate presented is not the one of the web config'));
        }),
      );
    }
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
  });
}
