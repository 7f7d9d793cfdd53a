import { firstLine, formatDuration as formatMs } from '../util/format.js';
import type { CommandResult } from '../clients/command.js';
import type { AgentConfig } from '../config/schema.js';
import type { Row } from '../core/plan.js';
import type { RowStatus } from '../core/store.js';
import { worst } from '../core/states.js';
import { INSTANCE_NAME, MODULE_NAME } from '../util/names.js';
import type { NlserverView } from '../clients/nlserver/view.js';
import type { Logger } from '../core/contracts.js';
import { judgeWho } from './busy.js';
import { remediationSettings, type RemediationSettings } from '../config/restarts.js';
import { nlserverRunner, RESTART_TIMEOUT_MS, type NlserverRun } from './run.js';

export type RestartAction = 'restart' | 'start';
export type RestartResult = 'ok' | 'failed' | 'timeout' | 'dry_run' | 'skipped_busy' | 'skipped_view_down' | 'suppressed';
export const RESTART_ACTIONS: readonly RestartAction[] = ['restart', 'start'];
export const RESTART_RESULTS: readonly RestartResult[] = ['ok', 'failed', 'timeout', 'dry_run', 'skipped_busy', 'skipped_view_down', 'suppressed'];

/** Where the restarter reports; AgentMetrics implements it. */
export interface RestartMetrics {
  /** The rows with automatic restarts on: their series exist from the first scrape, others' are removed. */
  restartRows(rows: readonly { module: string; instance: string }[]): void;
  countRestart(labels: { module: string; instance: string; action: RestartAction; result: RestartResult }): void;
  restartSuppressed(labels: { module: string; instance: string }, suppressed: boolean): void;
}

/** What the restarter needs of a row and of its status (kept small: the engine's types grow). */
export type RestartableRow = Pick<Row, 'key' | 'module' | 'instance' | 'enabled' | 'blocked'> & { plugin: Pick<Row['plugin'], 'runsOn'> };
export type ObservedStatus = Pick<RowStatus, 'checks'>;

export interface RestarterOptions {
  config: () => AgentConfig;
  log: Logger;
  metrics: RestartMetrics;
  /** Runs `nlserver <args>`; default: the configured binary through runCommand (no shell). */
  run?: NlserverRun;
  /** Clock for the end of the grace period (an action may take a while); default Date.now. */
  now?: () => number;
}

/** What happened for a row this run, when something was decided (for tests and the caller's log). */
export interface RestartEvent {
  action: RestartAction;
  result: RestartResult;
  /** `nlserver` arguments, e.g. `['start', 'mta@prod']`. */
  argv: string[];
  reason?: string;
}

interface RowState {
  /** Consecutive critical runs since the last ok/warning run or the last action. */
  failures: number;
  /** Critical runs before this time (ms) do not count. */
  graceUntil: number;
  /** When each action of the current window was taken (ms). */
  actions: number[];
  suppressed: boolean;
  /** The last skip reported at warn, so a streak of identical skips logs once at warn. */
  lastSkip?: RestartResult;
  inFlight: boolean;
}

/**
 * Opt-in automatic restarts (`modules.<name>.restarts.restart: true`, docs/restarts.md). Called after every
 * recorded run of a row. Rules, in order:
 * - a run counts as a failure when its own result (worst check) is critical; unknown leaves the count
 *   as it is (we don't know), ok and warning reset it; runs inside the grace period after an action
 *   do not count;
 * - at `afterFailures` consecutive failures an action is due: `start` when the row's `process` check
 *   is critical (the module is absent), else `restart`;
 * - at most `maxActions` per sliding `window`: beyond, nothing runs, the row is suppressed
 *   (`campaign_restart_suppressed` 1, one warn) until the oldest action leaves the window;
 * - only while the nlserver view is up (enabled and `nlserver pdump` ok this cycle), else `skipped_view_down`;
 * - mta and web (unless `skipWhenBusy: false`): `nlserver pdump -who` first, `skipped_busy` when it
 *   lists sessions (see busy.ts);
 * - `dryRun` logs "would run nlserver ..." and counts `dry_run`, running nothing but otherwise
 *   behaving as if it had (grace, window), so the log shows exactly what would have happened.
 * After an action (ok, failed, timeout or dry run) the count restarts from 0 and the grace begins.
 * Skips do not use up the budget and keep the count, so the action is tried again next run.
 */
