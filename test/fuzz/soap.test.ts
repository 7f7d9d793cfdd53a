// Fuzz: SOAP answers (parseSoapEnvelope), ExecuteQuery results (readQueryAnswer) and redactSecrets.
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { REDACTED, readQueryAnswer, redactSecrets } from '../../src/clients/soapSession.js';
import { SOAP_ENVELOPE_NAMESPACES, parseSoapEnvelope } from '../../src/clients/soapEnvelope.js';
import { classifySoapFault } from '../../src/checks/soap.js';
import type { XmlNode } from '../../src/clients/xml.js';
import { ALNUM, DIGITS, LOWER, check, identifier, junk, mutated, nested, over, textValue, tokenText, xmlEscape } from './runs.js';

const [SOAP11, SOAP12] = SOAP_ENVELOPE_NAMESPACES as [string, string];
/** One line, cut: what a check message can quote. */
const REASON_MAX_CHARS = 400;

/** Namespace prefixes: anything but the reserved `xml...` ones. */
const prefix = fc.tuple(over(LOWER, 1, 1), over(ALNUM + '-_', 0, 8)).map(([a, b]) => a + b).filter((p) => !p.toLowerCase().startsWith('xml'));
const uri = fc.oneof(
  fc.constantFrom('urn:xtk:queryDef', 'urn:xtk:session', 'http://www.w3.org/2001/XMLSchema-instance', 'urn:wpfs', '', SOAP11.toUpperCase(), `${SOAP12}/`),
  fc.tuple(fc.constantFrom('http://', 'https://', 'urn:'), over(ALNUM + '.-/:&<"', 1, 20)).map(([scheme, rest]) => scheme + rest),
);
const q = (p: string, local: string): string => (p === '' ? local : `${p}:${local}`);
const decl = (p: string, ns: string): string => ` ${p === '' ? 'xmlns' : `xmlns:${p}`}="${xmlEscape(ns)}"`;

/** The parts of an envelope; rendered by `envelope`. */
const envelopeParts = fc.record({
  ns: fc.constantFrom(SOAP11, SOAP12),
  envPrefix: fc.oneof(fc.constant(''), fc.constantFrom('soap', 'SOAP-ENV', 'soapenv', 'env', 's'), prefix),
  /** The Body declares its own prefix for the same namespace. */
  bodyPrefix: fc.option(prefix, { nil: undefined }),
  others: fc.uniqueArray(fc.tuple(prefix, uri), { selector: ([p]) => p, maxLength: 3 }),
  header: fc.boolean(),
  prolog: fc.constantFrom('', '<?xml version="1.0" encoding="utf-8"?>\n', '\uFEFF', '\n\n'),
  ws: fc.constantFrom('', '\n', '\n  '),
});
type EnvelopeParts = typeof envelopeParts extends fc.Arbitrary<infer T> ? T : never;

function envelope(g: EnvelopeParts, content: (soapPrefix: string) => string): string {
  const others = g.others.filter(([p]) => p !== g.envPrefix && p !== g.bodyPrefix);
  const body = g.bodyPrefix === undefined ? g.envPrefix : g.bodyPrefix;
  const bodyDecl = g.bodyPrefix === undefined ? '' : decl(g.bodyPrefix, g.ns);
  const header = g.header ? `<${q(g.envPrefix, 'Header')}><wsse:Security xmlns:wsse="urn:wsse"/></${q(g.envPrefix, 'Header')}>` : '';
  return (
    `${g.prolog}<${q(g.envPrefix, 'Envelope')}${decl(g.envPrefix, g.ns)}${others.map(([p, u]) => decl(p, u)).join('')}>${g.ws}${header}` +
    `<${q(body, 'Body')}${bodyDecl}>${g.ws}${content(body)}${g.ws}</${q(body, 'Body')}>${g.ws}</${q(g.envPrefix, 'Envelope')}>`
  );
}

const faultText = fc.oneof(textValue, fc.constantFrom('XSV-350008 Session has expired or is invalid.', 'SOP-330011 Error while executing the method', ''));

/**
 * A `detail`: absent, or lines as Campaign writes them, innermost error first (see
 * test/fixtures/soap/fault-sop-330011-odb-deadlock.xml), read back whole with its line breaks.
 */
