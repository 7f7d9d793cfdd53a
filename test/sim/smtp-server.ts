// A real SMTP responder on 127.0.0.1 for the tests and the demo: it greets, answers EHLO, HELO, NOOP,
// RSET and QUIT, and can misbehave the ways a relay does in production (refuses service, hangs,
// drops the connection, is not SMTP at all). It never accepts mail. Given a certificate it offers
// STARTTLS (RFC 3207), or speaks TLS from the first byte (implicitTls, as on port 465).

import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export type SmtpServerMode =
  /** `220 sim.example ESMTP`, multi-line 250 to EHLO, 221 to QUIT. */
  | 'ok'
  /** Greets with `554 5.3.2 sim.example service unavailable` (RFC 5321 3.1), then waits for QUIT. */
  | 'reject'
  /** Accepts the connection and never writes. */
  | 'hang'
  /** Closes each connection as soon as it is accepted. */
  | 'close'
  /** As 'ok', with a multi-line `220-` ... `220 ` greeting. */
  | 'multiline'
  /** Answers like an SSH server: a port mix-up, not SMTP. */
  | 'junk'
  /** Greets, then refuses EHLO with `502 5.5.1 EHLO not implemented` (an HELO-only server). */
  | 'ehlo-reject'
  /** Streams `220-` continuation lines forever, never a final line. */
  | 'flood'
  /** As 'ok', but closes at QUIT without answering 221. */
  | 'drop-quit'
  /** As 'ok', with the greeting sent 50 ms after the connection. */
  | 'slow'
  /** With `tls`: offers STARTTLS, then refuses it with `454 4.7.0 TLS not available due to temporary reason`. */
  | 'starttls-refuse'
  /**
   * With `tls`: answers STARTTLS with `220` followed, in the same write, by a clear-text `554` that a
   * client keeping it would take for the answer to its EHLO over TLS (STARTTLS response injection,
   * as in CVE-2011-0411).
   */
  | 'starttls-inject';

export interface SmtpServerOptions {
  mode?: SmtpServerMode;
  /** PEM files of the server certificate and key: EHLO offers STARTTLS (or, with implicitTls, TLS from the first byte). */
  tls?: { certFile: string; keyFile: string };
  /** With `tls`: a TLS server (port 465 style) instead of STARTTLS. */
  implicitTls?: boolean;
}

export interface SimSmtpServer {
  host: '127.0.0.1';
  port: number;
  /** Applies to connections accepted from now on. */
  setMode(mode: SmtpServerMode): void;
  /** Connections accepted since the start. */
  connections(): number;
  /** Connections still open. */
  openConnections(): number;
  /** The commands received, in order, over all connections (e.g. `EHLO probe.example`). */
  commands(): string[];
  stop(): Promise<void>;
}

const GREETING = '220 sim.example ESMTP\r\n';
const MULTILINE_GREETING = '220-sim.example ESMTP simulated relay\r\n220-no mail is accepted here\r\n220 ready\r\n';
const EHLO_REPLY = (client: string, starttls: boolean): string =>
  `250-sim.example Hello ${client}\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n${starttls ? '250-STARTTLS\r\n' : ''}250-8BITMIME\r\n250 SMTPUTF8\r\n`;
const SLOW_GREETING_MS = 50;

/** What one connection knows: the mode it was accepted in, and whether TLS is (or can be) on. */
interface Session {
  mode: SmtpServerMode;
  received: string[];
  /** Set when STARTTLS can be offered. */
  secureContext: tls.SecureContext | undefined;
  secure: boolean;
  track(socket: net.Socket): void;
}

