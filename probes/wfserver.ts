import { processAgeCheck } from '../src/checks/processAge.js';
import { workflowsInErrorCheck } from '../src/checks/workflows.js';
import { durationSchema, restartGraceShape } from '../src/config/schema.js';
import { daemonChecks, moduleLogCheck } from '../src/checks/daemon.js';
import { definePlugin } from '../src/core/plugin.js';

const DAY_MS = 86_400_000;

export const wfserver = definePlugin({
  module: 'wfserver',
  scope: 'Controls workflow instance execution.',
  hint:
    'If you encounter any problems, restart this module. If necessary, apply the procedure to increase precision of logs detailed in the ' +
    '[Log precision](../../production/using/log-precision.md) section.',
  runsOn: 'instance',
  defaultSchedule: '*/30 * * * * *',
  expected: (install, instance) => install.autoStart('wfserver', instance),
  configShape: {
    ...restartGraceShape,
    logMaxAge: durationSchema.prefault('25h'),
  },
  metrics: [{ value: 'workflows_in_error', name: 'campaign_workflows_in_error', help: 'Workflows in error (xtk:workflow @failed = 1), through SOAP.', labels: ['campaign_instance'] }],
  checks(target) {
    const { config, instance, soap } = target;
    return daemonChecks(target, [
      moduleLogCheck(target, 'wfserver', config.logMaxAge),
      // A wfserver stuck on a lock keeps its process yet runs nothing: the daily restart is the tell.
      processAgeCheck({ module: 'wfserver', instance, maxAgeMs: DAY_MS + config.restartGrace }),
      ...(soap ? [workflowsInErrorCheck({ client: soap })] : []),
    ]);
  },
});
