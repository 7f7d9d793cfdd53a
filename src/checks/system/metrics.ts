import type { ValueMetric } from '../../core/plugin.js';

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
