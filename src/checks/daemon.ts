import path from 'node:path';
import { existsSync } from 'node:fs';
import { freshnessCheck } from './freshness.js';
import { logErrorsCheck } from './logErrors.js';
import { processAgeCheck } from './processAge.js';
import { memoryCheck } from './memory.js';
import { monitorMissingCheck } from './monitorMissing.js';
import { processCheck } from './process.js';
import { withRestartGrace } from './restartGrace.js';
import type { ModuleConfig, restartGraceShape, ShapeOutput } from '../config/schema.js';
import type { Check, Install, ProbeTarget } from '../core/contracts.js';

// Campaign's defaults for every module node of serverConf.xml.
const DEFAULT_WARNING_MB = 1600;
const DEFAULT_ALERT_MB = 1800;

/**
 * What every resident Campaign module (`nlserver <module>`) is checked for: its process, Campaign's
 * own `monitor -missing` list and pdump memory against serverConf's thresholds, plus the module's own
 * checks. Critical results inside the daily-restart window are only warnings.
 */
export function daemonChecks(target: ProbeTarget<ModuleConfig & Partial<ShapeOutput<typeof restartGraceShape>>>, own: Check[] = []): Check[] {
  const machineWide = target.instance === 'default';
  const selector = { module: target.module, ...(machineWide ? {} : { instance: target.instance }) };
  const attributes = target.install.moduleAttributes(target.module, machineWide ? undefined : target.instance);
  const checks = [
    processCheck(selector),
    monitorMissingCheck(selector),
    memoryCheck({
      ...selector,
      warningMb: positive(attributes.maxProcessMemoryWarningMb) ?? DEFAULT_WARNING_MB,
      alertMb: positive(attributes.maxProcessMemoryAlertMb) ?? DEFAULT_ALERT_MB,
    }),
    moduleLogErrorsCheck(target),
    ...own,
  ];
  // restartGraceShape (ms); watchdog has none: it performs the daily restart itself.
  const graceMs = target.config.restartGrace ?? 0;
  return withRestartGrace(checks, { restartTime: attributes.processRestartTime, graceMs });
}

/**
 * `log`: the module's log in var/<instance>/log (`<name>.log`, or `<name>_2.log` right after a
 * rotation) written within maxAge. Modules log through syslogd, so a silent log is also how a
 * syslogd problem shows; stale is a warning, not proof the module is down.
 */
export function moduleLogCheck(target: ProbeTarget<unknown>, file: string, maxAgeMs: number): Check {
  return freshnessCheck({
    name: 'log',
    dir: path.join(target.install.varDir, target.instance, 'log'),
    glob: `${file}{,_2}.log`,
    maxAgeMs,
    staleState: 'warning',
    localDir: true,
  });
}

/**
 * The module's log, `<VAR>/<instance>/log/<module>.log` (per-machine modules: `default`) and the
 * sibling Campaign rotates it to, `<module>_2.log`; `modules.<name>.logErrors.path` overrides (with
 * `{instance}`). A log that does not exist is no evidence: the check says it could not look.
 */
export function moduleLogFiles(target: Pick<ProbeTarget<ModuleConfig>, 'install' | 'module' | 'instance' | 'config'>): string[] {
  const configured = target.config.logErrors.path?.replaceAll('{instance}', target.instance);
  const live = configured ?? path.join(target.install.varDir, target.instance, 'log', `${target.module}.log`);
  const rotated = live.endsWith('.log') ? `${live.slice(0, -'.log'.length)}_2.log` : `${live}_2`;
  return [live, rotated];
}

/** `log_errors`: error lines of the module's log within `logErrors.window` (docs/checks.md). */
export function moduleLogErrorsCheck(target: ProbeTarget<ModuleConfig>): Check {
  const { logErrors } = target.config;
  // Operators write patterns as they read the log: case does not matter.
  const compile = (sources: readonly string[]): RegExp[] => sources.map((source) => new RegExp(source, 'i'));
  return logErrorsCheck({ files: moduleLogFiles(target), windowMs: logErrors.window, critical: compile(logErrors.critical), ignore: compile(logErrors.ignore) });
}

/**
 * What an on-demand utility (export, import, tracking) is judged by out of the box: its log's errors,
 * and `process_age`, an `nlserver <module>` run older than `maxRunTimeMs` (the run hangs).
 */
export function utilityChecks(target: ProbeTarget<ModuleConfig>, maxRunTimeMs: number): Check[] {
  return [
    moduleLogErrorsCheck(target),
    processAgeCheck({ module: target.module, instance: target.instance, maxAgeMs: maxRunTimeMs, utility: true }),
  ];
}

/** A utility's row is enabled (`auto`) on an instance whose log of that module exists. */
export function hasModuleLog(install: Install, module: string, instance: string, config: ModuleConfig): boolean {
  return existsSync(moduleLogFiles({ install, module, instance, config })[0]!);
}

/** Check names are label-safe ([a-z0-9_]); instance and job names may carry capitals, dots and dashes. */
export function labelSafe(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

function positive(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}
