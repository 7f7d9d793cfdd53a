import { z } from 'zod';
import { httpGetCheck, redirTestExpectation } from '../src/checks/index.js';
import { trackingWorkflowCheck } from '../src/checks/workflows.js';
import { parseDuration } from '../src/config/duration.js';
import { durationSchema, urlSchema } from '../src/config/schema.js';
import { JOB_METRIC, jobChecks, jobsFor, jobsSchema } from '../src/checks/jobs.js';
import type { ProbePlugin } from '../src/core/plugin.js';
import type { AgentConfig } from '../src/config/schema.js';

// Not a daemon: the Tracking technical workflow (hourly, inside wfserver) fetches the redirection
// servers' logs. Evidence: jobs' files, the redirection URL answering /r/test, the workflow via SOAP.
export const tracking: ProbePlugin = {
  module: 'tracking',
  scope: 'Consolidating and retrieving tracking logs',
  hint: "Check this module if tracking logs aren't forwarded anymore.",
  runsOn: 'instance',
  defaultSchedule: '0 * * * * *',
  expected: (install, instance, config) =>
    jobsFor(config, 'tracking', instance).length > 0 ||
    redirectionUrl(config.modules.tracking, instance) !== undefined ||
    (config.campaign.soap.login !== undefined && (install.instances.length === 1 || config.campaign.soap.instanceUrls?.[instance] !== undefined)),
  notExpectedNote: () =>
    'nothing to check: no job (modules.tracking.jobs), no redirectionUrl and no SOAP operator (campaign.soap) configured; tracking is not a resident process',
  configShape: {
    jobs: jobsSchema(true),
    // One URL for every instance, or one per instance.
    redirectionUrl: z.union([urlSchema, z.record(z.string(), urlSchema)]).optional(),
    workflow: z
      .strictObject({
        internalName: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/).default('tracking'),
        lastRunField: z.string().regex(/^@[A-Za-z][A-Za-z0-9_]*$/, { error: 'expected an xtk:workflow attribute such as @lastStart' }).optional(),
        maxAge: durationSchema.default('2h'),
      })
      .prefault({}),
    slowResponse: durationSchema.default('2s'),
  },
  metrics: [
    JOB_METRIC,
    { value: 'tracking_workflow_last_run_timestamp_seconds', name: 'campaign_tracking_workflow_last_run_timestamp_seconds', help: 'Last run of the Tracking workflow (Unix time), through SOAP.', labels: ['campaign_instance'] },
  ],
  checks(target) {
    const { config, instance, soap } = target;
    const url = redirectionUrl(config, instance);
    const workflow = config.workflow as { internalName: string; lastRunField?: string; maxAge: string };
    return [
      ...jobChecks(target),
      ...(url ? [httpGetCheck({ name: 'r_test', url: `${url.replace(/\/+$/, '')}/r/test`, expect: redirTestExpectation, slowMs: parseDuration(config.slowResponse as string) as number })] : []),
      ...(soap
        ? [
            trackingWorkflowCheck({
              client: soap,
              internalName: workflow.internalName,
              ...(workflow.lastRunField ? { lastRunExpr: workflow.lastRunField } : {}),
              maxAgeMs: parseDuration(workflow.maxAge) as number,
            }),
          ]
        : []),
    ];
  },
};

function redirectionUrl(config: AgentConfig['modules'][string] | Record<string, unknown> | undefined, instance: string): string | undefined {
  const value = config?.redirectionUrl as string | Record<string, string> | undefined;
  return typeof value === 'string' ? value : value?.[instance];
}
