import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AGENT_VERSION, type Agent } from './agent.js';
import { parseListen } from './config/schema.js';
import type { Scheduler } from './engine/scheduler.js';
import { statusDocument, statusText } from './status.js';
import { STATUS_PAGE_CSP, statusPage } from './statusPage.js';

export interface StatusServer {
  server: http.Server;
  /** Where it really listens (port 0 in the config picks a free one). */
  address: { host: string; port: number };
  close(): Promise<void>;
}

/**
 * The local endpoint: / for people in a browser (HTML), /metrics for Prometheus, /status for tools
 * (JSON) and people (text), /healthz for systemd and load balancers. Read-only, GET only, no stack
 * traces in answers.
 */
export async function startServer(agent: Agent, scheduler: Scheduler | undefined, listen: string): Promise<StatusServer> {
  const target = parseListen(listen);
  if (!target) throw new Error(`listen: expected host:port, got ${JSON.stringify(listen)}`);
  const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (request, response) => {
    handle(agent, scheduler, request, response).catch((error: unknown) => {
      agent.log.error({ err: String(error), url: request.url }, 'request failed');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(agent: Agent, scheduler: Scheduler | undefined, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://agent.invalid');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed: use GET\n');
  }
  switch (url.pathname) {
    case '/metrics': {
      const body = await agent.metrics.registry.metrics();
      return send(response, 200, agent.metrics.registry.contentType, body);
    }
    case '/status': {
      const now = agent.now();
      const rows = agent.store.all();
      if (wantsText(url, request)) return send(response, 200, 'text/plain; charset=utf-8', statusText(rows, now));
      const document = statusDocument(rows, { version: AGENT_VERSION, startedAt: agent.startedAt }, now);
      return send(response, 200, 'application/json; charset=utf-8', `${JSON.stringify(document, null, 2)}\n`);
    }
    case '/healthz': {
      const fresh = scheduler?.fresh() ?? false;
      return send(response, fresh ? 200 : 503, 'text/plain; charset=utf-8', fresh ? 'ok\n' : 'probe cycles are not running or are stale\n');
    }
    case '/': {
      const page = statusPage(agent.store.all(), { version: AGENT_VERSION, startedAt: agent.startedAt }, agent.now());
      // Module details quote foreign text (HTTP answers, command output): besides escaping, the
      // browser is told to run no script, load nothing, never sniff another type, and not frame it.
      return send(response, 200, 'text/html; charset=utf-8', page, {
        'Content-Security-Policy': STATUS_PAGE_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      });
    }
    default:
      return send(response, 404, 'text/plain; charset=utf-8', 'not found: try /status, /metrics or /healthz\n');
  }
}

function wantsText(url: URL, request: http.IncomingMessage): boolean {
  const format = url.searchParams.get('format');
  if (format) return format === 'text';
  const accept = request.headers.accept ?? '';
  return accept.includes('text/plain') && !accept.includes('application/json');
}

function send(response: http.ServerResponse, status: number, type: string, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
