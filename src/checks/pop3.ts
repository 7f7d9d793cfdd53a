import path from 'node:path';
import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { assertCheckName, formatBytes, formatDuration, snippet } from '../util/format.js';
import { applySlowness, assertPositive } from './http.js';
import {
  assertEndpoint,
  assertTlsOptions,
  describeDialogFailure,
  describeFileError,
  hostPort,
  isLoopbackHost,
  connectDialog,
  readSmallRegularFile,
  TLS_HANDSHAKE,
  tlsLabel,
  type DialogFailure,
  type TcpDialog,
  type TlsMode,
  type TlsSettings,
} from '../clients/tcpDialog.js';

/** RFC 1939 caps a response line at 512 octets; this is well past any server's greeting. */
const MAX_LINE_CHARS = 2048;
/** Bytes read for one answer at most: a peer streaming junk is dropped there. */
const MAX_REPLY_BYTES = 64 * 1024;
/** A password file is one short line; anything bigger is the wrong file (or /dev/zero). */
const MAX_PASSWORD_FILE_BYTES = 4096;
const TEXT_MAX_CHARS = 120;
const REDACTED = '<password>';
const BACKLOG_MEMORY_KEY = 'pop3.backlog';

export interface Pop3CheckOptions {
  /** Default `pop3_mailbox`. */
  name?: string;
  host: string;
  port: number;
  user: string;
  /** Absolute path of a file holding the password alone; read at every run, so a rotation needs no restart. */
  passwordFile: string;
  /** Messages waiting this long without the count ever going down is a warning. */
  backlogMaxAgeMs: number;
  /** This many messages or more waiting is a warning. */
  maxMessages?: number;
  /** Answers slower than this (connect to STAT answer) are a warning. */
  slowMs?: number;
  /**
   * `implicit`: POP3S, TLS from the first byte (port 995); `starttls`: STLS after the greeting
   * (RFC 2595), never falling back to clear text; `none` (default): clear text, refused at
   * construction for a host that is not loopback unless allowPlaintext is true.
   */
  tls?: TlsMode;
  /** Absolute path of a PEM CA bundle trusted instead of Node's bundled roots; read at every run. */
  caFile?: string;
  /** The name the server certificate must be valid for; default `host`. */
  servername?: string;
  /** Lets tls `none` send the password in clear text to a host that is not loopback. Default false. */
  allowPlaintext?: boolean;
}

/** What the check remembers between runs: since when messages have waited without the count going down. */
interface Backlog {
  since: number;
  count: number;
}

/**
 * Logs in to the bounce mailbox inMail reads, with POP3 like inMail does, and counts what waits there
 * (STAT). Nothing is retrieved or deleted. A mailbox that cannot be reached fails inMail too, so that
 * is critical; a login refused is `unknown`, because it proves only that the agent's own credentials
 * are wrong. Messages piling up without ever being drained mean inMail stopped reading them.
 */
