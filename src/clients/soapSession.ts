// A minimal client of Campaign's SOAP router for the optional deep checks: it logs on as a configured
// operator, keeps the session, and runs xtk:queryDef#ExecuteQuery. It holds secrets (the session and
// security tokens; the password only for the duration of a logon), so every text it produces goes
// through redactSecrets and the tokens live in #private fields, which neither JSON.stringify nor
// util.inspect can reach.

import { readFile } from 'node:fs/promises';
import { snippet } from '../util/format.js';
import type { LogonProbe, QueryResult, ServerInfo } from './soapTypes.js';

export type { LogonProbe, QueryResult, ServerInfo };
export { isSessionFault };
import { httpRequest, parseHttpUrl, type HttpAnswer } from './http.js';
import { faultCause, isSessionFault, parseSoapEnvelope, type SoapFault } from './soapEnvelope.js';
import { attributesOf, childrenOf, parseXmlRoot, splitQName, textOf, type XmlNode } from './xml.js';

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Fault texts are quoted in one-line check messages; longer ones are cut. */
const FAULT_TEXT_MAX_CHARS = 200;
const LOGON_ACTION = 'xtk:session#Logon';
const LOGOFF_ACTION = 'xtk:session#Logoff';
const QUERY_ACTION = 'xtk:queryDef#ExecuteQuery';
const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';

export type CampaignSoapErrorKind = 'logon-refused' | 'transport' | 'fault' | 'bad-answer' | 'credentials-file';

/** Every failure of the client; `message` names the URL and the operator, never a secret. */
export class CampaignSoapError extends Error {
  override readonly name = 'CampaignSoapError';
  readonly kind: CampaignSoapErrorKind;
  /** The Fault answered, with secrets already replaced (kinds `logon-refused` and `fault`). */
  readonly fault?: SoapFault;

  constructor(kind: CampaignSoapErrorKind, message: string, fault?: SoapFault) {
    super(message);
    this.kind = kind;
    if (fault !== undefined) this.fault = fault;
  }
}

export interface CampaignSoapClientOptions {
  /** `http(s)://<host>[:port]/nl/jsp/soaprouter.jsp` */
  url: string;
  /** The operator to log on as (a dedicated read-only operator, e.g. `monitoring`). */
  login: string;
  /** File holding the operator's password; read at every logon so a rotated password is picked up. */
  passwordFile: string;
  /** Bytes of an answer read at most (default 1 MiB). */
  maxBodyBytes?: number;
}

interface Session {
  session: string;
  security: string;
}

type QueryOutcome = { expired: false; result: QueryResult } | { expired: true; fault: SoapFault };

export class CampaignSoapClient {
  readonly url: string;
  readonly login: string;
  readonly passwordFile: string;
  readonly maxBodyBytes: number;

  readonly #url: URL;
  #session: Session | undefined;
  /** Concurrent checks sharing the client wait for one logon instead of opening a session each. */
  #logonInFlight: Promise<Session> | undefined;
  #logons = 0;

  constructor(opts: CampaignSoapClientOptions) {
    this.#url = parseHttpUrl(opts.url, 'CampaignSoapClient');
    this.url = this.#url.href;
    if (opts.login.trim() === '' || /[\r\n]/.test(opts.login)) {
      throw new Error(`CampaignSoapClient: login must be a non-empty single line, got ${JSON.stringify(opts.login)}`);
    }
    if (opts.passwordFile.trim() === '') throw new Error('CampaignSoapClient: passwordFile must not be empty');
    const max = opts.maxBodyBytes;
    if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
      throw new Error(`CampaignSoapClient: maxBodyBytes must be a positive integer, got ${String(max)}`);
    }
    this.login = opts.login;
    this.passwordFile = opts.passwordFile;
    this.maxBodyBytes = max ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** Successful logons since construction: 1 after the first query, one more per expired session. */
  get logons(): number {
    return this.#logons;
  }

  /**
   * Runs a `<queryDef>` through ExecuteQuery, logging on first when there is no session. A Fault saying
   * the session expired or is invalid drops the session, logs on again once and retries once.
   * Throws CampaignSoapError.
   */
  async query(queryDefXml: string, signal: AbortSignal): Promise<QueryResult> {
    assertQueryDef(queryDefXml);
    const session = await this.#ensureSession(signal);
    const first = await this.#executeQuery(queryDefXml, session, signal);
    if (!first.expired) return first.result;
    this.#dropSession(session);
    const renewed = await this.#ensureSession(signal);
    const second = await this.#executeQuery(queryDefXml, renewed, signal);
    if (!second.expired) return second.result;
    const error = this.#error('fault', QUERY_ACTION, `session refused right after a new logon: ${this.#faultText(second.fault)}`);
    this.#dropSession(renewed);
    throw error;
  }

