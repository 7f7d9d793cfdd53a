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
