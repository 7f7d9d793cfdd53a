import type { z } from 'zod';
import { moduleDefaults, type AgentConfig, type ModuleBaseShape, type ModuleConfig, type ModuleConfigOf } from '../config/schema.js';
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
 * primitives in src/checks/ know *how*, the engine knows *when*. This is the engine's view, the same
 * for every plugin; probes are written with definePlugin, which types their config.
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

/** What a probe declares: a ProbePlugin whose `expected` and `checks` see its config block typed. */
export interface PluginDefinition<S extends z.ZodRawShape> extends Omit<ProbePlugin, 'configShape' | 'expected' | 'checks'> {
  /**
   * Module-specific config keys (besides the ones every module has: moduleBaseShape), with their
   * defaults. Durations (durationSchema) are parsed to milliseconds; give their defaults as text with
   * `.prefault('5m')`.
   */
  configShape?: S & { [K in keyof ModuleBaseShape]?: never };
  /** As ProbePlugin.expected; `own` is this module's block, `config.modules[module]` typed. */
  expected(install: Install, instance: string, config: AgentConfig, own: ModuleConfigOf<S>): boolean;
  /** As ProbePlugin.checks; `target.config` is this module's block, typed from configShape. */
  checks(target: ProbeTarget<ModuleConfigOf<S>>): Check[];
}

/**
 * A probe plugin whose config is typed from its own schema:
 *
 *     definePlugin({
 *       module: 'mta', ...,
 *       configShape: { logMaxAge: durationSchema.prefault('25h') },
 *       checks: (target) => [moduleLogCheck(target, 'mta', target.config.logMaxAge)], // a number of ms
 *     });
 *
 * `target.config` (and `own` in `expected`) is z.output of the module's schema (moduleSchema: the keys
 * every module has, then configShape): defaults filled in, durations in milliseconds, no casts.
 */
export function definePlugin<S extends z.ZodRawShape = {}>(definition: PluginDefinition<S>): ProbePlugin {
  const { expected, checks, ...plugin } = definition;
  // The engine hands every plugin `config.modules[module]`, parsed by the schema built from this very
  // plugin's configShape (buildConfigSchema, given the plugin list the plan runs), but typed there as
  // only what every module has. The one place the plugin's own keys are asserted back.
  const own = (block: ModuleConfig | undefined): ModuleConfigOf<S> => (block ?? moduleDefaults(plugin)) as ModuleConfigOf<S>;
  return {
    ...plugin,
    expected: (install, instance, config) => expected(install, instance, config, own(config.modules[plugin.module])),
    checks: (target) => checks({ ...target, config: own(target.config) }),
  };
}
