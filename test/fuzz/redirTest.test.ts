// Fuzz: the tracking server's `/r/test` answer (parseRedirTest, redirTestExpectation).
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { parseRedirTest, redirTestExpectation } from '../../src/checks/redirTest.js';
import { check, identifier, junk, mutated, nested, textValue, tokenText, xmlEscape } from './runs.js';

const DOCUMENTED = ['status', 'date', 'build', 'host', 'localHost', 'instance', 'sourceIP'];
const RESERVED = new Set(['__proto__']);

const attribute = fc.record({
  name: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...DOCUMENTED) }, { weight: 1, arbitrary: identifier }, { weight: 1, arbitrary: fc.constantFrom('constructor', 'toString', 'xmlns', 'xmlns:nl') }),
  value: fc.oneof(
    fc.constantFrom('OK', 'Error', '2024-05-01 10:00:00.112Z', '2024/05/01 10:00:00', '9032', 'tracking.example.com', 'front_srv1', '203.0.113.17', ''),
    textValue,
  ),
  quote: fc.constantFrom('"', "'"),
  space: fc.constantFrom(' ', '  ', '\n', '\t', '\r\n '),
});

/** A `<redir .../>` answer: any attribute set, any order, both quote styles, and what parsing must give. */
const answer = fc
  .record({
    attributes: fc.uniqueArray(attribute, { selector: (a) => a.name, maxLength: 9 }).filter((as) => !as.some((a) => RESERVED.has(a.name))),
    prolog: fc.constantFrom('', '<?xml version="1.0" encoding="utf-8"?>', '\uFEFF', '\n  ', '\uFEFF\n<?xml version="1.0"?>\n'),
    close: fc.constantFrom('/>', ' />', '></redir>', '>\n</redir>'),
    trailer: fc.constantFrom('', '\n', '\r\n\r\n', '<!-- served by nlserver web -->'),
  })
  .map((g) => {
    const attrs = g.attributes.map((a) => `${a.space}${a.name}=${a.quote}${xmlEscape(a.value)}${a.quote}`).join('');
    return { body: `${g.prolog}<redir${attrs}${g.close}${g.trailer}`, attributes: Object.fromEntries(g.attributes.map((a) => [a.name, a.value])) };
  });

const TOKENS = ['<redir', ' status=', "'OK'", '"OK"', '/>', '>', '</redir>', '<', '&amp;', '&', '"', "'", '<?xml version="1.0"?>', '<html>', '<constructor/>', '<__proto__>', '</__proto__>', ' date="x"', '\n'];

describe('fuzz: /r/test answers', () => {
  test('documented answers round-trip: every attribute, whatever the order and quotes', () => {
    check(answer, ({ body, attributes }) => {
      const parsed = parseRedirTest(body);
      assert.ok(parsed !== null, 'not read as a <redir> answer');
      assert.deepEqual({ ...parsed.attributes }, attributes);
      assert.equal(parsed.status, attributes.status ?? '');
      const verdict = redirTestExpectation(body);
      assert.equal(verdict.state, attributes.status === 'OK' ? 'ok' : 'critical');
    });
  });

  test('any text and mutated answers: never throws; null or a <redir> with string attributes; one short message', () => {
    const deep = nested([['<a>', '</a>'], ['<redir>', '</redir>']], '', 300).map((inner) => `<redir status='OK'>${inner}</redir>`);
    check(junk([mutated(answer.map((a) => a.body)), tokenText(TOKENS), deep]), (body) => {
      const parsed = parseRedirTest(body);
      if (parsed !== null) {
        assert.equal(typeof parsed.status, 'string');
        for (const value of Object.values(parsed.attributes)) assert.equal(typeof value, 'string');
      }
      const verdict = redirTestExpectation(body);
      assert.ok(verdict.state === 'ok' || verdict.state === 'critical');
      assert.equal(verdict.state === 'ok', parsed?.status === 'OK');
      // Quoted pieces are cut at 40-80 characters: the whole message stays one short line.
      assert.ok(verdict.message.length <= 260, `message of ${verdict.message.length} characters`);
      assert.doesNotMatch(verdict.message, /[\u0000-\u001f\u007f]/);
    });
  });
});
