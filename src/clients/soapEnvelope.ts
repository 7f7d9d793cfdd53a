import { attributesOf, childrenOf, namespaceOf, parseXmlRoot, splitQName, textOf, type XmlNode } from './xml.js';
import { snippet } from '../util/format.js';

// The SOAP envelope as Campaign's router answers it: read by namespace, not prefix, Fault included.

/** SOAP 1.1 and SOAP 1.2 envelope namespaces. */
export const SOAP_ENVELOPE_NAMESPACES: readonly string[] = [
  'http://schemas.xmlsoap.org/soap/envelope/',
  'http://www.w3.org/2003/05/soap-envelope',
];

export interface SoapFault {
  /** `faultcode` (SOAP 1.1) or `Code/Value` (1.2): `SOAP-ENV:Client`, `SOAP-ENV:Server`, `SOAP-ENV:Error` (v8). */
  code: string;
  /** `faultstring` or `Reason/Text`: often only a wrapper (`SOP-330011 Error while executing the method ...`). */
  string: string;
  /**
   * The whole text of `detail` (1.2: `Detail`), line breaks kept, '' when absent. Campaign puts the
   * cause there, innermost error first: `ODB-240000 ODBC error: ...`, then `XSV-350023 ...`, then `SOP-330011 ...`.
   */
  detail: string;
}

export type SoapEnvelope = { ok: true; fault?: SoapFault; body: unknown } | { ok: false; reason: string };

/**
 * Checks that `text` is a SOAP 1.1 or 1.2 envelope: root element `Envelope` in a SOAP envelope
 * namespace (resolved through the xmlns declarations, whatever the prefix) with a `Body` child in
 * the same namespace. Returns the Body element and its Fault, if any.
 */
export function parseSoapEnvelope(text: string): SoapEnvelope {
  const root = parseXmlRoot(text);
  if (!root.ok) return { ok: false, reason: root.reason };
  const rootScope = [attributesOf(root.node)];
  const namespace = namespaceOf(root.name, rootScope);
  if (splitQName(root.name).local !== 'Envelope' || namespace === undefined || !SOAP_ENVELOPE_NAMESPACES.includes(namespace)) {
    // A long name is left out rather than cut: callers scrub secrets a server may echo by whole value,
    // and a cut one would slip through.
    const name = root.name.length <= 40 ? `<${snippet(root.name, 40)}>` : `an element with a ${root.name.length}-character name`;
    return { ok: false, reason: `root element is ${name} in ${describeNamespace(namespace)}, expected a SOAP Envelope` };
  }
  const body = findChild(root.node, rootScope, 'Body', namespace);
  if (body === undefined) return { ok: false, reason: 'SOAP Envelope has no Body' };
  const fault = findChild(body.node, body.scopes, 'Fault', namespace);
  return fault === undefined ? { ok: true, body: body.node } : { ok: true, fault: readFault(fault.node), body: body.node };
}

function describeNamespace(namespace: string | undefined): string {
  return namespace === undefined ? 'no namespace' : `namespace "${snippet(namespace, 80)}"`;
}

interface ScopedElement {
  node: XmlNode;
  /** xmlns scopes from the root down to this element, for resolving its descendants. */
  scopes: Array<Record<string, string>>;
}

/** The first child element with this local name in this namespace. */
function findChild(parent: XmlNode, parentScopes: Array<Record<string, string>>, local: string, namespace: string): ScopedElement | undefined {
  for (const child of childrenOf(parent)) {
    const scopes = [...parentScopes, attributesOf(child.node)];
    if (splitQName(child.name).local === local && namespaceOf(child.name, scopes) === namespace) {
      return { node: child.node, scopes };
    }
  }
  return undefined;
}

/**
 * SOAP 1.1 puts `faultcode`/`faultstring`/`detail` directly under Fault; SOAP 1.2 nests `Code/Value`
 * and `Reason/Text` and names it `Detail`. All are read by local name: a fault's inner details are
 * not worth rejecting.
 */
function readFault(fault: XmlNode): SoapFault {
  const code = childText(fault, 'faultcode') ?? childText(childNode(fault, 'Code'), 'Value') ?? '';
  const string = childText(fault, 'faultstring') ?? childText(childNode(fault, 'Reason'), 'Text') ?? '';
  const detailNode = childNode(fault, 'detail') ?? childNode(fault, 'Detail');
  const detail = detailNode === undefined ? '' : deepText(detailNode);
  return { code: code.trim(), string: string.trim(), detail: detail.trim() };
}

/**
 * The element's text and its descendants' texts, one per line. Campaign's `detail` is text
 * (`xsi:type='xsd:string'`); a structured detail still gives its words, in document order per name.
 */
function deepText(node: XmlNode, depth = 0): string {
  const own = textOf(node);
  if (depth > 20) return own;
  const inner = childrenOf(node).map((child) => deepText(child.node, depth + 1)).filter((text) => text.trim() !== '');
  return [own, ...inner].filter((text) => text.trim() !== '').join('\n');
}

function childNode(parent: XmlNode | undefined, local: string): XmlNode | undefined {
  if (parent === undefined) return undefined;
  return childrenOf(parent).find((c) => splitQName(c.name).local === local)?.node;
}

function childText(parent: XmlNode | undefined, local: string): string | undefined {
  const node = childNode(parent, local);
  return node === undefined ? undefined : textOf(node);
}

// ---------------------------------------------------------------------------------------------
// What Campaign writes in a Fault. Only ever applied to a Fault: the codes also occur in normal
// answers (a payload may quote `XSV-350008`), which gave Adobe's own SDK false positives until 1.1.11.

