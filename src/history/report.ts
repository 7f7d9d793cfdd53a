import { STATES, type State } from '../core/contracts.js';
import { formatDuration } from '../util/format.js';
import type { HistoryEvent } from './event.js';
import { timelines, type Span, type SpanState } from './timeline.js';
import { parseSince, sinceExpected } from './query.js';

/**
 * The availability report (`campaign-health report`, GET /report): per row, how the window [since, now]
 * was spent, and its incidents. Definitions (docs/report.md says the same to operators):
 *
 * - Shares are fractions of the whole window, so that ok + warning + critical + unknown + disabled +
 *   agentDown + noData = 1. `agentDown`: the agent was not running (no state is known then, never ok);
 *   `noData`: before the row's first event (the agent did not know the row yet).
 * - An incident is a stretch of `critical`: it begins when the row enters critical (from any state,
 *   a first verdict, or critical already at the window's start) and lasts until the row shows another
 *   state. An agent-down gap between two critical spans does not end it (nobody saw a recovery); a gap
 *   at its end does. Its duration runs from its first to its last critical moment, gaps inside included.
 * - It has recovered when the first state shown after it is ok or warning; its time to recover runs
 *   from its start to that moment (a gap before the recovery is included: the recovery was not seen
 *   sooner). An incident still critical at `now` is open; one that ended in unknown or disabled did not
 *   recover. Incidents that began before the window are cut at `since` (`beganBeforeWindow`).
 */
export interface Incident {
  start: number;
  /** Its last critical moment; `now` when still open. */
  end: number;
  durationMs: number;
  open: boolean;
  beganBeforeWindow: boolean;
  /** When it recovered (ok or warning shown); null when it did not (yet). */
  recoveredAt: number | null;
  timeToRecoverMs: number | null;
}

export type ShareKey = State | 'agentDown' | 'noData';
export const SHARE_KEYS: readonly ShareKey[] = [...STATES, 'agentDown', 'noData'];

export interface ReportRow {
  module: string;
  instance: string;
  /** Fractions of the window, summing to 1. */
  shares: Record<ShareKey, number>;
  /** The same in milliseconds. */
  ms: Record<ShareKey, number>;
  incidents: Incident[];
  longestIncidentMs: number | null;
  meanTimeToRecoverMs: number | null;
}

export interface AvailabilityReport {
  since: number;
  now: number;
  /** Whether the agent was running at `now`; false when computed from the file of a stopped daemon. */
  agentRunning: boolean;
  /** When the agent was down within the window. */
  agentDown: { start: number; end: number }[];
  agentDownMs: number;
  rows: ReportRow[];
}

export interface ReportOptions {
  since: number;
  now: number;
  agentRunning: boolean;
}

const SPAN_SHARE: Readonly<Record<SpanState, ShareKey>> = { ok: 'ok', warning: 'warning', critical: 'critical', unknown: 'unknown', disabled: 'disabled', down: 'agentDown', none: 'noData' };
const zeroes = (): Record<ShareKey, number> => Object.fromEntries(SHARE_KEYS.map((key) => [key, 0])) as Record<ShareKey, number>;

export function availability(events: readonly HistoryEvent[], options: ReportOptions): AvailabilityReport {
  const { since, now } = options;
  const computed = timelines(events, options);
  const windowMs = Math.max(0, now - since);
  const rows = computed.rows.map((row): ReportRow => {
    const ms = zeroes();
    for (const span of row.spans) ms[SPAN_SHARE[span.state]] += span.end - span.start;
    const shares = zeroes();
    if (windowMs > 0) for (const key of SHARE_KEYS) shares[key] = ms[key] / windowMs;
    const incidents = incidentsOf(row.spans, since);
    const recovered = incidents.filter((incident) => incident.timeToRecoverMs !== null);
    return {
      module: row.module,
      instance: row.instance,
      shares,
      ms,
      incidents,
      longestIncidentMs: incidents.length === 0 ? null : Math.max(...incidents.map((incident) => incident.durationMs)),
      meanTimeToRecoverMs: recovered.length === 0 ? null : recovered.reduce((sum, incident) => sum + incident.timeToRecoverMs!, 0) / recovered.length,
    };
  });
  return {
    since,
    now,
    agentRunning: options.agentRunning,
    agentDown: computed.down.map((span) => ({ start: span.start, end: span.end })),
    agentDownMs: computed.down.reduce((sum, span) => sum + span.end - span.start, 0),
    rows,
  };
}

