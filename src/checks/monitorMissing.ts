import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { isTask, taskLabel, viewOf, type TaskSelector } from './nlserverTask.js';

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
        return { state: 'critical', message: `${label} listed by nlserver monitor -missing (autoStart is on but it is not running)` };
      }
      return { state: 'ok', message: `${label} not listed by nlserver monitor -missing` };
    },
  };
}
