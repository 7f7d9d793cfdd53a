import path from 'node:path';
import { definePlugin } from '../src/core/plugin.js';
import { JOB_METRIC, jobChecks, jobsFor, jobsSchema } from '../src/checks/jobs.js';

// An on-demand utility (`nlserver export`): judged by the files its jobs leave, never by a process.
export const exportModule = definePlugin({
  module: 'export',
  scope: 'Execution of an export process',
  hint: 'The operator who scheduled this export needs to re-launch it. Either delta or full re-launch.',
  runsOn: 'instance',
  defaultSchedule: '0 */5 * * * *',
  expected: (_install, instance, _config, own) => jobsFor(own.jobs, instance).length > 0,
  notExpectedNote: () => 'no job configured (modules.export.jobs); export is not a resident process',
  configShape: { jobs: jobsSchema(false) },
  metrics: [JOB_METRIC],
  // dataStore/@exportDirectory defaults to var/<instance>/export.
  checks: (target) => jobChecks(target, (instance) => path.join(target.install.varDir, instance, 'export')),
});
