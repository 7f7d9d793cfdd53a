import type { State } from './contracts.js';
import type { Row } from './plan.js';
import { checkId, type CheckOutcome } from './runner.js';
import { formatDuration } from '../util/format.js';
import { isUp, worst } from './states.js';
import { resolveHintLinks } from './hintLinks.js';

// A result older than this many schedule intervals (plus the timeout) no longer describes the module.
export const STALE_INTERVALS = 3;

/** What a row says between planning and its first run: a placeholder, not a verdict (no event). */
export const NOT_CHECKED_YET = 'not checked yet';

export interface RowStatus {
  key: string;
  module: string;
  instance: string;
  scope: string;
  /** Adobe's troubleshooting text for the module (/status calls it `remediation`). */
  hint: string;
  state: State;
  /** ms since the epoch when the row entered its current state. */
  since: number;
  /** ms since the epoch of the last completed run, undefined before the first one. */
  lastRun?: number;
  /** One line: the worst checks' messages, or why the row is disabled or blocked. */
  detail: string;
  /** The checks that gave a verdict this run. */
  checks: CheckOutcome[];
  /**
   * The checks that could not look this run (or only count): never part of the state nor of
   * campaign_check_success; their messages end the detail and their values are still exported.
   */
  notLooked: CheckOutcome[];
  /** Set when the row turned unknown because its last result got too old. */
  stale?: boolean;
}

/** Consecutive runs on each side of up/down, for flap damping. */
interface Streak {
  down: number;
  up: number;
}

/** The current truth about every row, in plan order; the only state the interfaces read. */
export class StatusStore {
  private rows = new Map<string, RowStatus>();
  private order: string[] = [];
  private streaks = new Map<string, Streak>();
  /** Rows whose last run saw the other side of up/down while damping kept their verdict. */
  private holding = new Set<string>();
  private plan = new Map<string, Row>();
  /** Bumped on every change of any row: renderers cache their output per version. */
  version = 0;
  /** Told about every row that goes stale, so metrics follow. */
  onStale?: (status: RowStatus) => void;
  /**
   * Told about every change of a row's state as /status shows it (after flap damping), `from` null for
   * a row's first verdict. The "not checked yet" placeholder a row shows before its first run is not a
   * verdict: the change is reported from the state before it (or null) to the first real one.
   */
  onChange?: (status: RowStatus, from: State | null) => void;
  /** Per row key: the last state onChange reported. */
  private reported = new Map<string, State>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Aligns the rows with a (re)computed plan: new rows appear, vanished rows go, disabled rows say so. */
  sync(plan: readonly Row[], now: number): { added: string[]; removed: string[] } {
    const keys = new Set(plan.map((row) => row.key));
    const removed = [...this.rows.keys()].filter((key) => !keys.has(key));
    for (const key of removed) {
      this.rows.delete(key);
      this.streaks.delete(key);
      this.holding.delete(key);
      this.reported.delete(key);
    }
    this.version += 1;
    this.plan = new Map(plan.map((row) => [row.key, row]));
    const added: string[] = [];
    for (const row of plan) {
      const existing = this.rows.get(row.key);
      if (!existing) added.push(row.key);
      if (!row.enabled || row.blocked) this.holding.delete(row.key);
      if (!row.enabled) this.set(row, 'disabled', row.note, [], now, undefined);
      else if (row.blocked) this.set(row, 'unknown', row.blocked, [], now, now);
      else if (!existing || existing.state === 'disabled') this.set(row, 'unknown', NOT_CHECKED_YET, [], now, undefined, [], true);
    }
    this.order = plan.map((row) => row.key);
    return { added, removed };
  }

  record(row: Row, outcomes: CheckOutcome[], now: number): RowStatus {
    const judged = outcomes.filter((outcome) => outcome.noEvidence !== true);
    const notLooked = outcomes.filter((outcome) => outcome.noEvidence === true);
    // Checks that all could not look prove nothing: unknown, never ok.
    const observed = judged.length === 0 ? (notLooked.length === 0 ? 'ok' : 'unknown') : worst(judged.map((outcome) => outcome.state));
    const failing = judged.filter((outcome) => outcome.state === observed && observed !== 'ok');
    const shown = judged.length === 0 ? (notLooked.length === 0 ? 'no checks apply' : 'no check could look') : summary(failing.length > 0 ? failing : judged);
    const detail = notLooked.length === 0 ? shown : `${shown}; ${summary(notLooked)}`;
    const streak = this.countStreak(row.key, observed);
    const previous = this.rows.get(row.key);
    const held = previous ? damped(row, previous, observed, streak) : undefined;
    if (held) {
      this.holding.add(row.key);
      return this.set(row, held.state, `${held.note}: ${detail}`, judged, now, now, notLooked);
    }
    this.holding.delete(row.key);
    return this.set(row, observed, detail, judged, now, now, notLooked);
  }