const detailLines = fc.option(
  fc.array(fc.oneof(textValue, fc.constantFrom('ODB-240000 ODBC error: deadlocked SQLState: 40001', "XSV-350023 Unable to save document of type 'x'.", 'SOP-330011 Error while executing the method')), {
    minLength: 1,
    maxLength: 4,
  }),
  { nil: undefined },
);

/** Envelopes with a payload, a SOAP 1.1 / 1.2 Fault, or nothing in the Body, and the fault to read. */
const soapAnswer = fc
  .record({ g: envelopeParts, kind: fc.constantFrom('payload', 'fault', 'empty'), code: faultText, text: faultText, detail: detailLines })
  .map(({ g, kind, code, text, detail }) => {
    const detailText = detail === undefined ? '' : detail.join('\n');
    const detailElement = (p: string): string => {
      if (detail === undefined) return '';
      // SOAP 1.1's detail is unqualified; 1.2's Detail is in the envelope namespace.
      const name = g.ns === SOAP11 ? 'detail' : q(p, 'Detail');
      return `<${name}>${xmlEscape(detailText)}</${name}>`;
    };
    const fault = (p: string): string =>
      g.ns === SOAP11
        ? `<${q(p, 'Fault')}><faultcode>${xmlEscape(code)}</faultcode><faultstring>${xmlEscape(text)}</faultstring>${detailElement(p)}</${q(p, 'Fault')}>`
        : `<${q(p, 'Fault')}><${q(p, 'Code')}><${q(p, 'Value')}>${xmlEscape(code)}</${q(p, 'Value')}></${q(p, 'Code')}>` +
          `<${q(p, 'Reason')}><${q(p, 'Text')} xml:lang="en">${xmlEscape(text)}</${q(p, 'Text')}></${q(p, 'Reason')}>${detailElement(p)}</${q(p, 'Fault')}>`;
    const content = (p: string): string =>
      kind === 'fault' ? fault(p) : kind === 'payload' ? '<ns:LogonResponse xmlns:ns="urn:xtk:session"><pstrSessionToken>t</pstrSessionToken></ns:LogonResponse>' : '';
    return { text: envelope(g, content), fault: kind === 'fault' ? { code, string: text, detail: detailText.trim() } : undefined };
  });

/** A count is given when exact: digits only, at most 2^53 - 1. */
const isCount = (text: string | undefined): boolean => text !== undefined && /^\d+$/.test(text) && Number.isSafeInteger(Number(text));

/** ExecuteQuery answers: a collection of rows, one record, or a count; with the result to read. */
const queryAnswer = fc
  .record({
    g: envelopeParts,
    kind: fc.constantFrom('collection', 'record', 'count'),
    element: fc.constantFrom('workflow', 'operator', 'delivery'),
    rows: fc.array(fc.uniqueArray(fc.record({ name: identifier, value: textValue }), { selector: (a) => a.name, maxLength: 4 }), { maxLength: 4 }),
    count: fc.oneof(fc.nat().map(String), over(DIGITS, 1, 40)),
    respPrefix: fc.constantFrom('ns', 'urn', 'q'),
  })
  .map(({ g, kind, element, rows, count, respPrefix }) => {
    const row = (attrs: Array<{ name: string; value: string }>): string => `<${element}${attrs.map((a) => ` ${a.name}="${xmlEscape(a.value)}"`).join('')}/>`;
    const records = rows.map((attrs) => Object.fromEntries(attrs.map((a) => [a.name, a.value])));
    let inner: string;
    let result: { rows: Array<Record<string, string>>; count?: number };
    if (kind === 'collection') {
      inner = `<${element}-collection xmlns="urn:xtk:queryDef">${rows.map(row).join('')}</${element}-collection>`;
      result = { rows: records };
    } else if (kind === 'record') {
      inner = row(rows[0] ?? []);
      result = { rows: [records[0] ?? {}] };
      if (isCount(result.rows[0]!.count)) result.count = Number(result.rows[0]!.count);
    } else {
      inner = `<${element} count="${count}"/>`;
      result = isCount(count) ? { rows: [{ count }], count: Number(count) } : { rows: [{ count }] };
    }
    const content = (): string =>
      `<${respPrefix}:ExecuteQueryResponse xmlns:${respPrefix}="urn:xtk:queryDef"><${respPrefix}:pdomOutput xsi:type="${respPrefix}:Element" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${inner}</${respPrefix}:pdomOutput></${respPrefix}:ExecuteQueryResponse>`;
    return { text: envelope(g, content), result };
  });

