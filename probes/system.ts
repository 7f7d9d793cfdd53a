import { z } from 'zod';
import { formatBytes, formatDuration } from '../src/checks/format.js';
import { absolutePathSchema, durationSchema } from '../src/config/schema.js';
import { parseDuration } from '../src/config/duration.js';
import type { ProbePlugin, ValueMetric } from '../src/plugin.js';
import { findCoreFiles } from '../src/system/coreFiles.js';
import { readFileHandles } from '../src/system/fileHandles.js';
import { judge, listSome, percent, thresholdPercent, thresholdText, type Thresholds } from '../src/system/judge.js';
import { readCpuCount, readLoadavg } from '../src/system/loadavg.js';
import { readMeminfo } from '../src/system/meminfo.js';
import { findTooOld, findZombies, tooOldAfterMs } from '../src/system/nlserverProcesses.js';
import { readPidMax } from '../src/system/pidMax.js';
import { readShm } from '../src/system/shm.js';
import { readFilesystem } from '../src/system/varDisk.js';
import type { Check, CheckContext, CheckResult } from '../src/types.js';

// The system indicators of Campaign's console Monitoring page, with Campaign's thresholds as
// defaults: percentages are ratios of a maximum (warning 0.8, alert 0.9), counts are counts.

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
      grace: durationSchema.default('1h'),
    })
    .refine(criticalNotBelowWarning, criticalBelowWarningError)
    .prefault({}),
  // Campaign: max 2, alert at 2.
  zombies: countLevels(1, 2),
  // Extra directories where cores may land (a module's working directory other than the install dir).
  coreDirs: z.array(absolutePathSchema, { error: (issue) => `expected a list of absolute paths, got ${show(issue.input)}` }).default([]),
};

const settingsSchema = z.object(systemConfigShape);
type Settings = z.output<typeof settingsSchema>;

const METRICS: ReadonlyArray<readonly [value: string, help: string]> = [
  ['system_load1', 'Load average over 1 minute: tasks running or waiting for a CPU or for disk.'],
  ['system_load5', 'Load average over 5 minutes: tasks running or waiting for a CPU or for disk.'],
  ['system_load15', 'Load average over 15 minutes: tasks running or waiting for a CPU or for disk.'],
  ['system_cpus', 'CPUs of the host, the default maximum load.'],
  ['system_memory_total_bytes', 'Installed memory (RAM) in bytes.'],
  ['system_memory_available_bytes', 'Memory available to start new programs without swapping, in bytes.'],
  ['system_swap_total_bytes', 'Swap size in bytes (0: no swap configured).'],
  ['system_swap_free_bytes', 'Unused swap in bytes.'],
  ['system_core_files', 'Core dump files found where the kernel writes them (absent when cores are piped to a handler).'],
  ['system_shm_segments', 'SysV shared memory segments on the host.'],
  ['system_shm_segments_orphaned', 'SysV shared memory segments no process has attached (left behind by a crash).'],
  ['system_processes_too_old', 'nlserver module processes running longer than a day plus the grace period (missed the daily restart).'],
  ['system_file_handles_allocated', 'File handles allocated by the kernel, host-wide.'],
  ['system_file_handles_max', 'Maximum number of file handles (fs.file-max).'],
  ['system_processes', 'Processes running on the host.'],
  ['system_processes_max', 'Maximum number of processes and threads (kernel.pid_max).'],
  ['system_zombie_processes', 'Zombie processes that are nlserver or children of nlserver.'],
  ['system_var_filesystem_size_bytes', "Size in bytes of the filesystem holding Campaign's var directory."],
  ['system_var_filesystem_avail_bytes', "Bytes still writable by non-root users on the filesystem holding Campaign's var directory."],
];

/** One gauge per value; no extra labels, since there is one system row per host. */
export const systemMetrics: readonly ValueMetric[] = METRICS.map(([value, help]) => ({ value, name: `campaign_${value}`, help, labels: [] }));

export interface SystemPluginOptions {
  /** Where /proc is; tests point it at fixture files. */
  procRoot?: string;
  /** CPUs the load is measured against; default: /proc/cpuinfo (see readCpuCount). */
  cpuCount?: () => number | Promise<number>;
}

