// Parser for Campaign's server configuration files: conf/serverConf.xml, conf/config-default.xml and
// conf/config-<instance>.xml. All three share the same shape: a `<serverconf>` root whose direct children
// are `<shared>` (instance-wide settings: dataStore, dbcnx...) and one node per nlserver module
// (`<web>`, `<mta>`, `<inMail>`...). Only the module nodes' own attributes are kept; nothing under `<shared>`
// or `<dbcnx>` and no password-like attribute ever leaves this file.
import { XMLParser, XMLValidator, type EntityDecoderOptions } from 'fast-xml-parser';
import { KNOWN_MODULES } from '../util/names.js';

/** What one conf file says about modules. */
export interface ConfXml {
  /** Module name (case as written, e.g. `inMail`) -> that node's attributes, entities decoded. */
  modules: Record<string, Record<string, string>>;
  /** Oddities worth a problem line that did not prevent reading the file (duplicate module nodes...). */
  warnings: string[];
}


/** Direct children of the root that are not module nodes. */
const NON_MODULE_NODES = new Set(['shared']);
/** Subtrees never looked into: the database connection holds the credentials. */
const SECRET_NODES = new Set(['dbcnx']);

/**
 * Attribute names never kept, on any node: `password`, `internalPassword`, `trackingPassword`,
 * `proxyPassword`... plus anything called a secret.
 */
export function isSecretAttribute(name: string): boolean {
  return /passw(or)?d|secret/i.test(name);
}

interface Element {
  name: string;
  attrs: Array<[string, string]>;
  children: Element[];
}

// fast-xml-parser refuses element names such as `constructor` or `prototype` (prototype pollution guard);
// prefixing every element name keeps such names parseable and tells elements apart from `#text`, `:@`,
// `?xml`. The prefix is stripped with /^<+/ because fxp applies transformTagName twice to self-closing tags.
const TAG_PREFIX = '<';
const ATTR_PREFIX = '@_';

const XML_NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Decodes the five predefined XML entities and numeric character references in one pass (so `&amp;#65;`
 * stays `&#65;`). Entities declared in a DOCTYPE are deliberately not expanded (no entity-expansion
 * tricks); unknown references are left as written. Literal tabs and newlines in attribute values become
 * spaces, as XML attribute-value normalisation requires.
 */
const entityDecoder: EntityDecoderOptions = {
  setExternalEntities: () => undefined,
  addInputEntities: () => undefined,
  reset: () => undefined,
  setXmlVersion: () => undefined,
  decode: (text: string): string =>
    text.replace(/[\t\n\r]/g, ' ').replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]+);/g, (whole, ref: string) => {
      if (ref.startsWith('#')) {
        const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
        const valid = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
          (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
        return valid ? String.fromCodePoint(code) : whole;
      }
      return XML_NAMED[ref] ?? whole;
    }),
};

// One parser for every file: its options are fixed and it keeps no state between parses (the entity
// decoder above is stateless, and no entity is ever added).
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTR_PREFIX,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  entityDecoder,
  ignoreDeclaration: true,
  ignorePiTags: true,
  transformTagName: (name: string) => TAG_PREFIX + name,
});

/** Turns fast-xml-parser's preserveOrder output into a plain element tree. */
function toElements(nodes: unknown): Element[] {
  if (!Array.isArray(nodes)) return [];
  const out: Element[] = [];
  for (const node of nodes) {
    if (node === null || typeof node !== 'object') continue;
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!key.startsWith(TAG_PREFIX)) continue;
      const rawAttrs = record[':@'];
      const attrs: Array<[string, string]> = [];
      if (rawAttrs !== null && typeof rawAttrs === 'object') {
        for (const [k, v] of Object.entries(rawAttrs as Record<string, unknown>)) {
          const name = k.startsWith(ATTR_PREFIX) ? k.slice(ATTR_PREFIX.length) : k;
          attrs.push([name, typeof v === 'string' ? v : String(v)]);
        }
      }
      out.push({ name: key.replace(/^<+/, ''), attrs, children: toElements(record[key]) });
    }
  }
  return out;
}

