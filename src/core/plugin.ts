import type { z } from 'zod';
import type { AgentConfig } from '../config/schema.js';
import type { Check, Install, ModuleScope, ProbeTarget } from './contracts.js';

/**
 * A check value (CheckResult.values key) exported as its own gauge. Label values come from the row
 * (`module`, `campaign_instance`), the check (`check`) and the result's own `labels` (e.g. `campaign_job`).
 */
export interface ValueMetric {
  /** The CheckResult.values key. */
  value: string;
  /** Full metric name, `campaign_` prefix and base unit included. */
  name: string;
  help: string;
  labels: readonly string[];
}

/**
 * One probe plugin per Campaign module (probes/<module>.ts). It declares *what* to check; the
 * primitives in src/checks/ know *how*, the engine knows *when*.
 */
export interface ProbePlugin {
  /** Module name as Campaign spells it (`inMail`, not `inmail`). */
  module: string;
  /** "Execution scope", verbatim from the modules table. */
  scope: string;
  /** "Troubleshooting", verbatim from the modules table. */
  hint: string;
  /** machine: one row, instance `default`; instance: one row per Campaign instance. */
  runsOn: ModuleScope;
  /** 6-field node-cron expression used unless `modules.<name>.schedule` overrides it. */
  defaultSchedule: string;
  /**
   * Whether the module should run here when `modules.<name>.enabled` is `auto`. Most modules follow
   * autoStart; watchdog and syslogd are expected on every Campaign server.
   */
  expected(install: Install, instance: string, config: AgentConfig): boolean;
  /** Why the row is disabled when `expected` says no; default: the autoStart explanation. */
  notExpectedNote?(instance: string): string;
  /** Module-specific config keys (besides enabled, schedule, timeout), with their defaults. */
  configShape?: z.ZodRawShape;
  /**
   * `module` (default): a row of Adobe's modules table, scope and hint quoted from it verbatim.
   * `host`: a row of the agent's own (the nlserver view, system indicators), with its own wording.
   */
  kind?: 'module' | 'host';
  /** Gauges this plugin's check values feed, besides the core ones (see src/metrics/). */
  metrics?: readonly ValueMetric[];
  /** Names of the labels its checks carry (Check.labels) besides module, campaign_instance and check. */
  checkLabels?: readonly string[];
  /** The checks for one instance of the module. */
  checks(target: ProbeTarget): Check[];
}