export function createSystemPlugin(opts: SystemPluginOptions = {}): ProbePlugin {
  const procRoot = opts.procRoot ?? '/proc';
  const cpuCount = opts.cpuCount ?? (() => readCpuCount(procRoot));
  return {
    module: 'system',
    kind: 'host',
    scope: "Host resources: the system indicators of Campaign's Monitoring page",
    hint:
      'Act on the failing indicator: processes too old → stop the stuck module (nlserver stop <module>@<instance>) so watchdog restarts it; ' +
      'core files → gdb nlserver <core>, bt, keep the trace, remove the core; orphaned shared memory → stop web and nlserver, then ipcrm shm <id>; ' +
      'var disk → purge old logs and exports; load, memory, swap, processes → find the culprit with top.',
    runsOn: 'machine',
    defaultSchedule: '*/30 * * * * *',
    // Every host has system resources, Campaign install or not.
    expected: () => true,
    configShape: systemConfigShape,
    metrics: systemMetrics,
    checks({ install, config }) {
      const settings = settingsSchema.parse(config);
      return [
        indicator('load', () => loadResult(procRoot, cpuCount, settings.load)),
        indicator('memory', () => memoryResult(procRoot, settings.memory)),
        indicator('swap', () => swapResult(procRoot, settings.swap)),
        indicator('core_files', () => coreFilesResult(procRoot, install.installDir, settings.coreDirs, settings.coreFiles)),
        indicator('shm_segments', () => shmResult(procRoot, settings.shmSegments)),
        indicator('processes_too_old', (ctx) => tooOldResult(ctx, settings.processesTooOld)),
        indicator('file_handles', () => fileHandlesResult(procRoot, settings.fileHandles)),
        indicator('processes', (ctx) => processesResult(ctx, procRoot, settings.processes)),
        indicator('zombies', (ctx) => zombiesResult(ctx, settings.zombies)),
        indicator('var_disk', () => varDiskResult(install.varDir, settings.disk)),
      ];
    },
  };
}

export const system = createSystemPlugin();

