import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { createSystemPlugin, system } from '../../../probes/system.js';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import type { ProbePlugin } from '../../../src/core/plugin.js';
import type { ModuleConfig } from '../../../src/config/schema.js';
import type { CheckResult, CycleSnapshot, Install, ProbeTarget, ProcessInfo } from '../../../src/core/contracts.js';
import { makeContext } from '../ctx.js';
import { HEALTHY_PROC, SHM_HEADER, shmRow, TempDirs, writeFiles } from '../system/procFixture.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const KIB = 1024;

const CHECK_NAMES = ['load', 'memory', 'swap', 'core_files', 'shm_segments', 'processes_too_old', 'file_handles', 'processes', 'zombies', 'var_disk'];

const temp = new TempDirs();
let installDir: string;

beforeEach(async () => {
  installDir = await temp.make('nl6-');
});
afterEach(() => temp.removeAll());

/** What discovery would report for an install at `installDir`; the system probe only reads its paths. */
function installAt(dir: string, varDir = dir): Install {
  return {
    installDir: dir,
    found: true,
    problems: [],
    varDir,
    instances: [],
    moduleAttributes: () => ({}),
    autoStart: () => false,
    confProblem: () => undefined,
    redirLogDirs: [],
  };
}

function proc(pid: number, argv: string[], o: Partial<ProcessInfo> = {}): ProcessInfo {
  return { pid, ppid: 1, argv, comm: argv[0]?.split('/').pop() ?? '', startedAtMs: NOW - HOUR, rssBytes: 0, stateLetter: 'S', ...o };
}

/** The cycle's process table, as input data. */
function snapshotOf(processes: ProcessInfo[]): CycleSnapshot {
  return { processes: async () => processes, sockets: async () => [] };
}

/** The config block the engine hands the plugin: parsed by the plugin's own schema, defaults filled in. */
function configOf(plugin: ProbePlugin, raw: unknown = {}): Record<string, unknown> {
  return z.strictObject(plugin.configShape!).parse(raw) as Record<string, unknown>;
}

/** The agent's config as the daemon parses it, the system plugin's keys merged under modules.system. */
const AGENT_CONFIG = parseConfig([system], '', 'agent.yaml');

/** The whole `modules.system` block as the engine hands it over: the agent's schema, with this plugin. */
function blockOf(plugin: ProbePlugin, raw: unknown): ModuleConfig {
  return parseConfig([plugin], JSON.stringify({ modules: { system: raw } }), 'agent.yaml').modules.system!;
}

function targetOf(plugin: ProbePlugin, install: Install, raw: unknown = {}): ProbeTarget {
  return { module: 'system', instance: 'default', install, config: blockOf(plugin, raw), timeoutMs: 10_000, campaign: AGENT_CONFIG.campaign };
}

interface Run {
  proc?: Record<string, string | undefined>;
  config?: unknown;
  processes?: ProcessInfo[];
  cpus?: number;
  install?: Install;
}

