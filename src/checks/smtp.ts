import os from 'node:os';
import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { assertCheckName, formatDuration, snippet } from '../util/format.js';
import { applySlowness, assertPositive } from './http.js';
import {
  assertEndpoint,
  assertTlsOptions,
  describeDialogFailure,
  hostPort,
  connectDialog,
  TLS_HANDSHAKE,
  tlsLabel,
  type DialogFailure,
  type TcpDialog,
  type TlsMode,
  type TlsSettings,
} from '../clients/tcpDialog.js';

/** A reply bigger than this is not a relay's answer: stop reading instead of buffering it. */
const MAX_REPLY_BYTES = 64 * 1024;
/**
 * RFC 5321 caps reply lines at 512 octets; real servers stay far below. The margin avoids calling
 * a working relay broken over a long banner while still catching a stream with no line breaks.
 */
const MAX_LINE_CHARS = 2048;
const TEXT_MAX_CHARS = 120;

export interface SmtpCheckOptions {
  /** Default `smtp_relay`. */
  name?: string;
  host: string;
  port: number;
  /** The name announced in EHLO; default this machine's host name. */
  heloName?: string;
  /** Answers slower than this (connect to EHLO reply) are a warning. */
  slowMs?: number;
  /**
   * `implicit`: TLS from the first byte (port 465); `starttls`: EHLO, STARTTLS, then EHLO again over
   * TLS (RFC 3207), critical when the relay does not offer it; `none` (default): clear text.
   */
  tls?: TlsMode;
  /** Absolute path of a PEM CA bundle trusted instead of Node's bundled roots; read at every run. */
  caFile?: string;
  /** The name the relay's certificate must be valid for; default `host`. */
  servername?: string;
}

export interface SmtpReply {
  /** The final line (`NNN text` or `NNN`) has been received. */
  complete: boolean;
  /** The reply code, once a whole line is known. */
  code?: number;
  /** Text of each complete line, without the code and its separator. */
  lines: string[];
  /** Why the text is not an SMTP reply; set as soon as that is certain. */
  error?: string;
}

/**
 * Talks to an SMTP relay the way a sender starts (greeting, EHLO) and leaves (QUIT), without sending
 * mail: a relay that accepts TCP but does not greet, or refuses EHLO, would not take the MTA's mail.
 */
export function smtpCheck(opts: SmtpCheckOptions): Check {
  const name = assertCheckName(opts.name ?? 'smtp_relay');
  assertEndpoint(opts.host, opts.port, `smtpCheck ${name}`);
  assertPositive(opts.slowMs, 'slowMs', name);
  const heloName = opts.heloName ?? os.hostname();
  if (!/^[\x21-\x7e]+$/.test(heloName)) {
    throw new Error(`smtpCheck ${name}: heloName must be one word of printable ASCII (it is sent after EHLO), got ${JSON.stringify(heloName)}`);
  }
  const mode = assertTlsOptions(opts, `smtpCheck ${name}`);
  const endpoint = `SMTP relay ${hostPort(opts.host, opts.port)}`;
  const servername = opts.servername ?? opts.host;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const opened = await connectDialog({ host: opts.host, port: opts.port, signal: ctx.signal, maxReplyBytes: MAX_REPLY_BYTES, mode, servername, caFile: opts.caFile });
      if (!opened.ok && 'setup' in opened) return { state: 'unknown', message: `${endpoint}: ${opened.setup}` };
      if (!opened.ok) return critical(`${endpoint}: ${describeDialogFailure(opened.failure, opened.waitingFor, opened.elapsedMs)}`);
      const { dialog, tls } = opened;
      try {
        return await converse(dialog, heloName, endpoint, opts.slowMs, mode, mode === 'starttls' ? tls : undefined);
      } finally {
        dialog.close();
      }
    },
  };
}

