import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { formatBytes } from '../util/format.js';
import { isModuleProcess } from './process.js';
import { isTask, taskLabel, viewOf, type TaskSelector } from './nlserverTask.js';
import { nlserverProcesses } from '../snapshot/cycle.js';

export interface MemoryCheckOptions extends TaskSelector {
  /** serverConf maxProcessMemoryWarningMb (1600 by default). */
  warningMb: number;
  /** serverConf maxProcessMemoryAlertMb (1800 by default). */
  alertMb: number;
}

const MIB = 1024 * 1024;

/**
 * The module's memory as `nlserver pdump` reports it, judged against Campaign's own per-process
 * thresholds. Without pdump the resident size from /proc stands in, and the message says so.
 */
export function memoryCheck(opts: MemoryCheckOptions): Check {
  const label = taskLabel(opts);
  const thresholds = `warning at ${opts.warningMb} MB, alert at ${opts.alertMb} MB`;
  return {
    name: 'memory',
    async run(ctx: CheckContext): Promise<CheckResult> {
      const view = await viewOf(ctx);
      if (view?.enabled && view.pdump.ok) {
        const tasks = view.pdump.parsed.entries.filter((task) => isTask(task, opts));
        if (tasks.length === 0) return { state: 'unknown', noEvidence: true, message: `not looked: ${label} not listed by nlserver pdump`, values: { memory_bytes: 0 } };
        const bytes = Math.max(...tasks.map((task) => task.memoryBytes));
        return judge(bytes, `${label} uses ${formatBytes(bytes)} (nlserver pdump)`);
      }
      const why = !view?.enabled ? (view?.reason ?? 'nlserver integration off') : `nlserver pdump failed (${view.pdump.error})`;
      const processes = (await nlserverProcesses(ctx.snapshot)).filter((p) => p.stateLetter !== 'Z' && isModuleProcess(p, opts.module, opts.instance));
      if (processes.length === 0) return { state: 'unknown', noEvidence: true, message: `not looked: no ${label} process to measure (${why})`, values: { memory_bytes: 0 } };
      const bytes = Math.max(...processes.map((p) => p.rssBytes));
      return judge(bytes, `${label} resident ${formatBytes(bytes)} from /proc (${why})`);
    },
  };

  function judge(bytes: number, reading: string): CheckResult {
    const mb = bytes / MIB;
    const state = mb >= opts.alertMb ? 'critical' : mb >= opts.warningMb ? 'warning' : 'ok';
    return { state, message: state === 'ok' ? reading : `${reading}, ${thresholds}`, values: { memory_bytes: bytes } };
  }
}
