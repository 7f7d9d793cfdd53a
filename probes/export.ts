import path from 'node:path';
import { definePlugin } from '../src/core/plugin.js';
import { JOB_METRIC, jobChecks, jobsFor, jobsSchema } from '../src/checks/jobs.js';
import { hasModuleLog, utilityChecks } from '../src/checks/daemon.js';
import { durationSchema } from '../src/config/schema.js';

// An on-demand utility (`nlserver export`): judged out of the box by its log (var/<instance>/log/export.log)
// and a run that hangs (process_age against maxRunTime); configured jobs add the files they leave.
export const exportModule = definePlugin({
  module: 'export',
  scope: 'Execution of an export process',
  hint: 'The operator who scheduled this export needs to re-launch it. Either delta or full re-launch.',
  runsOn: 'instance',
  defaultSchedule: '0 */5 * * * *',
  expected: (install, instance, _config, own) => jobsFor(own.jobs, instance).length > 0 || hasModuleLog(install, 'export', instance, own),
  notExpectedNote: (instance) => `no log/export.log in var/${instance} and no job configured (modules.export.jobs); export is not a resident process`,
  configShape: { jobs: jobsSchema(false), maxRunTime: durationSchema.prefault('6h') },
  metrics: [JOB_METRIC],
  // dataStore/@exportDirectory defaults to var/<instance>/export.
  checks: (target) => [
    ...utilityChecks(target, target.config.maxRunTime),
    ...jobChecks(target, (instance) => path.join(target.install.varDir, instance, 'export')),
  ],
});