const SOAP_TOKENS = ['<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">', '</SOAP-ENV:Envelope>', '<SOAP-ENV:Body>', '</SOAP-ENV:Body>', '<SOAP-ENV:Fault>', '</SOAP-ENV:Fault>', '<faultstring>', '</faultstring>', 'xmlns:a="x"', '<a:', '</a:', '<', '>', '/>', '"', '=', ' ', '<constructor/>', '<__proto__/>', '<toString>', '</toString>', '<ExecuteQueryResponse>', '<pdomOutput>', '</pdomOutput>', '<x-collection>', '<x count="7"/>', '&amp;', '&#0;', '<![CDATA[', ']]>', '<!DOCTYPE a [<!ENTITY b "c">]>', '&b;'];

function assertSafeReason(reason: string): void {
  assert.ok(reason.length > 0 && reason.length <= REASON_MAX_CHARS, `reason of ${reason.length} characters`);
  assert.doesNotMatch(reason, /[\u0000-\u001f\u007f]/);
}

describe('fuzz: SOAP envelopes', () => {
  test('generated envelopes are read whatever the prefixes and declarations; faults give code, string and the whole detail', () => {
    check(soapAnswer, ({ text, fault }) => {
      const parsed = parseSoapEnvelope(text);
      assert.ok(parsed.ok, parsed.ok ? '' : `refused: ${parsed.reason}`);
      assert.deepEqual(parsed.fault === undefined ? undefined : { ...parsed.fault }, fault);
    });
  });

  test('an Envelope in any other namespace is refused, with a short reason', () => {
    const other = fc.tuple(envelopeParts, uri).filter(([, u]) => !SOAP_ENVELOPE_NAMESPACES.includes(u));
    check(other, ([g, u]) => {
      const parsed = parseSoapEnvelope(envelope({ ...g, ns: u }, () => ''));
      assert.ok(!parsed.ok);
      assert.match(parsed.reason, /expected a SOAP Envelope$/);
      assertSafeReason(parsed.reason);
    });
  });

  test('any text and mutated envelopes: never throws; ok with string fault fields, or one short reason', () => {
    const deep = nested([['<a>', '</a>'], ['<s:Body>', '</s:Body>'], ['<x:a xmlns:x="u">', '</x:a>']], '', 300).map(
      (inner) => `<s:Envelope xmlns:s="${SOAP11}"><s:Body>${inner}</s:Body></s:Envelope>`,
    );
    check(junk([mutated(soapAnswer.map((a) => a.text)), tokenText(SOAP_TOKENS), deep]), (text) => {
      const parsed = parseSoapEnvelope(text);
      if (!parsed.ok) assertSafeReason(parsed.reason);
      else if (parsed.fault !== undefined) {
        assert.equal(typeof parsed.fault.code, 'string');
        assert.equal(typeof parsed.fault.string, 'string');
        assert.equal(typeof parsed.fault.detail, 'string');
      }
    });
  });
});

