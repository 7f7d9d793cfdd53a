import { collectDefaultMetrics, Gauge, Counter, Registry } from 'prom-client';
import type { Row } from '../core/plan.js';
import type { ProbePlugin, ValueMetric } from '../core/plugin.js';
import type { RowStatus } from '../core/store.js';
import { checkId } from '../core/runner.js';
import { isUp } from '../core/states.js';
import { resolveHintLinks } from '../core/hintLinks.js';
import { STATES } from '../core/contracts.js';
import { RESTART_ACTIONS, RESTART_RESULTS, type RestartMetrics } from '../restarts/restarter.js';
import { SeriesGauge, type Series } from './seriesGauge.js';

const CACHED = 'Result of the last scheduled probe run, cached between runs (see campaign_check_last_run_timestamp_seconds).';

// promtool rejects these default metrics: gauges named like counters.
const EVENT_LOOP_SAMPLE_MS = 10_000;
const REJECTED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The Campaign instance is `campaign_instance` and an export/import/tracking job `campaign_job`, never
 * `instance` or `job`: those are the target labels Prometheus sets on every series it scrapes (scrape
 * address, scrape job), and a series of the agent carrying them would clash with them.
 */
export const RESERVED_LABELS: readonly string[] = ['instance', 'job'];

const ROW_CHECK = ['module', 'campaign_instance', 'check'] as const;

/** Check values every probe may produce (CheckResult.values keys); plugins declare their own too. */
export const CORE_VALUE_METRICS: readonly ValueMetric[] = [
  { value: 'response_seconds', name: 'campaign_check_response_seconds', help: 'Time the server took to answer the check: its HTTP or SOAP request, or its SMTP or POP3 dialogue.', labels: ROW_CHECK },
  { value: 'processes', name: 'campaign_module_processes', help: 'Processes found for the module instance.', labels: ROW_CHECK },
  { value: 'uptime_seconds', name: 'campaign_module_process_uptime_seconds', help: 'Age of the youngest matching process.', labels: ROW_CHECK },
  { value: 'newest_file_bytes', name: 'campaign_file_newest_size_bytes', help: 'Size of the newest watched file.', labels: ROW_CHECK },
  { value: 'seconds_since_growth', name: 'campaign_file_growth_age_seconds', help: 'Seconds since the watched files last grew.', labels: ROW_CHECK },
  { value: 'newest_file_age_seconds', name: 'campaign_file_newest_age_seconds', help: 'Age of the newest file of a log or job directory.', labels: ROW_CHECK },
  { value: 'memory_bytes', name: 'campaign_module_memory_bytes', help: 'Memory of the module process as nlserver pdump reports it (resident size from /proc when pdump is unavailable); 0 when not running.', labels: ['module', 'campaign_instance'] },
  { value: 'log_last_error_timestamp_seconds', name: 'campaign_log_last_error_timestamp_seconds', help: "Time of the newest error line in the module's log (Unix time); 0 until one is seen.", labels: ['module', 'campaign_instance'] },
];

/** Check values that count log lines read since the previous run, by level: campaign_log_lines_total{level}. */
const LOG_LINE_VALUES: ReadonlyArray<readonly [value: string, level: string]> = [
  ['log_error_lines', 'error'],
  ['log_warning_lines', 'warning'],
];

type RowLabels = { module: string; campaign_instance: string };
/** A check's series: its row's labels, its name and its own labels (Check.labels), e.g. redir_instance. */
type CheckLabels = RowLabels & { check: string } & Record<string, string>;

/** The series one check of a row exports, kept between cycles so a cycle only sets values. */
interface CheckSeries {
  labels: CheckLabels;
  /** Absent while the check gives no verdict (it could not look, or only counts): no success series then. */
  verdict?: { success: Series; duration: Series; lastRun: Series };
  values: Map<string, { gauge: SeriesGauge; series: Series; cycle: number }>;
  cycle: number;
}

interface RowSeries {
  labels: RowLabels;
  up?: Series;
  /** One per STATES entry, in that order. */
  states: Series[];
  checks: Map<string, CheckSeries>;
  /** Counts this row's updates: a check or value not seen in the latest one is gone. */
  cycle: number;
}