  async #ensureSession(signal: AbortSignal): Promise<Session> {
    if (this.#session !== undefined) return this.#session;
    // The first caller's signal governs a shared logon: checks of one cycle share the same timeout.
    this.#logonInFlight ??= this.#logon(signal).finally(() => (this.#logonInFlight = undefined));
    return this.#logonInFlight;
  }

  /** Another caller may already have replaced an expired session; only the stale one is dropped. */
  #dropSession(stale: Session): void {
    if (this.#session === stale) this.#session = undefined;
  }

  async #logon(signal: AbortSignal): Promise<Session> {
    const { session } = await this.#logonRequest(signal);
    this.#session = session;
    this.#logons++;
    return session;
  }

  /**
   * One `xtk:session#Logon` with the operator's password, then `xtk:session#Logoff` of that session:
   * proves the web module, the SOAP router, the operator's credentials and the database behind them.
   * The session is its own, never the one kept for queries. Throws CampaignSoapError for the Logon
   * (`logon-refused` carries the Fault); a failed Logoff is reported in the result, not thrown.
   */
  async logonAndLogoff(signal: AbortSignal): Promise<LogonProbe> {
    const { session, body, elapsedMs } = await this.#logonRequest(signal);
    const server = readServerInfo(findByLocalName(body, 'LogonResponse'));
    const logoff = await this.#logoff(session, signal);
    return { logonMs: elapsedMs, server, logoff };
  }

  /** Posts the Logon and reads its tokens; touches no state. */
  async #logonRequest(signal: AbortSignal): Promise<{ session: Session; body: XmlNode; elapsedMs: number }> {
    const password = await this.#readPassword();
    const answer = await this.#post(LOGON_ACTION, logonEnvelope(this.login, password), {}, signal);
    // A Logon answer that quotes the request back (a proxy's error page) must not show the password.
    const envelope = this.#parse(LOGON_ACTION, answer, [password]);
    if (envelope.fault !== undefined) {
      const fault = this.#redactFault(envelope.fault, [password]);
      const text = this.#faultText(fault);
      throw new CampaignSoapError('logon-refused', `SOAP logon refused for operator ${this.login}: ${text} (${this.url})`, fault);
    }
    const response = findByLocalName(envelope.body, 'LogonResponse');
    const session = textOf(findByLocalName(response, 'pstrSessionToken') ?? '').trim();
    const security = textOf(findByLocalName(response, 'pstrSecurityToken') ?? '').trim();
    if (session === '' || security === '') {
      const missing = session === '' ? 'pstrSessionToken' : 'pstrSecurityToken';
      throw this.#error('bad-answer', LOGON_ACTION, `HTTP ${answer.status}: the Logon answer has no ${missing}`);
    }
    // Tokens go back in HTTP headers: anything but visible ASCII would break (or inject into) them.
    if (!TOKEN_TEXT.test(session) || !TOKEN_TEXT.test(security)) {
      throw this.#error('bad-answer', LOGON_ACTION, `HTTP ${answer.status}: the Logon answer has a token that is not one line of visible ASCII`);
    }
    return { session: { session, security }, body: envelope.body, elapsedMs: answer.elapsedMs };
  }

  /** Logs the session off; never throws, says why it failed. */
  async #logoff(session: Session, signal: AbortSignal): Promise<LogonProbe['logoff']> {
    const secrets = [session.session, session.security];
    const headers = { cookie: `__sessiontoken=${session.session}`, 'x-security-token': session.security };
    try {
      const answer = await this.#post(LOGOFF_ACTION, logoffEnvelope(session.session), headers, signal, secrets);
      const envelope = this.#parse(LOGOFF_ACTION, answer, secrets);
      if (envelope.fault !== undefined) return { ok: false, reason: `Fault: ${this.#faultText(this.#redactFault(envelope.fault, secrets))}` };
      return { ok: true };
    } catch (error) {
      if (error instanceof CampaignSoapError) return { ok: false, reason: this.#redact(error.message, secrets) };
      throw error;
    }
  }

  async #readPassword(): Promise<string> {
    let text: string;
    try {
      text = await readFile(this.passwordFile, 'utf8');
    } catch (error) {
      throw this.#error('credentials-file', LOGON_ACTION, `password file ${this.passwordFile} ${describeReadError(error)}`);
    }
    // Editors and `echo` end the file with a newline that is not part of the password.
    const password = text.replace(/\r?\n$/, '');
    if (password === '') throw this.#error('credentials-file', LOGON_ACTION, `password file ${this.passwordFile} is empty`);
    return password;
  }

  async #executeQuery(queryDefXml: string, session: Session, signal: AbortSignal): Promise<QueryOutcome> {
    const headers = { cookie: `__sessiontoken=${session.session}`, 'x-security-token': session.security };
    const answer = await this.#post(QUERY_ACTION, queryEnvelope(queryDefXml), headers, signal);
    const envelope = this.#parse(QUERY_ACTION, answer);
    if (envelope.fault !== undefined) {
      if (isSessionFault(envelope.fault)) return { expired: true, fault: envelope.fault };
      const fault = this.#redactFault(envelope.fault);
      throw new CampaignSoapError('fault', `SOAP ${QUERY_ACTION} for operator ${this.login} at ${this.url}: ${this.#faultText(fault)}`, fault);
    }
    const result = readQueryAnswer(envelope.body);
    if ('missing' in result) throw this.#error('bad-answer', QUERY_ACTION, `HTTP ${answer.status}: the answer has no ${result.missing}`);
    return { expired: false, result };
  }

  async #post(action: string, body: string, headers: Record<string, string>, signal: AbortSignal, extraSecrets: string[] = []): Promise<HttpAnswer> {
    const answer = await httpRequest({
      method: 'POST',
      url: this.#url,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: action, ...headers },
      body,
      maxBodyBytes: this.maxBodyBytes,
      signal,
    });
    if (!answer.ok) throw this.#error('transport', action, this.#redact(answer.reason, extraSecrets));
    return answer;
  }

  #parse(action: string, answer: HttpAnswer, extraSecrets: string[] = []): { fault?: SoapFault; body: XmlNode } {
    const envelope = parseSoapEnvelope(answer.body);
    if (!envelope.ok) {
      const cut = answer.truncated ? ` (answer cut at ${this.maxBodyBytes} bytes)` : '';
      throw this.#error('bad-answer', action, `HTTP ${answer.status} is not a SOAP answer: ${this.#redact(envelope.reason, extraSecrets)}${cut}`);
    }
    return { fault: envelope.fault, body: envelope.body as XmlNode };
  }

  #error(kind: CampaignSoapErrorKind, action: string, detail: string): CampaignSoapError {
    return new CampaignSoapError(kind, `SOAP ${action} for operator ${this.login} at ${this.url}: ${detail}`);
  }

  /** The line of the fault that says why (its cause, innermost first), one line, cut. */
  #faultText(fault: SoapFault, extraSecrets: string[] = []): string {
    return snippet(this.#redact(faultCause(fault), extraSecrets), FAULT_TEXT_MAX_CHARS);
  }

  #redactFault(fault: SoapFault, extraSecrets: string[] = []): SoapFault {
    const redact = (text: string): string => this.#redact(text, extraSecrets);
    return { code: redact(fault.code), string: redact(fault.string), detail: redact(fault.detail) };
  }

  #redact(text: string, extraSecrets: string[] = []): string {
    return redactSecrets(text, [...extraSecrets, this.#session?.session, this.#session?.security]);
  }
}

