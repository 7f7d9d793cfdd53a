import type { State } from '../types.js';
import type { Row } from './plan.js';
import type { CheckOutcome } from './runner.js';
import { worst } from './states.js';

export interface RowStatus {
  key: string;
  module: string;
  instance: string;
  scope: string;
  remediation: string;
  state: State;
  /** ms since the epoch when the row entered its current state. */
  since: number;
  /** ms since the epoch of the last completed run, undefined before the first one. */
  lastRun?: number;
  /** One line: the worst checks' messages, or why the row is disabled or blocked. */
  detail: string;
  checks: CheckOutcome[];
}

/** The current truth about every row, in plan order; the only state the interfaces read. */
export class StatusStore {
  private rows = new Map<string, RowStatus>();
  private order: string[] = [];

  /** Aligns the rows with a (re)computed plan: new rows appear, vanished rows go, disabled rows say so. */
  sync(plan: readonly Row[], now: number): { added: string[]; removed: string[] } {
    const keys = new Set(plan.map((row) => row.key));
    const removed = [...this.rows.keys()].filter((key) => !keys.has(key));
    for (const key of removed) this.rows.delete(key);
    const added: string[] = [];
    for (const row of plan) {
      const existing = this.rows.get(row.key);
      if (!existing) added.push(row.key);
      if (!row.enabled) this.set(row, 'disabled', row.note, [], now, undefined);
      else if (row.blocked) this.set(row, 'unknown', row.blocked, [], now, now);
      else if (!existing || existing.state === 'disabled') this.set(row, 'unknown', 'not checked yet', [], now, undefined);
    }
    this.order = plan.map((row) => row.key);
    return { added, removed };
  }

  record(row: Row, outcomes: CheckOutcome[], now: number): RowStatus {
    const state = outcomes.length === 0 ? 'ok' : worst(outcomes.map((outcome) => outcome.state));
    const failing = outcomes.filter((outcome) => outcome.state === state && state !== 'ok');
    const detail = outcomes.length === 0 ? 'no checks apply' : summary(failing.length > 0 ? failing : outcomes);
    return this.set(row, state, detail, outcomes, now, now);
  }

  get(key: string): RowStatus | undefined {
    return this.rows.get(key);
  }

  all(): RowStatus[] {
    return this.order.map((key) => this.rows.get(key)).filter((row): row is RowStatus => row !== undefined);
  }

  worstState(): State {
    return worst(this.all().map((row) => row.state));
  }

  private set(row: Row, state: State, detail: string, checks: CheckOutcome[], now: number, lastRun: number | undefined): RowStatus {
    const previous = this.rows.get(row.key);
    const status: RowStatus = {
      key: row.key,
      module: row.module,
      instance: row.instance,
      scope: row.plugin.scope,
      remediation: row.plugin.hint,
      state,
      since: previous && previous.state === state ? previous.since : now,
      lastRun: lastRun ?? previous?.lastRun,
      detail,
      checks,
    };
    this.rows.set(row.key, status);
    return status;
  }
}

function summary(outcomes: CheckOutcome[]): string {
  return outcomes.map((outcome) => `${outcome.name}: ${outcome.message}`).join('; ');
}
