import { parseDuration } from '../config/duration.js';
import { eventInstance, type HistoryEvent } from './event.js';

/** Which events GET /events and `campaign-health events` return: newest first, at most `limit`. */
export interface EventQuery {
  /** ms since the epoch: events at or after it. */
  since?: number;
  module?: string;
  instance?: string;
  limit: number;
}

export const DEFAULT_EVENT_LIMIT = 500;
export const MAX_EVENT_LIMIT = 50_000;
const PARAMETERS = ['since', 'module', 'instance', 'limit'] as const;
/** Longer than any module or instance name: a longer value is not a name. */
const MAX_NAME_CHARS = 200;

/** The events matching the query, newest first (the order they were recorded, read backwards). */
export function selectEvents(events: readonly HistoryEvent[], query: EventQuery): HistoryEvent[] {
  const selected: HistoryEvent[] = [];
  // Not stopped at the first event older than `since`: a clock set back leaves the log out of time order.
  for (let index = events.length - 1; index >= 0 && selected.length < query.limit; index--) {
    const event = events[index]!;
    if (query.since !== undefined && event.time < query.since) continue;
    if (query.module !== undefined && event.module !== query.module) continue;
    if (query.instance !== undefined && event.instance !== query.instance) continue;
    selected.push(event);
  }
  return selected;
}

/**
 * `?since=&module=&instance=&limit=` of GET /events (the CLI sends the same): the query, or a message
 * naming the parameter that is wrong. `since` is an ISO 8601 time or a duration back from `now`.
 */
export function parseEventQuery(params: URLSearchParams, now: number): { query: EventQuery } | { error: string } {
  for (const name of new Set(params.keys())) {
    if (!(PARAMETERS as readonly string[]).includes(name)) return { error: `unknown parameter ${JSON.stringify(name)}: expected ${PARAMETERS.join(', ')}` };
    if (params.getAll(name).length > 1) return { error: `${name}: given more than once` };
  }
  const query: EventQuery = { limit: DEFAULT_EVENT_LIMIT };
  const since = params.get('since');
  if (since !== null) {
    const at = parseSince(since, now);
    if (at === undefined) return { error: sinceExpected(since) };
    query.since = at;
  }
  for (const name of ['module', 'instance'] as const) {
    const value = params.get(name);
    if (value === null) continue;
    if (value.length > MAX_NAME_CHARS || /[\x00-\x1f]/.test(value)) return { error: `${name}: expected a ${name} name, got ${JSON.stringify(value.slice(0, 40))}${value.length > 40 ? '...' : ''}` };
    // Host-wide rows are '' in events and `default` in /status: either finds them.
    query[name] = name === 'instance' ? eventInstance(value) : value;
  }
  const limit = params.get('limit');
  if (limit !== null) {
    if (!/^\d{1,6}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_EVENT_LIMIT) return { error: `limit: expected a whole number from 1 to ${MAX_EVENT_LIMIT}, got ${JSON.stringify(limit)}` };
    query.limit = Number(limit);
  }
  return { query };
}

/** What a `since` value (GET /events, GET /report, the CLI's --since) must be, naming the one given. */
export const sinceExpected = (text: string): string =>
  `since: expected a duration such as 1h, 30m or 7d, or an ISO 8601 date or time (2026-12-05, 2026-12-05T03:00:00Z), got ${JSON.stringify(text)}`;

/** A duration back from `now` (`24h`), or an ISO 8601 date (midnight UTC) or time with `Z` or an offset. */
export function parseSince(text: string, now: number): number | undefined {
  const back = parseDuration(text);
  if (back !== undefined) return now - back;
  // A date, or a date and time with Z or an offset: never a local time, which would depend on the host's zone.
  if (!/^\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d))?$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
