import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { enforceDeadlines, NODE_SCAN_OFF_MS } from './deadlines.js';
import { AGENT_VERSION, type Agent } from '../agent/agent.js';
import { parseListen } from '../config/schema.js';
import type { Scheduler } from '../core/scheduler.js';
import { acceptsGzip, RenderCache, type Rendered } from './renderCache.js';
import { statusDocument, statusText } from '../output/status.js';
import { STATUS_PAGE_CSP, statusPage } from '../output/statusPage.js';
import type { WebConfig } from './webConfig.js';
import { eventRecord } from '../history/eventFile.js';
import { parseEventQuery } from '../history/query.js';
import { availability, reportSince, renderReport, REPORT_FORMATS, type ReportFormat } from '../history/report.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Limits of the endpoint. Answers are small and come from memory, so a client that needs longer
 * than this is broken or hostile; they also bound what SIGTERM waits for.
 */
export const SERVER_LIMITS = {
  /** All request headers must arrive within this (slowloris); Node answers 408 and closes. */
  headersTimeoutMs: 5_000,
  /** The whole request. */
  requestTimeoutMs: 10_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** Request line plus headers; larger is answered 431 by Node. */
  maxHeaderBytes: 8 * 1024,
  /** GET takes no body: a body over this is answered 413 and the connection closed. */
  maxBodyBytes: 1024,
  /** TLS handshake. */
  handshakeTimeoutMs: 5_000,
  /** At shutdown, requests in flight get this long before every connection is cut. */
  closeGraceMs: 1_000,
};

export const AUTH_REALM = 'Basic realm="campaign-health"';

export interface StatusServer {
  server: http.Server | https.Server;
  /** Where it really listens (port 0 in the config picks a free one). */
  address: { host: string; port: number };
  /** Whether it speaks TLS (fixed at start). */
  tls: boolean;
  /**
   * Applies a re-read web config (SIGHUP): basic auth users, headers, and the certificate, key, CA
   * and TLS versions at once. Turning TLS on or off, or changing client_auth_type, needs a restart:
   * the returned notes say so, and the running setting stays.
   */
  update(web: WebConfig | undefined): string[];
  /** Stops listening, closes idle keep-alive connections at once and every other one after closeGraceMs. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** TLS, basic auth and headers (webConfigFile); plain HTTP without. */
  web?: WebConfig;
}

/**
 * The local endpoint: / for people in a browser (HTML), /metrics for Prometheus, /status for tools
 * (JSON) and people (text), /healthz for systemd and load balancers. Read-only: GET and HEAD only
 * (405 otherwise), no request body (413), unknown paths 404, and errors answered with a bare 500 —
 * the reason goes to the log, never to the client. With a web config, every path, /healthz
 * included, needs the basic auth credentials (as exporter-toolkit does it).
 */
