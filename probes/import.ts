import path from 'node:path';
import { definePlugin } from '../src/core/plugin.js';
import { JOB_METRIC, jobChecks, jobsFor, jobsSchema } from '../src/checks/jobs.js';

// An on-demand utility (`nlserver import`): judged by the files its jobs leave, never by a process.
// The table's hint says "export" in the import row; it is quoted verbatim all the same.
export const importModule = definePlugin({
  module: 'import',
  scope: 'Execution of an import process',
  hint: 'The operator who scheduled this export needs to re-launch it. Check the database for duplicates.',
  runsOn: 'instance',
  defaultSchedule: '0 */5 * * * *',
  expected: (_install, instance, _config, own) => jobsFor(own.jobs, instance).length > 0,
  notExpectedNote: () => 'no job configured (modules.import.jobs); import is not a resident process',
  configShape: { jobs: jobsSchema(false) },
  metrics: [JOB_METRIC],
  // dataStore/@uploadDirectory defaults to var/<instance>/upload.
  checks: (target) => jobChecks(target, (instance) => path.join(target.install.varDir, instance, 'upload')),
});
