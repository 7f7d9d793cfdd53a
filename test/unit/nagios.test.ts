import { describe, expect, test } from '@jest/globals';
import type { Row } from '../../src/core/plan.js';
import type { CheckOutcome } from '../../src/core/runner.js';
import { StatusStore, type RowStatus } from '../../src/core/store.js';
import { MAX_SUMMARY_ROWS, nagiosOutput, nagiosUnknown, perfLabel, pluginText, SUMMARY_DETAIL_CHARS } from '../../src/output/nagios.js';
import type { ProbePlugin } from '../../src/core/plugin.js';
import type { CheckState } from '../../src/core/contracts.js';

const WEB_HINT = "Check this module if the console and web connections don't work and trigger an **xtk:session** type error";
const planRow = (module: string, instance = 'default', enabled = true, hint = `hint of ${module}`): Row => {
  const plugin: ProbePlugin = { module, scope: `scope of ${module}`, hint, runsOn: 'machine', defaultSchedule: '*/30 * * * * *', expected: () => true, checks: () => [] };
  return { key: `${module}@${instance}`, module, instance, plugin, enabled, note: enabled ? '' : 'not enabled on this host', schedule: plugin.defaultSchedule, timeoutMs: 1000, intervalMs: 30_000, failuresBeforeCritical: 1, successesBeforeOk: 1, confirmAfterMs: 0, checks: [] };
};

/** Rows recorded with one check each: [module, instance, state, message] or a disabled row. */
function rows(...specs: ([string, string, CheckState, string, string?] | [string, string, 'disabled'])[]): RowStatus[] {
  const store = new StatusStore(() => 0);
  const plan = specs.map(([module, instance, state, , hint]) => planRow(module, instance, state !== 'disabled', hint));
  store.sync(plan, 0);
  specs.forEach((spec, index) => {
    if (spec[2] !== 'disabled') store.record(plan[index]!, [{ name: 'c', state: spec[2], message: spec[3], durationMs: 1, lastRun: 0, values: {}, labels: {} }], 0);
  });
  return store.all();
}

// Nagios plugin development guidelines: `'label'=value[UOM];[warn];[crit];[min];[max]`, space
// separated; a label is quoted when needed, holds neither `=` nor `'` (a quote inside a quoted
// label would be doubled, which this agent never needs); value, min and max are numbers (or U);
// warn and crit are ranges.
const NUMBER = '-?\\d+(?:\\.\\d+)?';
const RANGE = `@?(?:(?:${NUMBER}|~):)?(?:${NUMBER})?`;
const LABEL = `(?:[^\\s='|]+|'[^='|]+')`;
const PERF_ITEM = new RegExp(`^${LABEL}=(?:${NUMBER}|U)(?:[a-zA-Z%]+)?(?:;(?:${RANGE})?(?:;(?:${RANGE})?(?:;(?:${NUMBER})?(?:;(?:${NUMBER})?)?)?)?)?$`);

/** Splits plugin output into status text, perfdata items and long output lines, checking the shape on the way. */
function parse(output: string): { status: string; perf: string[]; long: string[] } {
  expect(output.endsWith('\n')).toBe(true);
  const [first, ...long] = output.slice(0, -1).split('\n');
  const parts = first!.split('|');
  expect(parts).toHaveLength(2);
  for (const line of long) expect(line).not.toContain('|');
  const perf = parts[1]!.trim().split(' ');
  for (const item of perf) expect(item).toMatch(PERF_ITEM);
  return { status: parts[0]!.trimEnd(), perf, long };
}