export class Restarter {
  private readonly rows = new Map<string, RowState>();
  private lastSync = '';

  constructor(private readonly options: RestarterOptions) {}

  /** Aligns with a (re)computed plan: pre-creates the metrics of the rows with restarts on, forgets the rest. */
  sync(plan: readonly RestartableRow[]): void {
    const on = plan.filter((row) => row.enabled && !row.blocked && this.settingsFor(row) !== undefined);
    const keys = new Set(on.map((row) => row.key));
    for (const key of this.rows.keys()) if (!keys.has(key)) this.rows.delete(key);
    this.options.metrics.restartRows(on.map((row) => ({ module: row.module, instance: row.instance })));
    const signature = on.map((row) => `${row.key}:${this.settingsFor(row)!.dryRun}`).join(',');
    if (signature === this.lastSync) return;
    this.lastSync = signature;
    if (on.length === 0) return;
    const { campaign } = this.options.config();
    this.options.log.info({ rows: on.map((row) => row.key), dryRun: on.filter((row) => this.settingsFor(row)!.dryRun).map((row) => row.key) }, 'automatic restarts on');
    if (campaign.nlserverView === false) {
      this.options.log.warn({ rows: on.map((row) => row.key) }, 'automatic restarts are on but campaign.nlserverView is false: every action will be skipped (skipped_view_down)');
    }
  }

  /**
   * Called after each recorded run of a row. `view` gives the cycle's nlserver view (memoized: asking
   * does not run nlserver again). Never throws: a restart problem is logged, the cycle goes on.
   */
  async observe(row: RestartableRow, status: ObservedStatus, view: () => Promise<NlserverView | undefined>, now: number): Promise<RestartEvent | undefined> {
    const settings = this.settingsFor(row);
    if (!settings || !row.enabled || row.blocked) {
      this.rows.delete(row.key);
      return undefined;
    }
    const state = this.stateOf(row.key);
    if (state.inFlight) return undefined;
    state.inFlight = true;
    try {
      return await this.decide(row, status, settings, state, view, now);
    } catch (error) {
      this.options.log.error({ module: row.module, instance: row.instance, err: String(error) }, 'automatic restart failed');
      return undefined;
    } finally {
      state.inFlight = false;
    }
  }

