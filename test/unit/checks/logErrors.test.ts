import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { logErrorsCheck, type LogErrorsCheckOptions, type LogErrorsResult } from '../../../src/checks/logErrors.js';
import { scrubSecrets } from '../../../src/util/scrub.js';
import { documentedMessages, fixtureLines, logLineAt, withTabs } from '../../fixtures/campaignLogs.js';
import { makeContext } from '../ctx.js';

const MINUTE = 60_000;
/** The injected clock's reference time; lines are stamped relative to it. */
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

let dir: string;
let live: string;
let rotated: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'logerrors-'));
  live = path.join(dir, 'mta.log');
  rotated = path.join(dir, 'mta_2.log');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const message = (level: string, text: string): string => documentedMessages().find(([l, m]) => l === level && m.includes(text))![1];
const CROSS_DEVICE = (): string => message('error', 'errno=18');
const PGS = (): string => message('error', 'duplicate key');
const XTK = (): string => message('error', 'XTK-170024');
const ODB_INFO = (): string => message('info', 'ODB-240007');

/** One log line stamped `agoMs` before T0. */
const line = (agoMs: number, level: string, text: string): string => `${logLineAt(T0 - agoMs, level, text)}\n`;

/** Successive runs of one check: shared memory, a clock the test sets per run. */
function runs(extra: Partial<LogErrorsCheckOptions> = {}) {
  const memory = new Map<string, unknown>();
  const check = logErrorsCheck({ files: [live, rotated], ...extra });
  return {
    at: (nowMs: number): Promise<LogErrorsResult> => check.run(makeContext({ now: () => nowMs, memory })),
    memory,
  };
}

/** A check whose first run (look-back) already happened on an empty log. */
async function started(extra: Partial<LogErrorsCheckOptions> = {}) {
  await writeFile(live, '');
  const r = runs(extra);
  expect((await r.at(T0 - MINUTE)).state).toBe('ok');
  return r;
}

