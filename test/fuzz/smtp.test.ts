// Fuzz: SMTP replies (parseSmtpReply, RFC 5321 4.2), fed whole and byte by byte as a relay sends them.
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { parseSmtpReply, type SmtpReply } from '../../src/checks/smtp.js';
import { check, junk, mutated, tokenText } from './runs.js';

const MAX_LINE_CHARS = 2048;

/** Reply text: anything on one line (no CR or LF), sometimes long. */
const lineText = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 60, size: 'max' }).map((t) => t.replace(/[\r\n]/g, ' ')) },
  { weight: 2, arbitrary: fc.constantFrom('', 'mail.example.com ESMTP Postfix', 'PIPELINING', 'SIZE 10240000', '8BITMIME', '2.0.0 Bye', '5.3.2 service unavailable') },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: MAX_LINE_CHARS - 4 }).map((n) => 'x'.repeat(n)) },
);

/** A (multi-line) reply, possibly followed by the start of the next one, and what it must parse to. */
const reply = fc
  .record({
    code: fc.integer({ min: 200, max: 599 }),
    lines: fc.array(lineText, { minLength: 1, maxLength: 8 }),
    bareLast: fc.boolean(),
    eol: fc.constantFrom('\r\n', '\n'),
    after: fc.constantFrom('', '250 next reply\r\n', '2', 'junk'),
  })
  .map(({ code, lines, bareLast, eol, after }) => {
    // The last line is `NNN text`, or a bare `NNN` when it has no text.
    const rendered = lines.map((t, i) => (i < lines.length - 1 ? `${code}-${t}` : t === '' && bareLast ? `${code}` : `${code} ${t}`));
    const reply = rendered.map((l) => l + eol).join('');
    return { text: reply + after, replyLength: reply.length, code, lines };
  });

const TOKENS = ['220', '250', '554', '999', '199', '-', ' ', '\r\n', '\n', '\r', 'ESMTP', '2', '25', '220-', '250 ', 'HTTP/1.1 400 Bad Request', '+OK', '\u0000'];

function assertSane(parsed: SmtpReply, text: string): void {
  if (parsed.code !== undefined) assert.ok(Number.isInteger(parsed.code) && parsed.code >= 200 && parsed.code <= 599, `code ${parsed.code}`);
  if (parsed.complete) assert.ok(parsed.error === undefined && parsed.code !== undefined && parsed.lines.length > 0);
  if (parsed.error !== undefined) {
    assert.ok(!parsed.complete);
    assert.ok(parsed.error.length <= 80, `error of ${parsed.error.length} characters`);
  }
  assert.ok(parsed.lines.length <= text.split('\n').length);
  for (const line of parsed.lines) assert.ok(line.length <= MAX_LINE_CHARS);
}

describe('fuzz: SMTP replies', () => {
  test('generated replies round-trip: code and every line, multi-line or not, CRLF or LF, whatever follows', () => {
    check(reply, ({ text, code, lines }) => {
      assert.deepEqual({ ...parseSmtpReply(text) }, { complete: true, code, lines });
    });
  });

  test('while a reply arrives, every prefix is incomplete and never an error', () => {
    const cuts = reply.chain((r) => fc.tuple(fc.constant(r), fc.array(fc.nat({ max: r.replyLength - 1 }), { minLength: 1, maxLength: 8 })));
    check(cuts, ([{ text, code }, ats]) => {
      for (const at of ats) {
        const parsed = parseSmtpReply(text.slice(0, at));
        assert.equal(parsed.error, undefined, `error at ${at}: ${parsed.error}`);
        assert.equal(parsed.complete, false);
        if (parsed.code !== undefined) assert.equal(parsed.code, code);
      }
    });
  });

  test('any text and mutated replies: never throws; code 200-599, short error, bounded lines', () => {
    check(junk([mutated(reply.map((r) => r.text)), tokenText(TOKENS)]), (text) => {
      assertSane(parseSmtpReply(text), text);
    });
  });
});