export async function startServer(agent: Agent, scheduler: Scheduler | undefined, listen: string, options: ServerOptions = {}): Promise<StatusServer> {
  const target = parseListen(listen);
  if (!target) throw new Error(`listen: expected host:port, got ${JSON.stringify(listen)}`);
  let web = options.web;
  const runningTls = web?.tls;
  const listener = (request: http.IncomingMessage, response: http.ServerResponse) => {
    serve(agent, scheduler, web, request, response).catch((error: unknown) => {
      agent.log.error({ err: error instanceof Error ? (error.stack ?? error.message) : String(error), method: request.method, url: request.url }, 'request failed');
      answerError(response);
    });
  };
  const httpOptions: http.ServerOptions = {
    requestTimeout: SERVER_LIMITS.requestTimeoutMs,
    headersTimeout: SERVER_LIMITS.headersTimeoutMs,
    // The two timeouts above are enforced per connection (./deadlines.ts): Node's scan of every
    // connection woke an idle agent every second.
    connectionsCheckingInterval: NODE_SCAN_OFF_MS,
    maxHeaderSize: SERVER_LIMITS.maxHeaderBytes,
  };
  const server = runningTls
    ? https.createServer(
        {
          ...httpOptions,
          ...runningTls.context,
          handshakeTimeout: SERVER_LIMITS.handshakeTimeoutMs,
          requestCert: runningTls.clientAuth !== 'NoClientCert',
          rejectUnauthorized: runningTls.clientAuth === 'RequireAndVerifyClientCert',
        },
        listener,
      )
    : http.createServer(httpOptions, listener);
  server.keepAliveTimeout = SERVER_LIMITS.keepAliveTimeoutMs;
  enforceDeadlines(server, runningTls !== undefined, SERVER_LIMITS);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  if (runningTls) {
    // A handshake that fails (plain HTTP on the TLS port, an untrusted client certificate) is the
    // client's problem: note it for debugging, nothing more.
    server.on('tlsClientError', (error: Error) => agent.log.debug({ err: error.message }, 'TLS handshake refused'));
    if (runningTls.clientAuth === 'VerifyClientCertIfGiven') {
      // OpenSSL cannot "verify only if given": the handshake accepts any certificate and a
      // certificate that did not verify is refused here, before any request is read.
      server.on('secureConnection', (socket: TLSSocket) => {
        if (!socket.authorized && Object.keys(socket.getPeerCertificate()).length > 0) {
          agent.log.debug({ err: String(socket.authorizationError) }, 'client certificate refused');
          socket.destroy();
        }
      });
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(target.port, target.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    server,
    address: { host: address, port },
    tls: runningTls !== undefined,
    update(next) {
      const notes: string[] = [];
      if (Boolean(next?.tls) !== Boolean(runningTls)) {
        notes.push(runningTls ? 'TLS removed from the web config: takes effect at the next restart; the running certificate stays' : 'TLS added to the web config: takes effect at the next restart');
      } else if (runningTls && next?.tls) {
        (server as https.Server).setSecureContext(next.tls.context);
        if (next.tls.clientAuth !== runningTls.clientAuth) notes.push(`client_auth_type changed to ${next.tls.clientAuth}: takes effect at the next restart; the certificates are reloaded`);
      }
      web = next;
      return notes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
          resolve();
        }, SERVER_LIMITS.closeGraceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** Everything before the route: method, body, credentials. */
async function serve(agent: Agent, scheduler: Scheduler | undefined, web: WebConfig | undefined, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  for (const [name, value] of Object.entries(web?.headers ?? {})) response.setHeader(name, value);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    // Refused unread: the connection closes after the answer, whatever body follows is never read.
    return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed: use GET\n', { Allow: 'GET, HEAD', Connection: 'close' });
  }
  if (!(await bodyWithin(request, SERVER_LIMITS.maxBodyBytes))) {
    return send(response, 413, 'text/plain; charset=utf-8', 'request body too large: GET takes no body\n', { Connection: 'close' });
  }
  if (web?.auth) {
    const verdict = await web.auth.verify(request.headers.authorization);
    if (verdict === 'busy') return send(response, 503, 'text/plain; charset=utf-8', 'too many authentication attempts at once: retry\n', { 'Retry-After': '1' });
    if (verdict !== 'ok') return send(response, 401, 'text/plain; charset=utf-8', 'unauthorized\n', { 'WWW-Authenticate': AUTH_REALM });
  }
  return handle(agent, scheduler, request, response);
}

/** Reads (and drops) a request body up to `limit` bytes; false when it is larger. */
function bodyWithin(request: http.IncomingMessage, limit: number): Promise<boolean> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= limit)) return Promise.resolve(false);
  if (declared === undefined && request.headers['transfer-encoding'] === undefined) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    let size = 0;
    const done = (within: boolean) => {
      request.off('data', onData).off('end', onEnd).off('error', onError);
      if (!within) request.pause();
      resolve(within);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) done(false);
    };
    const onEnd = () => done(true);
    const onError = () => done(false);
    request.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** The answer to a failure of the agent itself: a bare 500, nothing of the error (it is logged). */
export function answerError(response: http.ServerResponse): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  send(response, 500, 'text/plain; charset=utf-8', 'internal error\n', { Connection: 'close' });
}

const caches = new WeakMap<Agent, RenderCache>();


