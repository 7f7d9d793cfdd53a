// Fuzz: one module log line (parseLogLine), and the pre-filter the log check runs before it
// (mayBeErrorOrWarning): it may let an info line through, never hold back an error or a warning.
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mayBeErrorOrWarning, parseLogLine } from '../../src/snapshot/logLine.js';
import { check, DIGITS, junk, mutated, NUM_RUNS, over, smallText, tokenText } from './runs.js';

const HEX = `${DIGITS}abcdefABCDEF`;
const blank = fc.constantFrom('\t', ' ', '  ', '\t\t', ' \t');
/** Levels as written, in any case; words near them (errors, warn) and ones made of hex letters. */
const level = fc.oneof(
  fc.constantFrom('error', 'warning', 'info', 'debug', 'errors', 'warn', 'ERROR', 'Warning', 'fed', 'verbose'),
  fc.constantFrom('error', 'warning').chain((word) => fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((upper) => [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''))),
);
const time = fc
  .record({
    date: fc.date({ min: new Date(Date.UTC(1990, 0, 1)), max: new Date(Date.UTC(2090, 0, 1)), noInvalidDate: true }),
    separator: fc.constantFrom('T', ' '),
    zone: fc.constantFrom('Z', '+02:00', '-0530'),
  })
  .map(({ date, separator, zone }) => date.toISOString().replace('T', separator).replace('Z', zone));
const message = fc.oneof(
  smallText,
  tokenText(['XTK-170024 ', 'error', 'warning', ' ', '\t', '\\n', 'PGS-220000 ', 'info', 'the query failed']),
);
/** A line in either documented layout: time, one to four ids, level, category, message. */
const logLine = fc
  .record({
    time,
    ids: fc.array(fc.tuple(blank, fc.constantFrom('', '-'), over(HEX, 1, 16)), { minLength: 1, maxLength: 4 }),
    before: blank,
    level,
    after: blank,
    category: fc.constantFrom('log', 'sql', 'mta'),
    message: fc.option(fc.tuple(blank, message), { nil: undefined }),
    end: fc.constantFrom('', '\r', '\r\n', '  '),
  })
  .map((g) => `${g.time}${g.ids.map(([b, sign, id]) => `${b}${sign}${id}`).join('')}${g.before}${g.level}${g.after}${g.category}${g.message === undefined ? '' : g.message.join('')}${g.end}`);

describe('mayBeErrorOrWarning never holds back a line that parses as an error or a warning', () => {
  test('generated log lines, as written and edited', () => {
    let judged = 0;
    check(fc.oneof({ weight: 3, arbitrary: logLine }, { weight: 1, arbitrary: mutated(logLine) }, { weight: 1, arbitrary: junk([logLine]) }), (line) => {
      const parsed = parseLogLine(line);
      if (parsed?.level !== 'error' && parsed?.level !== 'warning') return;
      judged++;
      assert.equal(mayBeErrorOrWarning(line), true, JSON.stringify(line));
    });
    // Not vacuous: a good share of the cases are error or warning lines.
    assert.ok(judged > NUM_RUNS / 10, `only ${judged} error or warning lines among ${NUM_RUNS} cases`);
  });
});
