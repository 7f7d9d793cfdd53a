import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { assertCheckName, formatBytes, formatDuration, snippet } from '../util/format.js';
import { applySlowness, assertPositive, httpRequest, parseHttpUrl } from './http.js';
import { attributesOf, childrenOf, namespaceOf, parseXmlRoot, splitQName, textOf, type XmlNode } from '../clients/xml.js';

/** SOAP 1.1 and SOAP 1.2 envelope namespaces. */
export const SOAP_ENVELOPE_NAMESPACES: readonly string[] = [
  'http://schemas.xmlsoap.org/soap/envelope/',
  'http://www.w3.org/2003/05/soap-envelope',
];

const MAX_BODY_BYTES = 1024 * 1024;
const FAULT_STRING_MAX_CHARS = 120;

export interface SoapFault {
  code: string;
  string: string;
}

export type SoapEnvelope = { ok: true; fault?: SoapFault; body: unknown } | { ok: false; reason: string };

export interface SoapCheckOptions {
  name: string;
  url: string;
  /** Sent as the SOAPAction header, verbatim (e.g. `xtk:session#Logon`). */
  action: string;
  /** The request document. */
  envelope: string;
  slowMs?: number;
}

/**
 * POSTs a SOAP request and checks that a SOAP stack answers. A Fault counts as an answer: a request
 * without valid credentials is expected to fault, and the fault still proves the router is up.
 */
export function soapCheck(opts: SoapCheckOptions): Check {
  const name = assertCheckName(opts.name);
  const url = parseHttpUrl(opts.url, `soapCheck ${name}`);
  if (/[\r\n]/.test(opts.action)) {
    throw new Error(`soapCheck ${name}: action must be one line (it is sent as the SOAPAction header), got ${JSON.stringify(opts.action)}`);
  }
  if (opts.envelope.trim() === '') throw new Error(`soapCheck ${name}: envelope must not be empty`);
  assertPositive(opts.slowMs, 'slowMs', name);
  const label = `POST ${url.href}`;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const outcome = await httpRequest({
        method: 'POST',
        url,
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: opts.action },
        body: opts.envelope,
        maxBodyBytes: MAX_BODY_BYTES,
        signal: ctx.signal,
      });
      if (!outcome.ok) return { state: 'critical', message: `${label}: ${outcome.reason}` };
      const values = { response_seconds: outcome.elapsedMs / 1000 };
      const envelope = parseSoapEnvelope(outcome.body);
      if (!envelope.ok) {
        const cut = outcome.truncated ? ` (body cut at ${formatBytes(MAX_BODY_BYTES)})` : '';
        return { state: 'critical', message: `${label}: HTTP ${outcome.status} is not a SOAP answer: ${envelope.reason}${cut}`, values };
      }
      const message = envelope.fault
        ? `SOAP router answers (Fault: ${snippet(envelope.fault.string || envelope.fault.code, FAULT_STRING_MAX_CHARS)})`
        : `SOAP router answers (HTTP ${outcome.status} in ${formatDuration(outcome.elapsedMs)})`;
      return applySlowness({ state: 'ok', message, values }, outcome.elapsedMs, opts.slowMs);
    },
  };
}

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
 * SOAP 1.1 puts `faultcode`/`faultstring` directly under Fault; SOAP 1.2 nests `Code/Value` and
 * `Reason/Text`. Both are read by local name: a fault's inner details are not worth rejecting.
 */
function readFault(fault: XmlNode): SoapFault {
  const code = childText(fault, 'faultcode') ?? childText(childNode(fault, 'Code'), 'Value') ?? '';
  const string = childText(fault, 'faultstring') ?? childText(childNode(fault, 'Reason'), 'Text') ?? '';
  return { code: code.trim(), string: string.trim() };
}

function childNode(parent: XmlNode | undefined, local: string): XmlNode | undefined {
  if (parent === undefined) return undefined;
  return childrenOf(parent).find((c) => splitQName(c.name).local === local)?.node;
}

function childText(parent: XmlNode | undefined, local: string): string | undefined {
  const node = childNode(parent, local);
  return node === undefined ? undefined : textOf(node);
}