describe('log_errors: judging the window', () => {
  test('a fresh error line: warning, with the count and the newest error code and text', async () => {
    const r = await started();
    await appendFile(live, line(2 * MINUTE, 'info', 'Updating table') + line(MINUTE, 'error', XTK()));
    expect(await r.at(T0)).toEqual({
      state: 'warning',
      message: "1 error line in the last 15m; newest 1m ago: XTK-170024 The temporary 'temp:deliveryEmail-all' schema is not defined in the current context",
      values: {
        log_lines_read: 2,
        log_error_lines: 1,
        log_warning_lines: 0,
        log_window_error_lines: 1,
        log_last_error_timestamp_seconds: (T0 - MINUTE) / 1000,
        log_bytes_pending: 0,
      },
    });
  });

  test('an error stays in the window on later runs with nothing new, and is forgotten once older than the window', async () => {
    const r = await started();
    await appendFile(live, line(MINUTE, 'error', PGS()));
    expect((await r.at(T0)).state).toBe('warning');
    const later = await r.at(T0 + 10 * MINUTE);
    expect(later.state).toBe('warning');
    expect(later.message).toMatch(/^1 error line in the last 15m; newest 11m ago: PGS-220000 /);
    expect(later.values?.log_error_lines).toBe(0);
    const forgotten = await r.at(T0 + 15 * MINUTE);
    expect(forgotten.state).toBe('ok');
    expect(forgotten.message).toBe('no error in the last 15m; 0 lines read');
    // The newest error's time stays for the metric.
    expect(forgotten.values?.log_last_error_timestamp_seconds).toBe((T0 - MINUTE) / 1000);
  });

  test('an error line older than the window, just read: ok, but its time is reported', async () => {
    const r = await started();
    await appendFile(live, line(20 * MINUTE, 'error', PGS()));
    const result = await r.at(T0);
    expect(result.state).toBe('ok');
    expect(result.values).toMatchObject({ log_error_lines: 1, log_window_error_lines: 0, log_last_error_timestamp_seconds: (T0 - 20 * MINUTE) / 1000 });
  });

  test('the window is configurable', async () => {
    const r = await started({ windowMs: 60 * MINUTE });
    await appendFile(live, line(40 * MINUTE, 'error', PGS()));
    expect((await r.at(T0)).message).toMatch(/^1 error line in the last 1h; newest 40m ago/);
  });

  test('coded info and warning lines are not errors: the level field decides', async () => {
    const r = await started();
    await appendFile(live, line(MINUTE, 'info', ODB_INFO()) + line(MINUTE, 'warning', 'JST-310027 URL not on the allow list') + line(0, 'info', 'XTK-170024 looks like an error, is info'));
    const result = await r.at(T0);
    expect(result.state).toBe('ok');
    expect(result.values).toMatchObject({ log_lines_read: 3, log_error_lines: 0, log_warning_lines: 1 });
  });

  test('ignored error lines are skipped: neither judged nor counted', async () => {
    const r = await started({ ignore: [/JWT Token is empty/, /^BAS-010007/g] });
    await appendFile(live, line(MINUTE, 'error', 'Listener: JWT Token is empty. (iRc=16384)') + line(MINUTE, 'error', 'BAS-010007 Function not implemented (iRc=-55)'));
    const result = await r.at(T0);
    expect(result.state).toBe('ok');
    expect(result.values).toMatchObject({ log_lines_read: 2, log_error_lines: 0 });
    // A pattern with the g flag keeps matching on later runs (no lastIndex left behind).
    await appendFile(live, line(0, 'error', 'BAS-010007 Function not implemented (iRc=-55)'));
    expect((await r.at(T0)).state).toBe('ok');
  });

  test('an error matching a critical pattern: critical, showing the newest critical line even when a newer error is not', async () => {
    const r = await started({ critical: [/errno=18/] });
    await appendFile(live, line(3 * MINUTE, 'error', CROSS_DEVICE()) + line(MINUTE, 'error', PGS()));
    const result = await r.at(T0);
    expect(result.state).toBe('critical');
    expect(result.message).toBe(
      "2 error lines in the last 15m, 1 matching a critical pattern; newest critical 3m ago: Unable to rename file '/tmp/tmp0000.tmp' to /usr/local/neolane/nl6/bin/..//var/XXX/mta/86510470.xml ;(errno=18, Invalid cross-device link) (iRc=-52)",
    );
    // A critical pattern on a line that is not an error changes nothing.
    const warningOnly = await started({ critical: [/errno=18/] });
    await appendFile(live, line(0, 'warning', CROSS_DEVICE()));
    expect((await warningOnly.at(T0)).state).toBe('ok');
  });

  test('a line stamped in the future (clock skew) counts as written now', async () => {
    const r = await started();
    await appendFile(live, line(-5 * MINUTE, 'error', PGS()));
    const result = await r.at(T0);
    expect(result.message).toMatch(/newest 0ms ago/);
    expect(result.values?.log_last_error_timestamp_seconds).toBe(T0 / 1000);
    expect((await r.at(T0 + 16 * MINUTE)).state).toBe('ok');
  });

  test('the clock set back a day: errors remembered from before do not stay for a day', async () => {
    const r = await started();
    await appendFile(live, line(0, 'error', PGS()));
    expect((await r.at(T0)).state).toBe('warning');
    const back = T0 - 24 * 60 * MINUTE;
    expect((await r.at(back)).state).toBe('warning');
    expect((await r.at(back + 16 * MINUTE)).state).toBe('ok');
  });
});

