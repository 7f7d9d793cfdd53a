import type { Span, SpanState } from '../history/timeline.js';
import { formatDuration } from '../util/format.js';
import { escapeHtml } from './escape.js';

/**
 * The status page's strip: a row's last 24 hours as an inline SVG, one rectangle per span, coloured by
 * the page's stylesheet (classes, so the CSP needs nothing more) and each with a <title> naming its
 * state and its times, so it reads without colour (tooltips, screen readers).
 */
export const STRIP_HOURS = 24;
export const STRIP_MS = STRIP_HOURS * 3_600_000;
/** viewBox units: one per minute of the 24 hours. */
export const STRIP_WIDTH = 1440;
export const STRIP_HEIGHT = 10;
/**
 * A failing span is drawn at least this wide (viewBox units, ~0.4% of the strip: 1-2 px on a laptop): a module down for 20 s
 * is 0.3 units, a fraction of a pixel, and a page that hides an outage is worse than one that rounds it up.
 */
export const MIN_FAILING_WIDTH = 6;

/** More changes than this in the last hour and the row wears a "flapping" badge. */
export const FLAP_CHANGES_PER_HOUR = 4;

export interface StripRect {
  x: number;
  width: number;
  state: SpanState;
  title: string;
}

const FAILING: ReadonlySet<SpanState> = new Set(['warning', 'critical', 'unknown']);
const round = (value: number): number => Math.round(value * 100) / 100;
const pad = (value: number): string => String(value).padStart(2, '0');

/** `2026-12-05 03:12:40`, UTC: a person reads it faster than ISO 8601 and it stays unambiguous over 24 h. */
export function stripTime(ms: number): string {
  const date = new Date(ms);
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

function spanTitle(span: Span, now: number): string {
  const what = span.state === 'down' ? 'AGENT DOWN (nothing checked)' : span.state === 'none' ? 'NO DATA (not known to the agent yet)' : span.state.toUpperCase();
  const until = span.end >= now ? 'now' : stripTime(span.end);
  return `${what} ${stripTime(span.start)} – ${until} UTC (${formatDuration(span.end - span.start)})`;
}

/**
 * The rectangles of a strip over [now − 24 h, now]: calm spans (ok, disabled, down, no data) first,
 * failing ones after (drawn on top) and widened to MIN_FAILING_WIDTH, centred where they happened
 * and kept inside the strip.
 */
export function stripRects(spans: readonly Span[], now: number): StripRect[] {
  const since = now - STRIP_MS;
  const scale = STRIP_WIDTH / STRIP_MS;
  const rects = spans.map((span): StripRect => {
    const x = (Math.max(span.start, since) - since) * scale;
    const width = (Math.min(span.end, now) - Math.max(span.start, since)) * scale;
    if (!FAILING.has(span.state) || width >= MIN_FAILING_WIDTH) return { x: round(x), width: round(width), state: span.state, title: spanTitle(span, now) };
    const widened = Math.min(STRIP_WIDTH, Math.max(0, x + width / 2 - MIN_FAILING_WIDTH / 2));
    return { x: round(Math.min(widened, STRIP_WIDTH - MIN_FAILING_WIDTH)), width: MIN_FAILING_WIDTH, state: span.state, title: spanTitle(span, now) };
  });
  return [...rects.filter((rect) => !FAILING.has(rect.state)), ...rects.filter((rect) => FAILING.has(rect.state))];
}

/** The hatch the strips fill agent-down spans with; once per page, referenced by `url(#strip-down)`. */
export const STRIP_DEFS =
  '<svg class="strip-defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>' +
  '<pattern id="strip-down" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
  '<rect width="4" height="4" fill="#d1d9e0"/><rect width="2" height="4" fill="#6e7781"/></pattern></defs></svg>';

/** The SVG of one row; `name` (e.g. `web@prod`) labels it for screen readers. */
export function stripSvg(name: string, spans: readonly Span[], now: number): string {
  const rects = stripRects(spans, now)
    .map((rect) => `<rect class="seg seg-${rect.state}" x="${rect.x}" y="0" width="${rect.width}" height="${STRIP_HEIGHT}"><title>${escapeHtml(rect.title)}</title></rect>`)
    .join('');
  const label = `${name}: last ${STRIP_HOURS} hours, ${stripTime(now - STRIP_MS)} to ${stripTime(now)} UTC`;
  return `<svg class="strip" viewBox="0 0 ${STRIP_WIDTH} ${STRIP_HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>${rects}</svg>`;
}

/** Whether a row that changed state this many times in the last hour (EventLog.changesSince) flaps. */
export function isFlapping(changesLastHour: number): boolean {
  return changesLastHour > FLAP_CHANGES_PER_HOUR;
}
