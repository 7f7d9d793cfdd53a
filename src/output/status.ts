import type { RowStatus } from '../core/store.js';
import { worst } from '../core/states.js';
import { formatDuration } from '../util/format.js';
import type { State } from '../core/contracts.js';

export interface AgentInfo {
  version: string;
  startedAt: number;
}

/** The documented /status and `check --format json` document. */
export interface StatusDocument {
  state: State;
  generatedAt: string;
  agent: { version: string; startedAt: string };
  modules: {
    module: string;
    instance: string;
    scope: string;
    state: State;
    since: string;
    lastRun: string | null;
    detail: string;
    remediation: string;
    /** `labels`: only on checks that have their own (trackinglogd's redir_log: `redir_instance`). */
    checks: { name: string; labels?: Record<string, string>; state: string; message: string; durationMs: number; lastRun: string }[];
    /** Checks that gave no verdict this run (could not look, or only count), with why; omitted when none. */
    notLooked?: { name: string; labels?: Record<string, string>; message: string }[];
  }[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function statusDocument(rows: readonly RowStatus[], agent: AgentInfo, now: number): StatusDocument {
  return {
    // No rows yet means the agent has not planned anything: nothing is known.
    state: worst(rows.map((row) => row.state), 'unknown'),
    generatedAt: iso(now),
    agent: { version: agent.version, startedAt: iso(agent.startedAt) },
    modules: rows.map((row) => ({
      module: row.module,
      instance: row.instance,
      scope: row.scope,
      state: row.state,
      since: iso(row.since),
      lastRun: row.lastRun === undefined ? null : iso(row.lastRun),
      detail: row.detail,
      // The documented field name; the text is the plugin's hint.
      remediation: row.hint,
      checks: row.checks.map((check) => ({
        name: check.name,
        ...(check.checkLabels ? { labels: { ...check.checkLabels } } : {}),
        state: check.state,
        message: check.message,
        durationMs: check.durationMs,
        lastRun: iso(check.lastRun),
      })),
      ...(row.notLooked.length === 0
        ? {}
        : { notLooked: row.notLooked.map((check) => ({ name: check.name, ...(check.checkLabels ? { labels: { ...check.checkLabels } } : {}), message: check.message })) }),
    })),
  };
}

const FAILING: ReadonlySet<State> = new Set(['warning', 'critical', 'unknown']);

/** The readable table: one line per row, then the hint under every failing row. */
export function statusText(rows: readonly RowStatus[], now: number): string {
  const header = ['MODULE', 'INSTANCE', 'STATE', 'SINCE', 'DETAIL'];
  const lines = rows.map((row) => [row.module, row.instance, row.state.toUpperCase(), `${formatDuration(Math.max(0, now - row.since))} ago`, row.detail]);
  const widths = header.slice(0, 4).map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]): string =>
    cells.map((cell, column) => (column < 4 ? cell.padEnd(widths[column]!) : cell)).join('  ').trimEnd();
  const out = [`overall: ${worst(rows.map((row) => row.state), 'unknown').toUpperCase()}`, '', format(header)];
  rows.forEach((row, index) => {
    out.push(format(lines[index]!));
    if (FAILING.has(row.state)) out.push(`${' '.repeat(widths[0]! + 2)}hint: ${row.hint}`);
  });
  return `${out.join('\n')}\n`;
}
