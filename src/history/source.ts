import type { HistoryEvent } from './event.js';

/** What the report, GET /events and the status page read history from (the event log implements it). */
export interface HistorySource {
  /** Every kept event, oldest first (bounded: 30 days, 50,000 events). */
  all(): readonly HistoryEvent[];
  /** Per row (eventRowKey), its state changes at or after `since`, first verdicts not counted: changes24h, the flapping badge. */
  changesSince(since: number): ReadonlyMap<string, number>;
}

/** What /status says of the event file (`history`), and what campaign_agent_state_writable shows. */
export interface HistoryStatus {
  /** The event file; null when the log lives in memory only (the one-shot `check`). */
  file: string | null;
  /** Whether the last write to the state directory succeeded (events are then on disk). */
  writable: boolean;
  /** Why it is not writable: the error, and that events are kept in memory until it is. */
  problem: string | null;
  /** Where a corrupt or foreign event file found at start was moved (its valid lines were kept). */
  setAside: string | null;
}
