import { definePlugin, type ProbePlugin } from '../src/core/plugin.js';
import { systemConfigShape } from '../src/checks/system/config.js';
import { coreFilesResult, shmResult, tooOldResult, zombiesResult } from '../src/checks/system/countChecks.js';
import { indicator } from '../src/checks/system/indicator.js';
import { readCpuCount } from '../src/snapshot/loadavg.js';
import { systemMetrics } from '../src/checks/system/metrics.js';
import { fileHandlesResult, loadResult, memoryResult, processesResult, swapResult, varDiskResult } from '../src/checks/system/ratioChecks.js';

export { systemConfigShape } from '../src/checks/system/config.js';
export { systemMetrics } from '../src/checks/system/metrics.js';

// The system indicators of Campaign's console Monitoring page, with Campaign's thresholds as
// defaults: percentages are ratios of a maximum (warning 0.8, alert 0.9), counts are counts.

export interface SystemPluginOptions {
  /** Where /proc is; tests point it at fixture files. */
  procRoot?: string;
  /** CPUs the load is measured against; default: /proc/cpuinfo (see readCpuCount). */
  cpuCount?: () => number | Promise<number>;
}

export function createSystemPlugin(opts: SystemPluginOptions = {}): ProbePlugin {
  const procRoot = opts.procRoot ?? '/proc';
  const cpuCount = opts.cpuCount ?? (() => readCpuCount(procRoot));
  return definePlugin({
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
    checks({ install, config: settings }) {
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
  });
}

export const system = createSystemPlugin();
