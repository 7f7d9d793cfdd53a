import type { RowStatus } from '../core/store.js';
import type { State } from '../core/contracts.js';
import type { AgentEventKind, HistoryEvent } from './event.js';
import type { HistorySource } from './source.js';

/**
 * TEMPORARY (issue 15, branch `report`): an in-memory stand-in for the event log, so that /report and
 * the page's strips have real events from the daemon before the event log (branch `history`: kept on
 * disk, bounded, compacted) lands. It records what /status shows after each probe cycle: a row whose
 * state differs from the last one seen is an event. To be replaced by the event log at merge; nothing
 * else depends on this class, only on HistorySource.
 */
export class TemporaryRecorder implements HistorySource {
  private readonly events: HistoryEvent[] = [];
  private readonly last = new Map<string, State>();

  all(): readonly HistoryEvent[] {
    return this.events;
  }

  agent(kind: AgentEventKind, detail: string, time: number): void {
    this.events.push({ time, module: 'agent', instance: '', from: null, to: kind, detail });
  }

  /** Records the rows whose state changed since the last call. */
  observe(rows: readonly RowStatus[], time: number): void {
    for (const row of rows) {
      const previous = this.last.get(row.key);
      if (previous === row.state) continue;
      this.last.set(row.key, row.state);
      // Host-wide rows (instance `default` in the plan) are '' in events.
      this.events.push({ time, module: row.module, instance: row.instance === 'default' ? '' : row.instance, from: previous ?? null, to: row.state, detail: row.detail });
    }
  }
}
