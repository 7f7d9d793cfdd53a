import type { AgentConfig } from '../config/schema.js';
import { eventRowName, type HistoryEvent } from '../history/event.js';
import { eventRecord, parseEventLine } from '../history/eventFile.js';
import { parseEventQuery, selectEvents } from '../history/query.js';
import type { WebConfig } from '../http/webConfig.js';
import { formatDuration } from '../util/format.js';
import { daemonOrFile, failed, readCredentials, type CommandOutcome } from './daemonClient.js';

export interface EventsOptions {
  since: string;
  module?: string;
  instance?: string;
  limit?: string;
  format: 'text' | 'json';
  user?: string;
  passwordFile?: string;
}

/**
 * `campaign-health events`: the running daemon's GET /events or, when nothing answers, the event file
 * itself (the same events: each is written before it is served). Which one goes to stderr.
 */
export async function eventsCommand(config: AgentConfig, web: WebConfig | undefined, options: EventsOptions, now = Date.now()): Promise<CommandOutcome> {
  const params = new URLSearchParams({ since: options.since });
  if (options.module !== undefined) params.set('module', options.module);
  if (options.instance !== undefined) params.set('instance', options.instance);
  if (options.limit !== undefined) params.set('limit', options.limit);
  // Checked here with the daemon's own rules, so that a typo gets the same message either way.
  const parsed = parseEventQuery(params, now);
  if ('error' in parsed) return failed(2, `--${parsed.error}`);
  const credentials = await readCredentials(options);
  if ('error' in credentials) return failed(2, credentials.error);
  const source = await daemonOrFile(config, web, `/events?${params.toString()}`, credentials.credentials);
  if (source.from === 'nowhere') return source.outcome;
  let events: HistoryEvent[];
  let stderr: string;
  if (source.from === 'daemon') {
    const served = servedEvents(source.body);
    if (!served) return failed(1, `the daemon at ${source.url} did not answer an event list`);
    events = served;
    stderr = `events from the running daemon at ${source.url}\n`;
  } else {
    events = selectEvents(source.events, parsed.query);
    stderr = `${source.notes.join('\n')}\n`;
  }
  return { exitCode: 0, stdout: options.format === 'json' ? `${JSON.stringify({ events: events.map(eventRecord) }, null, 2)}\n` : eventsText(events), stderr };
}

/** GET /events's body, read back with the file's own rules; undefined when it is not an event list. */
function servedEvents(body: string): HistoryEvent[] | undefined {
  let document: { events?: unknown };
  try {
    document = JSON.parse(body) as { events?: unknown };
  } catch {
    return undefined;
  }
  if (!Array.isArray(document.events)) return undefined;
  return document.events.map((record) => parseEventLine(JSON.stringify(record))).filter((event): event is HistoryEvent => event !== undefined);
}

/** One line per event, newest first: time (UTC), module@instance, from → to, detail. */
export function eventsText(events: readonly HistoryEvent[]): string {
  if (events.length === 0) return '(no events)\n';
  const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const rows = events.map((event) => {
    const change = event.from === null ? (event.module === 'agent' ? event.to : `→ ${event.to}`) : `${event.from} → ${event.to}`;
    const down = event.downSince === undefined ? '' : ` [down ${formatDuration(Math.max(0, event.time - event.downSince))} since ${when(event.downSince)}]`;
    return [when(event.time), eventRowName(event), change, `${event.detail}${down}`];
  });
  const widths = [1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return `${rows.map((row) => `${row[0]}  ${row[1]!.padEnd(widths[0]!)}  ${row[2]!.padEnd(widths[1]!)}  ${row[3]}`.trimEnd()).join('\n')}\n`;
}
