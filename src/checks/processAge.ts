import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { formatDuration } from '../util/format.js';
import { isModuleProcess } from './process.js';
import { nlserverProcesses } from '../snapshot/cycle.js';
import { isAlive, isTooOld, processAgeMs } from '../snapshot/nlserverProcesses.js';

export interface ProcessAgeOptions {
  module: string;
  instance?: string;
  /** Older than this is a warning. */
  maxAgeMs: number;
  /** An on-demand run (export, import, tracking): too old means the run hangs, not a missed restart. */
  utility?: boolean;
}

/**
 * Campaign's "processes too old" indicator for one module: every module is restarted daily, so a
 * process running for more than a day missed its restart and is likely stuck (a DB lock, a loop).
 */
export function processAgeCheck(opts: ProcessAgeOptions): Check {
  const label = opts.instance === undefined ? opts.module : `${opts.module}@${opts.instance}`;
  return {
    name: 'process_age',
    async run(ctx: CheckContext): Promise<CheckResult> {
      const processes = (await nlserverProcesses(ctx.snapshot)).filter((p) => isAlive(p) && isModuleProcess(p, opts.module, opts.instance));
      if (processes.length === 0) return { state: 'ok', message: opts.utility ? `no ${label} run in progress` : `no ${label} process to age` };
      const oldest = processes.reduce((a, b) => (a.startedAtMs <= b.startedAtMs ? a : b));
      const ageMs = processAgeMs(oldest, ctx.now());
      if (!isTooOld(oldest, ctx.now(), opts.maxAgeMs)) return { state: 'ok', message: `${label} started ${formatDuration(ageMs)} ago` };
      const ran = `${label} (pid ${oldest.pid}) has run for ${formatDuration(ageMs)}, more than ${formatDuration(opts.maxAgeMs)}`;
      return {
        state: 'warning',
        message: opts.utility
          ? `${ran} (maxRunTime): the run hangs`
          : `${ran}: it missed the daily restart (processes too old); stop it so the watchdog starts a fresh one`,
      };
    },
  };
}