  private async decide(
    row: RestartableRow,
    status: ObservedStatus,
    settings: RemediationSettings,
    state: RowState,
    view: () => Promise<NlserverView | undefined>,
    now: number,
  ): Promise<RestartEvent | undefined> {
    const labels = { module: row.module, instance: row.instance };
    const log = this.options.log;
    state.actions = state.actions.filter((at) => now - at < settings.windowMs);
    if (state.suppressed && state.actions.length < settings.maxActions) {
      state.suppressed = false;
      this.options.metrics.restartSuppressed(labels, false);
      log.info({ ...labels, maxActions: settings.maxActions, window: formatMs(settings.windowMs) }, 'restart window passed: automatic actions resume');
    }

    const observed = status.checks.length === 0 ? 'ok' : worst(status.checks.map((check) => check.state));
    if (observed === 'unknown') return undefined;
    if (observed !== 'critical') {
      state.failures = 0;
      state.lastSkip = undefined;
      return undefined;
    }
    if (now < state.graceUntil) {
      log.debug({ ...labels, graceLeft: formatMs(state.graceUntil - now) }, 'critical within the grace period after an action: not counted');
      return undefined;
    }
    state.failures += 1;
    if (state.failures < settings.afterFailures) return undefined;

    const action: RestartAction = status.checks.some((check) => check.name === 'process' && check.state === 'critical') ? 'start' : 'restart';
    const argv = [action, row.plugin.runsOn === 'machine' ? row.module : `${row.module}@${row.instance}`];
    const event = (result: RestartResult, reason?: string): RestartEvent => {
      this.options.metrics.countRestart({ ...labels, action, result });
      return { action, result, argv, ...(reason === undefined ? {} : { reason }) };
    };
    const fields = { ...labels, action, failures: state.failures };

    if (state.actions.length >= settings.maxActions) {
      if (!state.suppressed) {
        state.suppressed = true;
        this.options.metrics.restartSuppressed(labels, true);
        log.warn(
          { ...fields, result: 'suppressed', maxActions: settings.maxActions, window: formatMs(settings.windowMs), resumesIn: formatMs(state.actions[0]! + settings.windowMs - now) },
          `restarts suppressed: ${settings.maxActions} actions within ${formatMs(settings.windowMs)} already; not acting until the window passes`,
        );
      } else {
        log.debug({ ...fields, result: 'suppressed' }, 'restarts still suppressed');
      }
      return event('suppressed');
    }

    const viewDown = whyViewDown(await view());
    if (viewDown !== undefined) {
      this.skipLog(state, 'skipped_view_down', { ...fields, result: 'skipped_view_down', reason: viewDown }, `not running nlserver ${argv.join(' ')}: the nlserver view is down`);
      return event('skipped_view_down', viewDown);
    }

    const run = this.options.run ?? nlserverRunner(this.options.config().campaign);
    if (settings.busyCheck) {
      const timeoutMs = this.options.config().campaign.nlserverTimeout;
      const who = await run(['pdump', '-who'], timeoutMs);
      const verdict = who.timedOut || who.exitCode === undefined
        ? { busy: true, reason: `nlserver pdump -who failed (${who.error ?? 'did not finish'}): cannot tell, not acting` }
        : judgeWho(who.stdout);
      if (verdict.busy) {
        this.skipLog(state, 'skipped_busy', { ...fields, result: 'skipped_busy', reason: verdict.reason }, `not running nlserver ${argv.join(' ')}: work in progress`);
        return event('skipped_busy', verdict.reason);
      }
    }

    assertSafeNames(row.module, row.instance);
    state.lastSkip = undefined;
    state.failures = 0;
    state.actions.push(now);
    if (settings.dryRun) {
      state.graceUntil = now + settings.graceMs;
      log.info({ ...fields, result: 'dry_run', argv }, `dry run: would run nlserver ${argv.join(' ')}`);
      return event('dry_run');
    }
    log.warn({ ...fields, argv }, `running nlserver ${argv.join(' ')}`);
    const outcome = await run(argv, RESTART_TIMEOUT_MS);
    state.graceUntil = Math.max(now, (this.options.now ?? Date.now)()) + settings.graceMs;
    const result: RestartResult = outcome.timedOut ? 'timeout' : outcome.failed ? 'failed' : 'ok';
    const said = firstLine(outcome.stderr, 160) || undefined;
    if (result === 'ok') log.info({ ...fields, result }, `nlserver ${argv.join(' ')} succeeded`);
    else log.warn({ ...fields, result, error: outcome.error, ...(said ? { stderr: said } : {}) }, `nlserver ${argv.join(' ')} ${result === 'timeout' ? 'timed out' : 'failed'}`);
    return event(result, result === 'ok' ? undefined : (outcome.error ?? said));
  }

  private settingsFor(row: RestartableRow): RemediationSettings | undefined {
    return remediationSettings(row.module, this.options.config().modules[row.module]?.restarts);
  }

  private stateOf(key: string): RowState {
    let state = this.rows.get(key);
    if (!state) this.rows.set(key, (state = { failures: 0, graceUntil: -Infinity, actions: [], suppressed: false, inFlight: false }));
    return state;
  }

  /** The first skip of a streak at warn, the same skip again at info. */
  private skipLog(state: RowState, result: RestartResult, fields: object, message: string): void {
    if (state.lastSkip === result) this.options.log.info(fields, message);
    else this.options.log.warn(fields, message);
    state.lastSkip = result;
  }
}

/** Why the nlserver view cannot vouch for Campaign this cycle; undefined when it is up. */
function whyViewDown(view: NlserverView | undefined): string | undefined {
  if (!view) return 'the nlserver view is not available';
  if (!view.enabled) return view.reason ?? 'the nlserver view is off';
  if (!view.pdump.ok) return `nlserver pdump failed: ${view.pdump.error ?? 'no usable output'}`;
  return undefined;
}

/** Defence in depth: the names reach an nlserver command line; plan and config already hold them to these. */
function assertSafeNames(module: string, instance: string): void {
  if (!MODULE_NAME.test(module)) throw new Error(`refusing to run nlserver for module ${JSON.stringify(module)}: not a module name`);
  if (!INSTANCE_NAME.test(instance)) throw new Error(`refusing to run nlserver for instance ${JSON.stringify(instance)}: not an instance name`);
}