describe('log_errors: the documented lines', () => {
  test('the pipelined log of the docs (as printed, spaces): 5 errors, the newest without a code', async () => {
    await writeFile(live, '');
    const r = runs();
    await r.at(Date.UTC(2021, 4, 31, 8, 40));
    await appendFile(live, `${fixtureLines('pipeline-troubleshooting.log').join('\n')}\n`);
    const result = await r.at(Date.UTC(2021, 4, 31, 8, 50));
    expect(result.state).toBe('warning');
    expect(result.message).toBe(
      `5 error lines in the last 15m; newest 6m 50s ago: Error while authenticating: '{"error":"This client: df73c224e5-triggers-test is no longer allowed to get access token."}' (iRc=16384)`,
    );
    expect(result.values).toMatchObject({ log_lines_read: 6, log_error_lines: 5, log_warning_lines: 1 });
  });

  test('the same lines with tabs, as syslogd writes them', async () => {
    await writeFile(live, '');
    const r = runs({ critical: [/^INT-150012 /] });
    await r.at(Date.UTC(2021, 4, 31, 8, 40));
    await appendFile(live, `${fixtureLines('pipeline-troubleshooting.log').map(withTabs).join('\n')}\n`);
    const result = await r.at(Date.UTC(2021, 4, 31, 8, 50));
    expect(result.state).toBe('critical');
    expect(result.message).toMatch(/^5 error lines in the last 15m, 1 matching a critical pattern; newest critical 6m 50s ago: INT-150012 The HTTP query returned a 'Forbidden' type error \(403\) \(iRc=-53\)$/);
  });

  test('the older layout: literal \\n sequences become spaces in the message', async () => {
    await writeFile(live, '');
    const r = runs({ ignore: [/^SQL order/] });
    await r.at(Date.UTC(2011, 9, 4, 11, 50));
    await appendFile(live, `${fixtureLines('configuring-your-platform.log').join('\n')}\n`);
    const result = await r.at(Date.UTC(2011, 9, 4, 12, 0));
    expect(result.message).toBe(
      '1 error line in the last 15m; newest 2m 8s ago: PostgreSQL error: ERROR: cannot alter type of a column used by a view or rule DETAIL: rule _RETURN on view nmctrackinglogmessagesview depends on column "tslog" (iRc=-2006)',
    );
  });

  test('busy info-level logs: ok, no false alarm', async () => {
    const r = await started();
    const chatter = [ODB_INFO(), "Updating table 'NmcTrackingLogMessages'", 'Connection seems to have been lost. Attempting to reconnect.'];
    let text = '';
    for (let i = 0; i < 3000; i++) text += line((3000 - i) * 100, i % 10 === 0 ? 'warning' : 'info', chatter[i % 3]!);
    await appendFile(live, text);
    const result = await r.at(T0);
    expect(result.state).toBe('ok');
    expect(result.message).toBe('no error in the last 15m; 3000 lines read');
    expect(result.values).toMatchObject({ log_error_lines: 0, log_warning_lines: 300, log_window_error_lines: 0, log_last_error_timestamp_seconds: 0 });
  });
});