/** Every series the agent exports, in one registry per agent (no global state: tests build several). */
export class AgentMetrics implements RestartMetrics {
  readonly registry = new Registry();
  private readonly up: SeriesGauge;
  private readonly state: SeriesGauge;
  private readonly checkSuccess: SeriesGauge;
  private readonly checkDuration: SeriesGauge;
  private readonly checkLastRun: SeriesGauge;
  private readonly hintInfo: Gauge;
  private readonly cycles: Counter;
  private readonly logLines: Counter;
  private readonly reloadSuccess: Gauge;
  private readonly reloadTimestamp: Gauge;
  private readonly restartActions: Counter;
  private readonly restartSuppressedGauge: Gauge;
  private readonly stateChanges: Counter;
  private readonly stateWritableGauge: Gauge;
  /** `module@instance` of the rows with automatic restarts on, whose series exist. */
  private restarting = new Map<string, RowLabels>();
  /** value key -> its declaration and gauge. */
  private readonly values = new Map<string, { metric: ValueMetric; gauge: SeriesGauge }>();
  /** Labels checks carry besides module, campaign_instance and check (plugins' checkLabels), in every check series. */
  private readonly checkLabelNames: readonly string[];
  /** Per row key: the series it exports, to update in place and to remove when they go. */
  private readonly rowSeries = new Map<string, RowSeries>();

  /** Bumped by every change of a series the agent sets: a cached rendering must match it. */
  version = 0;
  /** Bumped by changes that are not a row's result (reload outcome, restarts, plan): shown at once. */
  eventVersion = 0;
  /** Runs at the start of every scrape (the agent expires stale results there). */
  beforeCollect?: () => void;
  /** prom-client's default process_* and nodejs_* metrics: read from the process at each scrape. */
  private readonly processMetricNames: ReadonlySet<string>;