// ---------------------------------------------------------------------------------------------
// Pieces without state.

export const REDACTED = '[redacted]';
/** What a token may hold: one line of visible ASCII (it is sent back in Cookie and X-Security-Token). */
const TOKEN_TEXT = /^[\x21-\x7e]+$/;
/** Campaign session tokens: `___` + a UUID. */
const SESSION_TOKEN_PATTERN = /___[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * Replaces the given secrets and anything shaped like a session token. Run it before cutting a text:
 * a cut could leave part of a secret that no longer matches whole.
 */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  const known = secrets.filter((s): s is string => s !== undefined && s !== '').sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of known) result = result.split(secret).join(REDACTED);
  return result.replace(SESSION_TOKEN_PATTERN, REDACTED);
}

function assertQueryDef(queryDefXml: string): void {
  const root = parseXmlRoot(queryDefXml);
  if (!root.ok || splitQName(root.name).local !== 'queryDef') {
    const why = root.ok ? `root element is <${snippet(root.name, 40)}>` : root.reason;
    throw new Error(`CampaignSoapClient.query: expected a <queryDef> document, ${why}`);
  }
}

function describeReadError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'is not readable (permission denied)';
    case 'EISDIR':
      return 'is a directory';
    default:
      return `cannot be read (${typeof code === 'string' ? code : 'unknown error'})`;
  }
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);