/** Runs every check of the plugin against a fixture /proc (HEALTHY_PROC with `proc` overrides, undefined removes a file). */
async function runChecks(run: Run = {}): Promise<Record<string, CheckResult>> {
  const files = Object.fromEntries(
    Object.entries({ ...HEALTHY_PROC, ...run.proc }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const procRoot = await temp.procRoot(files);
  const plugin = createSystemPlugin({ procRoot, cpuCount: () => run.cpus ?? 4 });
  const checks = plugin.checks(targetOf(plugin, run.install ?? installAt(installDir), run.config));
  const ctx = { ...makeContext({ now: () => NOW }), snapshot: snapshotOf(run.processes ?? [proc(1, ['/sbin/init'])]) };
  const results: Record<string, CheckResult> = {};
  for (const check of checks) results[check.name] = await check.run(ctx);
  return results;
}

function meminfo(o: { totalKib: number; availableKib: number; swapTotalKib: number; swapFreeKib: number }): string {
  return `MemTotal: ${o.totalKib} kB\nMemFree: 1 kB\nMemAvailable: ${o.availableKib} kB\nSwapTotal: ${o.swapTotalKib} kB\nSwapFree: ${o.swapFreeKib} kB\n`;
}

const GIB_KIB = 1024 * 1024;

describe('system plugin declaration', () => {
  test('a host row on every machine, every 30 seconds', () => {
    expect(system).toMatchObject({ module: 'system', kind: 'host', runsOn: 'machine', defaultSchedule: '*/30 * * * * *' });
    expect(system.scope).toBe("Host resources: the system indicators of Campaign's Monitoring page");
    expect(system.expected(installAt('/nonexistent'), 'default', AGENT_CONFIG)).toBe(true);
  });

  test('one gauge per value, named campaign_<value>, no extra labels', () => {
    const metrics = system.metrics!;
    expect(metrics.map((m) => m.name)).toEqual([
      'campaign_system_load1',
      'campaign_system_load5',
      'campaign_system_load15',
      'campaign_system_cpus',
      'campaign_system_memory_total_bytes',
      'campaign_system_memory_available_bytes',
      'campaign_system_swap_total_bytes',
      'campaign_system_swap_free_bytes',
      'campaign_system_core_files',
      'campaign_system_shm_segments',
      'campaign_system_shm_segments_orphaned',
      'campaign_system_processes_too_old',
      'campaign_system_file_handles_allocated',
      'campaign_system_file_handles_max',
      'campaign_system_processes',
      'campaign_system_processes_max',
      'campaign_system_zombie_processes',
      'campaign_system_var_filesystem_size_bytes',
      'campaign_system_var_filesystem_avail_bytes',
    ]);
    for (const metric of metrics) {
      expect(metric.name).toBe(`campaign_${metric.value}`);
      expect(metric.labels).toEqual([]);
      expect(metric.help.length).toBeGreaterThan(10);
    }
  });

  test('the default config is Campaign thresholds', () => {
    expect(configOf(system)).toEqual({
      load: { warning: 0.8, critical: 0.9, average: 5 },
      memory: { warning: 0.8, critical: 0.9 },
      swap: { warning: 0.8, critical: 0.9 },
      fileHandles: { warning: 0.8, critical: 0.9 },
      processes: { warning: 0.8, critical: 0.9 },
      disk: { warning: 0.8, critical: 0.9 },
      coreFiles: { warning: 1, critical: 1 },
      shmSegments: { warning: 1, critical: 2 },
      processesTooOld: { warning: 1, critical: 2, grace: 3_600_000 }, // 1h, in milliseconds
      zombies: { warning: 1, critical: 2 },
      coreDirs: [],
    });
  });
});

describe('system config errors name the key and what was expected', () => {
  function errorsOf(raw: unknown): string[] {
    const result = z.strictObject(system.configShape!).safeParse(raw);
    if (result.success) throw new Error('expected the config to be refused');
    return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  }

  test('a percentage written as 80 instead of 0.8', () => {
    expect(errorsOf({ memory: { warning: 80 } })).toEqual(['memory.warning: expected a ratio between 0 and 1 such as 0.8 (for 80%), got 80']);
  });

  test('a critical threshold below the warning one', () => {
    expect(errorsOf({ swap: { warning: 0.9, critical: 0.5 } })).toEqual(['swap.critical: expected at least the warning threshold (0.9), got 0.5']);
    expect(errorsOf({ zombies: { warning: 3 } })).toEqual(['zombies.critical: expected at least the warning threshold (3), got 2']);
  });

  test('counts must be whole numbers of at least 1', () => {
    expect(errorsOf({ coreFiles: { critical: 0 } })).toEqual(['coreFiles.critical: expected a whole number of at least 1, got 0']);
    expect(errorsOf({ zombies: { warning: 1.5 } })).toEqual(['zombies.warning: expected a whole number of at least 1, got 1.5']);
  });

  test('load average, max, grace, core dirs, unknown keys', () => {
    expect(errorsOf({ load: { average: 10 } })).toEqual(['load.average: expected 1, 5 or 15 (minutes), got 10']);
    expect(errorsOf({ load: { max: -1 } })).toEqual(['load.max: expected a positive number (the highest acceptable load), got -1']);
    expect(errorsOf({ processesTooOld: { grace: 'soon' } })).toEqual([
      'processesTooOld.grace: expected a duration such as 500ms, 10s, 5m or 1h (longer than 0), got "soon"',
    ]);
    expect(errorsOf({ coreDirs: ['cores'] })).toEqual(['coreDirs.0: expected an absolute path, got "cores"']);
    expect(errorsOf({ memory: { warn: 0.7 } })[0]).toMatch(/^memory: Unrecognized key: "warn"/);
  });

  test('in the agent config file, the problem names the file and the full key under modules.system', () => {
    const yaml = 'modules:\n  system:\n    memory:\n      warning: 80\n    shmSegments:\n      max: 3\n';
    let problems: string[] = [];
    try {
      parseConfig([system], yaml, '/etc/campaign-health/agent.yaml');
    } catch (error) {
      problems = error instanceof ConfigError ? error.problems : [String(error)];
    }
    expect(problems).toEqual([
      '/etc/campaign-health/agent.yaml: modules.system.memory.warning: expected a ratio between 0 and 1 such as 0.8 (for 80%), got 80',
      '/etc/campaign-health/agent.yaml: modules.system.shmSegments.max: unknown key',
    ]);
  });

  test('the agent config fills in every default of modules.system', () => {
    expect(AGENT_CONFIG.modules.system).toMatchObject(configOf(system));
  });
});

describe('system checks on a fixture /proc', () => {
  test('a healthy host: every check ok, in order, each message with its reading and threshold', async () => {
    const results = await runChecks({ processes: [proc(1, ['/sbin/init']), proc(2, ['nlserver', 'web'])] });
    expect(Object.keys(results)).toEqual(CHECK_NAMES);
    for (const name of CHECK_NAMES) expect([name, results[name]!.state]).toEqual([name, 'ok']);
    expect(results.load!.message).toBe('load 0.45 (5 min average) is 11% of max 4 (CPUs), warning at 80%');
    expect(results.memory!.message).toBe('memory 25% used (4.0 GiB of 16.0 GiB), warning at 80%');
    expect(results.swap!.message).toBe('swap 0% used (0 B of 4.0 GiB), warning at 80%');
    expect(results.core_files!.message).toBe(`0 core files in ${installDir}, critical at 1`);
    expect(results.shm_segments!.message).toBe('0 orphaned shared memory segments of 1, warning at 1');
    expect(results.processes_too_old!.message).toBe('0 nlserver processes running longer than 1d 1h, warning at 1');
    expect(results.file_handles!.message).toBe('file handles 0% used (756 of 2466177), warning at 80%');
    expect(results.processes!.message).toBe('2 processes, 0% of pid_max 4194304, warning at 80%');
    expect(results.zombies!.message).toBe('0 zombie nlserver processes, warning at 1');
    expect(results.var_disk!.message).toMatch(new RegExp(`^var filesystem \\d+% used \\(.+ available of .+, ${installDir}\\), warning at 80%$`));
  });

  test('each check carries its metric values; together they are exactly the declared gauges', async () => {
    const results = await runChecks();
    expect(results.load!.values).toEqual({ system_load1: 0.39, system_load5: 0.45, system_load15: 0.62, system_cpus: 4 });
    expect(results.memory!.values).toEqual({ system_memory_total_bytes: 16 * GIB_KIB * KIB, system_memory_available_bytes: 12 * GIB_KIB * KIB });
    expect(results.file_handles!.values).toEqual({ system_file_handles_allocated: 756, system_file_handles_max: 2466177 });
    expect(results.processes!.values).toEqual({ system_processes: 1, system_processes_max: 4194304 });
    const keys = Object.values(results).flatMap((result) => Object.keys(result.values ?? {}));
    expect(keys.sort()).toEqual(system.metrics!.map((m) => m.value).sort());
  });

  test('memory at 85% is a warning, at 95% critical', async () => {
    const warning = await runChecks({ proc: { meminfo: meminfo({ totalKib: 16 * GIB_KIB, availableKib: 2516582, swapTotalKib: 0, swapFreeKib: 0 }) } });
    expect(warning.memory).toMatchObject({ state: 'warning', message: 'memory 85% used (13.6 GiB of 16.0 GiB), warning at 80%' });
    const critical = await runChecks({ proc: { meminfo: meminfo({ totalKib: 16 * GIB_KIB, availableKib: 838861, swapTotalKib: 0, swapFreeKib: 0 }) } });
    expect(critical.memory).toMatchObject({ state: 'critical', message: 'memory 94% used (15.2 GiB of 16.0 GiB), critical at 90%' });
  });

  test('memory thresholds are configurable', async () => {
    const results = await runChecks({
      proc: { meminfo: meminfo({ totalKib: 16 * GIB_KIB, availableKib: 2516582, swapTotalKib: 0, swapFreeKib: 0 }) },
      config: { memory: { warning: 0.9, critical: 0.95 } },
    });
    expect(results.memory).toMatchObject({ state: 'ok', message: 'memory 85% used (13.6 GiB of 16.0 GiB), warning at 90%' });
  });

  test('no swap configured is ok, not a division by zero', async () => {
    const results = await runChecks({ proc: { meminfo: meminfo({ totalKib: GIB_KIB, availableKib: GIB_KIB / 2, swapTotalKib: 0, swapFreeKib: 0 }) } });
    expect(results.swap).toEqual({ state: 'ok', message: 'no swap configured', values: { system_swap_total_bytes: 0, system_swap_free_bytes: 0 } });
  });

  test('swap 90% used is critical', async () => {
    const results = await runChecks({ proc: { meminfo: meminfo({ totalKib: GIB_KIB, availableKib: GIB_KIB, swapTotalKib: 1000, swapFreeKib: 100 }) } });
    expect(results.swap).toMatchObject({ state: 'critical', message: 'swap 90% used (900.0 KiB of 1000.0 KiB), critical at 90%' });
  });

  test('load against the CPU count, the chosen average, and a configured max', async () => {
    const busy = { loadavg: '1.00 3.60 2.00 5/300 999\n' };
    expect((await runChecks({ proc: busy })).load).toMatchObject({
      state: 'critical',
      message: 'load 3.60 (5 min average) is 90% of max 4 (CPUs), critical at 90%',
    });
    expect((await runChecks({ proc: busy, config: { load: { average: 15 } } })).load).toMatchObject({
      state: 'ok',
      message: 'load 2.00 (15 min average) is 50% of max 4 (CPUs), warning at 80%',
    });
    expect((await runChecks({ proc: busy, config: { load: { max: 4.4 } } })).load).toMatchObject({
      state: 'warning',
      message: 'load 3.60 (5 min average) is 81% of max 4.4, warning at 80%',
    });
    expect((await runChecks({ proc: busy, cpus: 16 })).load!.state).toBe('ok');
  });

  test('file handles near fs.file-max', async () => {
    const results = await runChecks({ proc: { 'sys/fs/file-nr': '850\t0\t1000\n' } });
    expect(results.file_handles).toMatchObject({ state: 'warning', message: 'file handles 85% used (850 of 1000), warning at 80%' });
  });

  test('processes near pid_max', async () => {
    const processes = Array.from({ length: 92 }, (_, i) => proc(i + 1, ['/bin/sleep']));
    const results = await runChecks({ proc: { 'sys/kernel/pid_max': '100\n' }, processes });
    expect(results.processes).toMatchObject({ state: 'critical', message: '92 processes, 92% of pid_max 100, critical at 90%' });
  });

  test('zombies: nlserver zombies and unreaped children of nlserver count, the host others do not', async () => {
    const processes = [
      proc(100, ['nlserver', 'wfserver', '-instance:prod']),
      proc(101, [], { comm: 'nlserver', stateLetter: 'Z', ppid: 100 }),
      proc(102, [], { comm: 'sh', stateLetter: 'Z', ppid: 100 }),
      proc(200, [], { comm: 'other', stateLetter: 'Z', ppid: 1 }),
    ];
    const results = await runChecks({ processes });
    expect(results.zombies).toEqual({
      state: 'critical',
      message: "2 zombie nlserver processes (pid 101, 102), critical at 2; 1 other zombie on the host, not Campaign's, not counted",
      values: { system_zombie_processes: 2 },
    });
  });

  test('processes too old: modules that missed the daily restart; the grace is configurable', async () => {
    const processes = [
      proc(10, ['nlserver', 'wfserver', '-tracefile:wfserver@prod', '-instance:prod'], { startedAtMs: NOW - 26 * HOUR }),
      proc(11, ['nlserver', 'watchdog', '-svc', '-noconsole'], { startedAtMs: NOW - 300 * HOUR }),
      proc(12, ['nlserver', 'web'], { startedAtMs: NOW - 2 * HOUR }),
    ];
    expect((await runChecks({ processes })).processes_too_old).toEqual({
      state: 'warning',
      message: '1 nlserver process running longer than 1d 1h (wfserver@prod pid 10 up 1d 2h), warning at 1',
      values: { system_processes_too_old: 1 },
    });
    expect((await runChecks({ processes, config: { processesTooOld: { grace: '3h' } } })).processes_too_old!.state).toBe('ok');
    const two = [...processes, proc(13, ['nlserver', 'mta', '-instance:prod'], { startedAtMs: NOW - 30 * HOUR })];
    expect((await runChecks({ processes: two })).processes_too_old).toMatchObject({
      state: 'critical',
      message: '2 nlserver processes running longer than 1d 1h (mta@prod pid 13 up 1d 6h, wfserver@prod pid 10 up 1d 2h), critical at 2',
    });
  });

  test('shared memory: orphaned segments count, attached ones do not', async () => {
    const one = `${SHM_HEADER}\n${shmRow(0, 1)}\n${shmRow(32769, 0)}\n`;
    expect((await runChecks({ proc: { 'sysvipc/shm': one } })).shm_segments).toEqual({
      state: 'warning',
      message: '1 orphaned shared memory segment (shmid 32769) of 2, warning at 1',
      values: { system_shm_segments: 2, system_shm_segments_orphaned: 1 },
    });
    const two = `${SHM_HEADER}\n${shmRow(5, 0)}\n${shmRow(32769, 0)}\n`;
    expect((await runChecks({ proc: { 'sysvipc/shm': two } })).shm_segments).toMatchObject({
      state: 'critical',
      message: '2 orphaned shared memory segments (shmid 5, 32769) of 2, critical at 2',
    });
  });

  test('core files: one core in the install dir is critical (Campaign: alert at 1)', async () => {
    await writeFiles(installDir, { 'core.4242': 'x' });
    expect((await runChecks()).core_files).toEqual({
      state: 'critical',
      message: `1 core file (${path.join(installDir, 'core.4242')}), critical at 1`,
      values: { system_core_files: 1 },
    });
  });

  test('core files: extra directories from coreDirs; thresholds configurable', async () => {
    const extra = await temp.make('cores-');
    await writeFiles(extra, { core: 'x' });
    expect((await runChecks({ config: { coreDirs: [extra], coreFiles: { warning: 1, critical: 3 } } })).core_files).toMatchObject({
      state: 'warning',
      message: `1 core file (${path.join(extra, 'core')}), warning at 1`,
    });
  });

  test('core files: cores piped to a handler are not counted and export no value', async () => {
    const results = await runChecks({ proc: { 'sys/kernel/core_pattern': '|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h\n' } });
    expect(results.core_files).toEqual({ state: 'ok', message: 'core dumps are piped to /usr/lib/systemd/systemd-coredump; not counted' });
  });

  test('core files: an absolute core_pattern is followed to its directory', async () => {
    const crash = await temp.make('crash-');
    await writeFiles(crash, { 'core.nlserver.77': 'x', 'core.nlserver.78': 'x' });
    const results = await runChecks({ proc: { 'sys/kernel/core_pattern': `${crash}/core.%e.%p\n` }, config: { coreFiles: { critical: 3 } } });
    expect(results.core_files).toMatchObject({ state: 'warning', values: { system_core_files: 2 } });
  });

  test('var disk: the filesystem of var/, with the configured thresholds', async () => {
    const varDir = await temp.make('var-');
    const results = await runChecks({ install: installAt(installDir, varDir), config: { disk: { warning: 0.99, critical: 1 } } });
    expect(results.var_disk!.message).toMatch(new RegExp(`^var filesystem \\d+% used \\(.+ available of .+, ${varDir}\\), warning at 99%$`));
    const stats = await statfs(varDir);
    // The disk is the machine's own and others write to it: the size is exact, what is free moves a little.
    expect(results.var_disk!.values?.system_var_filesystem_size_bytes).toBe(stats.blocks * stats.bsize);
    expect(Math.abs(results.var_disk!.values!.system_var_filesystem_avail_bytes! - stats.bavail * stats.bsize)).toBeLessThanOrEqual(256 * 2 ** 20);
  });
});

describe('a reading that cannot be taken is unknown, naming what failed', () => {
  test('missing files: only the checks reading them are unknown', async () => {
    const results = await runChecks({ proc: { meminfo: undefined, 'sysvipc/shm': undefined } });
    const procRoot = path.dirname(results.memory!.message.replace(/^cannot read /, '').split(':')[0]!);
    expect(results.memory).toEqual({ state: 'unknown', message: `cannot read ${path.join(procRoot, 'meminfo')}: no such file or directory (ENOENT)` });
    expect(results.swap!.state).toBe('unknown');
    expect(results.shm_segments).toEqual({
      state: 'unknown',
      message: `cannot read ${path.join(procRoot, 'sysvipc/shm')}: no such file or directory (ENOENT)`,
    });
    expect(results.load!.state).toBe('ok');
  });

  test('a malformed file names the file and what was expected', async () => {
    const results = await runChecks({ proc: { loadavg: 'busy\n' } });
    expect(results.load).toMatchObject({ state: 'unknown', message: expect.stringMatching(/\/loadavg: expected three load averages/) });
  });

  test('a missing var directory and a missing install dir', async () => {
    const gone = path.join(installDir, 'gone');
    const results = await runChecks({ install: installAt(gone) });
    expect(results.var_disk).toEqual({ state: 'unknown', message: `cannot statfs ${gone}: no such file or directory (ENOENT)` });
    expect(results.core_files).toEqual({ state: 'unknown', message: `cannot read core directory ${gone}: no such file or directory (ENOENT)` });
  });

  test('a process table that cannot be read makes the process checks unknown', async () => {
    const plugin = createSystemPlugin({ procRoot: await temp.procRoot(HEALTHY_PROC), cpuCount: () => 4 });
    const checks = plugin.checks(targetOf(plugin, installAt(installDir)));
    const broken: CycleSnapshot = { processes: async () => Promise.reject(new Error('no "btime" line in /proc/stat')), sockets: async () => [] };
    const ctx = { ...makeContext({ now: () => NOW }), snapshot: broken };
    const zombies = checks.find((check) => check.name === 'zombies')!;
    expect(await zombies.run(ctx)).toEqual({ state: 'unknown', message: 'no "btime" line in /proc/stat' });
  });
});

describe('the system plugin on this machine', () => {
  test('every reading is taken from the real /proc (no unknown)', async () => {
    const checks = system.checks(targetOf(system, installAt(installDir)));
    const ctx = makeContext();
    for (const check of checks) {
      const result = await check.run(ctx);
      expect([check.name, result.state === 'unknown' ? result.message : 'read']).toEqual([check.name, 'read']);
    }
  });
});
