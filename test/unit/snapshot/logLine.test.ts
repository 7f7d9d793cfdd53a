import { describe, expect, test } from '@jest/globals';
import { logMessage, mayBeErrorOrWarning, parseLogLine } from '../../../src/snapshot/logLine.js';
import { documentedMessages, fixtureLines, withTabs } from '../../fixtures/campaignLogs.js';

describe('parseLogLine on the documented pipelined lines (ISO time, spaces as printed in the docs)', () => {
  const lines = fixtureLines('pipeline-troubleshooting.log');

  test('six lines, all parsed: five errors, one warning, in UTC', () => {
    const parsed = lines.map(parseLogLine);
    expect(parsed.map((p) => p?.level)).toEqual(['error', 'error', 'error', 'warning', 'error', 'error']);
    expect(parsed[0]).toEqual({ timeMs: Date.UTC(2021, 4, 31, 8, 42, 18, 124), level: 'error', category: 'log', text: 'Listener: JWT Token is empty. (iRc=16384)' });
  });

  test('a coded error: code apart, text after it', () => {
    expect(parseLogLine(lines[4]!)).toEqual({
      timeMs: Date.UTC(2021, 4, 31, 8, 43, 9, 156),
      level: 'error',
      category: 'log',
      code: 'INT-150012',
      text: "The HTTP query returned a 'Forbidden' type error (403) (iRc=-53)",
    });
    expect(parseLogLine(lines[2]!)).toMatchObject({ code: 'BAS-010007', text: 'Function not implemented (iRc=-55)' });
  });

  test('messages with quotes, braces and a Bearer realm come through whole', () => {
    expect(parseLogLine(lines[1]!)?.text).toBe(`Unknown authentication mode: 'Bearer realm="Adobe Analytics"'. (iRc=-55)`);
    expect(parseLogLine(lines[5]!)?.text).toBe(
      `Error while authenticating: '{"error":"This client: df73c224e5-triggers-test is no longer allowed to get access token."}' (iRc=16384)`,
    );
    expect(parseLogLine(lines[3]!)).toMatchObject({ level: 'warning', text: 'Connection seems to have been lost. Attempting to reconnect.' });
  });

  test('the same lines with tabs, as the files have them, parse the same', () => {
    for (const line of lines) {
      expect(withTabs(line)).toContain('\t');
      expect(parseLogLine(withTabs(line))).toEqual(parseLogLine(line));
    }
  });

  test('the real example of the brief, tab-separated', () => {
    const line = "2021-05-31T08:42:18.124Z\t66462\t66501\t1\terror\tlog\tINT-150012 The HTTP query returned a 'Forbidden' type error (403) (iRc=-53)";
    expect(parseLogLine(line)).toMatchObject({ level: 'error', code: 'INT-150012', timeMs: Date.parse('2021-05-31T08:42:18.124Z') });
  });
});

