import { attributesOf, childrenOf, namespaceOf, parseXmlRoot, splitQName, textOf, type XmlNode } from './xml.js';
import { snippet } from '../util/format.js';

// The SOAP envelope as Campaign's router answers it: read by namespace, not prefix, Fault included.

/** SOAP 1.1 and SOAP 1.2 envelope namespaces. */
export const SOAP_ENVELOPE_NAMESPACES: readonly string[] = [
  'http://schemas.xmlsoap.org/soap/envelope/',
  'http://www.w3.org/2003/05/soap-envelope',
];

export interface SoapFault {
  code: string;
  string: string;
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