describe('log_errors: reading the files', () => {
  test('first run: errors in the look-back count for the state, not in the line counts', async () => {
    await writeFile(live, line(30 * MINUTE, 'error', PGS()) + line(MINUTE, 'error', XTK()));
    const r = runs();
    const first = await r.at(T0);
    expect(first.state).toBe('warning');
    expect(first.message).toMatch(/^1 error line in the last 15m; newest 1m ago: XTK-170024 /);
    expect(first.values).toMatchObject({ log_lines_read: 2, log_error_lines: 0, log_window_error_lines: 1, log_last_error_timestamp_seconds: (T0 - MINUTE) / 1000 });
    await appendFile(live, line(0, 'error', PGS()));
    expect((await r.at(T0)).values).toMatchObject({ log_error_lines: 1, log_window_error_lines: 2 });
  });

  test('first run on a big log reads its last firstRunTailBytes only', async () => {
    let text = line(14 * MINUTE, 'error', 'at the very start: not looked at');
    while (text.length < 600 * 1024) text += line(10 * MINUTE, 'info', ODB_INFO());
    text += line(MINUTE, 'error', XTK());
    await writeFile(live, text);
    const result = await runs().at(T0);
    expect(result.message).toMatch(/^1 error line in the last 15m; newest 1m ago: XTK-170024/);
    // The first error (14m old, so in the window) was not read: only one error line counts.
    expect(result.values!.log_lines_read).toBeLessThan((256 * 1024) / 80);
  });

  test('an ok first run says what it looked at', async () => {
    await writeFile(live, line(MINUTE, 'info', ODB_INFO()));
    expect((await runs().at(T0)).message).toBe('no error in the last 15m; 1 line read (first look: the last 256.0 KiB of mta.log)');
  });

  test('rotation mid-read: the error written just before the rotation is found in _2', async () => {
    const r = await started();
    await appendFile(live, line(3 * MINUTE, 'info', ODB_INFO()));
    expect((await r.at(T0)).state).toBe('ok');
    await appendFile(live, line(2 * MINUTE, 'error', CROSS_DEVICE()));
    await rename(live, rotated);
    await writeFile(live, line(MINUTE, 'info', ODB_INFO()));
    const result = await r.at(T0);
    expect(result.state).toBe('warning');
    expect(result.message).toMatch(/^1 error line in the last 15m; newest 2m ago: Unable to rename file/);
    expect(result.values).toMatchObject({ log_lines_read: 2, log_error_lines: 1 });
  });

  test('truncation: the file is read again from its start', async () => {
    const r = await started();
    await appendFile(live, line(5 * MINUTE, 'info', ODB_INFO()).repeat(20));
    expect((await r.at(T0)).state).toBe('ok');
    await truncate(live, 0);
    await appendFile(live, line(MINUTE, 'error', PGS()));
    expect((await r.at(T0)).state).toBe('warning');
  });

  test('the 1 MiB cap: a busy log is read over several runs, the message says so, the error at its end is found', async () => {
    const r = await started();
    let text = '';
    const info = line(4 * MINUTE, 'info', ODB_INFO());
    while (text.length < 2.5 * 1024 * 1024) text += info;
    text += line(3 * MINUTE, 'error', XTK());
    await appendFile(live, text);
    const first = await r.at(T0);
    expect(first.state).toBe('ok');
    expect(first.message).toMatch(/^no error in the last 15m; \d+ lines read; reading behind: 1\.5 MiB left for the next runs \(at most 1\.0 MiB a run\)$/);
    expect(first.values!.log_bytes_pending).toBeGreaterThan(1.4 * 1024 * 1024);
    const second = await r.at(T0);
    expect(second.message).toMatch(/reading behind: 512\.\d KiB left/);
    const third = await r.at(T0);
    expect(third.state).toBe('warning');
    expect(third.message).toMatch(/^1 error line in the last 15m; newest 3m ago: XTK-170024 [^;]*$/);
    expect(third.values!.log_bytes_pending).toBe(0);
  });

  test('a partial line waits for its end', async () => {
    const r = await started();
    const whole = line(MINUTE, 'error', PGS());
    await appendFile(live, whole.slice(0, 60));
    expect(await r.at(T0)).toMatchObject({ state: 'ok', values: { log_lines_read: 0, log_bytes_pending: 0 } });
    await appendFile(live, whole.slice(60));
    expect((await r.at(T0)).message).toMatch(/^1 error line in the last 15m; newest 1m ago: PGS-220000 PostgreSQL error: ERROR: duplicate key/);
  });
});

describe('log_errors: when it cannot look', () => {
  test('no live log: could not look (noEvidence), not ok', async () => {
    const result = await runs().at(T0);
    expect(result).toMatchObject({ state: 'unknown', noEvidence: true, message: `${live} does not exist: no log to look at` });
  });

  test('no live log, but a fresh error in _2: the error is evidence', async () => {
    await writeFile(rotated, line(MINUTE, 'error', PGS()));
    const result = await runs().at(T0);
    expect(result.state).toBe('warning');
    expect(result.noEvidence).toBeUndefined();
  });

  test('unreadable: unknown, naming the file and the reason', async () => {
    // Tests run as root here, where chmod 000 does not stop a read: a file where the log directory
    // should be fails the open with ENOTDIR, through the same path as EACCES (anything but ENOENT).
    const logDir = path.join(dir, 'log');
    await writeFile(logDir, 'not a directory\n');
    const file = path.join(logDir, 'mta.log');
    const result = await logErrorsCheck({ files: [file] }).run(makeContext({ now: () => T0 }));
    expect(result).toMatchObject({ state: 'unknown', message: `no error seen in the last 15m; cannot read ${file}: ENOTDIR` });
    expect(result.noEvidence).toBeUndefined();
  });

  test('an unreadable sibling does not hide a fresh error of the live file', async () => {
    await writeFile(live, line(MINUTE, 'error', PGS()));
    await writeFile(path.join(dir, 'sub'), 'x');
    const sibling = path.join(dir, 'sub', 'mta_2.log');
    const result = await logErrorsCheck({ files: [live, sibling] }).run(makeContext({ now: () => T0 }));
    expect(result.state).toBe('warning');
    expect(result.message).toMatch(new RegExp(`; cannot read ${sibling.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ENOTDIR$`));
  });
});

