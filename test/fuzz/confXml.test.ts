// Fuzz: Campaign's conf XML files, serverConf.xml and config-<instance>.xml (parseConfXml).
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { KNOWN_MODULES } from '../../src/util/names.js';
import { isSecretAttribute, parseConfXml, type ConfXml } from '../../src/discovery/serverConfXml.js';
import { attempt, check, expectClearError, identifier, junk, mutated, nested, textValue, tokenText, xmlEscape } from './runs.js';

const FILE = '/usr/local/neolane/nl6/conf/config-prod.xml';
/** What a password holds in the generated files: it must come out nowhere. */
const MARK = 'Zq7-MARK-9xW';

const SECRET_NAMES = ['password', 'internalPassword', 'trackingPassword', 'proxyPassword', 'PASSWORD', 'dbPasswd', 'secretKey', 'clientSecret'];

const moduleName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KNOWN_MODULES) },
  { weight: 2, arbitrary: identifier.filter((n) => n !== 'shared' && n !== 'dbcnx') },
  { weight: 1, arbitrary: fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'prototype') },
);
const plainAttrName = fc.oneof(
  fc.constantFrom('autoStart', '_autoStart', 'httpPort', 'controlPort', 'port', 'popMailPeriodSec', 'processRestartTime', 'maxProcessMemoryWarningMb', '__proto__', 'constructor', 'toString'),
  identifier,
).filter((n) => !isSecretAttribute(n));
/** Attribute values as written: XML-escaped, sometimes with character references, tabs and newlines. */
const attrValue = fc.oneof(
  { weight: 6, arbitrary: textValue.map((v) => ({ value: v, written: xmlEscape(v) })) },
  { weight: 1, arbitrary: fc.constantFrom({ value: 'A&B', written: 'A&#38;B' }, { value: 'é', written: '&#xE9;' }, { value: 'a b', written: 'a\tb' }, { value: 'x y', written: 'x\ny' }, { value: '&#65;', written: '&amp;#65;' }) },
);
const secretValue = fc.tuple(textValue, textValue).map(([a, b]) => xmlEscape(`${a}${MARK}${b}`));
const quote = fc.constantFrom('"', "'");

interface Attr {
  name: string;
  value?: string;
  written: string;
  q: string;
}

const attrs = fc
  .tuple(
    fc.uniqueArray(fc.record({ name: plainAttrName, v: attrValue, q: quote }), { selector: (a) => a.name, maxLength: 4 }),
    fc.uniqueArray(fc.record({ name: fc.constantFrom(...SECRET_NAMES), written: secretValue, q: quote }), { selector: (a) => a.name, maxLength: 2 }),
  )
  .chain(([plain, secret]) =>
    fc.shuffledSubarray<Attr>([...plain.map((a) => ({ name: a.name, value: a.v.value, written: a.v.written, q: a.q })), ...secret], {
      minLength: plain.length + secret.length,
    }),
  );

function render(attributes: Attr[], sep: string): string {
  return attributes.map((a) => `${sep}${a.name}=${a.q}${a.written.replaceAll(a.q, a.q === '"' ? '&quot;' : '&apos;')}${a.q}`).join('');
}

const DBCNX = `<dataStore><dbcnx name="default" login="neolane:prod" password="${MARK}" server="db"/></dataStore>`;
const child = fc.constantFrom('', `<jsp password="${MARK}"/>`, '<child maxWorkingSetMb="128"><smtp enableTLS="false"/></child>', `<dbcnx password="${MARK}">${MARK}</dbcnx>`, '<!-- a comment -->', `<![CDATA[${MARK}]]>`);

/** A conf file with module nodes (duplicates possible) and what parsing must give. */
const confFile = fc
  .record({
    prolog: fc.constantFrom('', '<?xml version="1.0" encoding="UTF-8"?>\n', "<?xml version='1.0'?>", '\uFEFF'),
    shared: fc.constantFrom('', `<shared>${DBCNX}</shared>`, `<shared><authentication internalPassword="${MARK}"/>${DBCNX}</shared>`, `<dbcnx password="${MARK}"/>`),
    modules: fc.array(fc.record({ name: moduleName, attrs, child, selfClosing: fc.boolean(), sep: fc.constantFrom(' ', '\n   ', '\t') }), { maxLength: 5 }),
    ws: fc.constantFrom('', '\n', '\n  '),
  })
  .map((g) => {
    const nodes = g.modules.map((m) => {
      const open = `<${m.name}${render(m.attrs, m.sep)}`;
      return m.selfClosing && m.child === '' ? `${open}/>` : `${open}>${m.child}</${m.name}>`;
    });
    const text = `${g.prolog}<serverconf>${g.ws}${g.shared}${g.ws}${nodes.join(g.ws)}${g.ws}</serverconf>\n`;
    const modules = new Map<string, Record<string, string>>();
    let duplicates = 0;
    for (const m of g.modules) {
      if (modules.has(m.name)) duplicates++;
      // An empty attribute sets nothing (Adobe's sample writes port=""): it is not kept.
      else modules.set(m.name, Object.fromEntries(m.attrs.filter((a) => a.value !== undefined && a.value.trim() !== '').map((a) => [a.name, a.value as string])));
    }
    return { text, modules: Object.fromEntries(modules), duplicates };
  });

