import type http from 'node:http';
import type { Socket } from 'node:net';

/**
 * Slow and idle clients are cut by timers that exist only while their connection does.
 *
 * Node enforces headersTimeout and requestTimeout by scanning its connections on an interval
 * (connectionsCheckingInterval) that runs from listen() on, connection or not. At 1 s that is one
 * wake-up a second for an agent nobody asks, and a wake-up of an idle process costs about 1 ms of CPU
 * on the VMs this runs on (a bare `node` with a 1 s interval: 62 ms of CPU a minute): it was most of
 * what an idle agent cost. So Node's scan is pushed out of the way and each connection carries one
 * deadline instead:
 *   - from connect (after the TLS handshake, which has its own timeout) until the request's headers
 *     are in: headersTimeoutMs (slowloris);
 *   - from the headers until the answer is sent: requestTimeoutMs;
 *   - after an answer, until the next request's headers are in: keepAliveTimeoutMs (Node closes an
 *     idle keep-alive connection then) + headersTimeoutMs.
 */
export interface Deadlines {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** The longest timer Node accepts: Node's own scan then never runs (a longer value would mean 1 ms). */
export const NODE_SCAN_OFF_MS = 2 ** 31 - 1;

export function enforceDeadlines(server: http.Server, secure: boolean, limits: Deadlines): void {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  const arm = (socket: Socket, ms: number) => {
    clearTimeout(timers.get(socket));
    const timer = setTimeout(() => socket.destroy(), ms);
    // Never what keeps the process alive: a stopping agent does not wait for a slow client's deadline.
    timer.unref();
    timers.set(socket, timer);
  };
  const opened = (socket: Socket) => {
    arm(socket, limits.headersTimeoutMs);
    socket.once('close', () => clearTimeout(timers.get(socket)));
  };
  // request.socket is the TLS socket on https: key the deadline on the same object.
  server.on(secure ? 'secureConnection' : 'connection', opened);
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const socket = request.socket;
    arm(socket, limits.requestTimeoutMs);
    response.once('finish', () => arm(socket, limits.keepAliveTimeoutMs + limits.headersTimeoutMs));
  });
}