export function pop3Check(opts: Pop3CheckOptions): Check {
  const name = assertCheckName(opts.name ?? 'pop3_mailbox');
  const owner = `pop3Check ${name}`;
  assertEndpoint(opts.host, opts.port, owner);
  assertUser(opts.user, owner);
  if (typeof opts.passwordFile !== 'string' || !path.isAbsolute(opts.passwordFile)) {
    throw new Error(`${owner}: passwordFile must be an absolute path, got ${JSON.stringify(opts.passwordFile)}`);
  }
  assertPositive(opts.backlogMaxAgeMs, 'backlogMaxAgeMs', name);
  if (opts.backlogMaxAgeMs === undefined) throw new Error(`check ${name}: backlogMaxAgeMs is required`);
  if (opts.maxMessages !== undefined && !(Number.isInteger(opts.maxMessages) && opts.maxMessages > 0)) {
    throw new Error(`${owner}: maxMessages must be a positive integer, got ${String(opts.maxMessages)}`);
  }
  assertPositive(opts.slowMs, 'slowMs', name);
  const mode = assertTlsOptions(opts, owner);
  if (opts.allowPlaintext !== undefined && typeof opts.allowPlaintext !== 'boolean') {
    throw new Error(`${owner}: allowPlaintext must be true or false, got ${JSON.stringify(opts.allowPlaintext)}`);
  }
  if (mode === 'none' && !isLoopbackHost(opts.host) && opts.allowPlaintext !== true) {
    throw new Error(
      `${owner}: tls 'none' would send the POP3 password in clear text to ${opts.host}; ` +
        `set tls to 'implicit' (POP3S, port 995) or 'starttls' (STLS), or allowPlaintext: true to accept clear text`,
    );
  }
  const endpoint = `POP3 mailbox ${opts.user} at ${hostPort(opts.host, opts.port)}`;
  const servername = opts.servername ?? opts.host;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const password = await readPasswordFile(opts.passwordFile);
      if (!password.ok) return { state: 'unknown', message: `${endpoint}: ${password.reason}` };
      const opened = await connectDialog({ host: opts.host, port: opts.port, signal: ctx.signal, maxReplyBytes: MAX_REPLY_BYTES, mode, servername, caFile: opts.caFile });
      if (!opened.ok && 'setup' in opened) return { state: 'unknown', message: `${endpoint}: ${opened.setup}` };
      if (!opened.ok) return critical(`${endpoint}: ${describeDialogFailure(opened.failure, opened.waitingFor, opened.elapsedMs)}`);
      const { dialog, tls } = opened;
      let session: Session;
      try {
        session = await converse(dialog, opts.user, password.password, redactor(password.password), mode === 'starttls' ? tls : undefined);
      } finally {
        dialog.close();
      }
      // Said once TLS is up (`(TLSv1.3)`, `(STLS, TLSv1.3)`): nothing in clear text then.
      const label = tlsLabel(mode, 'STLS', dialog.tlsProtocol());
      return judge(session, { ...opts, where: `${endpoint}${label}`, label }, ctx);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The POP3 exchange (RFC 1939): greeting, USER, PASS, STAT, QUIT. Every answer is one status line.

type Session =
  | { outcome: 'counted'; count: number; octets: number; elapsedMs: number }
  | { outcome: 'refused'; step: 'USER' | 'PASS'; text: string }
  | { outcome: 'failed'; problem: string };

/**
 * `clean` makes server text safe for a message (one line, short, without the password); `stls`: the
 * TLS settings when the session must switch to TLS with STLS (RFC 2595 4) before the login.
 */
async function converse(
  dialog: TcpDialog,
  user: string,
  password: string,
  clean: (text: string) => string,
  stls: TlsSettings | undefined,
): Promise<Session> {
  const readStatus = (waitingFor: string): Promise<StatusRead> => readStatusLine(dialog, waitingFor, clean);
  const greeting = await readStatus('the greeting');
  if ('problem' in greeting) return { outcome: 'failed', problem: greeting.problem };
  if (!greeting.ok) return { outcome: 'failed', problem: `greeting -ERR ${greeting.text} (expected +OK)` };

  if (stls !== undefined) {
    dialog.send('STLS\r\n');
    const answer = await readStatus('the answer to STLS');
    if ('problem' in answer) return { outcome: 'failed', problem: answer.problem };
    if (!answer.ok) {
      // Nothing else is sent: the password goes over TLS or not at all.
      return { outcome: 'failed', problem: `STLS not offered: the server answered -ERR ${answer.text} (tls 'starttls' never falls back to clear text)` };
    }
    const secured = await dialog.startTls(stls);
    if (!secured.ok) return { outcome: 'failed', problem: describeDialogFailure(secured.failure, TLS_HANDSHAKE, dialog.elapsedMs()) };
  }

  for (const [step, argument] of [['USER', user], ['PASS', password]] as const) {
    dialog.send(`${step} ${argument}\r\n`);
    const answer = await readStatus(`the answer to ${step}`);
    if ('problem' in answer) return { outcome: 'failed', problem: answer.problem };
    if (!answer.ok) return { outcome: 'refused', step, text: answer.text };
  }

  dialog.send('STAT\r\n');
  const stat = await readStatus('the answer to STAT');
  if ('problem' in stat) return { outcome: 'failed', problem: stat.problem };
  if (!stat.ok) return { outcome: 'failed', problem: `STAT answered -ERR ${stat.text} (expected +OK <messages> <octets>)` };
  const counted = parseStatReply(stat.line);
  if (counted === undefined) return { outcome: 'failed', problem: `not a POP3 STAT answer: "${clean(stat.line)}" (expected +OK <messages> <octets>)` };
  // What inMail waits for before it can start reading; QUIT is only good manners.
  const elapsedMs = dialog.elapsedMs();

  dialog.send('QUIT\r\n');
  const quit = await readStatus('the answer to QUIT');
  const closedAtQuit = 'failure' in quit && quit.failure?.kind === 'closed' && quit.failure.partial === '';
  if ('problem' in quit && !closedAtQuit) return { outcome: 'failed', problem: quit.problem };
  if ('ok' in quit && !quit.ok) return { outcome: 'failed', problem: `QUIT answered -ERR ${quit.text} (expected +OK)` };
  return { outcome: 'counted', ...counted, elapsedMs };
}

/** A status line (`text` cleaned, `line` raw for further parsing), or why there is none. */
type StatusRead = { ok: boolean; text: string; line: string } | { problem: string; failure?: DialogFailure };

async function readStatusLine(dialog: TcpDialog, waitingFor: string, clean: (text: string) => string): Promise<StatusRead> {
  const read = await dialog.read(statusLineOf);
  if (!read.ok) {
    // What a server sent before closing may be an echo of the PASS line.
    const failure = read.failure.kind === 'closed' ? { ...read.failure, partial: clean(read.failure.partial) } : read.failure;
    const described = describeDialogFailure(failure, waitingFor, dialog.elapsedMs());
    return { problem: failure.kind === 'overflow' ? `not a POP3 answer: ${described}` : described, failure };
  }
  if (read.verdict.tooLong) {
    return { problem: `not a POP3 answer (${waitingFor}): a line longer than ${MAX_LINE_CHARS} characters` };
  }
  const { line } = read.verdict;
  const status = parsePop3Status(line);
  if (status === undefined) return { problem: `not a POP3 answer (${waitingFor}): "${clean(line)}" (expected +OK or -ERR)` };
  return { ok: status.ok, text: clean(status.text), line };
}

/** The first line of the text; undefined while it is incomplete; tooLong once no POP3 line can be that long. */
function statusLineOf(text: string): { tooLong: false; line: string } | { tooLong: true } | undefined {
  const end = text.indexOf('\n');
  if (end < 0) return text.length > MAX_LINE_CHARS ? { tooLong: true } : undefined;
  if (end > MAX_LINE_CHARS) return { tooLong: true };
  return { tooLong: false, line: text.slice(0, end).replace(/\r$/, '') };
}

/** `+OK text` / `-ERR text` (RFC 1939 3); anything else is not a POP3 status line. */
export function parsePop3Status(line: string): { ok: boolean; text: string } | undefined {
  const match = /^(\+OK|-ERR)(?: (.*))?$/s.exec(line);
  if (match === null) return undefined;
  return { ok: match[1] === '+OK', text: match[2] ?? '' };
}

/** `+OK <messages> <octets>` (RFC 1939 5, STAT); servers may add text after the two numbers. */
export function parseStatReply(line: string): { count: number; octets: number } | undefined {
  const match = /^\+OK (\d{1,15}) (\d{1,15})(?: .*)?$/s.exec(line);
  if (match === null) return undefined;
  return { count: Number(match[1]), octets: Number(match[2]) };
}

// ---------------------------------------------------------------------------------------------
// Judging a session: reachability, login, then the backlog.

interface Settings {
  where: string;
  /** ` (TLSv1.3)` after a handshake, else empty. */
  label: string;
  user: string;
  host: string;
  port: number;
  backlogMaxAgeMs: number;
  maxMessages?: number;
  slowMs?: number;
}

function judge(session: Session, settings: Settings, ctx: CheckContext): CheckResult {
  if (session.outcome === 'failed') return critical(`${settings.where}: ${session.problem}`);
  if (session.outcome === 'refused') {
    const text = session.text || `-ERR to ${session.step}`;
    return { state: 'unknown', message: `POP3 login refused for user ${settings.user} at ${hostPort(settings.host, settings.port)}${settings.label}: ${text}` };
  }
  const { count, octets, elapsedMs } = session;
  const values = { mailbox_messages: count, response_seconds: elapsedMs / 1000 };
  const backlogAgeMs = trackBacklog(ctx, count);
  const warnings: string[] = [];
  if (backlogAgeMs !== undefined && backlogAgeMs > settings.backlogMaxAgeMs) {
    warnings.push(
      `${messages(count)} waiting for ${formatDuration(backlogAgeMs)} without the mailbox being drained: inMail may no longer be reading the bounce mailbox`,
    );
  }
  if (settings.maxMessages !== undefined && count >= settings.maxMessages) {
    warnings.push(`${messages(count)} waiting (warning from ${settings.maxMessages})`);
  }
  if (warnings.length > 0) return { state: 'warning', message: `${settings.where}: ${warnings.join('; ')}`, values };
  const ok: CheckResult = {
    state: 'ok',
    message: `${settings.where}: ${messages(count)} (${formatBytes(octets)}), login and STAT in ${formatDuration(elapsedMs)}`,
    values,
  };
  return applySlowness(ok, elapsedMs, settings.slowMs);
}

/**
 * How long messages have been waiting without the count ever going down, or undefined when the
 * mailbox is empty. inMail deletes what it reads, so any decrease proves it read something and
 * restarts the clock; a first sighting starts it too, since older history is unknown.
 */
function trackBacklog(ctx: CheckContext, count: number): number | undefined {
  const now = ctx.now();
  if (count === 0) {
    ctx.memory.delete(BACKLOG_MEMORY_KEY);
    return undefined;
  }
  const previous = ctx.memory.get(BACKLOG_MEMORY_KEY) as Backlog | undefined;
  const drained = previous === undefined || count < previous.count;
  // A clock set back leaves the remembered start in the future; now is the latest it can be.
  const backlog: Backlog = { since: drained ? now : Math.min(previous.since, now), count };
  ctx.memory.set(BACKLOG_MEMORY_KEY, backlog);
  return Math.max(0, now - backlog.since);
}

function messages(count: number): string {
  return count === 1 ? '1 message' : `${count} messages`;
}

function critical(message: string): CheckResult {
  return { state: 'critical', message };
}

// ---------------------------------------------------------------------------------------------
// Credentials. The password goes to the server and nowhere else: not in messages, not in errors.

type PasswordRead = { ok: true; password: string } | { ok: false; reason: string };

async function readPasswordFile(file: string): Promise<PasswordRead> {
  const fail = (what: string): PasswordRead => ({ ok: false, reason: `cannot use the POP3 password file ${file}: ${what}` });
  let bytes: Buffer;
  try {
    bytes = await readSmallRegularFile(file, MAX_PASSWORD_FILE_BYTES, 'a password file');
  } catch (error) {
    return fail(describeFileError(error));
  }
  // Editors and `echo` add one line end; more than that is part of what was written.
  const password = bytes.toString('utf8').replace(/\r?\n$/, '');
  if (password === '') return fail('it is empty');
  if (/[\r\n\0]/.test(password)) {
    return fail('it holds a line break or NUL inside the password (it must hold the password alone, optionally followed by one line end)');
  }
  return { ok: true, password };
}

/**
 * Removes the password from server text before it reaches a message: a server may echo the PASS
 * line in its error. Case-insensitive, and applied again after the text is made one-line, in case
 * the server changed its case or its spacing.
 */
function redactor(password: string): (text: string) => string {
  const pattern = new RegExp(escapeRegExp(password), 'giu');
  const oneLine = snippet(password, Number.MAX_SAFE_INTEGER);
  const oneLinePattern = oneLine === '' ? undefined : new RegExp(escapeRegExp(oneLine), 'giu');
  return (text) => {
    const cleaned = snippet(text.replace(pattern, REDACTED), TEXT_MAX_CHARS);
    return oneLinePattern === undefined ? cleaned : cleaned.replace(oneLinePattern, REDACTED);
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function assertUser(user: string, owner: string): void {
  if (typeof user !== 'string' || user === '' || /[\r\n\0]/.test(user)) {
    // The user name is not a secret, but it is sent as a protocol line: a line break would inject a command.
    throw new Error(`${owner}: user must be a non-empty name without line breaks or NUL, got ${JSON.stringify(user)}`);
  }
}
