import type { HistoryEvent } from './event.js';

/** What the report, GET /events and the status page read history from (the event log implements it). */
export interface HistorySource {
  /** Every kept event, oldest first (bounded: 30 days, 50,000 events). */
  all(): readonly HistoryEvent[];
}