/** The incidents of one row's spans (see the definitions above). */
export function incidentsOf(spans: readonly Span[], since: number): Incident[] {
  const incidents: Incident[] = [];
  let index = 0;
  while (index < spans.length) {
    if (spans[index]!.state !== 'critical') {
      index += 1;
      continue;
    }
    const start = spans[index]!.start;
    let last = index;
    // Absorb down gaps followed by critical again.
    let probe = index + 1;
    while (probe < spans.length) {
      const state = spans[probe]!.state;
      if (state === 'critical') last = probe;
      else if (state !== 'down') break;
      probe += 1;
    }
    const end = spans[last]!.end;
    let after = last + 1;
    while (after < spans.length && spans[after]!.state === 'down') after += 1;
    const next = spans[after];
    const open = last === spans.length - 1;
    const recoveredAt = next && (next.state === 'ok' || next.state === 'warning') ? next.start : null;
    incidents.push({
      start,
      end,
      durationMs: end - start,
      open,
      beganBeforeWindow: start === since,
      recoveredAt,
      timeToRecoverMs: recoveredAt === null ? null : recoveredAt - start,
    });
    index = last + 1;
  }
  return incidents;
}

/**
 * The report's window start (GET /report's `since`, the CLI's --since): read as GET /events reads it
 * (history/query.ts), and before `now`, since an empty window has no shares.
 */
export function reportSince(text: string, now: number): { since: number } | { error: string } {
  const since = parseSince(text, now);
  if (since === undefined) return { error: sinceExpected(text) };
  if (since >= now) return { error: `since: ${JSON.stringify(text)} leaves no window: it is not before now (${new Date(now).toISOString()})` };
  return { since };
}