describe('nagios output', () => {
  test('healthy: OK, counts in the status line, perfdata per row, exit 0', () => {
    const result = nagiosOutput(rows(['watchdog', 'default', 'ok', 'running'], ['web', 'default', 'ok', 'fine'], ['export', 'prod', 'disabled']));
    expect(result.exitCode).toBe(0);
    const { status, perf, long } = parse(result.output);
    expect(status).toBe('CAMPAIGN OK - 2 modules ok, 1 disabled');
    expect(perf).toEqual(['ok=2;;;0;3', 'warning=0;;;0;3', 'critical=0;;;0;3', 'unknown=0;;;0;3', 'disabled=1;;;0;3', "'watchdog@default'=0;0;1;0;3", "'web@default'=0;0;1;0;3"]);
    expect(long).toEqual([]);
  });

  test('failing rows: worst first in the status line, one long line and one hint line each, exit of the worst', () => {
    const result = nagiosOutput(
      rows(
        ['mta', 'prod', 'warning', 'mta.log not written for 26h'],
        ['watchdog', 'default', 'ok', 'running'],
        ['web', 'default', 'critical', "r_test: /r/test answered status='KO'", WEB_HINT],
        ['inMail', 'prod', 'unknown', 'POP3 login refused'],
      ),
    );
    expect(result.exitCode).toBe(2);
    const { status, perf, long } = parse(result.output);
    expect(status).toBe("CAMPAIGN CRITICAL - web@default critical: c: r_test: /r/test answered status='KO'; inMail@prod unknown: c: POP3 login refused; mta@prod warning: c: mta.log not written for 26h");
    expect(perf).toContain("'web@default'=2;0;1;0;3");
    expect(perf).toContain("'inMail@prod'=3;0;1;0;3");
    expect(perf).toContain("'mta@prod'=1;0;1;0;3");
    expect(perf).toContain('critical=1;;;0;4');
    expect(long).toEqual([
      "web@default CRITICAL: c: r_test: /r/test answered status='KO'",
      "  hint: Check this module if the console and web connections don't work and trigger an xtk:session type error",
      'inMail@prod UNKNOWN: c: POP3 login refused',
      '  hint: hint of inMail',
      'mta@prod WARNING: c: mta.log not written for 26h',
      '  hint: hint of mta',
    ]);
  });

  test('exit codes follow the worst row: warning 1, unknown 3, all disabled 0', () => {
    expect(nagiosOutput(rows(['mta', 'prod', 'warning', 'old'])).exitCode).toBe(1);
    expect(nagiosOutput(rows(['mta', 'prod', 'warning', 'old'], ['web', 'default', 'unknown', 'timeout'])).exitCode).toBe(3);
    const disabled = nagiosOutput(rows(['export', 'prod', 'disabled']));
    expect(disabled.exitCode).toBe(0);
    expect(parse(disabled.output).status).toBe('CAMPAIGN OK - all 1 module disabled');
    expect(parse(nagiosOutput(rows(['mta', 'prod', 'warning', 'old'])).output).status).toMatch(/^CAMPAIGN WARNING - mta@prod warning: /);
  });

  test('a pipe, line breaks and control characters in a message cannot break the output apart', () => {
    const result = nagiosOutput(rows(['web', 'default', 'critical', 'answered <html>a|b\nsecond line\r\n| x=1;2;3\u0007 end']));
    const { status, perf, long } = parse(result.output);
    expect(status).toBe('CAMPAIGN CRITICAL - web@default critical: c: answered <html>a¦b second line ¦ x=1;2;3 end');
    expect(perf).toHaveLength(6);
    expect(long[0]).toBe('web@default CRITICAL: c: answered <html>a¦b second line ¦ x=1;2;3 end');
    expect(result.output.split('\n')).toHaveLength(4);
  });

  test('long details are cut in the status line, and only the first rows are named there', () => {
    const long = 'x'.repeat(500);
    // Distinct details (the index at the end), or the rows would be grouped as failing alike.
    const failing = Array.from({ length: MAX_SUMMARY_ROWS + 2 }, (_, index) => ['mta', `i${index}`, 'critical', `${long}${index}`] as [string, string, CheckState, string]);
    const result = nagiosOutput(rows(...failing));
    const { status, long: lines } = parse(result.output);
    const named = status.match(/mta@i\d critical/g) ?? [];
    expect(named).toHaveLength(MAX_SUMMARY_ROWS);
    expect(status.endsWith('; and 2 more failing')).toBe(true);
    expect(status).toContain(`c: ${'x'.repeat(SUMMARY_DETAIL_CHARS - 3)}…;`);
    // The long output lists every failing row.
    expect(lines.filter((line) => line.startsWith('mta@'))).toHaveLength(MAX_SUMMARY_ROWS + 2);
  });

  test('rows failing alike are named together with the reason once', () => {
    const gone = 'Campaign install not found: /x does not exist';
    const result = nagiosOutput(rows(...['watchdog', 'syslogd', 'web', 'trackinglogd', 'nlserver'].map((module) => [module, 'default', 'unknown', gone] as [string, string, CheckState, string]), ['mta', 'prod', 'unknown', 'other']));
    expect(parse(result.output).status).toBe(
      'CAMPAIGN UNKNOWN - watchdog@default, syslogd@default, web@default and 2 more unknown: c: Campaign install not found: /x does not exist; mta@prod unknown: c: other',
    );
    expect(result.exitCode).toBe(3);
  });

  test('perfdata labels: quoted when needed, never holding = or \' or |', () => {
    expect(perfLabel('ok')).toBe('ok');
    expect(perfLabel('web@default')).toBe("'web@default'");
    expect(perfLabel("we'b=x|y z")).toBe("'we_b_x_y z'");
    const result = nagiosOutput(rows(['web', "o'dd=inst", 'critical', 'gone']));
    expect(parse(result.output).perf).toContain("'web@o_dd_inst'=2;0;1;0;3");
  });

  test('pluginText: one line, no pipe, cut with an ellipsis', () => {
    expect(pluginText('a|b\nc', 100)).toBe('a¦b c');
    expect(pluginText('abcdef', 3)).toBe('abc…');
  });

  test('no rows at all: still a well-formed OK line', () => {
    const { status, perf } = parse(nagiosOutput([]).output);
    expect(status).toBe('CAMPAIGN OK - no modules to check');
    expect(perf).toEqual(['ok=0;;;0;0', 'warning=0;;;0;0', 'critical=0;;;0;0', 'unknown=0;;;0;0', 'disabled=0;;;0;0']);
  });

  test('the check could not run: UNKNOWN, exit 3, first problem in the status line, all of them after', () => {
    const one = nagiosUnknown('invalid config', ['/etc/a.yaml: bogus: unknown key']);
    expect(one).toEqual({ output: 'CAMPAIGN UNKNOWN - invalid config: /etc/a.yaml: bogus: unknown key\n', exitCode: 3 });
    const two = nagiosUnknown('invalid config', ['/etc/a.yaml: bogus: unknown key', '/etc/a.yaml: listen: expected host:port|x']);
    expect(two.output).toBe(
      'CAMPAIGN UNKNOWN - invalid config: /etc/a.yaml: bogus: unknown key (and 1 more)\n/etc/a.yaml: bogus: unknown key\n/etc/a.yaml: listen: expected host:port¦x\n',
    );
    expect(nagiosUnknown('check failed: boom').output).toBe('CAMPAIGN UNKNOWN - check failed: boom\n');
  });
});

describe('the perfdata regex itself', () => {
  test.each(["'web@default'=2;0;1;0;3", 'ok=17;;;0;21', 'load=0.5;1;2', 'x=U', 'time=12ms;100;@10:20;0', "'a b'=1"])('accepts %s', (item) => {
    expect(item).toMatch(PERF_ITEM);
  });
  test.each(["web'x=1", 'a=b', 'a=1;;;;;', "'a=b'=1", 'a b=1', 'a=1;2;3;x'])('rejects %s', (item) => {
    expect(item).not.toMatch(PERF_ITEM);
  });
});