  constructor(version: string, plugins: readonly ProbePlugin[] = []) {
    const registers = [this.registry];
    // prom-client samples event-loop delay on a libuv timer, every 10 ms unless told: 100 wake-ups a
    // second were most of what an idle agent cost (6 ms of CPU a second with nothing to probe). Once a
    // second still catches every stall longer than a second and any shorter one it overlaps.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    for (const name of REJECTED_DEFAULTS) this.registry.removeSingleMetric(name);
    this.processMetricNames = new Set(this.registry.getMetricsAsArray().map((metric) => metric.name));
    new Gauge({
      name: 'campaign_agent_build_info',
      help: 'Agent version; always 1. The campaign_* results come from scheduled probe runs, cached between runs, not from the scrape.',
      labelNames: ['version'],
      registers,
      // Collected before every campaign_module_* series: results gone stale turn unknown in this scrape.
      collect: () => this.beforeCollect?.(),
    }).set({ version }, 1);
    const registry = this.registry;
    this.checkLabelNames = [...new Set(plugins.flatMap((plugin) => plugin.checkLabels ?? []))];
    const taken = this.checkLabelNames.filter((label) => RESERVED_LABELS.includes(label) || (ROW_CHECK as readonly string[]).includes(label));
    if (taken.length > 0) throw new Error(`check label ${taken.join(', ')} is taken (a target label, or one every check series has)`);
    // A check series is unique in its row by name and own labels; series of checks without them omit them.
    const checkSeriesLabels = (labels: readonly string[]): readonly string[] => (labels.includes('check') ? [...labels, ...this.checkLabelNames] : labels);
    this.up = new SeriesGauge('campaign_module_up', `1 when the module is ok or warning, 0 when critical or unknown; absent when disabled. ${CACHED}`, ['module', 'campaign_instance'], registry);
    this.state = new SeriesGauge('campaign_module_state', `1 for the module's current state (ok, warning, critical, unknown, disabled), 0 for the others. ${CACHED}`, ['module', 'campaign_instance', 'state'], registry);
    this.checkSuccess = new SeriesGauge('campaign_check_success', `1 when the check passed (ok), 0 otherwise. ${CACHED}`, checkSeriesLabels(ROW_CHECK), registry);
    this.checkDuration = new SeriesGauge('campaign_check_duration_seconds', `How long the check took. ${CACHED}`, checkSeriesLabels(ROW_CHECK), registry);
    this.checkLastRun = new SeriesGauge('campaign_check_last_run_timestamp_seconds', 'When the scheduled probe last ran the check (Unix time); probes run on their schedule, not at scrape time, so an old value means the schedule stopped.', checkSeriesLabels(ROW_CHECK), registry);
    // The name predates the word `hint` in the code; kept for the alerts and dashboards that query it.
    this.hintInfo = new Gauge({ name: 'campaign_module_remediation_info', help: "The module's execution scope and troubleshooting hint from Adobe's modules table, for every module the scheduled probes check; always 1.", labelNames: ['module', 'scope', 'hint'], registers });
    this.logLines = new Counter({ name: 'campaign_log_lines_total', help: "Error and warning lines the scheduled probes read from the module's log since the agent started (the lines a restart reads back are not counted again).", labelNames: ['module', 'campaign_instance', 'level'], registers });
    this.cycles = new Counter({ name: 'campaign_agent_probe_cycles_total', help: 'Scheduled probe cycles run; the other campaign_* results come from these runs, cached between them.', registers });
    // Like Prometheus' own prometheus_config_last_reload_successful / _success_timestamp_seconds.
    this.reloadSuccess = new Gauge({ name: 'campaign_agent_config_last_reload_success', help: 'Whether the last config load succeeded: 1 after start and after an accepted SIGHUP reload (config and web config file), 0 after a refused one (the previous config keeps running). Set by the daemon, not by the scheduled probes.', registers });
    this.reloadTimestamp = new Gauge({ name: 'campaign_agent_config_last_reload_success_timestamp_seconds', help: 'When the config was last loaded successfully (start or SIGHUP), Unix time. Set by the daemon, not by the scheduled probes.', registers });
    this.configLoaded(true, Date.now());
    this.restartActions = new Counter({ name: 'campaign_restart_actions_total', help: 'Automatic restart decisions taken after scheduled probe runs (opt-in per module): action restart or start; result ok, failed, timeout, dry_run, skipped_busy, skipped_view_down or suppressed.', labelNames: ['module', 'campaign_instance', 'action', 'result'], registers });
    this.restartSuppressedGauge = new Gauge({ name: 'campaign_restart_suppressed', help: '1 while automatic restarts of the module are held back (maxActions reached within the window), as of the last scheduled probe run; 0 otherwise.', labelNames: ['module', 'campaign_instance'], registers });
    this.stateChanges = new Counter({ name: 'campaign_module_state_changes_total', help: "Changes of the module's state as /status shows it (after flap damping) since the agent started, by the state changed to, counted as the scheduled probe runs find them; a row's first verdict is not a change. The series of a state appears at its first change. GET /events lists them.", labelNames: ['module', 'campaign_instance', 'to'], registers });
    this.stateWritableGauge = new Gauge({ name: 'campaign_agent_state_writable', help: 'Whether the last write to the state directory (stateDir: the event file, its heartbeat) succeeded: 1, or 0 while events are kept in memory only (read-only, missing or full directory; /status history.problem says why). Set by the daemon as it records events, not by the scheduled probes.', registers });
    for (const metric of [...CORE_VALUE_METRICS, ...plugins.flatMap((plugin) => plugin.metrics ?? [])]) {
      const reserved = metric.labels.filter((label) => RESERVED_LABELS.includes(label));
      if (reserved.length > 0) throw new Error(`${metric.name}: label ${reserved.join(', ')} is Prometheus' target label (use campaign_instance, campaign_job)`);
      const known = this.values.get(metric.value);
      if (known) {
        if (known.metric.name !== metric.name) throw new Error(`check value ${metric.value} is declared twice (${known.metric.name}, ${metric.name})`);
        continue;
      }
      const labels = checkSeriesLabels(metric.labels);
      const gauge = new SeriesGauge(metric.name, `${metric.help} ${CACHED}`, labels, registry);
      this.values.set(metric.value, { metric: { ...metric, labels }, gauge });
    }
  }

  /**
   * The exposition in two parts, `${renderProcess()}\n\n${renderResults()}\n` being what
   * `registry.metrics()` gives: the results only change with `version`, so /metrics renders them once
   * per version (~500 series, ~10 ms of cold code when rendered) and reads only the
   * process's own metrics at each scrape.
   */
  renderProcess(): Promise<string> {
    return this.render((name) => this.processMetricNames.has(name));
  }

  renderResults(): Promise<string> {
    return this.render((name) => !this.processMetricNames.has(name));
  }

  private async render(take: (name: string) => boolean): Promise<string> {
    const metrics = this.registry.getMetricsAsArray().filter((metric) => take(metric.name));
    const texts = await Promise.all(metrics.map((metric) => this.registry.getSingleMetricAsString(metric.name)));
    return texts.join('\n\n');
  }

