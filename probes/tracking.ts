import * as z from 'zod';
import { httpGetCheck, redirTestExpectation } from '../src/checks/index.js';
import { trackingWorkflowCheck } from '../src/checks/workflows.js';
import { durationSchema, urlSchema } from '../src/config/schema.js';
import { JOB_METRIC, jobChecks, jobsFor, jobsSchema } from '../src/checks/jobs.js';
import { definePlugin } from '../src/core/plugin.js';
import { hasModuleLog, utilityChecks } from '../src/checks/daemon.js';

// Not a daemon: the Tracking technical workflow (hourly, inside wfserver) fetches the redirection
// servers' logs. Evidence: its log (var/<instance>/log/tracking.log) and a run that hangs, out of the
// box; jobs' files, the redirection URL answering /r/test, the workflow via SOAP when configured.
export const tracking = definePlugin({
  module: 'tracking',
  scope: 'Consolidating and retrieving tracking logs',
  hint: "Check this module if tracking logs aren't forwarded anymore.",
  runsOn: 'instance',
  defaultSchedule: '0 * * * * *',
  expected: (install, instance, config, own) =>
    hasModuleLog(install, 'tracking', instance, own) ||
    jobsFor(own.jobs, instance).length > 0 ||
    redirectionUrl(own.redirectionUrl, instance) !== undefined ||
    (config.campaign.soap.login !== undefined && (install.instances.length === 1 || config.campaign.soap.instanceUrls?.[instance] !== undefined)),
  notExpectedNote: () =>
    'nothing to check: no log/tracking.log, no job (modules.tracking.jobs), no redirectionUrl and no SOAP operator (campaign.soap) configured; tracking is not a resident process',
  configShape: {
    jobs: jobsSchema(true),
    // One URL for every instance, or one per instance.
    redirectionUrl: z.union([urlSchema, z.record(z.string(), urlSchema)]).optional(),
    workflow: z
      .strictObject({
        internalName: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/).default('tracking'),
        lastRunField: z.string().regex(/^@[A-Za-z][A-Za-z0-9_]*$/, { error: 'expected an xtk:workflow attribute such as @lastStart' }).optional(),
        maxAge: durationSchema.prefault('2h'),
      })
      .prefault({}),
    slowResponse: durationSchema.prefault('2s'),
    maxRunTime: durationSchema.prefault('6h'),
  },
  metrics: [
    JOB_METRIC,
    { value: 'tracking_workflow_last_run_timestamp_seconds', name: 'campaign_tracking_workflow_last_run_timestamp_seconds', help: 'Last run of the Tracking workflow (Unix time), through SOAP.', labels: ['campaign_instance'] },
  ],
  checks(target) {
    const { config, instance, soap } = target;
    const url = redirectionUrl(config.redirectionUrl, instance);
    const { workflow } = config;
    return [
      ...utilityChecks(target, config.maxRunTime),
      ...jobChecks(target),
      ...(url ? [httpGetCheck({ name: 'r_test', url: `${url.replace(/\/+$/, '')}/r/test`, expect: redirTestExpectation, slowMs: config.slowResponse })] : []),
      ...(soap
        ? [
            trackingWorkflowCheck({
              client: soap,
              internalName: workflow.internalName,
              ...(workflow.lastRunField ? { lastRunExpr: workflow.lastRunField } : {}),
              maxAgeMs: workflow.maxAge,
            }),
          ]
        : []),
    ];
  },
});

/** `redirectionUrl`: one URL for every instance, or one per instance. */
function redirectionUrl(value: string | Record<string, string> | undefined, instance: string): string | undefined {
  return typeof value === 'string' ? value : value?.[instance];
}
