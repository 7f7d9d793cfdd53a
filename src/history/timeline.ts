import type { State } from '../core/contracts.js';
import { eventRowKey, type HistoryEvent } from './event.js';

/**
 * Events turned into spans of time: what the availability report adds up and what the status page's
 * strips draw. One pass over the events (50,000 of them on a busy host) gives every row's spans.
 *
 * A row's state between two of its events is the `to` of the earlier one; before its first event the
 * row is `none` (nothing known). While the agent was down no state is known at all: those spans are
 * `down` for every row, whatever the row showed before, and never count as ok nor as any state.
 */
export type SpanState = State | 'down' | 'none';

export interface Span {
  start: number;
  end: number;
  state: SpanState;
}

export interface RowTimeline {
  module: string;
  instance: string;
  /** Consecutive, non-empty, covering [since, now] exactly; neighbours never share a state. */
  spans: Span[];
  /** The row's events within (since, now], oldest first. */
  events: HistoryEvent[];
}

export interface Timelines {
  since: number;
  now: number;
  /** When the agent was down within [since, now], merged, oldest first. */
  down: Span[];
  /** Per row, in the order module, instance. */
  rows: RowTimeline[];
}

export interface TimelineOptions {
  since: number;
  now: number;
  /**
   * Whether the agent is running at `now` (true when the daemon computes it). When false (the CLI
   * reading the file of a stopped daemon) the time after the last event is agent down time.
   */
  agentRunning: boolean;
}

/** The events oldest first; sorted only when they are not (a clock set back while writing). */
export function chronological(events: readonly HistoryEvent[]): readonly HistoryEvent[] {
  for (let index = 1; index < events.length; index += 1) {
    if (events[index]!.time < events[index - 1]!.time) return [...events].sort((a, b) => a.time - b.time);
  }
  return events;
}

/**
 * When the agent was down, from its own events: from `stopped` (or a `started` event's `downSince`,
 * the last sign of life of a run that ended without one) to the next `started`; after the last event,
 * until `now` when the last agent event is `stopped` or when the agent is not running now.
 */
export function downSpans(events: readonly HistoryEvent[], now: number, agentRunning: boolean): Span[] {
  const spans: Span[] = [];
  let stoppedAt: number | undefined;
  for (const event of events) {
    if (event.module !== 'agent') continue;
    if (event.to === 'stopped') stoppedAt ??= event.time;
    else if (event.to === 'started') {
      const from = Math.min(stoppedAt ?? Infinity, event.downSince ?? Infinity);
      if (from < event.time) spans.push({ start: from, end: event.time, state: 'down' });
      stoppedAt = undefined;
    }
  }
  const last = events[events.length - 1];
  if (stoppedAt !== undefined) spans.push({ start: stoppedAt, end: Math.max(now, stoppedAt), state: 'down' });
  else if (!agentRunning && last !== undefined && last.time < now) spans.push({ start: last.time, end: now, state: 'down' });
  return merge(spans);
}

function merge(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/** Every row's spans over [since, now] (the state at `since` is the one its last earlier event set). */
export function timelines(events: readonly HistoryEvent[], options: TimelineOptions): Timelines {
  const { since, now } = options;
  const sorted = chronological(events);
  const down = downSpans(sorted, now, options.agentRunning)
    .filter((span) => span.end > since && span.start < now)
    .map((span) => ({ start: Math.max(span.start, since), end: Math.min(span.end, now), state: 'down' as const }));
  const rows = new Map<string, { module: string; instance: string; initial: SpanState; events: HistoryEvent[] }>();
  for (const event of sorted) {
    if (event.module === 'agent' || event.time > now) continue;
    const key = eventRowKey(event.module, event.instance);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { module: event.module, instance: event.instance, initial: 'none', events: [] }));
    if (event.time <= since) row.initial = event.to as State;
    else row.events.push(event);
  }
  const result = [...rows.values()]
    .sort((a, b) => (a.module === b.module ? compare(a.instance, b.instance) : compare(a.module, b.module)))
    .map((row) => ({ module: row.module, instance: row.instance, events: row.events, spans: rowSpans(row.initial, row.events, down, since, now) }));
  return { since, now, down, rows: result };
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The row's own states over [since, now], with the agent's down spans cut out of them. */
function rowSpans(initial: SpanState, events: readonly HistoryEvent[], down: readonly Span[], since: number, now: number): Span[] {
  const own: Span[] = [];
  let state = initial;
  let at = since;
  for (const event of events) {
    if (event.time > at) own.push({ start: at, end: event.time, state });
    at = Math.max(at, event.time);
    state = event.to as State;
  }
  if (now > at) own.push({ start: at, end: now, state });
  const spans: Span[] = [];
  const push = (span: Span): void => {
    if (span.end <= span.start) return;
    const last = spans[spans.length - 1];
    if (last && last.state === span.state && last.end === span.start) last.end = span.end;
    else spans.push(span);
  };
  let next = 0;
  for (const span of own) {
    let cursor = span.start;
    while (next < down.length && down[next]!.end <= cursor) next += 1;
    for (let index = next; index < down.length && down[index]!.start < span.end; index += 1) {
      const gap = down[index]!;
      push({ start: cursor, end: Math.max(cursor, gap.start), state: span.state });
      push({ start: Math.max(cursor, gap.start), end: Math.min(span.end, gap.end), state: 'down' });
      cursor = Math.min(span.end, gap.end);
    }
    push({ start: cursor, end: span.end, state: span.state });
  }
  return spans;
}
