import { snippet } from '../util/format.js';
import type { RowStatus } from '../core/store.js';
import { exitCodeOf, worst } from '../core/states.js';
import { hintSegments } from './statusPage.js';
import type { State } from '../core/contracts.js';

// Output of `campaign-health check --format nagios`, per the Nagios plugin development guidelines
// (also what Icinga, Zabbix's Nagios-compatible items and cron wrappers read):
//   CAMPAIGN <STATE> - <summary> | <perfdata>
//   <long output: one line per failing row, then its hint>
// The exit code (0 ok, 1 warning, 2 critical, 3 unknown) is the verdict; the text is for people.

export interface NagiosResult {
  /** Everything for stdout, ending with a newline. */
  output: string;
  exitCode: number;
}

const SERVICE = 'CAMPAIGN';
/** Failing rows (or groups of rows failing alike) named in the first line; the rest are counted (the long output has them all). */
export const MAX_SUMMARY_ROWS = 3;
/** Characters of each row's detail in the first line: it is what monitoring tables and SMS show. */
export const SUMMARY_DETAIL_CHARS = 80;
/** Characters of each row's detail in the long output; Nagios keeps at most 8 KiB of plugin output. */
export const LONG_DETAIL_CHARS = 400;

const FAILING: ReadonlySet<State> = new Set(['warning', 'critical', 'unknown']);
// The first line names the worst rows first: critical, then unknown, then warning (engine's ranking).
const SEVERITY_ORDER: readonly State[] = ['critical', 'unknown', 'warning'];
const COUNTED: readonly State[] = ['ok', 'warning', 'critical', 'unknown', 'disabled'];

/** Nagios' name for a state; a host where everything is disabled is OK, as its exit code says. */
const nagiosState = (state: State): string => ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'][exitCodeOf(state)]!;

/**
 * One line of plugin text: no line breaks (they would end the status line), no `|` (Nagios would
 * take the rest for perfdata), control characters gone, cut with `…`.
 */
export function pluginText(text: string, maxChars: number): string {
  return snippet(text, maxChars).replace(/\|/g, '¦');
}

/**
 * A perfdata label: any character but `=` and `'` (the guidelines' only exclusions), quoted when it
 * holds anything beyond letters, digits, `_`, `.` and `-`. `|` and control characters go too, as they
 * would break the line apart.
 */
export function perfLabel(name: string): string {
  const clean = name.replace(/[='|\u0000-\u001f\u007f]/g, '_');
  return /^[A-Za-z0-9_.-]+$/.test(clean) ? clean : `'${clean}'`;
}

/** `label=value[UOM];[warn];[crit];[min];[max]`, trailing empty fields dropped. */
function perf(label: string, value: number, warn = '', crit = '', min = '', max = ''): string {
  return `${perfLabel(label)}=${value};${warn};${crit};${min};${max}`.replace(/;+$/, '');
}

const rowName = (row: RowStatus): string => `${row.module}@${row.instance}`;
const plainHint = (hint: string): string => hintSegments(hint).map((segment) => segment.text).join('');

const listNames = (names: readonly string[]): string =>
  names.length <= MAX_SUMMARY_ROWS ? names.join(', ') : `${names.slice(0, MAX_SUMMARY_ROWS).join(', ')} and ${names.length - MAX_SUMMARY_ROWS} more`;

function summary(rows: readonly RowStatus[]): string {
  const failing = SEVERITY_ORDER.flatMap((state) => rows.filter((row) => row.state === state));
  if (failing.length > 0) {
    // Rows failing for the same reason (no install: every row) are named together, the reason once.
    const groups: { state: State; detail: string; names: string[] }[] = [];
    for (const row of failing) {
      const group = groups.find((candidate) => candidate.state === row.state && candidate.detail === row.detail);
      if (group) group.names.push(rowName(row));
      else groups.push({ state: row.state, detail: row.detail, names: [rowName(row)] });
    }
    const shown = groups.slice(0, MAX_SUMMARY_ROWS);
    const named = shown.map((group) => `${listNames(group.names)} ${group.state}: ${pluginText(group.detail, SUMMARY_DETAIL_CHARS)}`);
    const more = failing.length - shown.reduce((count, group) => count + group.names.length, 0);
    return `${named.join('; ')}${more > 0 ? `; and ${more} more failing` : ''}`;
  }
  const ok = rows.filter((row) => row.state === 'ok').length;
  const disabled = rows.length - ok;
  if (rows.length === 0) return 'no modules to check';
  if (ok === 0) return `all ${disabled} module${disabled === 1 ? '' : 's'} disabled`;
  return `${ok} module${ok === 1 ? '' : 's'} ok${disabled > 0 ? `, ${disabled} disabled` : ''}`;
}

/**
 * Perfdata for graphs and for tools that alert on it: the number of rows per state, then one value
 * per enabled row, its Nagios state code (0 ok, 1 warning, 2 critical, 3 unknown, min 0, max 3).
 * Thresholds use the guidelines' range rules, where a plain `N` alerts above N: warn `0` fires from
 * warning up, crit `1` from critical up (`1;2` would miss a warning and call critical a warning).
 * Disabled rows have no state to plot: they are only counted.
 */
function perfdata(rows: readonly RowStatus[]): string {
  const counts = COUNTED.map((state) => perf(state, rows.filter((row) => row.state === state).length, '', '', '0', String(rows.length)));
  const perRow = rows.filter((row) => row.state !== 'disabled').map((row) => perf(rowName(row), exitCodeOf(row.state), '0', '1', '0', '3'));
  return [...counts, ...perRow].join(' ');
}

function longOutput(rows: readonly RowStatus[]): string[] {
  return SEVERITY_ORDER.flatMap((state) => rows.filter((row) => row.state === state)).flatMap((row) => [
    `${rowName(row)} ${row.state.toUpperCase()}: ${pluginText(row.detail, LONG_DETAIL_CHARS)}`,
    `  hint: ${pluginText(plainHint(row.hint), LONG_DETAIL_CHARS)}`,
  ]);
}

/** The check's result as a Nagios plugin prints it; the exit code is the worst row's, as for the other formats. */
export function nagiosOutput(rows: readonly RowStatus[]): NagiosResult {
  const state = worst(rows.map((row) => row.state));
  const lines = [`${SERVICE} ${nagiosState(state)} - ${summary(rows)} | ${perfdata(rows)}`, ...longOutput(rows.filter((row) => FAILING.has(row.state)))];
  return { output: `${lines.join('\n')}\n`, exitCode: exitCodeOf(state) };
}

/**
 * The check could not run (invalid config or arguments, an unexpected error): UNKNOWN, exit 3, on
 * stdout because that is what Nagios shows. The first problem is in the status line, all of them in
 * the long output.
 */
export function nagiosUnknown(reason: string, problems: readonly string[] = []): NagiosResult {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  const first = problems[0] !== undefined ? `: ${problems[0]}` : '';
  const lines = [`${SERVICE} UNKNOWN - ${pluginText(`${reason}${first}`, 300)}${more}`, ...(problems.length > 1 ? problems.map((problem) => pluginText(problem, LONG_DETAIL_CHARS)) : [])];
  return { output: `${lines.join('\n')}\n`, exitCode: 3 };
}
