import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { snippet } from '../util/format.js';

/**
 * An element as fast-xml-parser returns it without `preserveOrder`: '' when empty, a string when it
 * holds only text, otherwise an object of attributes (`@_name`), text (`#text`) and child elements
 * (an array when a child name repeats).
 */
export type XmlNode = string | { [key: string]: unknown };

const ATTRIBUTE_PREFIX = '@_';
const TEXT_KEY = '#text';

/**
 * fast-xml-parser throws on elements named like these (its prototype-pollution guard), which would make
 * any answer holding one crash its reader. They are renamed `#<name>` instead: '#' cannot start an XML
 * name, so no real element is mistaken for one. (fxp applies the transform twice to self-closing tags:
 * the renamed name is left alone the second time.)
 */
const RESERVED_ELEMENT_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

const parser = new XMLParser({
  transformTagName: (name: string) => (RESERVED_ELEMENT_NAMES.has(name) ? `#${name}` : name),
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  textNodeName: TEXT_KEY,
  // Values stay text: a build number or a fault code must not turn into a number.
  parseTagValue: false,
  parseAttributeValue: false,
  // Prefixes are kept so namespaces can be resolved through the xmlns declarations.
  removeNSPrefix: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/**
 * The parser's own words in a reason are cut here: a reason ends up in one-line check messages. Generous,
 * because callers redact secrets after this cut (a cut secret would no longer match whole).
 */
const PROBLEM_MAX_CHARS = 300;

export type XmlRootResult = { ok: true; name: string; node: XmlNode } | { ok: false; reason: string };

/**
 * Parses a whole document and returns its single root element. The parser alone is lenient (it
 * accepts HTML with unclosed tags), so the text is validated first.
 */
export function parseXmlRoot(text: string): XmlRootResult {
  // A BOM or blank lines before the declaration are common in hand-written answers; XML forbids
  // them before `<?xml`, we tolerate them.
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed === '') return { ok: false, reason: 'empty body' };
  const validation = XMLValidator.validate(trimmed);
  if (validation !== true) {
    // The validator quotes names and characters from the text: one line, cut, for check messages.
    return { ok: false, reason: `not well-formed XML (${snippet(validation.err.msg, PROBLEM_MAX_CHARS)} at line ${validation.err.line})` };
  }
  let document: Record<string, unknown>;
  try {
    document = parser.parse(trimmed) as Record<string, unknown>;
  } catch (error) {
    // Validated text should parse; if the parser still refuses it, that is a rejection, not a crash.
    return { ok: false, reason: `cannot parse XML (${snippet(error instanceof Error ? error.message : String(error), PROBLEM_MAX_CHARS)})` };
  }
  const roots = Object.keys(document);
  const name = roots[0];
  const node = name === undefined ? undefined : document[name];
  if (roots.length !== 1 || name === undefined || Array.isArray(node)) {
    return { ok: false, reason: `expected one root element, found ${describeRoots(document)}` };
  }
  return { ok: true, name, node: node as XmlNode };
}

function describeRoots(document: Record<string, unknown>): string {
  const names = Object.entries(document).flatMap(([name, value]) => (Array.isArray(value) ? value.map(() => name) : [name]));
  return names.length === 0 ? 'none' : names.map((n) => `<${n}>`).join(', ');
}

/** The element's attributes by their qualified name (`xmlns:soap`, `status`). */
export function attributesOf(node: XmlNode): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (typeof node === 'string') return attributes;
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith(ATTRIBUTE_PREFIX)) attributes[key.slice(ATTRIBUTE_PREFIX.length)] = String(value);
  }
  return attributes;
}

/** The element's child elements in document order per name, repeated names flattened. */
export function childrenOf(node: XmlNode): Array<{ name: string; node: XmlNode }> {
  if (typeof node === 'string') return [];
  const children: Array<{ name: string; node: XmlNode }> = [];
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith(ATTRIBUTE_PREFIX) || key === TEXT_KEY) continue;
    for (const child of Array.isArray(value) ? value : [value]) children.push({ name: key, node: child as XmlNode });
  }
  return children;
}

/** The element's own text content. */
export function textOf(node: XmlNode): string {
  if (typeof node === 'string') return node;
  const text = node[TEXT_KEY];
  return text === undefined ? '' : String(text);
}

/** `soap:Envelope` -> { prefix: 'soap', local: 'Envelope' }. */
export function splitQName(qname: string): { prefix: string; local: string } {
  const colon = qname.indexOf(':');
  return colon < 0 ? { prefix: '', local: qname } : { prefix: qname.slice(0, colon), local: qname.slice(colon + 1) };
}

/**
 * The namespace URI of a qualified element name, looked up through the xmlns declarations in scope
 * (`scopes`: attribute maps from the root down to the element itself). undefined when undeclared.
 */
export function namespaceOf(qname: string, scopes: Array<Record<string, string>>): string | undefined {
  const { prefix } = splitQName(qname);
  if (prefix === 'xml') return 'http://www.w3.org/XML/1998/namespace';
  const declaration = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
  for (let i = scopes.length - 1; i >= 0; i--) {
    const uri = scopes[i]?.[declaration];
    if (uri !== undefined) return uri === '' ? undefined : uri;
  }
  return undefined;
}
