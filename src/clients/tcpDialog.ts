import { X509Certificate } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { formatBytes, snippet } from '../util/format.js';
import { describeFetchError } from './http.js';

const TEXT_MAX_CHARS = 120;
/** The Mozilla bundle is about 220 KiB; a file far bigger than that is not a CA bundle. */
const MAX_CA_FILE_BYTES = 1024 * 1024;

// A line-protocol conversation over TCP (SMTP and POP3 checks): connect, send lines, and wait until
// the bytes received since the last answer make a complete answer; optionally in TLS from the first
// byte (implicit TLS) or from a point of the conversation on (STARTTLS, STLS). Every way it can end
// badly (refused, reset, closed, junk, too much, timeout, certificate refused) comes back as a
// value, never thrown.

export type DialogFailure =
  /** ctx.signal fired: the check's timeout passed. */
  | { kind: 'aborted' }
  /** The peer closed the connection; `partial` is what it had sent of the awaited answer. */
  | { kind: 'closed'; partial: string }
  /** A socket error; `reason` in plain words (`connection refused`). */
  | { kind: 'error'; reason: string }
  /** More than maxReplyBytes arrived without making an answer; the connection was dropped. */
  | { kind: 'overflow'; limitBytes: number }
  /**
   * The TLS handshake failed, or TLS failed later; `reason` in plain words
   * (`certificate verify failed: self-signed certificate`, `hostname mismatch: ...`, `handshake failed: ...`).
   */
  | { kind: 'tls'; reason: string };

/** What the server's certificate is checked against. Verification is always on. */
export interface TlsSettings {
  /** The name the certificate must be valid for (host name or IP address); also sent as SNI unless an IP address. */
  servername: string;
  /** PEM CA certificates trusted instead of Node's bundled roots; undefined: the bundled roots (and NODE_EXTRA_CA_CERTS). */
  ca?: string;
}

export type TlsOutcome = { ok: true; protocol: string } | { ok: false; failure: DialogFailure };

export interface TcpDialog {
  /**
   * Resolves with the first verdict `judge` gives on the text received since the previous verdict
   * (judge returns undefined while the answer is incomplete). Text is decoded as UTF-8.
   */
  read<T>(judge: (text: string) => T | undefined): Promise<{ ok: true; verdict: T } | { ok: false; failure: DialogFailure }>;
  /** Writes as UTF-8; a write on a dead connection shows up in the next read. */
  send(text: string): void;
  /**
   * Starts TLS on the connection (after the server agreed to STARTTLS or STLS) and waits for the
   * handshake. Bytes received in clear text and not yet read are dropped: nothing sent before the
   * handshake may pass for protected data (RFC 3207 5, RFC 2595 4). A failure ends the dialog.
   */
  startTls(settings: TlsSettings): Promise<TlsOutcome>;
  /** The negotiated version (`TLSv1.3`) once a handshake succeeded; undefined in clear text. */
  tlsProtocol(): string | undefined;
  /** From the start of the connect, monotonic. */
  elapsedMs(): number;
  close(): void;
}

export interface TcpDialogOptions {
  host: string;
  port: number;
  /** Aborting it destroys the socket and ends any pending read or connect. */
  signal: AbortSignal;
  maxReplyBytes: number;
  /** Implicit TLS: the handshake right after the connect, before anything is read or sent. */
  tls?: TlsSettings;
}

/** `waitingFor` says which step failed, for {@link describeDialogFailure}. */
export type OpenedDialog =
  | { ok: true; dialog: TcpDialog }
  | { ok: false; failure: DialogFailure; elapsedMs: number; waitingFor: 'connecting' | typeof TLS_HANDSHAKE };

/** What a dialog waits for during a handshake, in {@link describeDialogFailure}'s words. */
export const TLS_HANDSHAKE = 'the TLS handshake';

