import path from 'node:path';
import { z } from 'zod';
import { freshnessCheck } from './freshness.js';
import { parseDuration } from '../config/duration.js';
import { durationSchema, instanceNameSchema, jobNameSchema, regexSchema } from '../config/schema.js';
import { labelSafe } from './daemon.js';
import type { AgentConfig } from '../config/schema.js';
import type { Check, ProbeTarget } from '../core/contracts.js';

// export, import and tracking are not daemons: nothing stays resident to look for. Their health is
// the evidence a job leaves behind: an output file or log, recent enough, without an error in it.

export interface JobConfig {
  name: string;
  /** Omitted: the job runs in every instance (use `{instance}` in path). */
  instance?: string;
  path?: string;
  glob: string;
  maxAge: string;
  errorPattern?: string;
}

const jobSchema = z.strictObject({
  name: jobNameSchema,
  instance: instanceNameSchema.optional(),
  path: z
    .string({ error: 'expected an absolute directory path (may contain {instance})' })
    .refine((text) => path.isAbsolute(text) && !text.includes('\0'), { error: (issue) => `expected an absolute directory path, got ${JSON.stringify(issue.input)}` })
    .optional(),
  glob: z.string().min(1).default('*'),
  maxAge: durationSchema,
  errorPattern: regexSchema.optional(),
});

/** `modules.<m>.jobs`; `pathRequired` where Campaign has no default directory for the module's output. */
export function jobsSchema(pathRequired: boolean) {
  return z
    .array(pathRequired ? jobSchema.required({ path: true }) : jobSchema)
    .default([])
    .superRefine((jobs, ctx) => {
      const seen = new Set<string>();
      jobs.forEach((job, index) => {
        const key = `${job.instance ?? '*'}/${labelSafe(job.name)}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate job name ${JSON.stringify(job.name)}${job.instance ? ` for instance ${job.instance}` : ''}` });
        seen.add(key);
      });
    });
}

export function jobsFor(config: AgentConfig, module: string, instance: string): JobConfig[] {
  const jobs = (config.modules[module]?.jobs ?? []) as JobConfig[];
  return jobs.filter((job) => job.instance === undefined || job.instance === instance);
}

/** One check per job: `job_<name>`; stale or missing evidence is critical (the module's hint applies). */
export function jobChecks(target: ProbeTarget, defaultDir?: (instance: string) => string): Check[] {
  const jobs = ((target.config.jobs ?? []) as JobConfig[]).filter((job) => job.instance === undefined || job.instance === target.instance);
  return jobs.map((job) => {
    const dir = (job.path ?? defaultDir?.(target.instance) ?? '').replaceAll('{instance}', target.instance);
    return freshnessCheck({
      name: `job_${labelSafe(job.name)}`,
      dir,
      glob: job.glob,
      maxAgeMs: parseDuration(job.maxAge) as number,
      staleState: 'critical',
      reportLastSuccess: true,
      ...(job.errorPattern ? { errorPattern: new RegExp(job.errorPattern) } : {}),
      labels: { campaign_job: job.name },
    });
  });
}

export const JOB_METRIC = {
  value: 'last_success_timestamp_seconds',
  name: 'campaign_job_last_success_timestamp_seconds',
  help: 'When the newest output of the job without an error was written (Unix time); 0 until one is seen.',
  labels: ['module', 'campaign_instance', 'campaign_job'],
} as const;