/** `starttls`: the TLS settings when the session must switch to TLS with STARTTLS (RFC 3207) after EHLO. */
async function converse(
  dialog: TcpDialog,
  heloName: string,
  endpoint: string,
  slowMs: number | undefined,
  mode: TlsMode,
  starttls: TlsSettings | undefined,
): Promise<CheckResult> {
  // Said once TLS is up (`(TLSv1.3)`, `(STARTTLS, TLSv1.3)`).
  let where = `${endpoint}${tlsLabel(mode, 'STARTTLS', dialog.tlsProtocol())}`;
  const greeting = await readSmtpReply(dialog, 'the greeting');
  if (!greeting.ok) return critical(`${where}: ${greeting.problem}`);
  if (greeting.code !== 220) return critical(`${where}: greeting ${replyText(greeting)} (expected 220)`);

  dialog.send(`EHLO ${heloName}\r\n`);
  let ehlo = await readSmtpReply(dialog, 'the answer to EHLO');
  if (!ehlo.ok) return critical(`${where}: ${ehlo.problem}`);
  if (ehlo.code !== 250) return critical(`${where}: EHLO ${heloName} answered ${replyText(ehlo)} (expected 250)`);

  if (starttls !== undefined) {
    // The first line is the greeting part (`name Hello client`); the keywords follow, one a line.
    if (!ehlo.lines.slice(1).some((line) => /^STARTTLS(?: |$)/i.test(line))) {
      return critical(`${where}: STARTTLS not offered in the answer to EHLO (tls 'starttls' never falls back to clear text)`);
    }
    dialog.send('STARTTLS\r\n');
    const ready = await readSmtpReply(dialog, 'the answer to STARTTLS');
    if (!ready.ok) return critical(`${where}: ${ready.problem}`);
    if (ready.code !== 220) return critical(`${where}: STARTTLS answered ${replyText(ready)} (expected 220)`);
    const secured = await dialog.startTls(starttls);
    if (!secured.ok) return critical(`${where}: ${describeDialogFailure(secured.failure, TLS_HANDSHAKE, dialog.elapsedMs())}`);
    where = `${endpoint}${tlsLabel(mode, 'STARTTLS', secured.protocol)}`;
    // RFC 3207 4.2: what the server said before TLS is forgotten; EHLO again.
    dialog.send(`EHLO ${heloName}\r\n`);
    ehlo = await readSmtpReply(dialog, 'the answer to EHLO after STARTTLS');
    if (!ehlo.ok) return critical(`${where}: ${ehlo.problem}`);
    if (ehlo.code !== 250) return critical(`${where}: EHLO ${heloName} after STARTTLS answered ${replyText(ehlo)} (expected 250)`);
  }
  // What a sender waits for before it can start a transaction; QUIT is only good manners.
  const elapsedMs = dialog.elapsedMs();

  dialog.send('QUIT\r\n');
  const quit = await readSmtpReply(dialog, 'the answer to QUIT');
  const closedAtQuit = !quit.ok && quit.failure?.kind === 'closed' && quit.failure.partial === '';
  if (!quit.ok && !closedAtQuit) return critical(`${where}: ${quit.problem}`);
  if (quit.ok && quit.code !== 221) return critical(`${where}: QUIT answered ${replyText(quit)} (expected 221)`);

  const result: CheckResult = {
    state: 'ok',
    message: `${where} answered ${replyText(greeting)}, EHLO ${ehlo.code} in ${formatDuration(elapsedMs)}`,
    values: { response_seconds: elapsedMs / 1000 },
  };
  return applySlowness(result, elapsedMs, slowMs);
}

type ReadReply =
  | { ok: true; code: number; lines: string[] }
  | { ok: false; problem: string; failure?: DialogFailure };

async function readSmtpReply(dialog: TcpDialog, waitingFor: string): Promise<ReadReply> {
  const read = await dialog.read((text) => {
    const reply = parseSmtpReply(text);
    return reply.complete || reply.error !== undefined ? { reply, text } : undefined;
  });
  if (!read.ok) {
    const described = describeDialogFailure(read.failure, waitingFor, dialog.elapsedMs());
    const problem = read.failure.kind === 'overflow' ? `not an SMTP reply: ${described}` : described;
    return { ok: false, problem, failure: read.failure };
  }
  const { reply, text } = read.verdict;
  if (reply.error !== undefined || reply.code === undefined) {
    return { ok: false, problem: `not an SMTP reply (${waitingFor}): ${reply.error ?? 'no reply code'}: "${snippet(text, TEXT_MAX_CHARS)}"` };
  }
  return { ok: true, code: reply.code, lines: reply.lines };
}

/** `554 5.3.2 sim.example service unavailable`, or the first lines of a multi-line reply, as one short line. */
function replyText(reply: { code: number; lines: string[] }): string {
  const text = snippet(reply.lines.join(' '), TEXT_MAX_CHARS);
  return text === '' ? String(reply.code) : `${reply.code} ${text}`;
}

function critical(message: string): CheckResult {
  return { state: 'critical', message };
}

// ---------------------------------------------------------------------------------------------
// The reply grammar of RFC 5321 4.2: `NNN-text` continuation lines, then one `NNN text` (or `NNN`).

const COMPLETE_LINE = /^([2-5]\d\d)(?:([ -])(.*))?$/s;
/** What the start of a line may look like while the rest has not arrived yet. */
const LINE_PREFIX = /^(?:[2-5]\d{0,2}|[2-5]\d\d[ -].*)?$/s;

/**
 * Parses the first reply in `text` (bytes received so far, CRLF or LF line ends). Pure, so it can be
 * fed arbitrary input. Junk is reported as early as it is certain, without waiting for a line end,
 * so a peer that is not an SMTP server is recognised from its first bytes.
 */
export function parseSmtpReply(text: string): SmtpReply {
  const rawLines = text.split('\n');
  // The piece after the last line break has not been terminated yet.
  const tail = rawLines.pop() ?? '';
  const lines: string[] = [];
  let code: number | undefined;
  for (const [index, raw] of rawLines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const number = index + 1;
    if (line.length > MAX_LINE_CHARS) return { complete: false, code, lines, error: `line ${number} is longer than ${MAX_LINE_CHARS} characters` };
    const match = COMPLETE_LINE.exec(line);
    if (match === null) return { complete: false, code, lines, error: `line ${number} does not start with a reply code (200-599)` };
    const lineCode = Number(match[1]);
    if (code !== undefined && lineCode !== code) {
      return { complete: false, code, lines, error: `line ${number} has code ${lineCode}, the reply started with ${code}` };
    }
    code = lineCode;
    lines.push(match[3] ?? '');
    if (match[2] !== '-') return { complete: true, code, lines };
  }
  const number = rawLines.length + 1;
  // A CR at the end is the first half of the line's CRLF: not part of the line.
  const pending = tail.endsWith('\r') ? tail.slice(0, -1) : tail;
  if (pending.length > MAX_LINE_CHARS) return { complete: false, code, lines, error: `line ${number} is longer than ${MAX_LINE_CHARS} characters` };
  if (!LINE_PREFIX.test(pending)) {
    return { complete: false, code, lines, error: `line ${number} does not start with a reply code (200-599)` };
  }
  return { complete: false, code, lines };
}
