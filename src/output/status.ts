import type { RowStatus } from '../core/store.js';
import { worst } from '../core/states.js';
import { formatDuration } from '../util/format.js';
import type { State } from '../core/contracts.js';
import type { HistoryStatus } from '../history/source.js';
import { statusRowEventKey } from '../history/event.js';

export interface AgentInfo {
  version: string;
  startedAt: number;
}

/** The documented /status and `check --format json` document. */
export interface StatusDocument {
  state: State;
  generatedAt: string;
  agent: { version: string; startedAt: string };
  /** The event log: its file and whether events reach it (the daemon only; docs/history.md). */
  history?: HistoryStatus;
  modules: {
    module: string;
    instance: string;
    scope: string;
    state: State;
    since: string;
    lastRun: string | null;
    detail: string;
    remediation: string;
    /** State changes of the row in the last 24 hours (first verdicts after a start not counted). */
    changes24h: number;
    /** `labels`: only on checks that have their own (trackinglogd's redir_log: `redir_instance`). */
    checks: { name: string; labels?: Record<string, string>; state: string; message: string; durationMs: number; lastRun: string }[];
    /** Checks that gave no verdict this run (could not look, or only count), with why; omitted when none. */
    notLooked?: { name: string; labels?: Record<string, string>; message: string }[];
  }[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** What /status shows of the history: the log's status (daemon only) and each row's changes in 24 h. */
export interface HistoryView {
  status?: HistoryStatus;
  /** Per row, keyed by statusRowEventKey. */
  changes24h: ReadonlyMap<string, number>;
}

export function statusDocument(rows: readonly RowStatus[], agent: AgentInfo, now: number, history?: HistoryView): StatusDocument {
  return {
    // No rows yet means the agent has not planned anything: nothing is known.
    state: worst(rows.map((row) => row.state), 'unknown'),
    generatedAt: iso(now),
    agent: { version: agent.version, startedAt: iso(agent.startedAt) },
    ...(history?.status ? { history: history.status } : {}),
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
      changes24h: history?.changes24h.get(statusRowEventKey(row)) ?? 0,
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

/** The readable table: one line per row, then the hint under every failing row; a line when the history is not kept on disk. */
export function statusText(rows: readonly RowStatus[], now: number, history?: HistoryStatus): string {
  const header = ['MODULE', 'INSTANCE', 'STATE', 'SINCE', 'DETAIL'];
  const lines = rows.map((row) => [row.module, row.instance, row.state.toUpperCase(), `${formatDuration(Math.max(0, now - row.since))} ago`, row.detail]);
  const widths = header.slice(0, 4).map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]): string =>
    cells.map((cell, column) => (column < 4 ? cell.padEnd(widths[column]!) : cell)).join('  ').trimEnd();
  const out = [`overall: ${worst(rows.map((row) => row.state), 'unknown').toUpperCase()}`];
  if (history?.problem) out.push(`history: ${history.problem}`);
  if (history?.setAside) out.push(`history: a corrupt event file was set aside as ${history.setAside}`);
  out.push('', format(header));
  rows.forEach((row, index) => {
    out.push(format(lines[index]!));
    if (FAILING.has(row.state)) out.push(`${' '.repeat(widths[0]! + 2)}hint: ${row.hint}`);
  });
  return `${out.join('\n')}\n`;
}
