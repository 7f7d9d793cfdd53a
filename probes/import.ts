import path from 'node:path';
import { definePlugin } from '../src/core/plugin.js';
import { JOB_METRIC, jobChecks, jobsFor, jobsSchema } from '../src/checks/jobs.js';
import { hasModuleLog, utilityChecks } from '../src/checks/daemon.js';
import { durationSchema } from '../src/config/schema.js';

// An on-demand utility (`nlserver import`): judged out of the box by its log (var/<instance>/log/import.log)
// and a run that hangs (process_age against maxRunTime); configured jobs add the files they leave.
// The table's hint says "export" in the import row; it is quoted verbatim all the same.
export const importModule = definePlugin({
  module: 'import',
  scope: 'Execution of an import process',
  hint: 'The operator who scheduled this export needs to re-launch it. Check the database for duplicates.',
  runsOn: 'instance',
  defaultSchedule: '0 */5 * * * *',
  expected: (install, instance, _config, own) => jobsFor(own.jobs, instance).length > 0 || hasModuleLog(install, 'import', instance, own),
  notExpectedNote: (instance) => `no log/import.log in var/${instance} and no job configured (modules.import.jobs); import is not a resident process`,
  configShape: { jobs: jobsSchema(false), maxRunTime: durationSchema.prefault('6h') },
  metrics: [JOB_METRIC],
  // dataStore/@uploadDirectory defaults to var/<instance>/upload.
  checks: (target) => [
    ...utilityChecks(target, target.config.maxRunTime),
    ...jobChecks(target, (instance) => path.join(target.install.varDir, instance, 'upload')),
  ],
});
