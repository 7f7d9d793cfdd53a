import path from 'node:path';
import * as z from 'zod';
import { freshnessCheck } from './freshness.js';
import { durationSchema, instanceNameSchema, jobNameSchema, regexSchema } from '../config/schema.js';
import { labelSafe } from './daemon.js';
import type { Check, ProbeTarget } from '../core/contracts.js';

// export, import and tracking are not daemons: nothing stays resident to look for. Their health is
// the evidence a job leaves behind: an output file or log, recent enough, without an error in it.

const jobSchema = z.strictObject({
  name: jobNameSchema,
  /** Omitted: the job runs in every instance (use `{instance}` in path). */
  instance: instanceNameSchema.optional(),
  path: z
    .string({ error: 'expected an absolute directory path (may contain {instance})' })
    .refine((text) => path.isAbsolute(text) && !text.includes('\0'), { error: (issue) => `expected an absolute directory path, got ${JSON.stringify(issue.input)}` })
    .optional(),
  glob: z.string().min(1).default('*'),
  maxAge: durationSchema,
  errorPattern: regexSchema.optional(),
});

/** One job of `modules.<m>.jobs` as parsed (maxAge in milliseconds). */
export type JobConfig = z.output<typeof jobSchema>;

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

/** The jobs of a module's `jobs` list that run in `instance`. */
export function jobsFor(jobs: readonly JobConfig[], instance: string): JobConfig[] {
  return jobs.filter((job) => job.instance === undefined || job.instance === instance);
}

/** One check per job: `job_<name>`; stale or missing evidence is critical (the module's hint applies). */
export function jobChecks(target: ProbeTarget<{ jobs: readonly JobConfig[] }>, defaultDir?: (instance: string) => string): Check[] {
  return jobsFor(target.config.jobs, target.instance).map((job) => {
    const dir = (job.path ?? defaultDir?.(target.instance) ?? '').replaceAll('{instance}', target.instance);
    return freshnessCheck({
      name: `job_${labelSafe(job.name)}`,
      dir,
      glob: job.glob,
      maxAgeMs: job.maxAge,
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