  /**
   * True while flap damping holds the row's verdict against what its last run saw: the change is
   * pending a confirmation (core/confirm.ts). False in steady state, up or down.
   */
  isHeld(key: string): boolean {
    return this.holding.has(key);
  }

  get(key: string): RowStatus | undefined {
    this.expireStale();
    return this.rows.get(key);
  }

  all(): RowStatus[] {
    this.expireStale();
    return this.order.map((key) => this.rows.get(key)).filter((row): row is RowStatus => row !== undefined);
  }

  /**
   * Rows whose last result is older than 3 schedule intervals (plus the timeout) turn `unknown`: an old
   * "ok" must not keep looking fresh when the scheduler stopped or a cycle hangs.
   */
  expireStale(now = this.now()): void {
    for (const [key, status] of this.rows) {
      const row = this.plan.get(key);
      if (!row || !row.enabled || row.blocked || status.lastRun === undefined || status.stale) continue;
      const ageMs = now - status.lastRun;
      if (ageMs <= STALE_INTERVALS * row.intervalMs + row.timeoutMs) continue;
      const expected = `expected every ${formatDuration(row.intervalMs)}`;
      const stale = this.set(row, 'unknown', `stale: last checked ${formatDuration(ageMs)} ago (${expected}); the probe schedule stopped or hangs`, status.checks, now, undefined, status.notLooked);
      stale.stale = true;
      this.onStale?.(stale);
    }
  }

  private countStreak(key: string, observed: State): Streak {
    const streak = this.streaks.get(key) ?? { down: 0, up: 0 };
    if (isUp(observed)) this.streaks.set(key, { down: 0, up: streak.up + 1 });
    else this.streaks.set(key, { down: streak.down + 1, up: 0 });
    return this.streaks.get(key)!;
  }

  worstState(): State {
    return worst(this.all().map((row) => row.state));
  }

  private set(row: Row, state: State, detail: string, checks: CheckOutcome[], now: number, lastRun: number | undefined, notLooked: CheckOutcome[] = [], placeholder = false): RowStatus {
    const previous = this.rows.get(row.key);
    const status: RowStatus = {
      key: row.key,
      module: row.module,
      instance: row.instance,
      scope: row.plugin.scope,
      // Verbatim from Adobe's table, its relative links pointed at Adobe's published pages.
      hint: resolveHintLinks(row.plugin.hint),
      state,
      // min: a clock set back must not leave `since` in the future.
      since: previous && previous.state === state ? Math.min(previous.since, now) : now,
      lastRun: lastRun ?? previous?.lastRun,
      detail,
      checks,
      notLooked,
    };
    this.rows.set(row.key, status);
    this.version += 1;
    const from = this.reported.get(row.key) ?? null;
    if (!placeholder && from !== state) {
      this.reported.set(row.key, state);
      this.onChange?.(status, from);
    }
    return status;
  }
}

/**
 * Consul-style damping: crossing between up (ok, warning) and down (critical, unknown) needs
 * failuresBeforeCritical / successesBeforeOk consecutive runs. Until then the row keeps its previous
 * verdict and says what it saw; its checks always show the raw results. A first verdict, and a row
 * coming back from stale or disabled, is never held.
 */
function damped(row: Row, previous: RowStatus, observed: State, streak: Streak): { state: State; note: string } | undefined {
  if (previous.lastRun === undefined || previous.stale || previous.state === 'disabled') return undefined;
  const wasUp = isUp(previous.state);
  if (wasUp && !isUp(observed) && streak.down < row.failuresBeforeCritical) {
    return { state: previous.state, note: `${observed} in ${streak.down} of ${row.failuresBeforeCritical} runs before the state changes (failuresBeforeCritical)` };
  }
  if (!wasUp && isUp(observed) && streak.up < row.successesBeforeOk) {
    return { state: previous.state, note: `${observed} in ${streak.up} of ${row.successesBeforeOk} runs before recovery (successesBeforeOk)` };
  }
  return undefined;
}

function summary(outcomes: CheckOutcome[]): string {
  return outcomes.map((outcome) => `${checkId(outcome.name, outcome.checkLabels)}: ${outcome.message}`).join('; ');
}