const XML_TOKENS = ['<serverconf>', '</serverconf>', '<', '>', '/>', '</', '<web', '<mta', ' autoStart="true"', ` password="${MARK}"`, '"', "'", '=', '&amp;', '&#', '&#x', ';', '<!--', '-->', '<![CDATA[', ']]>', '<?xml version="1.0"?>', '<!DOCTYPE x [<!ENTITY e "&e;&e;">]>', '&e;', '<dbcnx', '<shared>', ' '];

function assertWellFormedResult(conf: ConfXml): void {
  for (const [name, attributes] of Object.entries(conf.modules)) {
    assert.ok(name !== 'shared' && name !== 'dbcnx', `kept <${name}>`);
    for (const [attr, value] of Object.entries(attributes)) {
      assert.ok(!isSecretAttribute(attr), `kept secret attribute ${attr}`);
      assert.equal(typeof value, 'string');
    }
  }
  for (const warning of conf.warnings) assert.ok(warning.startsWith(`${FILE}: `), warning);
}

function assertClearRejection(error: unknown): string {
  const message = expectClearError(error, FILE.length + 400);
  assert.ok(message.startsWith(`${FILE}: `), `does not name the file: ${message}`);
  assert.ok(!message.includes('\n'), `more than one line: ${message}`);
  return message;
}

describe('fuzz: parseConfXml', () => {
  test('generated conf files round-trip: module nodes, their attributes decoded, first duplicate kept; no password anywhere', () => {
    check(confFile, ({ text, modules, duplicates }) => {
      const conf = parseConfXml(text, FILE);
      assert.deepEqual(conf.modules, modules);
      assert.equal(conf.warnings.length, duplicates);
      assertWellFormedResult(conf);
      assert.ok(!JSON.stringify(conf).includes(MARK), 'a password came out');
    });
  });

  test('a password holding a stray quote (a broken file): the password shows neither in the result nor in the error', () => {
    // The stray quote cuts the value; what follows it must not be quoted back as an attribute name. (A value
    // holding `"><` turns the rest into markup; tag names in errors are kept, so that case is left out.)
    const broken = fc
      .record({
        module: fc.constantFrom(...KNOWN_MODULES),
        name: fc.constantFrom(...SECRET_NAMES),
        q: quote,
        before: fc.constantFrom('', 'a', 'p w', 'x=y '),
        after: fc.constantFrom('', 'b', ' c', ' d="e"', '= ', ' f', '"x', "'x", ' "', '="v"', "='v'", '>', '><y'),
        stray: fc.constantFrom('"', "'", '" ', "' ", ' "', '<', '>', '&'),
        again: fc.constantFrom('', '"', "'", ' "'),
        other: fc.constantFrom('', ' autoStart="true"'),
      })
      .map((g) => `<serverconf><${g.module}${g.other} ${g.name}=${g.q}${g.before}${g.stray}${MARK}${g.again}${g.after}${g.q}/></serverconf>`);
    check(broken, (text) => {
      const outcome = attempt(() => parseConfXml(text, FILE));
      if (outcome.ok) assert.ok(!JSON.stringify(outcome.value).includes(MARK), `password kept: ${JSON.stringify(outcome.value)}`);
      else assert.ok(!assertClearRejection(outcome.error).includes(MARK), `password in the error: ${(outcome.error as Error).message}`);
    });
  });

  test('any text and mutated conf files: a result with no secret attribute, or one clear error naming the file', () => {
    const deep = nested([['<a>', '</a>'], ['<web>', '</web>'], ['<a x="1"><b/>', '</a>']], '', 300).map((inner) => `<serverconf>${inner}</serverconf>`);
    check(junk([mutated(confFile.map((c) => c.text)), tokenText(XML_TOKENS), deep]), (text) => {
      const outcome = attempt(() => parseConfXml(text, FILE));
      if (outcome.ok) assertWellFormedResult(outcome.value);
      else assertClearRejection(outcome.error);
    });
  });
});