/**
 * The validator quotes what it took for an attribute (or tag) name. After a stray quote inside a value,
 * that "name" is the rest of the value, which may be a password: such messages keep the problem and the
 * position, not the name. (A repeated attribute names a real attribute, written twice.)
 */
const NAME_QUOTING_PROBLEMS: ReadonlyArray<[RegExp, string]> = [
  [/^Attribute '.*' has no space in starting\.$/s, 'an attribute does not follow a space (a stray quote in a value?)'],
  [/^Attribute '.*' is without value\.$/s, 'an attribute has no quoted value'],
  [/^boolean attribute '.*' is not allowed\.$/s, 'an attribute has no value (a stray quote in a value?)'],
  [/^Attribute '.*' is an invalid name\.$/s, 'an attribute name is invalid'],
  [/^Tag '.*' is an invalid name\.$/s, 'a tag name is invalid'],
];

function validatorProblem(msg: string): string {
  return NAME_QUOTING_PROBLEMS.find(([pattern]) => pattern.test(msg))?.[1] ?? msg;
}

/** Error text from the parser made safe for one log line. */
function oneLine(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}...` : flat;
}

/**
 * The attributes a module node sets. An empty attribute (`port=""`, `statServerAddress=""` in Adobe's
 * sample) sets nothing: the value of a lower layer, or Campaign's default, applies.
 */
function moduleAttributes(el: Element): Record<string, string> {
  return Object.fromEntries(el.attrs.filter(([name, value]) => !isSecretAttribute(name) && value.trim() !== ''));
}

/** Shallowest element called `name` below `root` (breadth first), never looking inside secret nodes. */
function findShallowest(root: Element, name: string): Element | undefined {
  let level = root.children.filter((c) => !SECRET_NODES.has(c.name));
  while (level.length > 0) {
    const hit = level.find((c) => c.name === name);
    if (hit) return hit;
    level = level.flatMap((c) => c.children).filter((c) => !SECRET_NODES.has(c.name));
  }
  return undefined;
}

/**
 * Parses one Campaign conf XML file. Throws an Error naming `file` when the text is not well-formed XML
 * (with the parser's line, column and problem) or its root is not `<serverconf>`.
 */
export function parseConfXml(text: string, file: string): ConfXml {
  const xml = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) {
    const { line, col, msg } = verdict.err;
    const where = typeof col === 'number' ? `line ${line}, column ${col}` : `line ${line}`;
    throw new Error(`${file}: not well-formed XML at ${where}: ${oneLine(validatorProblem(msg))}`);
  }
  let parsed: unknown;
  try {
    parsed = parser.parse(xml);
  } catch (err) {
    throw new Error(`${file}: cannot parse XML: ${oneLine(err instanceof Error ? err.message : String(err))}`);
  }
  const roots = toElements(parsed);
  const root = roots[0];
  if (root === undefined) throw new Error(`${file}: no root element, expected <serverconf>`);
  if (roots.length > 1) {
    throw new Error(`${file}: not well-formed XML: more than one root element (<${root.name}>, <${roots[1]?.name}>)`);
  }
  // Instance configs write <serverconf>; Adobe's shipped serverConf.xml.sample writes <serverConf>.
  if (root.name.toLowerCase() !== 'serverconf') {
    throw new Error(`${file}: root element is <${oneLine(root.name)}>, expected <serverconf>`);
  }

  const modules = new Map<string, Record<string, string>>();
  const warnings: string[] = [];
  for (const child of root.children) {
    if (NON_MODULE_NODES.has(child.name) || SECRET_NODES.has(child.name)) continue;
    if (modules.has(child.name)) {
      warnings.push(`${file}: <${child.name}> appears more than once under <${root.name}>; the first one is used`);
      continue;
    }
    modules.set(child.name, moduleAttributes(child));
  }
  for (const name of KNOWN_MODULES) {
    if (modules.has(name)) continue;
    const deep = findShallowest(root, name);
    if (deep) modules.set(name, moduleAttributes(deep));
  }
  // fromEntries defines own properties, so a module or attribute called `__proto__` cannot touch prototypes.
  return { modules: Object.fromEntries(modules), warnings };
}