describe('fuzz: classifySoapFault', () => {
  /** `SOAP answered a database error: ` + 200 characters and the ellipsis. */
  const VERDICT_MAX_CHARS = 240;

  test('any fault: a state, one short line, no session token; a database code in the fault is critical', () => {
    const token = fc.uuid().map((u) => `___${u}`);
    const line = fc.oneof(textValue, token, fc.constantFrom('PGS-220000 PostgreSQL error: x', 'XSV-350008 Session has expired', 'SOP-330011 Error while executing', 'SQLState: 40001', ''));
    const anyFault = fc.record({ code: faultText, string: fc.oneof(faultText, line), detail: fc.array(line, { maxLength: 4 }).map((lines) => lines.join('\n')) });
    check(anyFault, (fault) => {
      const verdict = classifySoapFault(fault);
      assert.ok(['ok', 'warning', 'critical'].includes(verdict.state));
      assert.ok(verdict.message.length <= VERDICT_MAX_CHARS, `${verdict.message.length} characters`);
      assert.doesNotMatch(verdict.message, /[\u0000-\u001f\u007f]/);
      assert.doesNotMatch(verdict.message, /___[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
      if (/PGS-220000|SQLState/.test(`${fault.string}\n${fault.detail}`)) assert.equal(verdict.state, 'critical');
    });
  });

  test('parsed junk: faults are judged without throwing', () => {
    check(junk([mutated(soapAnswer.map((a) => a.text)), tokenText(SOAP_TOKENS)]), (text) => {
      const parsed = parseSoapEnvelope(text);
      if (parsed.ok) assert.ok(classifySoapFault(parsed.fault).message.length <= VERDICT_MAX_CHARS);
    });
  });
});

describe('fuzz: ExecuteQuery answers', () => {
  test('generated answers round-trip: rows and their attributes, the count when it is a number', () => {
    check(queryAnswer, ({ text, result }) => {
      const parsed = parseSoapEnvelope(text);
      assert.ok(parsed.ok && parsed.fault === undefined);
      const read = readQueryAnswer(parsed.body as XmlNode);
      assert.ok(!('missing' in read), JSON.stringify(read));
      assert.deepEqual({ ...read, rows: read.rows.map((r) => ({ ...r })) }, result);
    });
  });

  test('any text and mutated answers: never throws; string rows without xmlns, a count that is a safe integer', () => {
    check(junk([mutated(queryAnswer.map((a) => a.text)), tokenText(SOAP_TOKENS)]), (text) => {
      const parsed = parseSoapEnvelope(text);
      if (!parsed.ok) return;
      const read = readQueryAnswer(parsed.body as XmlNode);
      if ('missing' in read) return;
      for (const row of read.rows) {
        for (const [name, value] of Object.entries(row)) {
          assert.ok(name !== 'xmlns' && !name.startsWith('xmlns:'), `kept ${name}`);
          assert.equal(typeof value, 'string');
        }
      }
      if (read.count !== undefined) assert.ok(Number.isSafeInteger(read.count) && read.count >= 0, `count ${read.count}`);
    });
  });
});

describe('fuzz: redactSecrets', () => {
  // Secrets drawn without the characters of the marker: then no occurrence can survive or be rebuilt.
  const secretAlphabet = 'ABCFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+/=!%bfghijklmnopqsuvwxyz';
  const token = fc.uuid().map((u) => `___${u}`);
  const redaction = fc
    .record({
      secrets: fc.array(fc.option(over(secretAlphabet, 0, 12), { nil: undefined }), { maxLength: 4 }),
      pieces: fc.array(fc.oneof(fc.string({ maxLength: 20 }), token, token.map((t) => t.toUpperCase())), { maxLength: 6 }),
      inject: fc.array(fc.nat(), { maxLength: 4 }),
    })
    .map(({ secrets, pieces, inject }) => {
      const known = secrets.filter((s): s is string => s !== undefined && s !== '');
      const parts = [...pieces];
      for (const [i, at] of inject.entries()) if (known.length > 0) parts.splice(at % (parts.length + 1), 0, known[i % known.length]!);
      return { secrets, text: parts.join('') };
    });

  test('no given secret and nothing shaped like a session token is left', () => {
    check(redaction, ({ secrets, text }) => {
      const out = redactSecrets(text, secrets);
      for (const secret of secrets) if (secret) assert.ok(!out.includes(secret), `${secret} left in ${out}`);
      assert.doesNotMatch(out, /___[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
      if (!text.includes(REDACTED) && out === text) assert.ok(!out.includes(REDACTED));
    });
  });

  test('any text and any secrets: never throws, returns a string', () => {
    check(fc.tuple(junk(), fc.array(fc.option(fc.string({ maxLength: 10 }), { nil: undefined }), { maxLength: 3 })), ([text, secrets]) => {
      assert.equal(typeof redactSecrets(text, secrets), 'string');
    });
  });
});
