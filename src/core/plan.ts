import type { CampaignLogon, CampaignSession } from './contracts.js';
import { moduleDefaults, type AgentConfig } from '../config/schema.js';
import { scheduleIntervalMs } from './interval.js';
import type { ProbePlugin } from './plugin.js';
import type { Check, Install } from './contracts.js';

/** One row of /status: a module on this machine (instance `default`) or in one Campaign instance. */
export interface Row {
  key: string;
  module: string;
  instance: string;
  plugin: ProbePlugin;
  /** false: the row is `disabled`, `note` says why. */
  enabled: boolean;
  /** When set, the row cannot be checked and is `unknown` with this message. */
  blocked?: string;
  note: string;
  schedule: string;
  /** Time between two runs of the schedule; a result older than 3 of these is stale. */
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failing runs before an ok/warning row turns critical/unknown (flap damping). */
  failuresBeforeCritical: number;
  /** Consecutive passing runs before a critical/unknown row turns ok/warning. */
  successesBeforeOk: number;
  /** While damping holds a changed verdict, the row runs again this long after (0: only as scheduled). */
  confirmAfterMs: number;
  checks: Check[];
}

export function rowKey(module: string, instance: string): string {
  return `${module}@${instance}`;
}

/** Shared services the agent hands to plugins (kept across re-plans, so sessions survive). */
export interface PlanServices {
  soapClient?(instance: string): CampaignSession | undefined;
  /** A Logon/Logoff client for a soaprouter URL; undefined when no operator login is configured. */
  logonClient?(url: string): CampaignLogon | undefined;
}

export function buildPlan(plugins: readonly ProbePlugin[], config: AgentConfig, install: Install, services: PlanServices = {}): Row[] {
  const rows: Row[] = [];
  for (const plugin of plugins) {
    const instances = plugin.runsOn === 'machine' ? ['default'] : install.instances;
    for (const instance of instances) rows.push(planRow(plugin, instance, config, install, services));
  }
  return rows;
}

/** Precedence: `modules.<name>.schedule`, then `defaults.schedule`, then the plugin's own. */
export function scheduleOf(plugin: ProbePlugin, config: AgentConfig): string {
  return config.modules[plugin.module]?.schedule ?? config.defaults.schedule ?? plugin.defaultSchedule;
}

function planRow(plugin: ProbePlugin, instance: string, config: AgentConfig, install: Install, services: PlanServices): Row {
  // Absent only from a config parsed for other plugins: the engine's fallbacks below, the checks get
  // the block an empty `modules.<name>: {}` gives.
  const moduleConfig = config.modules[plugin.module];
  const row: Row = {
    key: rowKey(plugin.module, instance),
    module: plugin.module,
    instance,
    plugin,
    enabled: true,
    note: '',
    schedule: scheduleOf(plugin, config),
    intervalMs: scheduleIntervalMs(scheduleOf(plugin, config)),
    timeoutMs: moduleConfig?.timeout ?? config.defaults.timeout,
    failuresBeforeCritical: moduleConfig?.failuresBeforeCritical ?? 1,
    successesBeforeOk: moduleConfig?.successesBeforeOk ?? 1,
    confirmAfterMs: moduleConfig?.confirmAfter ?? config.defaults.confirmAfter,
    checks: [],
  };
  const where = plugin.runsOn === 'machine' ? 'config-default.xml' : `config-${instance}.xml`;
  const enabled = moduleConfig?.enabled ?? 'auto';
  if (enabled === false) {
    return { ...row, enabled: false, note: `disabled by modules.${plugin.module}.enabled: false` };
  }
  // A conf file that could not be read is no ground for guessing (default ports, autoStart): every
  // module row that reads it says why it cannot be checked. The agent's own rows do not read them.
  const confProblem = plugin.kind === 'host' || !install.found ? undefined : install.confProblem(plugin.runsOn === 'machine' ? undefined : instance);
  if (confProblem !== undefined) return { ...row, blocked: confProblem, note: 'conf file not usable' };
  if (enabled === 'auto') {
    if (!install.found) {
      return { ...row, blocked: install.problems[0] ?? `Campaign install not found: ${install.installDir}`, note: 'install not found' };
    }
    if (!plugin.expected(install, instance, config)) {
      const note = plugin.notExpectedNote?.(instance) ?? `not enabled on this host (no autoStart="true" for ${plugin.module} in ${where} or serverConf.xml)`;
      return { ...row, enabled: false, note };
    }
    row.note = plugin.runsOn === 'machine' && !install.autoStart(plugin.module) ? 'expected on every Campaign server' : `enabled by autoStart in ${where}`;
  } else {
    row.note = `enabled by modules.${plugin.module}.enabled: true`;
  }
  try {
    const soap = plugin.runsOn === 'instance' ? services.soapClient?.(instance) : undefined;
    const logonClient = logonClientOf(services, config);
    row.checks = plugin.checks({
      module: plugin.module,
      instance,
      install,
      config: moduleConfig ?? moduleDefaults(plugin),
      timeoutMs: row.timeoutMs,
      campaign: config.campaign,
      ...(soap ? { soap } : {}),
      ...(logonClient ? { logonClient } : {}),
    });
  } catch (error) {
    row.blocked = `cannot build the checks: ${error instanceof Error ? error.message : String(error)}`;
  }
  return row;
}

/** Present only when an operator is configured: the plugin then knows a logon can be checked. */
function logonClientOf(services: PlanServices, config: AgentConfig): ((url: string) => CampaignLogon) | undefined {
  const { soap } = config.campaign;
  const make = services.logonClient;
  if (make === undefined || soap.login === undefined || soap.passwordFile === undefined) return undefined;
  return (url) => {
    const client = make(url);
    if (client === undefined) throw new Error(`no SOAP client for ${url}`);
    return client;
  };
}
