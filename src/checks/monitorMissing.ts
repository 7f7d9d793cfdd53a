import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { isTask, taskLabel, viewOf, type TaskSelector } from './nlserverTask.js';
import { isModuleProcess } from './process.js';
import { isAlive } from '../snapshot/nlserverProcesses.js';
import { nlserverProcesses } from '../snapshot/cycle.js';
import { formatDuration } from '../util/format.js';

/**
 * Campaign's own list of modules that should run and do not (`nlserver monitor -missing`). When it
 * names the module, the module is critical whatever the other checks say: Campaign knows its own
 * autoStart settings better than any process-table match.
 */
export function monitorMissingCheck(selector: TaskSelector): Check {
  const label = taskLabel(selector);
  return {
    name: 'monitor_missing',
    async run(ctx: CheckContext): Promise<CheckResult> {
      const view = await viewOf(ctx);
      // Without Campaign's list there is nothing to compare: no verdict, never an ok (the process check still judges).
      if (!view?.enabled) return { state: 'unknown', noEvidence: true, message: `not looked: ${view?.reason ?? 'nlserver integration off'}` };
      const { missing } = view;
      if (!missing.ok) return { state: 'unknown', noEvidence: true, message: `not looked: nlserver monitor -missing failed (${missing.error})` };
      if (missing.parsed.entries.some((entry) => isTask(entry, selector))) {
        // The view is read once a minute (campaign.nlserverSchedule): a module started since it was
        // read is not missing any more, and the list must not outvote the process table.
        const since = await startedSince(ctx, selector, view.readAt);
        if (since !== undefined) {
          const age = formatDuration(ctx.now() - (view.readAt ?? 0));
          return { state: 'unknown', noEvidence: true, message: `not looked: nlserver monitor -missing listed ${label} ${age} ago, but pid ${since} started since` };
        }
        return { state: 'critical', message: `${label} listed by nlserver monitor -missing (autoStart is on but it is not running)` };
      }
      return { state: 'ok', message: `${label} not listed by nlserver monitor -missing` };
    },
  };
}

/** The pid of a live process of the module that started after the view was read, if any. */
async function startedSince(ctx: CheckContext, selector: TaskSelector, readAt: number | undefined): Promise<number | undefined> {
  if (readAt === undefined) return undefined;
  const processes = await nlserverProcesses(ctx.snapshot);
  return processes.find((p) => isAlive(p) && p.startedAtMs >= readAt && isModuleProcess(p, selector.module, selector.instance))?.pid;
}