export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<SimSmtpServer> {
  let mode: SmtpServerMode = opts.mode ?? 'ok';
  let accepted = 0;
  const open = new Set<net.Socket>();
  const received: string[] = [];
  const pem = opts.tls === undefined ? undefined : { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) };
  const secureContext = pem === undefined ? undefined : tls.createSecureContext(pem);
  const track = (socket: net.Socket): void => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    // A client that resets the connection (or refuses the certificate) must not crash the test process.
    socket.on('error', () => {});
  };
  const implicit = opts.implicitTls === true && secureContext !== undefined;
  const onConnection = (socket: net.Socket): void => {
    accepted++;
    track(socket);
    serve(socket, { mode, received, secureContext: implicit ? undefined : secureContext, secure: implicit, track });
  };
  // tls.Server builds its context from cert and key (it ignores a secureContext option).
  const server = implicit ? tls.createServer({ ...pem }, onConnection) : net.createServer(onConnection);
  // A handshake the client aborts (wrong CA) is not a server error.
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    setMode: (next) => (mode = next),
    connections: () => accepted,
    openConnections: () => open.size,
    commands: () => [...received],
    async stop() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serve(socket: net.Socket, session: Session): void {
  switch (session.mode) {
    case 'hang':
      return;
    case 'close':
      socket.destroy();
      return;
    case 'junk':
      socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n\u0000\u0000\u0005\u00dc\u0007\u0014');
      return;
    case 'flood':
      flood(socket);
      return;
    case 'slow': {
      const timer = setTimeout(() => socket.write(GREETING), SLOW_GREETING_MS);
      socket.on('close', () => clearTimeout(timer));
      break;
    }
    case 'reject':
      socket.write('554 5.3.2 sim.example service unavailable\r\n');
      break;
    case 'multiline':
      socket.write(MULTILINE_GREETING);
      break;
    default:
      socket.write(GREETING);
  }
  answerCommands(socket, session);
}

function answerCommands(socket: net.Socket, session: Session): void {
  let pending = '';
  socket.setEncoding('utf8');
  const onData = (data: string): void => {
    pending += data;
    let end: number;
    while ((end = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, end).replace(/\r$/, '');
      pending = pending.slice(end + 1);
      session.received.push(line);
      if (answer(socket, session, line) === 'starttls') {
        // Whatever the client pipelined after STARTTLS is dropped (RFC 3207 4.2), then TLS on the same connection.
        socket.off('data', onData);
        startTls(socket, session);
        return;
      }
    }
  };
  socket.on('data', onData);
}

function startTls(socket: net.Socket, session: Session): void {
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: session.secureContext });
  session.track(secure);
  secure.once('secure', () => answerCommands(secure, { ...session, secure: true }));
}

/** Writes the answer to one command; `starttls` when TLS must start now. */
function answer(socket: net.Socket, session: Session, line: string): 'starttls' | undefined {
  const { mode } = session;
  const [verb = '', ...rest] = line.split(' ');
  const offersTls = session.secureContext !== undefined && !session.secure;
  switch (verb.toUpperCase()) {
    case 'EHLO':
      if (mode === 'reject') socket.write('503 5.5.1 sim.example service unavailable, only QUIT\r\n');
      else if (mode === 'ehlo-reject') socket.write('502 5.5.1 EHLO not implemented\r\n');
      else socket.write(EHLO_REPLY(rest.join(' '), offersTls));
      return;
    case 'STARTTLS':
      if (session.secure) socket.write('503 5.5.1 TLS already active\r\n');
      else if (!offersTls) socket.write('502 5.5.2 Error: command not recognized\r\n');
      else if (mode === 'starttls-refuse') socket.write('454 4.7.0 TLS not available due to temporary reason\r\n');
      else if (mode === 'starttls-inject') {
        socket.write('220 2.0.0 Ready to start TLS\r\n554 5.7.0 injected in clear text before TLS\r\n');
        return 'starttls';
      } else {
        socket.write('220 2.0.0 Ready to start TLS\r\n');
        return 'starttls';
      }
      return;
    case 'HELO':
      socket.write(`250 sim.example Hello ${rest.join(' ')}\r\n`);
      return;
    case 'NOOP':
    case 'RSET':
      socket.write('250 2.0.0 OK\r\n');
      return;
    case 'QUIT':
      if (mode === 'drop-quit') socket.destroy();
      else socket.end('221 2.0.0 sim.example closing connection\r\n');
      return;
    default:
      socket.write('502 5.5.2 Error: command not recognized\r\n');
  }
}

/** Writes continuation lines as fast as the client reads them, until it goes away. */
function flood(socket: net.Socket): void {
  const chunk = '220-sim.example this line is one of an endless greeting\r\n'.repeat(256);
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk));
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}