  /** Pre-creates series for every row so alerts see them from the first scrape. */
  syncPlan(plan: readonly Row[], removedKeys: readonly string[], statusOf: (key: string) => RowStatus | undefined): void {
    this.version += 1;
    this.eventVersion += 1;
    for (const key of removedKeys) this.dropRow(key);
    for (const row of plan) {
      assertDistinctChecks(row);
      this.hintInfo.set({ module: row.module, scope: row.plugin.scope, hint: resolveHintLinks(row.plugin.hint) }, 1);
      const status = statusOf(row.key);
      if (status) this.updateRow(status);
    }
  }

  updateRow(status: RowStatus): void {
    this.version += 1;
    const row = this.rowSeriesOf(status);
    const cycle = ++row.cycle;
    row.states.forEach((series, i) => (series.value = STATES[i] === status.state ? 1 : 0));
    if (status.state === 'disabled') {
      if (row.up) this.up.remove(row.labels);
      row.up = undefined;
    } else {
      row.up ??= this.up.at(row.labels);
      row.up.value = isUp(status.state) ? 1 : 0;
    }
    // Checks that could not look keep their values (a count, 0 bytes) but export no success, duration or
    // last-run series: a check that did not look never reads as passed.
    for (const check of status.notLooked.length === 0 ? status.checks : [...status.checks, ...status.notLooked]) {
      const id = checkId(check.name, check.checkLabels);
      let series = row.checks.get(id);
      if (!series) {
        const labels: CheckLabels = { ...check.checkLabels, ...row.labels, check: check.name };
        series = { labels, values: new Map(), cycle };
        row.checks.set(id, series);
      }
      series.cycle = cycle;
      for (const [value, level] of LOG_LINE_VALUES) {
        const lines = check.values[value];
        if (lines !== undefined && Number.isFinite(lines) && lines >= 0) this.logLines.inc({ ...row.labels, level }, lines);
      }
      if (check.noEvidence === true) {
        if (series.verdict) this.dropVerdict(series);
      } else {
        series.verdict ??= { success: this.checkSuccess.at(series.labels), duration: this.checkDuration.at(series.labels), lastRun: this.checkLastRun.at(series.labels) };
        series.verdict.success.value = check.state === 'ok' ? 1 : 0;
        series.verdict.duration.value = check.durationMs / 1000;
        series.verdict.lastRun.value = check.lastRun / 1000;
      }
      for (const key in check.values) {
        const value = check.values[key];
        const declared = this.values.get(key);
        if (!declared || value === undefined || !Number.isFinite(value)) continue;
        let exported = series.values.get(key);
        // A value whose labels changed (check.labels) is a new series; the old one goes.
        if (!exported || !sameLabels(exported.series.labels, declared.metric.labels, check.labels, series.labels)) {
          if (exported) declared.gauge.remove(exported.series.labels);
          exported = { gauge: declared.gauge, series: declared.gauge.at({ ...check.labels, ...series.labels }), cycle };
          series.values.set(key, exported);
        }
        exported.cycle = cycle;
        exported.series.value = value;
      }
      // Series a check no longer produces are removed, not left stale.
      for (const [key, exported] of series.values) {
        if (exported.cycle === cycle) continue;
        exported.gauge.remove(exported.series.labels);
        series.values.delete(key);
      }
    }
    for (const [id, series] of row.checks) {
      if (series.cycle === cycle) continue;
      this.dropCheck(series);
      row.checks.delete(id);
    }
  }

  private rowSeriesOf(status: RowStatus): RowSeries {
    let row = this.rowSeries.get(status.key);
    if (!row) {
      const labels = rowLabels(status);
      row = { labels, states: STATES.map((state) => this.state.at({ ...labels, state })), checks: new Map(), cycle: 0 };
      this.rowSeries.set(status.key, row);
    }
    return row;
  }

