import { collectDefaultMetrics, Gauge, Counter, Registry } from 'prom-client';
import type { Row } from './engine/plan.js';
import type { RowStatus } from './engine/store.js';
import { isUp } from './engine/states.js';
import { STATES } from './types.js';

const CACHED = 'Result of the last scheduled probe run, cached between runs (see campaign_check_last_run_timestamp_seconds).';

// promtool rejects these default metrics: gauges named like counters.
const REJECTED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Check values (CheckResult.values keys) exported as their own gauges, labelled by module, instance and check. */
const VALUE_METRICS: Record<string, { name: string; help: string }> = {
  response_seconds: { name: 'campaign_http_response_time_seconds', help: 'HTTP response time of the check request.' },
  processes: { name: 'campaign_module_processes', help: 'Processes found for the module instance.' },
  uptime_seconds: { name: 'campaign_module_process_uptime_seconds', help: 'Age of the oldest matching process.' },
  newest_file_bytes: { name: 'campaign_file_newest_size_bytes', help: 'Size of the newest watched file.' },
  seconds_since_growth: { name: 'campaign_file_growth_age_seconds', help: 'Seconds since the watched files last grew.' },
};

/** Every series the agent exports, in one registry per agent (no global state: tests build several). */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly up: Gauge;
  private readonly state: Gauge;
  private readonly checkSuccess: Gauge;
  private readonly checkDuration: Gauge;
  private readonly checkLastRun: Gauge;
  private readonly remediation: Gauge;
  private readonly cycles: Counter;
  private readonly values = new Map<string, Gauge>();
  /** Check names currently exported per row, to drop series of checks that no longer exist. */
  private readonly exportedChecks = new Map<string, Set<string>>();

  constructor(version: string) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    for (const name of REJECTED_DEFAULTS) this.registry.removeSingleMetric(name);
    new Gauge({ name: 'campaign_agent_build_info', help: 'Agent version; always 1.', labelNames: ['version'], registers }).set({ version }, 1);
    this.up = new Gauge({ name: 'campaign_module_up', help: `1 when the module is ok or warning, 0 when critical or unknown; absent when disabled. ${CACHED}`, labelNames: ['module', 'instance'], registers });
    this.state = new Gauge({ name: 'campaign_module_state', help: `1 for the module's current state (ok, warning, critical, unknown, disabled), 0 for the others. ${CACHED}`, labelNames: ['module', 'instance', 'state'], registers });
    this.checkSuccess = new Gauge({ name: 'campaign_check_success', help: `1 when the check passed (ok), 0 otherwise. ${CACHED}`, labelNames: ['module', 'instance', 'check'], registers });
    this.checkDuration = new Gauge({ name: 'campaign_check_duration_seconds', help: `How long the check took. ${CACHED}`, labelNames: ['module', 'instance', 'check'], registers });
    this.checkLastRun = new Gauge({ name: 'campaign_check_last_run_timestamp_seconds', help: 'When the check last ran (Unix time); stale values mean the schedule stopped.', labelNames: ['module', 'instance', 'check'], registers });
    this.remediation = new Gauge({ name: 'campaign_module_remediation_info', help: "The module's execution scope and troubleshooting hint from Adobe's modules table; always 1.", labelNames: ['module', 'scope', 'hint'], registers });
    this.cycles = new Counter({ name: 'campaign_agent_probe_cycles_total', help: 'Probe cycles run by the scheduler.', registers });
    for (const [key, { name, help }] of Object.entries(VALUE_METRICS)) {
      this.values.set(key, new Gauge({ name, help: `${help} ${CACHED}`, labelNames: ['module', 'instance', 'check'], registers }));
    }
  }

  /** Pre-creates series for every row so alerts see them from the first scrape. */
  syncPlan(plan: readonly Row[], removedKeys: readonly string[], statusOf: (key: string) => RowStatus | undefined): void {
    for (const key of removedKeys) this.dropRow(key);
    for (const row of plan) {
      this.remediation.set({ module: row.module, scope: row.plugin.scope, hint: row.plugin.hint }, 1);
      const status = statusOf(row.key);
      if (status) this.updateRow(status);
    }
  }

  updateRow(status: RowStatus): void {
    const labels = { module: status.module, instance: status.instance };
    for (const state of STATES) this.state.set({ ...labels, state }, state === status.state ? 1 : 0);
    if (status.state === 'disabled') this.up.remove(labels);
    else this.up.set(labels, isUp(status.state) ? 1 : 0);

    const current = new Set(status.checks.map((check) => check.name));
    for (const stale of this.exportedChecks.get(status.key) ?? []) if (!current.has(stale)) this.dropCheck(labels, stale);
    this.exportedChecks.set(status.key, current);
    for (const check of status.checks) {
      const checkLabels = { ...labels, check: check.name };
      this.checkSuccess.set(checkLabels, check.state === 'ok' ? 1 : 0);
      this.checkDuration.set(checkLabels, check.durationMs / 1000);
      this.checkLastRun.set(checkLabels, check.lastRun / 1000);
      for (const [key, gauge] of this.values) {
        const value = check.values[key];
        if (value === undefined || !Number.isFinite(value)) gauge.remove(checkLabels);
        else gauge.set(checkLabels, value);
      }
    }
  }

  countCycle(): void {
    this.cycles.inc();
  }

  private dropRow(key: string): void {
    const at = key.lastIndexOf('@');
    const labels = { module: key.slice(0, at), instance: key.slice(at + 1) };
    this.up.remove(labels);
    for (const state of STATES) this.state.remove({ ...labels, state });
    for (const check of this.exportedChecks.get(key) ?? []) this.dropCheck(labels, check);
    this.exportedChecks.delete(key);
  }

  private dropCheck(labels: { module: string; instance: string }, check: string): void {
    const checkLabels = { ...labels, check };
    for (const gauge of [this.checkSuccess, this.checkDuration, this.checkLastRun, ...this.values.values()]) gauge.remove(checkLabels);
  }
}