async function handle(agent: Agent, scheduler: Scheduler | undefined, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  let cache = caches.get(agent);
  if (!cache) caches.set(agent, (cache = new RenderCache()));
  const target = request.url ?? '/';
  if (!URL.canParse(target, 'http://agent.invalid')) return send(response, 400, 'text/plain; charset=utf-8', 'bad request\n');
  const url = new URL(target, 'http://agent.invalid');
  switch (url.pathname) {
    case '/metrics': {
      const version = agent.renderVersion();
      // The results change only with the version, which follows every change once no cycle runs; while
      // one does, the 1 s limit bounds how long its first rows can wait (a hung check).
      const results = await cache.get('metrics.results', version, () => agent.metrics.renderResults(), agent.cycling ? undefined : Infinity);
      const body = await cache.get('metrics', version, async () => `${await agent.metrics.renderProcess()}\n\n${results.text}\n`);
      return sendRendered(response, agent.metrics.registry.contentType, body);
    }
    case '/status': {
      const version = agent.renderVersion();
      if (wantsText(url, request)) {
        return sendRendered(response, 'text/plain; charset=utf-8', await cache.get('status.txt', version, () => statusText(agent.store.all(), agent.now(), agent.history.status())));
      }
      const body = await cache.get('status.json', version, () => {
        const now = agent.now();
        const history = { status: agent.history.status(), changes24h: agent.history.changesSince(now - DAY_MS) };
        const document = statusDocument(agent.store.all(), { version: AGENT_VERSION, startedAt: agent.startedAt }, now, history);
        return `${JSON.stringify(document, null, 2)}\n`;
      });
      return sendRendered(response, 'application/json; charset=utf-8', body);
    }
    case '/events': {
      // Not cached: filtered per request, from memory, at most 50,000 events.
      const parsed = parseEventQuery(url.searchParams, agent.now());
      if ('error' in parsed) return send(response, 400, 'text/plain; charset=utf-8', `bad query: ${parsed.error}\n`);
      const events = agent.history.query(parsed.query).map(eventRecord);
      return send(response, 200, 'application/json; charset=utf-8', `${JSON.stringify({ events })}\n`);
    }
    case '/healthz': {
      const fresh = scheduler?.fresh() ?? false;
      return send(response, fresh ? 200 : 503, 'text/plain; charset=utf-8', fresh ? 'ok\n' : 'probe cycles are not running or are stale\n');
    }
    case '/': {
      const page = await cache.get('page', agent.renderVersion(), () =>
        statusPage(agent.store.all(), { version: AGENT_VERSION, startedAt: agent.startedAt }, agent.now(), { events: agent.history.all(), changesLastHour: agent.history.changesSince(agent.now() - HOUR_MS) }),
      );
      // Module details quote foreign text (HTTP answers, command output): besides escaping, the
      // browser is told to run no script, load nothing, never sniff another type, and not frame it.
      return sendRendered(response, 'text/html; charset=utf-8', page, {
        'Content-Security-Policy': STATUS_PAGE_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      });
    }
    case '/report':
      return report(agent, url, request, response);
    default:
      return send(response, 404, 'text/plain; charset=utf-8', 'not found: try /status, /metrics, /events, /report or /healthz\n');
  }
}

const REPORT_TYPES: Readonly<Record<ReportFormat, string>> = { json: 'application/json; charset=utf-8', text: 'text/plain; charset=utf-8', csv: 'text/csv; charset=utf-8' };

/** GET /report?since=7d&format=json|text|csv: the availability report from the running agent's history. */
function report(agent: Agent, url: URL, request: http.IncomingMessage, response: http.ServerResponse): void {
  const now = agent.now();
  const since = reportSince(url.searchParams.get('since') ?? '7d', now);
  if ('error' in since) return send(response, 400, 'text/plain; charset=utf-8', `${since.error}\n`);
  const format = url.searchParams.get('format') ?? (wantsText(url, request) ? 'text' : 'json');
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
    return send(response, 400, 'text/plain; charset=utf-8', `format: expected one of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}\n`);
  }
  const computed = availability(agent.history.all(), { since: since.since, now, agentRunning: true });
  return send(response, 200, REPORT_TYPES[format as ReportFormat], renderReport(computed, format as ReportFormat));
}

function wantsText(url: URL, request: http.IncomingMessage): boolean {
  const format = url.searchParams.get('format');
  if (format) return format === 'text';
  const accept = request.headers.accept ?? '';
  return accept.includes('text/plain') && !accept.includes('application/json');
}

/** A cached body, gzipped when the client asks for it. */
function sendRendered(response: http.ServerResponse, type: string, rendered: Rendered, headers: http.OutgoingHttpHeaders = {}): void {
  const gzip = acceptsGzip(response.req.headers['accept-encoding']);
  const body = gzip ? rendered.gzip() : rendered.body;
  response.writeHead(200, {
    ...headers,
    'Content-Type': type,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    Vary: 'Accept-Encoding',
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function send(response: http.ServerResponse, status: number, type: string, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
