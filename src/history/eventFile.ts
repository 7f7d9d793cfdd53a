import { STATES, type State } from '../core/contracts.js';
import type { AgentEventKind, HistoryEvent } from './event.js';

/**
 * The event file's format, `stateDir/events.jsonl`: one JSON object per line, oldest first, times in
 * ISO 8601 UTC so that the file reads on its own (`tail`, `jq`):
 *   {"time":"2026-12-05T03:12:40.123Z","module":"mta","instance":"prod","from":"ok","to":"critical","detail":"..."}
 * A line that does not parse to this is not an event (a torn last line after a SIGKILL, a foreign file).
 */
const AGENT_KINDS: readonly AgentEventKind[] = ['started', 'stopped', 'reloaded', 'reload_refused'];

export function formatEventLine(event: HistoryEvent): string {
  return `${JSON.stringify(eventRecord(event))}\n`;
}

/** An event as the file and GET /events write it: times as ISO 8601 UTC text. */
export function eventRecord(event: HistoryEvent): Record<string, unknown> {
  const { time, downSince, ...rest } = event;
  return { time: new Date(time).toISOString(), ...rest, ...(downSince === undefined ? {} : { downSince: new Date(downSince).toISOString() }) };
}

export function parseEventLine(line: string): HistoryEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const time = isoTime(record.time);
  const { module, instance, from, to, detail } = record;
  if (time === undefined || typeof module !== 'string' || module === '' || typeof instance !== 'string' || typeof detail !== 'string') return undefined;
  const isAgent = module === 'agent';
  if (isAgent ? from !== null || !AGENT_KINDS.includes(to as AgentEventKind) : !isState(to) || (from !== null && !isState(from))) return undefined;
  const downSince = record.downSince === undefined ? undefined : isoTime(record.downSince);
  if (record.downSince !== undefined && downSince === undefined) return undefined;
  return { time, module, instance, from: from as State | null, to: to as State | AgentEventKind, detail, ...(downSince === undefined ? {} : { downSince }) };
}

/** Every event of a file's text, oldest first, and how many non-empty lines were not events. */
export function parseEventText(text: string): { events: HistoryEvent[]; invalid: number } {
  const events: HistoryEvent[] = [];
  let invalid = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const event = parseEventLine(line);
    if (event) events.push(event);
    else invalid += 1;
  }
  return { events, invalid };
}

function isState(value: unknown): value is State {
  return typeof value === 'string' && (STATES as readonly string[]).includes(value);
}

function isoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