describe('parseLogLine on the older layout (date and time separated by a space, hex thread id)', () => {
  const lines = fixtureLines('configuring-your-platform.log');

  test('the space inside the time is not a field separator', () => {
    expect(parseLogLine(lines[0]!)).toEqual({
      timeMs: Date.UTC(2011, 9, 4, 11, 57, 51, 804),
      level: 'info',
      category: 'log',
      text: "Updating table 'NmcTrackingLogMessages'",
    });
  });

  test('a multi-line database error on one line keeps its literal \\n sequences, and has no code', () => {
    const parsed = parseLogLine(lines[1]!);
    expect(parsed?.level).toBe('error');
    expect(parsed?.code).toBeUndefined();
    expect(parsed?.text).toBe(
      'PostgreSQL error: ERROR: cannot alter type of a column used by a view or rule\\nDETAIL: rule _RETURN on view nmctrackinglogmessagesview depends on column "tslog"\\n (iRc=-2006)',
    );
    expect(parseLogLine(lines[2]!)).toMatchObject({ level: 'error', text: expect.stringMatching(/^SQL order 'ALTER TABLE/) });
  });
});

describe('parseLogLine on the documented messages, put into the documented layout', () => {
  test.each(documentedMessages())('%s: %s', (level, message) => {
    const line = `2021-05-31T08:42:18.124Z\t66462\t66501\t1\t${level}\tlog\t${message}`;
    const parsed = parseLogLine(line);
    expect(parsed?.level).toBe(level);
    expect(logMessage(parsed!)).toBe(message);
    const code = /^[A-Z]{3}-\d{6}/.exec(message)?.[0];
    expect(parsed?.code).toBe(code);
  });

  test('a coded line at info level stays info (the level field decides, not the code)', () => {
    const parsed = parseLogLine("2021-05-31T08:42:18.124Z\t66462\t66501\t1\tinfo\tlog\tODB-240007 Teradata: will use 'Europe Central' as session time zone.");
    expect(parsed).toMatchObject({ level: 'info', code: 'ODB-240007' });
    expect(parseLogLine('2021-05-31T08:42:18.124Z\t66462\t66501\t1\twarning\tlog\tJST-310027 some URL not on the allow list')).toMatchObject({ level: 'warning', code: 'JST-310027' });
  });
});

describe('parseLogLine edges', () => {
  test('not log lines: undefined, never a throw', () => {
    const notLines = [
      '',
      'hello',
      '```',
      '15:04:04 >   ODB-240007 Teradata: will use a time zone', // console output, not a log line
      '2021-05-31T08:42:18.124Z', // a time alone
      '2021-05-31T08:42:18.124Z\t66462\t66501\t1', // no level
      '2021-05-31T08:42:18.124 66462 66501 1 error log no zone', // no zone: not guessed as UTC
      '2021-02-30T08:42:18.124Z 1 2 1 error log February 30th',
      '2021-05-31T25:42:18.124Z 1 2 1 error log hour 25',
      'x2021-05-31T08:42:18.124Z 1 2 1 error log prefixed',
      '2021-05-31T08:42:18.124Z error log no ids',
      '\u0000\u0001\ufffd binary',
      `2021-05-31T08:42:18.124Z ${'1 '.repeat(10_000)}`,
    ];
    for (const line of notLines) expect(parseLogLine(line)).toBeUndefined();
  });

  test('CRLF line ends, an empty message, a numeric zone offset, a line without a fraction', () => {
    expect(parseLogLine('2021-05-31T08:42:18.124Z\t1\t2\t1\terror\tlog\tBAS-010007 x\r\n')).toMatchObject({ code: 'BAS-010007', text: 'x' });
    expect(parseLogLine('2021-05-31T08:42:18.124Z\t1\t2\t1\terror\tlog')).toMatchObject({ level: 'error', text: '' });
    expect(parseLogLine('2021-05-31T08:42:18.124Z\t1\t2\t1\terror\tlog\tBAS-010007')).toMatchObject({ code: 'BAS-010007', text: '' });
    expect(parseLogLine('2021-05-31T10:42:18.124+02:00 1 2 1 error log x')?.timeMs).toBe(Date.UTC(2021, 4, 31, 8, 42, 18, 124));
    expect(parseLogLine('2021-05-31T08:42:18Z 1 2 1 ERROR log x')).toMatchObject({ timeMs: Date.UTC(2021, 4, 31, 8, 42, 18), level: 'error' });
    expect(parseLogLine('2021-05-31T08:42:18.124Z\t66462\t-1224824320\t1\terror\tlog\tnegative thread id')).toMatchObject({ level: 'error' });
  });

  test('a code must stand alone at the start: a code later in the text, or glued to a word, is text', () => {
    expect(parseLogLine('2021-05-31T08:42:18.124Z 1 2 1 error log See XSV-350008 later')?.code).toBeUndefined();
    expect(parseLogLine('2021-05-31T08:42:18.124Z 1 2 1 error log XSV-350008: glued')?.code).toBeUndefined();
  });

  test('a 2 MB line (a long SQL statement) parses', () => {
    const line = `2021-05-31T08:42:18.124Z\t1\t2\t1\terror\tlog\tWDB-200001 SQL statement '${'x'.repeat(2_000_000)}' could not be executed.`;
    expect(parseLogLine(line)?.code).toBe('WDB-200001');
  });
});

describe('mayBeErrorOrWarning (the pre-filter before parsing)', () => {
  test('passes every documented error and warning line, holds back the info lines without either word', () => {
    const lines = documentedMessages().map(([level, text]) => withTabs(`2021-05-31T08:42:18.124Z 66462 66501 1 ${level} log ${text}`));
    for (const line of lines) {
      const level = parseLogLine(line)?.level;
      if (level === 'error' || level === 'warning') expect(mayBeErrorOrWarning(line)).toBe(true);
    }
    expect(mayBeErrorOrWarning('2011-10-04 11:57:51.804Z B67B28C0 1 info log Updating table \'NmcTrackingLogMessages\'')).toBe(false);
    expect(mayBeErrorOrWarning('2021-05-31T08:42:18.124Z\t66462\t66501\t1\tERROR\tlog\tshouted')).toBe(true);
    // The word in an info line's message lets it through: the parse decides.
    expect(mayBeErrorOrWarning('2021-05-31T08:42:18.124Z\t66462\t66501\t1\tinfo\tlog\tno error here')).toBe(true);
  });
});
