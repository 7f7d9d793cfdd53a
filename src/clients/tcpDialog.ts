import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatBytes, formatDuration, snippet } from '../util/format.js';
import { describeFetchError } from './http.js';

const TEXT_MAX_CHARS = 120;

// A line-protocol conversation over TCP (also used by the POP3 check): connect, send lines, and
// wait until the bytes received since the last answer make a complete answer. Every way it can end
// badly (refused, reset, closed, junk, too much, timeout) comes back as a value, never thrown.

export type DialogFailure =
  /** ctx.signal fired: the check's timeout passed. */
  | { kind: 'aborted' }
  /** The peer closed the connection; `partial` is what it had sent of the awaited answer. */
  | { kind: 'closed'; partial: string }
  /** A socket error; `reason` in plain words (`connection refused`). */
  | { kind: 'error'; reason: string }
  /** More than maxReplyBytes arrived without making an answer; the connection was dropped. */
  | { kind: 'overflow'; limitBytes: number };

export interface TcpDialog {
  /**
   * Resolves with the first verdict `judge` gives on the text received since the previous verdict
   * (judge returns undefined while the answer is incomplete). Text is decoded as UTF-8.
   */
  read<T>(judge: (text: string) => T | undefined): Promise<{ ok: true; verdict: T } | { ok: false; failure: DialogFailure }>;
  /** Writes as UTF-8; a write on a dead connection shows up in the next read. */
  send(text: string): void;
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
}

export type OpenedDialog = { ok: true; dialog: TcpDialog } | { ok: false; failure: DialogFailure; elapsedMs: number };

export async function openTcpDialog(opts: TcpDialogOptions): Promise<OpenedDialog> {
  const dialog = new SocketDialog(opts);
  const failure = await dialog.connected;
  if (failure !== undefined) {
    dialog.close();
    return { ok: false, failure, elapsedMs: dialog.elapsedMs() };
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
  }
}

class SocketDialog implements TcpDialog {
  /** Resolves with undefined once connected, or with why not. */
  readonly connected: Promise<DialogFailure | undefined>;
  private readonly socket: net.Socket;
  private readonly started = performance.now();
  private chunks: Buffer[] = [];
  private size = 0;
  private ended: DialogFailure | undefined;
  /** Wakes the pending read (or the connect wait) when bytes arrive or the connection ends. */
  private wake: () => void = () => {};

  constructor(private readonly opts: TcpDialogOptions) {
    this.socket = new net.Socket();
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('end', () => this.end({ kind: 'closed', partial: this.text() }));
    this.socket.on('error', (error) => this.end({ kind: 'error', reason: describeFetchError(error, opts.signal, this.elapsedMs()) }));
    this.socket.on('close', () => this.end({ kind: 'closed', partial: this.text() }));
    opts.signal.addEventListener('abort', this.onAbort, { once: true });
    this.connected = this.connect();
  }

  private async connect(): Promise<DialogFailure | undefined> {
    if (this.opts.signal.aborted) {
      this.onAbort();
      return this.ended;
    }
    let connected = false;
    this.socket.once('connect', () => {
      connected = true;
      this.wake();
    });
    this.socket.connect({ host: this.opts.host, port: this.opts.port });
    while (!connected && this.ended === undefined) await new Promise<void>((resolve) => (this.wake = resolve));
    // Connected then reset at once is a server that took the connection: the read reports the reset.
    return connected ? undefined : this.ended;
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
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.ended !== undefined) return;
    this.size += chunk.byteLength;
    if (this.size > this.opts.maxReplyBytes) {
      // Dropping the connection is what stops the peer; keeping on reading would only be discarding.
      this.end({ kind: 'overflow', limitBytes: this.opts.maxReplyBytes });
      this.socket.destroy();
      return;
    }
    this.chunks.push(chunk);
    this.wake();
  }

  private readonly onAbort = (): void => {
    this.end({ kind: 'aborted' });
    this.socket.destroy();
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

export function assertEndpoint(host: string, port: number, owner: string): void {
  if (typeof host !== 'string' || host.trim() === '' || /[\s\0]/.test(host)) {
    throw new Error(`${owner}: host must be a host name or IP address, got ${JSON.stringify(host)}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${owner}: port must be an integer from 1 to 65535, got ${String(port)}`);
  }
}