export async function openTcpDialog(opts: TcpDialogOptions): Promise<OpenedDialog> {
  const dialog = new SocketDialog(opts);
  let failure = await dialog.connected;
  let waitingFor: 'connecting' | typeof TLS_HANDSHAKE = 'connecting';
  if (failure === undefined && opts.tls !== undefined) {
    const secured = await dialog.startTls(opts.tls);
    if (!secured.ok) [failure, waitingFor] = [secured.failure, TLS_HANDSHAKE];
  }
  if (failure !== undefined) {
    dialog.close();
    return { ok: false, failure, elapsedMs: dialog.elapsedMs(), waitingFor };
  }
  return { ok: true, dialog };
}

/** Turns a failure into the end of a message: `connection refused`, `no answer within 5000 ms, waiting for the greeting`. */
export function describeDialogFailure(failure: DialogFailure, waitingFor: string, elapsedMs: number): string {
  const connecting = waitingFor === 'connecting';
  switch (failure.kind) {
    case 'aborted':
      return connecting ? `no connection within ${Math.round(elapsedMs)} ms` : `no answer within ${Math.round(elapsedMs)} ms, waiting for ${waitingFor}`;
    case 'error':
      return connecting ? failure.reason : `${failure.reason}, waiting for ${waitingFor}`;
    case 'closed':
      return failure.partial === ''
        ? `connection closed by the server, waiting for ${waitingFor}`
        : `connection closed by the server in the middle of ${waitingFor}: "${snippet(failure.partial, TEXT_MAX_CHARS)}"`;
    case 'overflow':
      return `more than ${formatBytes(failure.limitBytes)} without a complete answer, waiting for ${waitingFor}`;
    case 'tls':
      return `TLS ${failure.reason}`;
  }
}

/** OpenSSL's certificate verification results, as Node names them in `error.code`. */
const VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'OUT_OF_MEM', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
]);

/**
 * A TLS error in plain words: `certificate verify failed: <OpenSSL's words>`, `hostname mismatch:
 * <name> is not in the certificate's names (...)`, `handshake failed: <why>`.
 */
export function describeTlsError(error: unknown, signal: AbortSignal, elapsedMs: number): string {
  const { code, message, reason, host, cert } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown; message?: unknown; reason?: unknown; host?: unknown; cert?: { subjectaltname?: unknown; subject?: { CN?: unknown } };
  };
  const text = typeof message === 'string' ? message : String(error);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = typeof cert?.subjectaltname === 'string' ? cert.subjectaltname : typeof cert?.subject?.CN === 'string' ? `CN=${cert.subject.CN}` : undefined;
    if (typeof host === 'string' && names !== undefined) return `hostname mismatch: ${host} is not in the certificate's names (${snippet(names, TEXT_MAX_CHARS)})`;
    return `hostname mismatch: ${snippet(typeof reason === 'string' ? reason : text, TEXT_MAX_CHARS)}`;
  }
  if (typeof code === 'string' && VERIFY_CODES.has(code)) return `certificate verify failed: ${snippet(text, TEXT_MAX_CHARS)}`;
  // Node's words for a peer that closed (or reset) the connection in the middle of the handshake.
  if (code === 'ECONNRESET' && text.includes('before secure TLS connection was established')) {
    return 'handshake failed: connection closed by the server before the handshake completed';
  }
  // OpenSSL's own errors carry its short reason: `wrong version number`, `tlsv1 alert protocol version`...
  if (typeof code === 'string' && code.startsWith('ERR_SSL_') && typeof reason === 'string') {
    const hint = code === 'ERR_SSL_WRONG_VERSION_NUMBER' ? ': what the server sent is not TLS' : '';
    return `handshake failed: ${snippet(reason, TEXT_MAX_CHARS)}${hint}`;
  }
  if (typeof code === 'string' && !code.startsWith('ERR_')) return `handshake failed: ${describeFetchError(error, signal, elapsedMs)}`;
  return `handshake failed: ${snippet(text, TEXT_MAX_CHARS)}`;
}

class SocketDialog implements TcpDialog {
  /** Resolves with undefined once connected, or with why not. */
  readonly connected: Promise<DialogFailure | undefined>;
  /** The TCP connection; under the TLS socket once TLS started. */
  private readonly plain: net.Socket;
  /** What is read from and written to: `plain`, then the TLS socket. */
  private socket: net.Socket;
  private protocol: string | undefined;
  private handshaking = false;
  private readonly started = performance.now();
  private chunks: Buffer[] = [];
  private size = 0;
  private ended: DialogFailure | undefined;
  /** Wakes the pending read (or the connect or handshake wait) when bytes arrive or the connection ends. */
  private wake: () => void = () => {};

