import * as z from 'zod';
import { fileGrowthCheck } from '../src/checks/index.js';
import { durationSchema, restartGraceShape } from '../src/config/schema.js';
import { daemonChecks } from '../src/checks/daemon.js';
import { definePlugin } from '../src/core/plugin.js';

// trackinglogd is one process per machine, but writes its files per instance: var/<inst>/redir/log.
// One `redir_log` check per directory, told apart by the label redir_instance (docs/metrics.md).
export const trackinglogd = definePlugin({
  module: 'trackinglogd',
  scope: 'Tracking log writing and purging server',
  hint:
    "Check this module if tracking logs aren't forwarded anymore and there are no traces of logs in the files on the server. " +
    'Refer to [Tracking logs issues](../../production/using/tracking-logs-issues.md).',
  runsOn: 'machine',
  defaultSchedule: '*/30 * * * * *',
  expected: (install) => install.autoStart('trackinglogd'),
  checkLabels: ['redir_instance'],
  configShape: {
    ...restartGraceShape,
    // Files grow only with clicks and opens: quiet frontals need wider windows.
    growthWarning: durationSchema.prefault('1h'),
    growthCritical: durationSchema.prefault('6h'),
    glob: z.string().min(1).default('0x*.log'),
  },
  checks(target) {
    const { install, config } = target;
    const warnAfterMs = config.growthWarning;
    const criticalAfterMs = Math.max(warnAfterMs, config.growthCritical);
    return daemonChecks(
      target,
      install.redirLogDirs.map(({ instance, dir }) =>
        ({ ...fileGrowthCheck({ name: 'redir_log', dir, glob: config.glob, warnAfterMs, criticalAfterMs }), labels: { redir_instance: instance } }),
      ),
    );
  },
});