describe('log_errors: secrets', () => {
  const SECRETS = ['hunter2', 'S3cr3tInternal', 'pg-pass-42', 'dGhpcyBpcyBhIHRva2Vu', 'b1c2d3e4f5a6', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl', 'topsecretvalue'];
  const SESSION = '___921f9b38-72ac-49ad-b481-ab32973efc50';

  test('never in the message nor in the memory, whatever their shape', async () => {
    const r = await started();
    const text =
      `ODB-240000 ODBC error: login failed password=hunter2 internalPassword="S3cr3tInternal" ` +
      `-setdblogin:PostgreSQL:neolane/pg-pass-42@dbsrv Authorization: Bearer dGhpcyBpcyBhIHRva2Vu ` +
      `https://operator:b1c2d3e4f5a6@campaign.example.com/nl/jsp/soaprouter.jsp ` +
      `token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl {"clientSecret":"topsecretvalue"} __sessiontoken=${SESSION}`;
    for (const secret of [...SECRETS, SESSION]) expect(text).toContain(secret);
    // Every shape is scrubbed, also those the 200-character cut would hide from the message.
    const scrubbed = scrubSecrets(text);
    for (const secret of SECRETS) expect(scrubbed).not.toContain(secret);
    await appendFile(live, line(MINUTE, 'error', text));
    const result = await r.at(T0);
    expect(result.state).toBe('warning');
    for (const secret of [...SECRETS, SESSION]) {
      expect(result.message).not.toContain(secret);
      expect(JSON.stringify([...r.memory.values()], (_k, v: unknown) => (v instanceof Map ? [...v] : v))).not.toContain(secret);
    }
    expect(result.message).toContain('password=[redacted]');
    expect(result.message).toContain('ODB-240000 ODBC error: login failed');
  });

  test('cut at 200 characters after scrubbing', async () => {
    const r = await started();
    await appendFile(live, line(MINUTE, 'error', `WDB-200001 SQL statement '${'x'.repeat(500)} password=hunter2' could not be executed.`));
    const result = await r.at(T0);
    const shown = result.message.replace(/^.*? ago: /, '');
    expect(shown).toHaveLength(201); // 200 and the ellipsis
    expect(shown.endsWith('…')).toBe(true);
    expect(result.message).not.toContain('hunter2');
  });

  test('scrubSecrets leaves ordinary log text alone', () => {
    for (const [, text] of documentedMessages()) expect(scrubSecrets(text)).toBe(text);
    for (const docsLine of fixtureLines('pipeline-troubleshooting.log')) expect(scrubSecrets(docsLine)).toBe(docsLine);
    expect(scrubSecrets(`Unknown authentication mode: 'Bearer realm="Adobe Analytics"'.`)).toBe(`Unknown authentication mode: 'Bearer realm="Adobe Analytics"'.`);
    expect(scrubSecrets('<password>abc</password> pwd: x1 authPrivateKey=@AbC== SECRET=1')).toBe(
      '<password>[redacted]</password> pwd: [redacted] authPrivateKey=[redacted] SECRET=[redacted]',
    );
    expect(scrubSecrets('a key -----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n-----END RSA PRIVATE KEY----- after')).toBe('a key [redacted] after');
  });
});

describe('log_errors: options', () => {
  test('bad options are refused when the check is built', () => {
    expect(() => logErrorsCheck({ files: [] })).toThrow(/at least the live log/);
    expect(() => logErrorsCheck({ files: ['relative/mta.log'] })).toThrow(/absolute/);
    expect(() => logErrorsCheck({ files: ['/x/mta.log'], windowMs: 0 })).toThrow(/windowMs/);
    expect(() => logErrorsCheck({ files: ['/x/mta.log'], maxBytesPerRun: 10 })).toThrow(/maxBytesPerRun/);
    expect(() => logErrorsCheck({ files: ['/x/mta.log'], firstRunTailBytes: -1 })).toThrow(/firstRunTailBytes/);
    expect(() => logErrorsCheck({ files: ['/x/mta.log'], name: 'Log Errors' })).toThrow(/\[a-z0-9_\]/);
    expect(logErrorsCheck({ files: ['/x/mta.log'] }).name).toBe('log_errors');
  });
});
