// Fuzz: POP3 status lines and the STAT answer (parsePop3Status, parseStatReply, RFC 1939).
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { parsePop3Status, parseStatReply } from '../../src/checks/pop3.js';
import { DIGITS, check, junk, mutated, over, tokenText } from './runs.js';

const text = fc.oneof(
  fc.string({ maxLength: 60, size: 'max' }),
  fc.constantFrom('', 'Dovecot ready.', '<1896.697170952@dbc.mtview.ca.us>', 'Logged in.', '[AUTH] Authentication failed.', 'Logging out.'),
);
const status = fc.record({ ok: fc.boolean(), text }).map(({ ok, text }) => ({ line: `${ok ? '+OK' : '-ERR'}${text === '' ? '' : ` ${text}`}`, ok, text }));
const number = fc.oneof(fc.nat().map(String), over(DIGITS, 1, 15));
const stat = fc
  .record({ count: number, octets: number, rest: fc.option(text, { nil: undefined }) })
  .map(({ count, octets, rest }) => ({ line: `+OK ${count} ${octets}${rest === undefined ? '' : ` ${rest}`}`, count: Number(count), octets: Number(octets) }));

const TOKENS = ['+OK', '-ERR', '+ok', ' ', '  ', '12', '0', '999999999999999', '9999999999999999', '-1', '1e3', '\r', '\n', '\t', 'messages'];

describe('fuzz: POP3 status lines', () => {
  test('+OK and -ERR lines round-trip, with or without text', () => {
    check(status, ({ line, ok, text }) => {
      assert.deepEqual(parsePop3Status(line), { ok, text });
    });
  });

  test('any text: never throws; a status only for a line starting +OK or -ERR', () => {
    check(junk([mutated(status.map((s) => s.line)), tokenText(TOKENS)]), (line) => {
      const parsed = parsePop3Status(line);
      if (parsed === undefined) return;
      assert.ok(line.startsWith(parsed.ok ? '+OK' : '-ERR'));
      assert.ok(line.endsWith(parsed.text));
    });
  });
});

describe('fuzz: POP3 STAT', () => {
  test('`+OK <messages> <octets> [text]` round-trips', () => {
    check(stat, ({ line, count, octets }) => {
      assert.deepEqual(parseStatReply(line), { count, octets });
    });
  });

  test('any text and mutated answers: never throws; counts are non-negative safe integers', () => {
    check(junk([mutated(stat.map((s) => s.line)), tokenText(TOKENS)]), (line) => {
      const parsed = parseStatReply(line);
      if (parsed === undefined) return;
      for (const n of [parsed.count, parsed.octets]) assert.ok(Number.isSafeInteger(n) && n >= 0, `${n}`);
    });
  });
});
