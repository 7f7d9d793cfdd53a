import { formatBytes } from '../../util/format.js';
import type { CheckContext, CheckResult } from '../../core/contracts.js';
import type { Settings } from './config.js';
import { readFileHandles } from '../../snapshot/fileHandles.js';
import { plural } from './indicator.js';
import { judge, percent, thresholdPercent, thresholdText, type Thresholds } from './judge.js';
import { readLoadavg } from '../../snapshot/loadavg.js';
import { readMeminfo } from '../../snapshot/meminfo.js';
import { readPidMax } from '../../snapshot/pidMax.js';
import { readFilesystem } from '../../snapshot/varDisk.js';

// The indicators measured as a ratio of a maximum: load, memory, swap, file handles, processes, var disk.

export async function loadResult(procRoot: string, cpuCount: () => number | Promise<number>, levels: Settings['load']): Promise<CheckResult> {
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

export async function memoryResult(procRoot: string, levels: Thresholds): Promise<CheckResult> {
  const mem = await readMeminfo(procRoot);
  return {
    ...usageMessage('memory', mem.memTotalBytes - mem.memAvailableBytes, mem.memTotalBytes, levels),
    values: { system_memory_total_bytes: mem.memTotalBytes, system_memory_available_bytes: mem.memAvailableBytes },
  };
}

export async function swapResult(procRoot: string, levels: Thresholds): Promise<CheckResult> {
  const mem = await readMeminfo(procRoot);
  const values = { system_swap_total_bytes: mem.swapTotalBytes, system_swap_free_bytes: mem.swapFreeBytes };
  if (mem.swapTotalBytes === 0) return { state: 'ok', message: 'no swap configured', values };
  return { ...usageMessage('swap', mem.swapTotalBytes - mem.swapFreeBytes, mem.swapTotalBytes, levels), values };
}

export async function fileHandlesResult(procRoot: string, levels: Thresholds): Promise<CheckResult> {
  const handles = await readFileHandles(procRoot);
  const judgement = judge(handles.allocated / handles.max, levels);
  return {
    state: judgement.state,
    message: `file handles ${percent(handles.allocated / handles.max)} used (${handles.allocated} of ${handles.max}), ${thresholdText(judgement, thresholdPercent)}`,
    values: { system_file_handles_allocated: handles.allocated, system_file_handles_max: handles.max },
  };
}

export async function processesResult(ctx: CheckContext, procRoot: string, levels: Thresholds): Promise<CheckResult> {
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

export async function varDiskResult(varDir: string, levels: Thresholds): Promise<CheckResult> {
  const fs = await readFilesystem(varDir);
  const judgement = judge(fs.usedRatio, levels);
  return {
    state: judgement.state,
    message: `var filesystem ${percent(fs.usedRatio)} used (${formatBytes(fs.availBytes)} available of ${formatBytes(fs.sizeBytes)}, ${varDir}), ${thresholdText(judgement, thresholdPercent)}`,
    values: { system_var_filesystem_size_bytes: fs.sizeBytes, system_var_filesystem_avail_bytes: fs.availBytes },
  };
}