/** The Logon request documented in configuration/web-service-calls.md. */
function logonEnvelope(login: string, password: string): string {
  return (
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns:urn="urn:xtk:session">` +
    '<soapenv:Header/><soapenv:Body><urn:Logon><urn:sessiontoken></urn:sessiontoken>' +
    `<urn:strLogin>${escapeXml(login)}</urn:strLogin><urn:strPassword>${escapeXml(password)}</urn:strPassword>` +
    '<urn:elemParameters></urn:elemParameters></urn:Logon></soapenv:Body></soapenv:Envelope>'
  );
}

/**
 * Logoff takes the session token as its only parameter; the cookie and X-Security-Token carry it too,
 * as acc-js-sdk sends it (src/client.js logoff, src/soap.js finalize).
 */
function logoffEnvelope(sessionToken: string): string {
  return (
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns:urn="urn:xtk:session">` +
    `<soapenv:Header/><soapenv:Body><urn:Logoff><urn:sessiontoken>${escapeXml(sessionToken)}</urn:sessiontoken></urn:Logoff>` +
    '</soapenv:Body></soapenv:Envelope>'
  );
}

/** Parameters go by position: an empty session token first (the cookie carries it), then the query. */
function queryEnvelope(queryDefXml: string): string {
  return (
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns:urn="urn:xtk:queryDef">` +
    `<soapenv:Header/><soapenv:Body><urn:ExecuteQuery><urn:sessiontoken/><urn:entity>${queryDefXml}</urn:entity>` +
    '</urn:ExecuteQuery></soapenv:Body></soapenv:Envelope>'
  );
}

/** The first child element with this local name; prefixes vary between answers and do not matter. */
function findByLocalName(parent: XmlNode | undefined, local: string): XmlNode | undefined {
  if (parent === undefined) return undefined;
  return childrenOf(parent).find((c) => splitQName(c.name).local === local)?.node;
}

const SERVER_INFO_MAX_CHARS = 40;

/** `LogonResponse/pSessionInfo/sessionInfo/serverInfo`: build, release and instance, when given. */
function readServerInfo(response: XmlNode | undefined): ServerInfo {
  const serverInfo = findByLocalName(findByLocalName(findByLocalName(response, 'pSessionInfo'), 'sessionInfo'), 'serverInfo');
  if (serverInfo === undefined) return {};
  const attributes = attributesOf(serverInfo);
  const info: ServerInfo = {};
  const value = (name: string): string | undefined => {
    const text = snippet(attributes[name] ?? '', SERVER_INFO_MAX_CHARS);
    return text === '' ? undefined : text;
  };
  const build = value('buildNumber');
  const release = value('releaseName');
  const instance = value('instanceName');
  if (build !== undefined) info.build = build;
  if (release !== undefined) info.release = release;
  if (instance !== undefined) info.instance = instance;
  return info;
}

/**
 * The result in the Body of an ExecuteQuery answer (`ExecuteQueryResponse/pdomOutput`), or which of the
 * two elements is missing. Pure: never throws, whatever the Body holds.
 */
export function readQueryAnswer(body: XmlNode): QueryResult | { missing: 'ExecuteQueryResponse' | 'pdomOutput' } {
  const response = findByLocalName(body, 'ExecuteQueryResponse');
  const output = findByLocalName(response, 'pdomOutput');
  if (output === undefined) return { missing: response === undefined ? 'ExecuteQueryResponse' : 'pdomOutput' };
  return readQueryOutput(output);
}

function readQueryOutput(output: XmlNode): QueryResult {
  const [element] = childrenOf(output);
  if (element === undefined) return { rows: [] };
  if (splitQName(element.name).local.endsWith('-collection')) {
    return { rows: childrenOf(element.node).map((row) => dataAttributes(row.node)) };
  }
  const record = dataAttributes(element.node);
  const count = record.count;
  // A count past 2^53 would come out rounded, or as Infinity: only exact counts are given.
  return count !== undefined && /^\d+$/.test(count) && Number.isSafeInteger(Number(count)) ? { rows: [record], count: Number(count) } : { rows: [record] };
}

/** Namespace declarations are XML plumbing, not selected fields. */
function dataAttributes(node: XmlNode): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributesOf(node))) {
    if (name !== 'xmlns' && !name.startsWith('xmlns:')) record[name] = value;
  }
  return record;
}
