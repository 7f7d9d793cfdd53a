import type { State } from '../core/contracts.js';

/**
 * One change of a row's state as /status shows it (after flap damping), or one of the agent's own
 * events (module `agent`). What `stateDir/events.jsonl` holds one per line, what GET /events serves and
 * what the availability report and the status page's strips are computed from.
 */
export type AgentEventKind = 'started' | 'stopped' | 'reloaded' | 'reload_refused';

export interface HistoryEvent {
  /** ms since the epoch (ISO 8601 UTC on disk and in /events). */
  time: number;
  /** The row's module (`nlserver`, `system`, `web`...), or `agent` for the agent's own events. */
  module: string;
  /** The row's instance; '' for host-wide rows and agent events. */
  instance: string;
  /** State before the change; null for the first verdict of a row and for agent events. */
  from: State | null;
  /** State after the change, or what happened to the agent. */
  to: State | AgentEventKind;
  /** The row's detail at that moment (secrets scrubbed), or the agent's reason. */
  detail: string;
  /**
   * On `started` only: the last moment the previous run of the agent is known to have been alive
   * (its `stopped` event, or its heartbeat when it ended without one: SIGKILL, crash, power loss).
   * Between this and `time` the agent was down: reports show that span as a gap, never as ok.
   */
  downSince?: number;
}

/** The plan's instance of host-wide rows (web, watchdog, system...: they read config-default.xml). */
export const HOST_WIDE_INSTANCE = 'default';

/** A /status row's instance as its events carry it: '' for a host-wide row. */
export function eventInstance(rowInstance: string): string {
  return rowInstance === HOST_WIDE_INSTANCE ? '' : rowInstance;
}

/** What groups a row's events (per-row change counts, timelines), and finds them from a /status row. */
export const eventRowKey = (module: string, instance: string): string => `${module}\n${instance}`;
export const statusRowEventKey = (row: { module: string; instance: string }): string => eventRowKey(row.module, eventInstance(row.instance));

/** `mta@prod`, or the bare module for host-wide rows and the agent: how the page and the CLI name an event's row. */
export const eventRowName = (event: { module: string; instance: string }): string => (event.instance === '' ? event.module : `${event.module}@${event.instance}`);
