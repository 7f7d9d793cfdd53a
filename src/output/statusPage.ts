import { createHash } from 'node:crypto';
import { formatDuration } from '../util/format.js';
import type { RowStatus } from '../core/store.js';
import { worst } from '../core/states.js';
import type { AgentInfo } from './status.js';
import type { State } from '../core/contracts.js';
import { escapeHtml } from './escape.js';
import { eventRowKey, eventRowName, statusRowEventKey, type HistoryEvent } from '../history/event.js';
import { timelines, type RowTimeline } from '../history/timeline.js';
import { isFlapping, FLAP_CHANGES_PER_HOUR, STRIP_DEFS, STRIP_MS, stripSvg, stripTime } from './strip.js';

export { escapeHtml };

/** How often the page reloads itself; a meta refresh, because the page carries no script at all. */
export const REFRESH_SECONDS = 10;

/**
 * Badge and banner colours. Each carries white text at a contrast of at least 4.5:1 (WCAG AA), and
 * every badge also spells its state out, so colour is never the only cue.
 */
export const STATE_COLOURS: Readonly<Record<State, string>> = {
  ok: '#1a7f37',
  warning: '#9a6700',
  critical: '#cf222e',
  unknown: '#6639ba',
  disabled: '#6e7781',
};

const FAILING: ReadonlySet<State> = new Set(['warning', 'critical', 'unknown']);
// The banner counts in the order a person triages: worst first.
const COUNT_ORDER: readonly State[] = ['critical', 'unknown', 'warning', 'ok', 'disabled'];

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e; --line: #d1d9e0; --stripe: #f6f8fa;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif; line-height: 1.45; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d; --stripe: #151b23; } }
body { margin: 0; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 80rem; margin: 0 auto; padding: 0.75rem 1rem; }
.banner { color: #fff; border-radius: 0 0 0.5rem 0.5rem; }
.banner h1 { margin: 0; font-size: 1.5rem; }
.banner p { margin: 0.25rem 0 0; }
.banner a { color: #fff; }
${(Object.keys(STATE_COLOURS) as State[]).map((state) => `.state-${state} { background: ${STATE_COLOURS[state]}; }`).join('\n')}
table { width: 100%; border-collapse: collapse; }
caption { text-align: left; font-weight: 600; padding: 0.5rem 0; }
th, td { text-align: left; vertical-align: top; padding: 0.5rem; border-bottom: 1px solid var(--line); }
thead th { border-bottom-width: 2px; white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--stripe); }
tbody tr.failing > th { box-shadow: inset 4px 0 0 var(--row-colour); }
${(['warning', 'critical', 'unknown'] as const).map((state) => `tr.row-${state} { --row-colour: ${STATE_COLOURS[state]}; }`).join('\n')}
.module { font-weight: 600; }
.scope, .checked { display: block; font-size: 0.8rem; color: var(--muted); font-weight: normal; }
.badge { display: inline-block; min-width: 5.5rem; text-align: center; color: #fff; font-weight: 700; font-size: 0.8rem;
  letter-spacing: 0.03em; padding: 0.15rem 0.5rem; border-radius: 1rem; white-space: nowrap; }
.detail { overflow-wrap: anywhere; }
.hint { margin: 0.35rem 0 0; }
.hint-label { font-weight: 700; }
code { font-size: 0.9em; }
tr.row-disabled, tr.row-disabled .scope, tr.row-disabled .checked { color: var(--muted); }
tr.row-disabled .badge { opacity: 0.75; }
footer { color: var(--muted); font-size: 0.85rem; }
.strip-defs { position: absolute; }
.strip { display: block; width: 100%; min-width: 12rem; height: 0.9rem; border: 1px solid var(--line); }
${(Object.keys(STATE_COLOURS) as State[]).map((state) => `.seg-${state} { fill: ${STATE_COLOURS[state]}; }`).join('\n')}
.seg-down { fill: url(#strip-down); }
.seg-none { fill: var(--stripe); }
.strip-axis { display: flex; justify-content: space-between; font-size: 0.7rem; color: var(--muted); }
.flapping { display: inline-block; margin-top: 0.25rem; font-size: 0.75rem; font-weight: 700; padding: 0 0.4rem; border-radius: 1rem;
  border: 2px dashed ${STATE_COLOURS.warning}; }
.events { margin-top: 1.5rem; }
.events td:first-child { white-space: nowrap; }
.events details { margin-top: 0.25rem; }
footer a { color: inherit; }
@media (max-width: 40rem) {
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table, caption, tbody, tr, th, td { display: block; }
  tbody tr { padding: 0.5rem 0; border-bottom: 1px solid var(--line); }
  th, td { border: 0; padding: 0.15rem 0.75rem; }
  td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
}
@media print {
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  .refresh { display: none; }
}
`;

/**
 * The page's Content-Security-Policy. Nothing may load or run: the one inline stylesheet is allowed
 * by its hash, so a string that slipped through escaping still could neither run script nor style the
 * page. base-uri, form-action and frame-ancestors do not fall back to default-src, hence listed.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface HintSegment {
  text: string;
  kind: 'text' | 'strong' | 'code' | 'link';
  /** kind 'link': an absolute https URL (hints are resolved to Adobe's published pages). */
  href?: string;
}

// `**bold**`, `` `code` `` and `[label](target)`: the only Markdown the hints use.
const INLINE_MARKDOWN = /\*\*([^*\n]+?)\*\*|`([^`\n]+)`|\[([^\]\n]+)\]\(([^)\s]*)\)/g;

/**
 * Splits a hint into plain, strong and code runs. Links become their label: the targets
 * are relative paths into Adobe's documentation tree, which mean nothing on the agent. The runs are
 * raw text; each renderer escapes them for its own medium.
 */
export function hintSegments(hint: string): HintSegment[] {
  const segments: HintSegment[] = [];
  const push = (text: string, kind: HintSegment['kind']): void => {
    if (text === '') return;
    const last = segments[segments.length - 1];
    if (kind === 'text' && last?.kind === 'text') last.text += text;
    else segments.push({ text, kind });
  };
  let at = 0;
  for (const match of hint.matchAll(INLINE_MARKDOWN)) {
    push(hint.slice(at, match.index), 'text');
    if (match[1] !== undefined) push(match[1], 'strong');
    else if (match[2] !== undefined) push(match[2], 'code');
    else if (/^https:\/\/[^\s"<>]+$/.test(match[4] ?? '')) segments.push({ text: match[3]!, kind: 'link', href: match[4]! });
    // A link that leads nowhere from here keeps its text only.
    else push(match[3]!, 'text');
    at = match.index + match[0].length;
  }
  push(hint.slice(at), 'text');
  return segments;
}

function hintHtml(hint: string): string {
  return hintSegments(hint)
    .map((segment) =>
      segment.kind === 'text'
        ? escapeHtml(segment.text)
        : segment.kind === 'link'
          ? `<a href="${escapeHtml(segment.href!)}" rel="noreferrer">${escapeHtml(segment.text)}</a>`
          : `<${segment.kind}>${escapeHtml(segment.text)}</${segment.kind}>`,
    )
    .join('');
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ago = (ms: number, now: number): string => `${formatDuration(Math.max(0, now - ms))} ago`;
const label = (state: State): string => state.toUpperCase();
const rowName = (row: RowStatus): string => `${row.module}@${row.instance}`;
// Fragment targets for the banner's links to failing rows; ids only need to be unique and space-free.
const rowId = (row: RowStatus): string => `row-${rowName(row).replace(/[^A-Za-z0-9_.@-]/g, '_')}`;

function badge(state: State): string {
  return `<span class="badge state-${state}">${label(state)}</span>`;
}

/** What the page knows of a row's past: its 24-hour strip and whether it flaps. */
interface RowPast {
  timeline?: RowTimeline;
  flapping: boolean;
}

function pastHtml(row: RowStatus, past: RowPast | undefined, now: number): string {
  if (!past?.timeline) return '<span class="scope">no history yet</span>';
  return stripSvg(rowName(row), past.timeline.spans, now) + `<span class="strip-axis" aria-hidden="true"><span>−${Math.round(STRIP_MS / 3_600_000)} h</span><span>now</span></span>`;
}

function rowHtml(row: RowStatus, now: number, past?: RowPast): string {
  const failing = FAILING.has(row.state);
  const checked =
    row.state === 'disabled' ? '' : row.lastRun === undefined ? '<span class="checked">not run yet</span>' : `<span class="checked">checked <time datetime="${iso(row.lastRun)}" title="${iso(row.lastRun)}">${ago(row.lastRun, now)}</time></span>`;
  const hint = failing ? `<p class="hint"><span class="hint-label">What to do:</span> ${hintHtml(row.hint)}</p>` : '';
  return (
    `<tr id="${escapeHtml(rowId(row))}" class="row-${row.state}${failing ? ' failing' : ''}">` +
    `<th scope="row"><span class="module">${escapeHtml(row.module)}</span><span class="scope">${escapeHtml(row.scope)}</span></th>` +
    `<td data-label="Instance">${escapeHtml(row.instance)}</td>` +
    `<td data-label="State">${badge(row.state)}${past?.flapping ? `<br><span class="flapping" title="changed state more than ${FLAP_CHANGES_PER_HOUR} times in the last hour">FLAPPING</span>` : ''}</td>` +
    (past === undefined ? '' : `<td data-label="Last 24 h">${pastHtml(row, past, now)}</td>`) +
    `<td data-label="Since"><time datetime="${iso(row.since)}" title="${iso(row.since)}">${ago(row.since, now)}</time>${checked}</td>` +
    `<td data-label="Detail"><div class="detail">${escapeHtml(row.detail)}</div>${hint}</td>` +
    '</tr>'
  );
}

function summaryHtml(rows: readonly RowStatus[]): string {
  if (rows.length === 0) return 'No modules planned yet.';
  const counts = COUNT_ORDER.map((state) => [state, rows.filter((row) => row.state === state).length] as const).filter(([, count]) => count > 0);
  const failing = rows.filter((row) => FAILING.has(row.state));
  const links = failing.map((row) => `<a href="#${escapeHtml(rowId(row))}">${escapeHtml(rowName(row))}</a>`).join(', ');
  return `${counts.map(([state, count]) => `${count} ${state}`).join(', ')}${failing.length > 0 ? `. Failing: ${links}` : ''}`;
}

/**
 * The page at `/`: what /status says, for a person in a browser. Server-rendered, no script; every
 * string from the rows is escaped (details quote HTTP answers and command output verbatim).
 */
export function statusPage(rows: readonly RowStatus[], agent: AgentInfo, now: number, history?: PageHistory): string {
  // Same rule as /status: nothing planned means nothing is known.
  const overall = worst(rows.map((row) => row.state), 'unknown');
  const pasts = history ? rowPasts(history, now) : undefined;
  const columns = pasts ? 6 : 5;
  const body =
    rows.length === 0 ? `<tr><td colspan="${columns}">No modules planned yet.</td></tr>` : rows.map((row) => rowHtml(row, now, pasts ? pastOf(pasts, row) : undefined)).join('\n');
  // Links are relative ("./status") so the page keeps working behind a reverse proxy under a prefix.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${label(overall)} · Campaign health</title>
<style>${STYLE}</style>
</head>
<body>
<header class="banner state-${overall}" role="status">
<h1>Campaign health: <span class="overall">${label(overall)}</span></h1>
<p>${summaryHtml(rows)}</p>
</header>
<main>
<table class="modules">
<caption>Modules on this host</caption>
<thead><tr><th scope="col">Module</th><th scope="col">Instance</th><th scope="col">State</th>${pasts ? '<th scope="col">Last 24 h</th>' : ''}<th scope="col">Since</th><th scope="col">Detail</th></tr></thead>
<tbody>
${body}
</tbody>
</table>
${history ? `${STRIP_DEFS}\n${eventsHtml(history.events, rows)}` : ''}
</main>
<footer>
<p>campaign-health-agent ${escapeHtml(agent.version)}, running since <time datetime="${iso(agent.startedAt)}">${iso(agent.startedAt)}</time>.
Generated <time datetime="${iso(now)}">${iso(now)}</time><span class="refresh">, refreshes every ${REFRESH_SECONDS} s</span>.
Also as <a href="./status">JSON</a>, <a href="./status?format=text">text</a> and <a href="./metrics">Prometheus metrics</a>.</p>
</footer>
</body>
</html>
`;
}

/** The history the page draws from (the agent's event log). */
export interface PageHistory {
  /** Oldest first. */
  events: readonly HistoryEvent[];
  /** Per row (eventRowKey), its state changes in the last hour: the event log's changesSince. */
  changesLastHour: ReadonlyMap<string, number>;
}

/** How many of the latest events the page lists. */
export const PAGE_EVENTS = 50;

/** Every row's strip, from one pass over the events, and its flap verdict. */
function rowPasts(history: PageHistory, now: number): Map<string, RowPast> {
  const computed = timelines(history.events, { since: now - STRIP_MS, now, agentRunning: true });
  const flapping = (key: string): boolean => isFlapping(history.changesLastHour.get(key) ?? 0);
  return new Map(computed.rows.map((timeline) => {
    const key = eventRowKey(timeline.module, timeline.instance);
    return [key, { timeline, flapping: flapping(key) }];
  }));
}

const pastOf = (pasts: Map<string, RowPast>, row: RowStatus): RowPast => pasts.get(statusRowEventKey(row)) ?? { flapping: false };

/** The latest events, newest first, each with its detail and, when it entered a failing state, its module's hint. */
function eventsHtml(events: readonly HistoryEvent[], rows: readonly RowStatus[]): string {
  const hints = new Map(rows.map((row) => [row.module, row.hint]));
  const latest = events.slice(-PAGE_EVENTS).reverse();
  const items = latest.map((event) => {
    const change = event.module === 'agent' ? `agent ${event.to}` : `${event.from === null ? 'first verdict' : label(event.from as State)} → ${label(event.to as State)}`;
    const hint = event.module !== 'agent' && FAILING.has(event.to as State) ? hints.get(event.module) : undefined;
    return (
      `<tr class="event event-${escapeHtml(event.to)}"><td><time datetime="${iso(event.time)}">${stripTime(event.time)}</time></td>` +
      `<td>${escapeHtml(eventRowName(event))}</td><td>${escapeHtml(change)}</td>` +
      `<td><div class="detail">${escapeHtml(event.detail)}</div>${hint ? `<details><summary>What to do</summary>${hintHtml(hint)}</details>` : ''}</td></tr>`
    );
  });
  const body = items.length === 0 ? '<tr><td colspan="4">No events yet.</td></tr>' : items.join('\n');
  return `<table class="events">
<caption>Latest events (newest first, at most ${PAGE_EVENTS}; times UTC)</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Row</th><th scope="col">Change</th><th scope="col">Detail</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}
