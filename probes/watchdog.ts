import { daemonChecks } from '../src/checks/daemon.js';
import { definePlugin } from '../src/core/plugin.js';

// The supervisor of every other module: when it is gone nothing restarts, so its absence is critical.
export const watchdog = definePlugin({
  module: 'watchdog',
  scope: 'Startup and monitoring instance',
  hint: 'Check this module if no processes start.',
  runsOn: 'machine',
  defaultSchedule: '*/30 * * * * *',
  // No serverConf node enables it: every Campaign server runs one.
  expected: () => true,
  // Documented command line: `nlserver watchdog -svc -noconsole` (no instance). It performs the
  // daily restart itself and is not restarted, so it gets no restart grace.
  checks: (target) => daemonChecks(target),
});
