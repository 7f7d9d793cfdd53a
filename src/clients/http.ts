import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';

// The HTTP transport shared by the HTTP and SOAP checks and the SOAP session: one request, bounded body, a reason a person can read.

const USER_AGENT = 'campaign-health-agent';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  maxBodyBytes: number;
  signal: AbortSignal;
}

export interface HttpHeaders {
  get(name: string): string | null;
}

export interface HttpAnswer {
  ok: true;
  status: number;
  headers: HttpHeaders;
  /** UTF-8 decoded, at most maxBodyBytes of it. */
  body: string;
  /** The body was longer than maxBodyBytes and was cut there. */
  truncated: boolean;
  /** From sending the request to the end of the (possibly truncated) body. */
  elapsedMs: number;
}

export interface HttpFailure {
  ok: false;
  /** Why there is no answer, e.g. `connection refused`, `no answer within 5000ms`. */
  reason: string;
}

/**
 * One HTTP exchange that never throws for network trouble: every failure becomes a reason a person
 * can act on. Redirects are not followed, so a health URL that redirects (to a login page, to
 * https) shows up as what it is instead of being judged on another page.
 *
 * node:http, not fetch: fetch loads undici and its WebAssembly HTTP parser into every process that
 * calls it once, about 10 MB of resident memory for an agent whose budget is 70 MB, and its web
 * streams cost more CPU per request than the request itself. node:http's parser is built into Node.
 */
export async function httpRequest(req: HttpRequest): Promise<HttpAnswer | HttpFailure> {
  // A monotonic clock, not ctx.now(): response time must not depend on an injected or stepped clock.
  const started = performance.now();
  if (req.signal.aborted) return { ok: false, reason: describeFetchError(req.signal.reason, req.signal, 0) };
  const send = req.url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: HttpAnswer | HttpFailure) => {
      if (settled) return;
      settled = true;
      req.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const fail = (error: unknown) => finish({ ok: false, reason: describeFetchError(error, req.signal, performance.now() - started) });
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    // A connection per request (Connection: close): runs are 30 s apart, so a kept-alive socket is never
    // reused, only timed out and closed 5 s later, a wake-up of an idle daemon for nothing.
    const request = send(req.url, { method: req.method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const answer = () => {
        const status = response.statusCode ?? 0;
        // Campaign's endpoints answer UTF-8; a charset other than that would only garble a message.
        const body = Buffer.concat(chunks).toString('utf8');
        finish({ ok: true, status, headers: headerReader(response.headers), body, truncated, elapsedMs: performance.now() - started });
      };
      response.on('data', (chunk: Buffer) => {
        const room = req.maxBodyBytes - size;
        if (chunk.length >= room) {
          chunks.push(chunk.subarray(0, room));
          size += room;
          if (chunk.length > room) {
            // The rest is never downloaded: the connection goes, not into the keep-alive pool.
            truncated = true;
            answer();
            request.destroy();
          }
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', answer);
      response.on('error', fail);
      response.on('aborted', () => fail(Object.assign(new Error('connection closed before a complete answer'), { code: 'ECONNRESET' })));
    });
    const onAbort = () => request.destroy(req.signal.reason instanceof Error ? req.signal.reason : new Error('aborted'));
    req.signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', fail);
    request.end(req.body);
  });
}

/** The one thing callers ask of response headers: a header by name (case-insensitive), or null. */
function headerReader(headers: http.IncomingHttpHeaders): HttpHeaders {
  return {
    get(name: string): string | null {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** Network error codes worth a plain-words reason; the code is kept for the ones not listed. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (temporary DNS failure)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed while sending the request',
};

export function describeFetchError(error: unknown, signal: AbortSignal, elapsedMs: number): string {
  if (signal.aborted) return `no answer within ${Math.round(elapsedMs)} ms`;
  const code = findErrorCode(error);
  // node:http's parser names what it could not read: HPE_INVALID_CONSTANT, HPE_INVALID_HEADER_TOKEN...
  if (code?.startsWith('HPE_')) return `malformed HTTP answer (${code})`;
  if (code !== undefined) return REASONS[code] ?? `request failed (${code})`;
  const message = error instanceof Error ? error.message : String(error);
  return `request failed: ${message}`;
}

/**
 * The code sits on the error itself, in `cause`, or in `errors` when several addresses were tried
 * (AggregateError from happy eyeballs).
 */
function findErrorCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = findErrorCode(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return findErrorCode(cause, depth + 1);
}


/** Parses an absolute http(s) URL without credentials (they would end up in messages and logs). */
export function parseHttpUrl(text: string, owner: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${owner}: url must be an absolute http:// or https:// URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${owner}: url must use http or https, got ${JSON.stringify(url.protocol.slice(0, -1))}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`${owner}: url must not carry credentials (user:password@); they would appear in messages`);
  }
  return url;
}