  constructor(private readonly opts: TcpDialogOptions) {
    this.plain = new net.Socket();
    this.plain.setNoDelay(true);
    this.socket = this.plain;
    this.listen(this.plain);
    opts.signal.addEventListener('abort', this.onAbort, { once: true });
    this.connected = this.connect();
  }

  private listen(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('end', this.onClose);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onClose = (): void => this.end({ kind: 'closed', partial: this.text() });
  private readonly onError = (error: Error): void => {
    const { code, reason } = error as { code?: unknown; reason?: unknown };
    if (this.handshaking) {
      this.end({ kind: 'tls', reason: describeTlsError(error, this.opts.signal, this.elapsedMs()) });
    } else if (typeof code === 'string' && code.startsWith('ERR_SSL_')) {
      // An alert or a broken record after the handshake: OpenSSL's short reason, as for the handshake.
      this.end({ kind: 'tls', reason: `error: ${snippet(typeof reason === 'string' ? reason : error.message, TEXT_MAX_CHARS)}` });
    } else {
      this.end({ kind: 'error', reason: describeFetchError(error, this.opts.signal, this.elapsedMs()) });
    }
  };

  private async connect(): Promise<DialogFailure | undefined> {
    if (this.opts.signal.aborted) {
      this.onAbort();
      return this.ended;
    }
    let connected = false;
    this.plain.once('connect', () => {
      connected = true;
      this.wake();
    });
    this.plain.connect({ host: this.opts.host, port: this.opts.port });
    while (!connected && this.ended === undefined) await new Promise<void>((resolve) => (this.wake = resolve));
    // Connected then reset at once is a server that took the connection: the read reports the reset.
    return connected ? undefined : this.ended;
  }

  async startTls(settings: TlsSettings): Promise<TlsOutcome> {
    if (this.protocol !== undefined || this.handshaking) throw new Error('startTls: TLS already started on this dialog');
    if (this.ended !== undefined) return { ok: false, failure: this.ended };
    // Clear text received after the answer that started TLS is not trusted as part of the TLS session.
    this.chunks = [];
    this.size = 0;
    // From now on the TLS socket reports what happens to the connection; the plain one only must not throw.
    this.plain.off('data', this.onData).off('end', this.onClose).off('error', this.onError).off('close', this.onClose);
    this.plain.on('error', () => {});
    let secured = false;
    try {
      const secure = tls.connect({
        socket: this.plain,
        // `host` is what the certificate is checked against; SNI carries host names only (RFC 6066 3).
        host: settings.servername,
        ...(net.isIP(settings.servername) === 0 ? { servername: settings.servername } : {}),
        ...(settings.ca !== undefined ? { ca: settings.ca } : {}),
        rejectUnauthorized: true,
      });
      this.socket = secure;
      this.handshaking = true;
      this.listen(secure);
      secure.once('secureConnect', () => {
        secured = true;
        this.wake();
      });
    } catch (error) {
      this.end({ kind: 'tls', reason: describeTlsError(error, this.opts.signal, this.elapsedMs()) });
      this.plain.destroy();
    }
    while (!secured && this.ended === undefined) await new Promise<void>((resolve) => (this.wake = resolve));
    this.handshaking = false;
    if (this.ended !== undefined) return { ok: false, failure: this.ended };
    this.protocol = (this.socket as tls.TLSSocket).getProtocol() ?? 'TLS';
    return { ok: true, protocol: this.protocol };
  }

  tlsProtocol(): string | undefined {
    return this.protocol;
  }

  async read<T>(judge: (text: string) => T | undefined): Promise<{ ok: true; verdict: T } | { ok: false; failure: DialogFailure }> {
    for (;;) {
      // Judge before looking at `ended`: an answer that arrived together with the close still counts.
      if (this.size > 0) {
        const verdict = judge(this.text());
        if (verdict !== undefined) {
          this.chunks = [];
          this.size = 0;
          return { ok: true, verdict };
        }
      }
      if (this.ended !== undefined) {
        const failure = this.ended.kind === 'closed' ? { kind: 'closed' as const, partial: this.text() } : this.ended;
        return { ok: false, failure };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  send(text: string): void {
    if (this.ended === undefined) this.socket.write(text, 'utf8');
  }

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  close(): void {
    this.opts.signal.removeEventListener('abort', this.onAbort);
    this.end({ kind: 'closed', partial: this.text() });
    this.destroy();
  }

  private destroy(): void {
    this.socket.destroy();
    this.plain.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.ended !== undefined) return;
    this.size += chunk.byteLength;
    if (this.size > this.opts.maxReplyBytes) {
      // Dropping the connection is what stops the peer; keeping on reading would only be discarding.
      this.end({ kind: 'overflow', limitBytes: this.opts.maxReplyBytes });
      this.destroy();
      return;
    }
    this.chunks.push(chunk);
    this.wake();
  }

  private readonly onAbort = (): void => {
    this.end({ kind: 'aborted' });
    this.destroy();
  };

  /** The first way the connection ended is the one reported; what follows (close after error) is a consequence. */
  private end(failure: DialogFailure): void {
    if (this.ended !== undefined) return;
    this.ended = failure;
    this.opts.signal.removeEventListener('abort', this.onAbort);
    this.wake();
  }

  private text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

// ---------------------------------------------------------------------------------------------

/** `host:port`, with IPv6 literals in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** How a dialog uses TLS: not at all, from the first byte, or after the protocol's STARTTLS command. */
export type TlsMode = 'none' | 'implicit' | 'starttls';

const TLS_MODES: readonly TlsMode[] = ['none', 'implicit', 'starttls'];

/**
 * Checks a check's TLS options and returns the mode (default `none`). A CA file or a server name
 * with tls `none` is refused: it would look like TLS was checked when it is not.
 */
export function assertTlsOptions(opts: { tls?: TlsMode; caFile?: string; servername?: string }, owner: string): TlsMode {
  const mode = opts.tls ?? 'none';
  if (!TLS_MODES.includes(mode)) throw new Error(`${owner}: tls must be 'none', 'implicit' or 'starttls', got ${JSON.stringify(opts.tls)}`);
  if (opts.caFile !== undefined && (typeof opts.caFile !== 'string' || !path.isAbsolute(opts.caFile))) {
    throw new Error(`${owner}: caFile must be an absolute path, got ${JSON.stringify(opts.caFile)}`);
  }
  if (opts.servername !== undefined && (typeof opts.servername !== 'string' || !/^[^\s\0]{1,253}$/.test(opts.servername))) {
    throw new Error(`${owner}: servername must be a host name or IP address, got ${JSON.stringify(opts.servername)}`);
  }
  for (const option of ['caFile', 'servername'] as const) {
    if (mode === 'none' && opts[option] !== undefined) {
      throw new Error(`${owner}: ${option} is set but tls is 'none' (no TLS, nothing to verify): set tls to 'implicit' or 'starttls'`);
    }
  }
  return mode;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// IPv4-mapped 127.0.0.0/8 (::ffff:127.0.0.1).
LOOPBACK.addSubnet('::ffff:7f00:0', 104, 'ipv6');

/** 127.0.0.0/8, ::1 (any spelling, IPv4-mapped included) and `localhost`: traffic that never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  if (/^localhost\.?$/i.test(host)) return true;
  const family = net.isIP(host);
  if (family === 0) return false;
  return LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** ` (TLSv1.3)` for implicit TLS, ` (STLS, TLSv1.3)` after a STARTTLS-like command, '' without TLS. */
export function tlsLabel(mode: TlsMode, startCommand: string, protocol: string | undefined): string {
  if (protocol === undefined) return '';
  return mode === 'starttls' ? ` (${startCommand}, ${protocol})` : ` (${protocol})`;
}

export function assertEndpoint(host: string, port: number, owner: string): void {
  if (typeof host !== 'string' || host.trim() === '' || /[\s\0]/.test(host)) {
    throw new Error(`${owner}: host must be a host name or IP address, got ${JSON.stringify(host)}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${owner}: port must be an integer from 1 to 65535, got ${String(port)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Files the dialogs' users read at every run: the CA bundle (and the POP3 password).

/** Plain words for the errors an operator meets with a configured file. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many symbolic links',
};

/** Why a file could not be read, in words for a message: `ENOENT (no such file)`, `it is not a regular file`. */
export function describeFileError(error: unknown): string {
  if (error instanceof NotTheExpectedFile) return error.message;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code} (${FILE_ERRORS[code] ?? 'read failed'})` : 'read failed';
}

/** A file that is there but cannot be what was asked for; its message is the reason. */
export class NotTheExpectedFile extends Error {}

/**
 * Reads a regular file of at most maxBytes; `what` names it in the too-big error (`a password file`).
 * O_NONBLOCK keeps a FIFO from blocking the open; the size cap keeps a device or a huge file from
 * filling memory.
 */
export async function readSmallRegularFile(file: string, maxBytes: number, what: string): Promise<Buffer> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new NotTheExpectedFile('it is not a regular file');
    const buffer = Buffer.alloc(maxBytes + 1);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, size, buffer.length - size, size);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size > maxBytes) throw new NotTheExpectedFile(`it is larger than ${maxBytes} bytes, not ${what}`);
    }
    return buffer.subarray(0, size);
  } finally {
    await handle.close();
  }
}

/** The TLS settings of one run: the server name, and the CA file read now (a rotation needs no restart). */
export async function loadTlsSettings(servername: string, caFile: string | undefined): Promise<{ ok: true; settings: TlsSettings } | { ok: false; reason: string }> {
  if (caFile === undefined) return { ok: true, settings: { servername } };
  const ca = await readCaFile(caFile);
  return ca.ok ? { ok: true, settings: { servername, ca: ca.pem } } : ca;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Reads a PEM CA bundle for {@link TlsSettings.ca}. Every certificate in it must parse: OpenSSL
 * silently skips what it cannot read, and a bundle it half reads fails later as a verify error that
 * would blame the server.
 */
export async function readCaFile(file: string): Promise<{ ok: true; pem: string } | { ok: false; reason: string }> {
  const fail = (what: string) => ({ ok: false as const, reason: `cannot use the CA file ${file}: ${what}` });
  let text: string;
  try {
    text = (await readSmallRegularFile(file, MAX_CA_FILE_BYTES, 'a CA bundle')).toString('utf8');
  } catch (error) {
    return fail(describeFileError(error));
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) return fail('no PEM certificate in it (-----BEGIN CERTIFICATE-----)');
  for (const [index, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      return fail(`certificate ${index + 1} of ${certificates.length} is not a valid PEM certificate`);
    }
  }
  return { ok: true, pem: certificates.join('\n') + '\n' };
}

/**
 * What the SMTP and POP3 checks do before their dialogue: the TLS settings when `mode` asks for TLS
 * (an unreadable CA file is `setup`: the check cannot look), then the connection, in TLS from the first
 * byte for `implicit`. `tls` is what a later STARTTLS / STLS upgrade uses.
 */
export async function connectDialog(opts: {
  host: string;
  port: number;
  signal: AbortSignal;
  maxReplyBytes: number;
  mode: TlsMode;
  servername: string;
  caFile: string | undefined;
}): Promise<{ ok: true; dialog: TcpDialog; tls: TlsSettings | undefined } | { ok: false; setup: string } | Extract<OpenedDialog, { ok: false }>> {
  let tls: TlsSettings | undefined;
  if (opts.mode !== 'none') {
    const loaded = await loadTlsSettings(opts.servername, opts.caFile);
    if (!loaded.ok) return { ok: false, setup: loaded.reason };
    tls = loaded.settings;
  }
  const opened = await openTcpDialog({
    host: opts.host,
    port: opts.port,
    signal: opts.signal,
    maxReplyBytes: opts.maxReplyBytes,
    ...(opts.mode === 'implicit' ? { tls } : {}),
  });
  return opened.ok ? { ok: true, dialog: opened.dialog, tls } : opened;
}