/** A reading that cannot be taken (file missing, malformed) is `unknown`, with the error naming the file. */
function indicator(name: string, measure: (ctx: CheckContext) => Promise<CheckResult>): Check {
  return {
    name,
    async run(ctx) {
      try {
        return await measure(ctx);
      } catch (error) {
        return { state: 'unknown', message: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

async function loadResult(procRoot: string, cpuCount: () => number | Promise<number>, levels: Settings['load']): Promise<CheckResult> {
  const [load, cpus] = await Promise.all([readLoadavg(procRoot), cpuCount()]);
  const reading = { 1: load.load1, 5: load.load5, 15: load.load15 }[levels.average];
  const max = levels.max ?? cpus;
  const judgement = judge(reading / max, levels);
  const maxText = levels.max === undefined ? `max ${max} (CPUs)` : `max ${max}`;
  return {
    state: judgement.state,
    message: `load ${reading.toFixed(2)} (${levels.average} min average) is ${percent(reading / max)} of ${maxText}, ${thresholdText(judgement, thresholdPercent)}`,
    values: { system_load1: load.load1, system_load5: load.load5, system_load15: load.load15, system_cpus: cpus },
  };
}

/** `memory 85% used (13.6 GiB of 16.0 GiB), warning at 80%`. */
function usageMessage(what: string, usedBytes: number, totalBytes: number, levels: Thresholds): Pick<CheckResult, 'state' | 'message'> {
  const judgement = judge(usedBytes / totalBytes, levels);
  return {
    state: judgement.state,
    message: `${what} ${percent(usedBytes / totalBytes)} used (${formatBytes(usedBytes)} of ${formatBytes(totalBytes)}), ${thresholdText(judgement, thresholdPercent)}`,
  };
}

async function memoryResult(procRoot: string, levels: Thresholds): Promise<CheckResult> {
  const mem = await readMeminfo(procRoot);
  return {
    ...usageMessage('memory', mem.memTotalBytes - mem.memAvailableBytes, mem.memTotalBytes, levels),
    values: { system_memory_total_bytes: mem.memTotalBytes, system_memory_available_bytes: mem.memAvailableBytes },
  };
}

async function swapResult(procRoot: string, levels: Thresholds): Promise<CheckResult> {
  const mem = await readMeminfo(procRoot);
  const values = { system_swap_total_bytes: mem.swapTotalBytes, system_swap_free_bytes: mem.swapFreeBytes };
  if (mem.swapTotalBytes === 0) return { state: 'ok', message: 'no swap configured', values };
  return { ...usageMessage('swap', mem.swapTotalBytes - mem.swapFreeBytes, mem.swapTotalBytes, levels), values };
}

async function coreFilesResult(procRoot: string, installDir: string, coreDirs: string[], levels: Thresholds): Promise<CheckResult> {
  const cores = await findCoreFiles({ procRoot, installDir, extraDirs: coreDirs });
  if (cores.kind === 'piped') return { state: 'ok', message: `core dumps are piped to ${cores.handler}; not counted` };
  if (cores.kind === 'uncountable') return { state: 'ok', message: `${cores.reason}; not counted` };
  const judgement = judge(cores.files.length, levels);
  const where = cores.files.length === 0 ? `in ${cores.dirs.join(', ')}` : `(${listSome(cores.files)})`;
  return {
    state: judgement.state,
    message: `${plural(cores.files.length, 'core file')} ${where}, ${thresholdText(judgement)}`,
    values: { system_core_files: cores.files.length },
  };
}

async function shmResult(procRoot: string, levels: Thresholds): Promise<CheckResult> {
  const shm = await readShm(procRoot);
  const judgement = judge(shm.orphaned.length, levels);
  const ids = shm.orphaned.length === 0 ? '' : ` (shmid ${listSome(shm.orphaned.map((segment) => String(segment.shmid)))})`;
  return {
    state: judgement.state,
    message: `${plural(shm.orphaned.length, 'orphaned shared memory segment')}${ids} of ${shm.segments}, ${thresholdText(judgement)}`,
    values: { system_shm_segments: shm.segments, system_shm_segments_orphaned: shm.orphaned.length },
  };
}

async function tooOldResult(ctx: CheckContext, levels: Settings['processesTooOld']): Promise<CheckResult> {
  const maxAgeMs = tooOldAfterMs(parseDuration(levels.grace) as number);
  const old = findTooOld(await ctx.snapshot.processes(), ctx.now(), maxAgeMs);
  const judgement = judge(old.length, levels);
  const which = old.length === 0 ? '' : ` (${listSome(old.map((p) => `${p.label} pid ${p.pid} up ${formatDuration(p.ageMs)}`))})`;
  return {
    state: judgement.state,
    message: `${plural(old.length, 'nlserver process', 'nlserver processes')} running longer than ${formatDuration(maxAgeMs)}${which}, ${thresholdText(judgement)}`,
    values: { system_processes_too_old: old.length },
  };
}

async function fileHandlesResult(procRoot: string, levels: Thresholds): Promise<CheckResult> {
  const handles = await readFileHandles(procRoot);
  const judgement = judge(handles.allocated / handles.max, levels);
  return {
    state: judgement.state,
    message: `file handles ${percent(handles.allocated / handles.max)} used (${handles.allocated} of ${handles.max}), ${thresholdText(judgement, thresholdPercent)}`,
    values: { system_file_handles_allocated: handles.allocated, system_file_handles_max: handles.max },
  };
}

async function processesResult(ctx: CheckContext, procRoot: string, levels: Thresholds): Promise<CheckResult> {
  // Campaign compares processes with the OS maximum. pid_max bounds threads too, so on a host heavy
  // with threads (Tomcat in web) the real headroom is smaller than this ratio says.
  const [processes, pidMax] = await Promise.all([ctx.snapshot.processes(), readPidMax(procRoot)]);
  const judgement = judge(processes.length / pidMax, levels);
  return {
    state: judgement.state,
    message: `${plural(processes.length, 'process', 'processes')}, ${percent(processes.length / pidMax)} of pid_max ${pidMax}, ${thresholdText(judgement, thresholdPercent)}`,
    values: { system_processes: processes.length, system_processes_max: pidMax },
  };
}

async function zombiesResult(ctx: CheckContext, levels: Thresholds): Promise<CheckResult> {
  const zombies = findZombies(await ctx.snapshot.processes());
  const judgement = judge(zombies.campaign.length, levels);
  const pids = zombies.campaign.length === 0 ? '' : ` (pid ${listSome(zombies.campaign.map((p) => String(p.pid)))})`;
  const others = zombies.others === 0 ? '' : `; ${plural(zombies.others, 'other zombie')} on the host, not Campaign's, not counted`;
  return {
    state: judgement.state,
    message: `${plural(zombies.campaign.length, 'zombie nlserver process', 'zombie nlserver processes')}${pids}, ${thresholdText(judgement)}${others}`,
    values: { system_zombie_processes: zombies.campaign.length },
  };
}

async function varDiskResult(varDir: string, levels: Thresholds): Promise<CheckResult> {
  const fs = await readFilesystem(varDir);
  const judgement = judge(fs.usedRatio, levels);
  return {
    state: judgement.state,
    message: `var filesystem ${percent(fs.usedRatio)} used (${formatBytes(fs.availBytes)} available of ${formatBytes(fs.sizeBytes)}, ${varDir}), ${thresholdText(judgement, thresholdPercent)}`,
    values: { system_var_filesystem_size_bytes: fs.sizeBytes, system_var_filesystem_avail_bytes: fs.availBytes },
  };
}