export const REPORT_FORMATS = ['text', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const round = (fraction: number): number => Math.round(fraction * 1e6) / 1e6;

/** The JSON document of GET /report and `report --format json`: times in ISO 8601, shares as fractions. */
export function reportDocument(report: AvailabilityReport) {
  return {
    since: iso(report.since),
    now: iso(report.now),
    agentRunning: report.agentRunning,
    agentDown: report.agentDown.map((span) => ({ start: iso(span.start), end: iso(span.end) })),
    agentDownMs: report.agentDownMs,
    rows: report.rows.map((row) => ({
      module: row.module,
      instance: row.instance,
      shares: Object.fromEntries(SHARE_KEYS.map((key) => [key, round(row.shares[key])])),
      ms: row.ms,
      incidentCount: row.incidents.length,
      longestIncidentMs: row.longestIncidentMs,
      meanTimeToRecoverMs: row.meanTimeToRecoverMs === null ? null : Math.round(row.meanTimeToRecoverMs),
      incidents: row.incidents.map((incident) => ({
        start: iso(incident.start),
        end: iso(incident.end),
        durationMs: incident.durationMs,
        open: incident.open,
        beganBeforeWindow: incident.beganBeforeWindow,
        recoveredAt: isoOrNull(incident.recoveredAt),
        timeToRecoverMs: incident.timeToRecoverMs,
      })),
    })),
  };
}

const percent = (fraction: number): string => (fraction === 0 ? '-' : `${(fraction * 100).toFixed(fraction >= 0.9995 || fraction < 0.0005 ? 1 : 2)}%`);
const durationOrDash = (ms: number | null): string => (ms === null ? '-' : formatDuration(ms));
const TEXT_COLUMNS: readonly ShareKey[] = ['ok', 'warning', 'critical', 'unknown', 'disabled', 'agentDown', 'noData'];
const TEXT_HEADER: Readonly<Record<ShareKey, string>> = { ok: 'OK', warning: 'WARN', critical: 'CRIT', unknown: 'UNKN', disabled: 'DISAB', agentDown: 'AGENT DOWN', noData: 'NO DATA' };

/** The table for a person: one line per row, worst (most critical time) first, then the agent's downtime. */
export function reportText(report: AvailabilityReport, notes: readonly string[] = []): string {
  const header = ['MODULE', 'INSTANCE', ...TEXT_COLUMNS.map((key) => TEXT_HEADER[key]), 'INCIDENTS', 'LONGEST', 'MTTR'];
  const rows = [...report.rows].sort((a, b) => b.ms.critical - a.ms.critical || b.incidents.length - a.incidents.length);
  const lines = rows.map((row) => [
    row.module,
    row.instance || '-',
    ...TEXT_COLUMNS.map((key) => percent(row.shares[key])),
    String(row.incidents.length) + (row.incidents.some((incident) => incident.open) ? ' (open)' : ''),
    durationOrDash(row.longestIncidentMs),
    durationOrDash(row.meanTimeToRecoverMs),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  // Names left, numbers right: columns of percentages read down at a glance.
  const format = (cells: string[]): string => cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  const out = [
    `availability from ${iso(report.since)} to ${iso(report.now)} (${formatDuration(report.now - report.since)})`,
    ...notes,
    `agent down: ${report.agentDownMs === 0 ? 'never' : `${formatDuration(report.agentDownMs)} in ${report.agentDown.length} span(s): ${report.agentDown.map((span) => `${iso(span.start)} to ${iso(span.end)}`).join(', ')}`}`,
    '',
  ];
  if (lines.length === 0) out.push('no module events in this window');
  else out.push(format(header), ...lines.map(format));
  out.push('', 'shares of the whole window; AGENT DOWN is time nobody looked (never counted as ok); MTTR: mean time from critical to ok or warning');
  return `${out.join('\n')}\n`;
}

/** One line per row, shares as fractions and durations in ms, for spreadsheets. */
export function reportCsv(report: AvailabilityReport): string {
  const header = ['since', 'now', 'module', 'instance', ...SHARE_KEYS.map((key) => `${key}_share`), ...SHARE_KEYS.map((key) => `${key}_ms`), 'incidents', 'open_incidents', 'longest_incident_ms', 'mean_time_to_recover_ms'];
  const lines = report.rows.map((row) => [
    iso(report.since),
    iso(report.now),
    row.module,
    row.instance,
    ...SHARE_KEYS.map((key) => String(round(row.shares[key]))),
    ...SHARE_KEYS.map((key) => String(row.ms[key])),
    String(row.incidents.length),
    String(row.incidents.filter((incident) => incident.open).length),
    row.longestIncidentMs === null ? '' : String(row.longestIncidentMs),
    row.meanTimeToRecoverMs === null ? '' : String(Math.round(row.meanTimeToRecoverMs)),
  ]);
  return `${[header, ...lines].map((cells) => cells.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/**
 * RFC 4180 quoting; a cell starting with = + - @ gets a leading apostrophe so a spreadsheet shows a
 * module or instance name as text rather than running it as a formula.
 */
function csvCell(cell: string): string {
  const safe = /^[=+\-@\t\r]/.test(cell) && !/^-?\d/.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Renders a report in one of the formats; `notes` head the text format (the CLI's word on where it came from). */
export function renderReport(report: AvailabilityReport, format: ReportFormat, notes: readonly string[] = []): string {
  if (format === 'csv') return reportCsv(report);
  if (format === 'text') return reportText(report, notes);
  return `${JSON.stringify({ ...(notes.length > 0 ? { notes } : {}), ...reportDocument(report) }, null, 2)}\n`;
}