  /** Series of the rows with automatic restarts on exist from the first scrape (0); others go. */
  restartRows(rows: readonly { module: string; instance: string }[]): void {
    this.version += 1;
    this.eventVersion += 1;
    const wanted = new Map(rows.map((row) => [`${row.module}@${row.instance}`, rowLabels(row)]));
    for (const [key, labels] of this.restarting) {
      if (wanted.has(key)) continue;
      this.restartSuppressedGauge.remove(labels);
      for (const action of RESTART_ACTIONS) for (const result of RESTART_RESULTS) this.restartActions.remove({ ...labels, action, result });
    }
    for (const [key, labels] of wanted) {
      if (this.restarting.has(key)) continue;
      this.restartSuppressedGauge.set(labels, 0);
      for (const action of RESTART_ACTIONS) for (const result of RESTART_RESULTS) this.restartActions.inc({ ...labels, action, result }, 0);
    }
    this.restarting = wanted;
  }

  countRestart(labels: { module: string; instance: string; action: string; result: string }): void {
    this.version += 1;
    this.eventVersion += 1;
    this.restartActions.inc({ ...rowLabels(labels), action: labels.action, result: labels.result });
  }

  restartSuppressed(labels: { module: string; instance: string }, suppressed: boolean): void {
    this.version += 1;
    this.eventVersion += 1;
    this.restartSuppressedGauge.set(rowLabels(labels), suppressed ? 1 : 0);
  }

  /** A change of a row's state (not its first verdict): campaign_module_state_changes_total. */
  countStateChange(row: { module: string; instance: string }, to: string): void {
    this.version += 1;
    this.stateChanges.inc({ ...rowLabels(row), to });
  }

  /** Whether events reach the state directory: campaign_agent_state_writable. */
  stateWritable(writable: boolean): void {
    this.version += 1;
    this.eventVersion += 1;
    this.stateWritableGauge.set(writable ? 1 : 0);
  }

  countCycle(): void {
    this.version += 1;
    this.cycles.inc();
  }

  /** A config load at start or on SIGHUP: accepted (the timestamp moves) or refused. */
  configLoaded(success: boolean, atMs: number): void {
    this.version += 1;
    this.eventVersion += 1;
    this.reloadSuccess.set(success ? 1 : 0);
    if (success) this.reloadTimestamp.set(atMs / 1000);
  }

  private dropRow(key: string): void {
    const row = this.rowSeries.get(key);
    if (!row) return;
    if (row.up) this.up.remove(row.labels);
    for (const state of STATES) this.state.remove({ ...row.labels, state });
    for (const series of row.checks.values()) this.dropCheck(series);
    for (const [, level] of LOG_LINE_VALUES) this.logLines.remove({ ...row.labels, level });
    for (const to of STATES) this.stateChanges.remove({ ...row.labels, to });
    this.rowSeries.delete(key);
  }

  private dropCheck(series: CheckSeries): void {
    this.dropVerdict(series);
    for (const exported of series.values.values()) exported.gauge.remove(exported.series.labels);
  }

  private dropVerdict(series: CheckSeries): void {
    for (const gauge of [this.checkSuccess, this.checkDuration, this.checkLastRun]) gauge.remove(series.labels);
    series.verdict = undefined;
  }
}

/**
 * A check's own labels must be declared by its plugin (checkLabels), and no two checks of a row may
 * share name and labels: their series would be one. A plugin bug, caught when the plan is made.
 */
function assertDistinctChecks(row: Row): void {
  const declared = row.plugin.checkLabels ?? [];
  const seen = new Set<string>();
  for (const check of row.checks) {
    const undeclared = Object.keys(check.labels ?? {}).filter((label) => !declared.includes(label));
    if (undeclared.length > 0) throw new Error(`${row.key}: check ${check.name} has label ${undeclared.join(', ')}, not in its plugin's checkLabels`);
    const id = checkId(check.name, check.labels);
    if (seen.has(id)) throw new Error(`${row.key}: two checks are ${id}; give them different names or labels`);
    seen.add(id);
  }
}

/** A row's labels: the Campaign instance as `campaign_instance`, never `instance` (RESERVED_LABELS). */
function rowLabels(row: { module: string; instance: string }): RowLabels {
  return { module: row.module, campaign_instance: row.instance };
}

/** Do a value series' labels still read what the check now reports (check labels over extra ones)? */
function sameLabels(exported: Readonly<Record<string, string>>, names: readonly string[], extra: Record<string, string>, check: CheckLabels): boolean {
  for (const name of names) {
    const now = check[name] ?? extra[name] ?? '';
    // SeriesGauge leaves empty labels out of a series.
    if ((exported[name] ?? '') !== now) return false;
  }
  return true;
}
