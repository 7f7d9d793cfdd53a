import * as z from 'zod';
import { absolutePathSchema, durationSchema, type ShapeOutput } from '../../config/schema.js';
import type { Thresholds } from './judge.js';

// The `system` probe's settings, with Campaign's console Monitoring thresholds as defaults:
// percentages are ratios of a maximum (warning 0.8, alert 0.9), counts are counts.

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

const ratio = (fallback: number) => {
  const error = (issue: { input: unknown }) => `expected a ratio between 0 and 1 such as 0.8 (for 80%), got ${show(issue.input)}`;
  return z.number({ error }).gt(0, { error }).max(1, { error }).default(fallback);
};

const count = (fallback: number) => {
  const error = (issue: { input: unknown }) => `expected a whole number of at least 1, got ${show(issue.input)}`;
  return z.int({ error }).min(1, { error }).default(fallback);
};

/** A critical threshold below the warning one would make the warning state unreachable: refused. */
const criticalNotBelowWarning = (levels: Thresholds): boolean => levels.critical >= levels.warning;
const criticalBelowWarningError = {
  path: ['critical'],
  // Only once both thresholds are valid: `warning: 80` is one mistake, reported once.
  when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0,
  error: (issue: { input: unknown }) => {
    const levels = issue.input as Thresholds;
    return `expected at least the warning threshold (${levels.warning}), got ${show(levels.critical)}`;
  },
};

const ratioLevels = () =>
  z
    .strictObject({ warning: ratio(0.8), critical: ratio(0.9) })
    .refine(criticalNotBelowWarning, criticalBelowWarningError)
    .prefault({});

const countLevels = (warning: number, critical: number) =>
  z
    .strictObject({ warning: count(warning), critical: count(critical) })
    .refine(criticalNotBelowWarning, criticalBelowWarningError)
    .prefault({});

const positiveLoad = (issue: { input: unknown }) => `expected a positive number (the highest acceptable load), got ${show(issue.input)}`;

export const systemConfigShape = {
  load: z
    .strictObject({
      // Campaign's "max authorized load"; one runnable task per CPU is a fully busy host.
      max: z.number({ error: positiveLoad }).positive({ error: positiveLoad }).optional(),
      warning: ratio(0.8),
      critical: ratio(0.9),
      average: z.literal([1, 5, 15], { error: (issue) => `expected 1, 5 or 15 (minutes), got ${show(issue.input)}` }).default(5),
    })
    .refine(criticalNotBelowWarning, criticalBelowWarningError)
    .prefault({}),
  memory: ratioLevels(),
  swap: ratioLevels(),
  fileHandles: ratioLevels(),
  processes: ratioLevels(),
  disk: ratioLevels(),
  // Campaign: max 1, alert at 1; a single core file already means a module crashed.
  coreFiles: countLevels(1, 1),
  // Applied to ORPHANED segments (no process attached), not to all of them: trackinglogd and the web
  // module legitimately hold one segment on every redirection server, so counting all segments
  // against Campaign's 1/2 would warn forever. Orphaned ones are what the docs' `ipcrm` procedure
  // cleans up.
  shmSegments: countLevels(1, 2),
  processesTooOld: z
    .strictObject({
      warning: count(1),
      critical: count(2),
      // How long after a day a module may still run: the daily restart is not instantaneous.
      grace: durationSchema.prefault('1h'),
    })
    .refine(criticalNotBelowWarning, criticalBelowWarningError)
    .prefault({}),
  // Campaign: max 2, alert at 2.
  zombies: countLevels(1, 2),
  // Extra directories where cores may land (a module's working directory other than the install dir).
  coreDirs: z.array(absolutePathSchema, { error: (issue) => `expected a list of absolute paths, got ${show(issue.input)}` }).default([]),
};

/** The system probe's settings as parsed (processesTooOld.grace in milliseconds). */
export type Settings = ShapeOutput<typeof systemConfigShape>;
