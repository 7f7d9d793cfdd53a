import type { z } from 'zod';
import type { Check, Install, ModuleScope, ProbeTarget } from './types.js';

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
  expected(install: Install, instance: string): boolean;
  /** Module-specific config keys (besides enabled, schedule, timeout), with their defaults. */
  configShape?: z.ZodRawShape;
  /** The checks for one instance of the module. */
  checks(target: ProbeTarget): Check[];
}