/** Campaign's error codes: three capitals, a dash, six digits (`XSV-350008`, `SOP-330011`, `PGS-220000`). */
const CAMPAIGN_CODE = /\b[A-Z]{3}-\d{6}\b/g;

/**
 * The session expired or was never valid: the expected answer to a call without a session
 * (acc-js-sdk src/soap.js and test/client.test.js: `XSV-350008 Session has expired or is invalid. Please reconnect.`).
 */
export const SESSION_FAULT_CODES: readonly string[] = ['XSV-350008'];

/**
 * A Logon refused for its login or password: `XSV-350012 Invalid login or password. Connection denied.`
 * (operators' captures, HTTP 403; Adobe's Message Center docs print the same words without the code).
 */
export const LOGON_REFUSED_CODES: readonly string[] = ['XSV-350012'];

/** `SOP-330011 Error while executing the method '...' of service '...'.`: says where, never why. */
export const WRAPPER_FAULT_CODES: readonly string[] = ['SOP-330011'];

/**
 * A database error: Campaign's ODBC, PostgreSQL and SQL layer codes, Oracle's own, an ODBC SQLState
 * (Adobe's docs spell it `SQLSTate`), or the uncoded wording of older builds Adobe's docs print
 * (`ODBC error: ...`, `PostgreSQL error: ERROR: ...`).
 */
const DATABASE_ERROR = /\b(?:ODB|PGS|WDB)-\d{6}\b|\bORA-\d{5}\b|\bSQLState\b|\b(?:ODBC|PostgreSQL) error\b/i;

/** Words of a session or logon refusal when a fault carries no code. */
const SESSION_WORDS = (text: string): boolean => /\bsession\b/i.test(text) && /\b(?:expired|invalid)\b/i.test(text);
const LOGON_REFUSED_WORDS = (text: string): boolean => /\binvalid login or password\b/i.test(text);

/** The fault's text lines in cause order: `detail` (innermost error first), then `faultstring`. */
export function faultLines(fault: SoapFault): string[] {
  return [...fault.detail.split(/\r?\n/), fault.string].map((line) => line.trim()).filter((line) => line !== '');
}

/** Campaign codes in the fault's text, in cause order, each once. */
export function faultCodes(fault: SoapFault): string[] {
  const codes = faultLines(fault).flatMap((line) => line.match(CAMPAIGN_CODE) ?? []);
  return [...new Set(codes)];
}

/** The first line of the fault carrying a database error (innermost first), if any. */
export function databaseErrorLine(fault: SoapFault): string | undefined {
  return faultLines(fault).find((line) => DATABASE_ERROR.test(line));
}

/**
 * The session expired or is invalid: the fault's codes, wrappers aside, are all session codes (a
 * `SOP-330011` whose detail holds only `XSV-350008` counts); a fault without codes counts by its words.
 * Never when it carries a database error.
 */
export function isSessionFault(fault: SoapFault): boolean {
  return onlyCodes(fault, SESSION_FAULT_CODES, SESSION_WORDS);
}

/**
 * A session or authentication refusal: what a call without a valid session or login is expected to
 * get. Codes as isSessionFault, plus a Logon refused for its credentials.
 */
export function isAuthenticationFault(fault: SoapFault): boolean {
  return onlyCodes(fault, [...SESSION_FAULT_CODES, ...LOGON_REFUSED_CODES], (text) => SESSION_WORDS(text) || LOGON_REFUSED_WORDS(text));
}

function onlyCodes(fault: SoapFault, allowed: readonly string[], words: (text: string) => boolean): boolean {
  if (databaseErrorLine(fault) !== undefined) return false;
  const codes = faultCodes(fault).filter((code) => !WRAPPER_FAULT_CODES.includes(code));
  if (codes.length > 0) return codes.every((code) => allowed.includes(code));
  return faultLines(fault).some(words);
}

/**
 * The wrapper's wording without its code, as older builds and Adobe's docs print it in faultstring
 * (`Error while executing the method 'Write' of service 'xtk:persist'.`, `Error while reading
 * parameters of method 'PushEvent' ...`): it says where, the cause is elsewhere.
 */
const WRAPPER_WORDS = /^Error while (?:executing|reading parameters of)\b/i;

/**
 * The line that says why: a database error if there is one, else the first line naming a code other
 * than a wrapper, else the first line that is not a wrapper, else the first line, else the faultcode.
 * Lines come innermost first (detail, then faultstring). Unbounded and unscrubbed: callers redact and cut it.
 */
export function faultCause(fault: SoapFault): string {
  const lines = faultLines(fault);
  const codesOf = (line: string): string[] => line.match(CAMPAIGN_CODE) ?? [];
  const isWrapper = (line: string): boolean => {
    const codes = codesOf(line);
    return codes.length > 0 ? codes.every((code) => WRAPPER_FAULT_CODES.includes(code)) : WRAPPER_WORDS.test(line);
  };
  return (
    databaseErrorLine(fault) ??
    lines.find((line) => codesOf(line).some((code) => !WRAPPER_FAULT_CODES.includes(code))) ??
    lines.find((line) => !isWrapper(line)) ??
    lines[0] ??
    fault.code
  );
}

/** Whether a line starts with a Campaign code, e.g. to decide if a message needs the faultcode in front. */
export function startsWithCampaignCode(line: string): boolean {
  return /^[A-Z]{3}-\d{6}\b/.test(line);
}
