import * as z from 'zod';
import { durationCodec } from './duration.js';

// `modules.<name>.restarts`: opt-in automatic restarts. This file must not import config/schema.ts
// (schema.ts imports it: a cycle would leave these constants uninitialised).

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** Resident modules the agent may start or restart; everything else refuses the key (see REFUSED). */
export const RESTARTABLE_MODULES: readonly string[] = ['syslogd', 'web', 'trackinglogd', 'mta', 'stat', 'inMail', 'wfserver'];

/** Modules that check `nlserver pdump -who` before acting (restarting them cancels work in progress). */
export const BUSY_CHECK_MODULES: readonly string[] = ['mta', 'web'];

/** Why `modules.<name>.restarts` is refused, per module the agent knows but must never restart. */
const REFUSED: Record<string, string> = {
  export: 'export is an on-demand utility, not a resident process: there is nothing to restart (the operator re-launches the job)',
  import: 'import is an on-demand utility, not a resident process: there is nothing to restart (the operator re-launches the job)',
  tracking: 'tracking is an on-demand job (the Tracking workflow), not a resident process: there is nothing to restart',
  watchdog: 'watchdog is the supervisor that starts every other module: the agent never restarts it (restart the stack with systemctl restart nlserver)',
  nlserver: "nlserver is the agent's own row (the nlserver view), not a Campaign module",
  system: "system is the agent's own row (system indicators), not a Campaign module",
};

/** Milliseconds once parsed (see durationCodec). */
const durationSchema = durationCodec('30s, 5m or 1h');

const countSchema = (what: string) =>
  z
    .number({ error: (issue) => `expected a number of ${what} (1 to 100), got ${show(issue.input)}` })
    .int({ error: (issue) => `expected a whole number of ${what} (1 to 100), got ${show(issue.input)}` })
    .min(1, { error: (issue) => `expected a number of ${what} (1 to 100), got ${show(issue.input)}` })
    .max(100, { error: (issue) => `expected a number of ${what} (1 to 100), got ${show(issue.input)}` });

const booleanSchema = z.boolean({ error: (issue) => `expected true or false, got ${show(issue.input)}` });

export const restartsSchema = z.strictObject({
  /** Run `nlserver restart|start` after `afterFailures` consecutive critical runs. */
  restart: booleanSchema.default(false),
  afterFailures: countSchema('consecutive critical runs').default(3),
  /** At most this many actions per `window` (sliding); then suppressed until the oldest leaves it. */
  maxActions: countSchema('actions').default(3),
  window: durationSchema.prefault('1h'),
  /** After each action, critical runs do not count for this long. */
  grace: durationSchema.prefault('5m'),
  /** Log and count what would run, run nothing. */
  dryRun: booleanSchema.default(false),
  /** mta and web only (effective default true there): skip while `nlserver pdump -who` lists sessions. */
  skipWhenBusy: booleanSchema.optional(),
});

/** `modules.<name>.restarts` as parsed: durations in milliseconds. */
export type RestartsConfig = z.output<typeof restartsSchema>;

/**
 * Refuses `restarts` on modules that must never be restarted, and `skipWhenBusy` outside mta and web,
 * each with a sentence saying why (config load fails: nothing is half-applied).
 */
export function refineRestarts(module: string) {
  // `object`: the refinement is given every module's block, whatever its plugin's own keys; `restarts`
  // in it was parsed by restartsSchema already.
  return (value: object, ctx: z.RefinementCtx): void => {
    const restarts = 'restarts' in value ? value.restarts : undefined;
    if (restarts === undefined) return;
    if (!RESTARTABLE_MODULES.includes(module)) {
      const why = REFUSED[module] ?? `${module} is not a resident Campaign module the agent knows how to restart`;
      ctx.addIssue({ code: 'custom', path: ['restarts'], message: `automatic restarts are not available here: ${why}` });
      return;
    }
    const skipWhenBusy = typeof restarts === 'object' && restarts !== null && 'skipWhenBusy' in restarts ? restarts.skipWhenBusy : undefined;
    if (skipWhenBusy !== undefined && !BUSY_CHECK_MODULES.includes(module)) {
      ctx.addIssue({
        code: 'custom',
        path: ['restarts', 'skipWhenBusy'],
        message: `only mta and web check nlserver pdump -who before acting; remove the key for ${module}`,
      });
    }
  };
}

/** The settings of one module's automatic restarts; undefined when they are off or not allowed. */
export interface RemediationSettings {
  afterFailures: number;
  maxActions: number;
  windowMs: number;
  graceMs: number;
  dryRun: boolean;
  /** Check `nlserver pdump -who` first (mta and web; true unless configured false). */
  busyCheck: boolean;
}

export function remediationSettings(module: string, config: RestartsConfig | undefined): RemediationSettings | undefined {
  if (!RESTARTABLE_MODULES.includes(module) || config === undefined || !config.restart) return undefined;
  return {
    afterFailures: config.afterFailures,
    maxActions: config.maxActions,
    windowMs: config.window,
    graceMs: config.grace,
    dryRun: config.dryRun,
    busyCheck: BUSY_CHECK_MODULES.includes(module) && config.skipWhenBusy !== false,
  };
}
