#!/usr/bin/env node
// Soak: 10,000 probe cycles back to back against a simulated Campaign host (instance 'load'), with a
// random fault injected every ~40 cycles from a seeded PRNG and repaired a few cycles later. Measures
// retained memory (RSS and heap after a full GC), cycle times, results seen, and counts every
// exception: the process must not crash. See bench/README.md.
//
//   npm run build && node --expose-gc bench/soak.mjs          # full size: 10,000 cycles (~20-25 min)
//   node --expose-gc bench/soak.mjs --cycles 1000             # quick run (results/soak-quick.json)
//
// Why not node-cron: its finest schedule is one second (6-field cron), so 10,000 cycles would take
// 2.8 hours. The Agent is driven in-process instead, `await agent.runCycle()` in a loop.
//
// Exit code: 0 pass, 1 a target missed, 2 the bench itself could not run.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { MiB, environment, fromDist, jobModules, percentiles, prng, regenerateReport, round, unitEnvironment, unitNodeFlags, writeResult } from './lib.mjs';

// Retained memory is only measurable after a full GC: re-run with --expose-gc when it was forgotten.
// And measured as the service runs: with the unit's NODE_OPTIONS, MALLOC_ARENA_MAX and ExecStart's node
// flags (bench/README.md).
const serviceEnv = unitEnvironment();
const serviceFlags = unitNodeFlags();
const missingEnv = Object.entries(serviceEnv).some(([key, value]) => process.env[key] !== value);
const missingFlags = serviceFlags.some((flag) => !process.execArgv.includes(flag));
if (typeof globalThis.gc !== 'function' || missingEnv || missingFlags) {
  const inherited = process.execArgv.filter((arg) => arg !== '--expose-gc' && !serviceFlags.includes(arg));
  const child = spawnSync(process.execPath, ['--expose-gc', ...serviceFlags, ...inherited, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, ...serviceEnv },
  });
  process.exit(child.status ?? 2);
}

const FULL_CYCLES = 10_000;
const { values: args } = parseArgs({
  options: {
    cycles: { type: 'string', default: String(FULL_CYCLES) },
    seed: { type: 'string', default: '20261125' },
    'fault-every': { type: 'string', default: '40' },
    warmup: { type: 'string', default: '500' },
    'sample-every': { type: 'string', default: '500' },
    // Rediscovery (discovery + re-plan) every ~60 cycles, as with the default 60 s at a 1 s schedule.
    'rediscover-ms': { type: 'string', default: '6000' },
    // For investigation: a run without faults, and where to write the result instead of results/.
    'no-faults': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const cycles = Number(args.cycles);
const seed = Number(args.seed);
const faultEvery = Number(args['fault-every']);
const warmup = Math.min(Number(args.warmup), Math.floor(cycles / 2));
const sampleEvery = Number(args['sample-every']);
const rediscoverMs = Number(args['rediscover-ms']);
if (!(cycles >= 10) || !(faultEvery >= 4) || !(sampleEvery >= 1)) {
  process.stderr.write('usage: node --expose-gc bench/soak.mjs [--cycles N] [--seed N] [--fault-every N] [--warmup N] [--sample-every N] [--rediscover-ms MS]\n');
  process.exit(2);
}
const fullSize = cycles >= FULL_CYCLES;
const INSTANCE = 'load';
const HANG_BOUND = '1s';
// A fault's effects must be gone this many cycles after its repair, or it counts as not recovered.
const RECOVERY_LIMIT = 100;
const GROWTH_TARGET = 0.1;

const { SimulatedHost, freePort } = await fromDist('test/sim/host.js');
const { Agent } = await fromDist('src/agent/agent.js');
const { loadConfig } = await fromDist('src/config/load.js');
const { plugins } = await fromDist('probes/index.js');

// ----------------------------------------------------------------------------- what must not happen

const exceptions = { runCycle: [], unhandledRejection: [], uncaughtException: [] };
const note = (list, error) => {
  if (list.length < 20) list.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  else list.push('...');
};
process.on('unhandledRejection', (error) => note(exceptions.unhandledRejection, error));
process.on('uncaughtException', (error) => note(exceptions.uncaughtException, error));
const harnessErrors = [];
// Ctrl-C or SIGTERM: finish the current cycle, stop the simulated host, write nothing.
let interrupted;
// process.on, not once: execa's signal-exit re-raises the signal when it finds no other listener left.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (interrupted ??= signal));

// The agent's own warnings and errors, counted by message (the texts carry no per-run data).
const logCounts = { warn: {}, error: {} };
const count = (level) => (obj, msg) => {
  const text = typeof obj === 'string' ? obj : (msg ?? '(no message)');
  logCounts[level][text] = (logCounts[level][text] ?? 0) + 1;
};
const log = { debug() {}, info() {}, warn: count('warn'), error: count('error') };

// ------------------------------------------------------------------------------------------- faults

const random = prng(seed);
const MODULES_TO_KILL = ['web', 'syslogd', 'trackinglogd', 'watchdog', 'mta', 'wfserver', 'inMail', 'stat'];
/** Each fault: apply, repair, and whether it hangs (bounded by the 1 s timeouts: held 1-3 cycles only). */
const FAULTS = [
  { name: 'rTest ko', apply: (sim) => sim.setControl({ rTest: 'ko' }), repair: (sim) => sim.setControl({ rTest: 'ok' }) },
  { name: 'rTest http500', apply: (sim) => sim.setControl({ rTest: 'http500' }), repair: (sim) => sim.setControl({ rTest: 'ok' }) },
  { name: 'rTest html', apply: (sim) => sim.setControl({ rTest: 'html' }), repair: (sim) => sim.setControl({ rTest: 'ok' }) },
  { name: 'rTest hang', hang: true, apply: (sim) => sim.setControl({ rTest: 'hang' }), repair: (sim) => sim.setControl({ rTest: 'ok' }) },
  { name: 'soap garbage', apply: (sim) => sim.setControl({ soap: 'garbage' }), repair: (sim) => sim.setControl({ soap: 'fault' }) },
  { name: 'soap html', apply: (sim) => sim.setControl({ soap: 'html' }), repair: (sim) => sim.setControl({ soap: 'fault' }) },
  { name: 'soap hang', hang: true, apply: (sim) => sim.setControl({ soap: 'hang' }), repair: (sim) => sim.setControl({ soap: 'fault' }) },
  { name: 'nlserver garbage', apply: (sim) => sim.setControl({ nlserverMode: 'garbage' }), repair: (sim) => sim.setControl({ nlserverMode: 'normal' }) },
  { name: 'nlserver fail', apply: (sim) => sim.setControl({ nlserverMode: 'fail' }), repair: (sim) => sim.setControl({ nlserverMode: 'normal' }) },
  { name: 'nlserver huge', apply: (sim) => sim.setControl({ nlserverMode: 'huge' }), repair: (sim) => sim.setControl({ nlserverMode: 'normal' }) },
  { name: 'nlserver hang', hang: true, apply: (sim) => sim.setControl({ nlserverMode: 'hang' }), repair: (sim) => sim.setControl({ nlserverMode: 'normal' }) },
  // Tracking growth windows are 2 s / 4 s here: the stall is held 5 s so that it shows.
  { name: 'tracking stall', minHoldMs: 5000, apply: (sim) => sim.setControl({ tracking: 'stall' }), repair: (sim) => sim.setControl({ tracking: 'grow' }) },
  {
    name: 'module killed',
    apply: async (sim, fault) => {
      fault.module = random.pick(MODULES_TO_KILL);
      fault.signal = random.pick(['SIGTERM', 'SIGKILL']);
      fault.variant = `${fault.module} ${fault.signal}`;
      await sim.kill(fault.module, undefined, fault.signal);
    },
    repair: (sim, fault) => sim.startModule(fault.module),
  },
  // 0 while idle is normal and any count up to the limit too: not a failure, never detected.
  {
    name: 'mtaChildren changed',
    notAFailure: true,
    apply: async (sim, fault) => {
      const children = random.int(1, 8);
      fault.variant = `${children} children`;
      await sim.setControl({ mtaChildren: children });
    },
    repair: (sim) => sim.setControl({ mtaChildren: 0 }),
  },
  { name: 'syslogd port moved', apply: async (sim) => sim.setControl({ syslogdBindPort: await freePort('udp', new Set(Object.values(sim.ports))) }), repair: (sim) => sim.setControl({ syslogdBindPort: undefined }) },
];

// ------------------------------------------------------------------------------------------ the run

const env = environment();
let sim;
let result;
try {
  // The Node stand-in nlserver, as the recorded results were measured.
  sim = await SimulatedHost.start({ instances: [INSTANCE], trackingIntervalMs: 200, nlserverService: false });
  const configFile = await sim.writeAgentConfig({
    logLevel: 'warn',
    campaign: { nlserverTimeout: HANG_BOUND },
    defaults: { timeout: HANG_BOUND },
    modules: { ...(await jobModules(sim, [INSTANCE])), trackinglogd: { growthWarning: '2s', growthCritical: '4s' } },
  });
  const { config } = await loadConfig(plugins, configFile);
  const agent = new Agent({ config, plugins, log, rediscoverMs });
  await agent.ensurePlanned();
  const simProcessesAtStart = processesUnder(sim.root);

  const durations = new Float64Array(cycles);
  const durationsByPhase = { healthy: [], faultActive: [], hangActive: [], recovering: [] };
  const rowStates = {};
  const checkStates = {};
  const samples = [];
  const faultStats = Object.fromEntries(FAULTS.map((fault) => [fault.name, { applied: 0, detected: 0, recovered: 0, recoveryCycles: [], variants: {}, firstSigns: [] }]));
  const falseAlarms = {};
  let falseAlarmCycles = 0;
  let snapshotHookOk = true;

  let phase = 'healthy';
  let active;
  let nextFaultAt = 50;
  const started = Date.now();
  let lastProgress = started;

  for (let cycle = 1; cycle <= cycles; cycle++) {
    if (interrupted) throw new Error(`interrupted by ${interrupted} before cycle ${cycle}: no result written`);
    // --- faults: apply, hold, repair, wait for recovery
    try {
      if (phase === 'healthy' && cycle >= nextFaultAt && !args['no-faults']) {
        const fault = random.pick(FAULTS);
        active = { fault, state: {}, appliedAt: Date.now(), appliedCycle: cycle, hold: fault.hang ? random.int(1, 3) : random.int(3, 10), detected: false };
        faultStats[fault.name].applied++;
        await fault.apply(sim, active.state);
        if (active.state.variant) faultStats[fault.name].variants[active.state.variant] = (faultStats[fault.name].variants[active.state.variant] ?? 0) + 1;
        phase = 'faultActive';
      } else if (phase === 'faultActive' && cycle - active.appliedCycle >= active.hold && Date.now() - active.appliedAt >= (active.fault.minHoldMs ?? 0)) {
        await active.fault.repair(sim, active.state);
        active.repairedCycle = cycle;
        phase = 'recovering';
      }
    } catch (error) {
      harnessErrors.push(`${active?.fault.name ?? 'fault'}: ${error instanceof Error ? error.message : String(error)}`);
    }

    // --- one probe cycle, with a fresh process/socket/nlserver snapshot (see README: snapshot reuse)
    snapshotHookOk &&= freshSnapshot(agent, cycle);
    const t = performance.now();
    try {
      await agent.runCycle();
    } catch (error) {
      note(exceptions.runCycle, error);
    }
    const ms = performance.now() - t;
    durations[cycle - 1] = ms;
    durationsByPhase[phase === 'faultActive' && active.fault.hang ? 'hangActive' : phase].push(ms);

    // --- what the agent says
    // Healthy: every row ok (or disabled) and every check ok. Checks count too: rows are damped
    // (failuresBeforeCritical), so a one-cycle fault may show in a check without turning its row.
    let healthy = true;
    let firstSign;
    for (const row of agent.store.all()) {
      rowStates[row.state] = (rowStates[row.state] ?? 0) + 1;
      for (const check of row.checks) checkStates[check.state] = (checkStates[check.state] ?? 0) + 1;
      // The system row judges the machine running the bench (load, swap...), not the simulated host.
      if (row.module === 'system') continue;
      if ((row.state === 'ok' || row.state === 'disabled') && row.checks.every((check) => check.state === 'ok')) continue;
      healthy = false;
      const check = row.checks.find((c) => c.state !== 'ok');
      firstSign ??= `${row.module}@${row.instance}=${row.state}${check ? ` ${check.name}=${check.state}: ${check.message.slice(0, 120)}` : ''}`;
      if (phase === 'healthy') {
        const key = `${row.module}@${row.instance}=${row.state}: ${row.detail.slice(0, 160)}`;
        falseAlarms[key] = (falseAlarms[key] ?? 0) + 1;
      }
    }
    if (phase === 'healthy' && !healthy) falseAlarmCycles++;
    if (phase !== 'healthy' && !healthy && !active.detected) {
      active.detected = true;
      // What gave the fault away (kept for a few, so that a detection of a non-failure can be explained).
      const signs = faultStats[active.fault.name].firstSigns;
      if (signs.length < 3) signs.push(firstSign);
    }
    if (phase === 'recovering') {
      // Cycles run since the repair, this one included: 1 = healthy again in the first cycle after it.
      const since = cycle - active.repairedCycle + 1;
      if (healthy || since > RECOVERY_LIMIT) {
        const stats = faultStats[active.fault.name];
        if (active.detected) stats.detected++;
        if (healthy) {
          stats.recovered++;
          stats.recoveryCycles.push(since);
        } else {
          harnessErrors.push(`${active.fault.name}${active.state.module ? ` (${active.state.module})` : ''}: not recovered ${RECOVERY_LIMIT} cycles after repair`);
        }
        phase = 'healthy';
        active = undefined;
        nextFaultAt = cycle + random.int(Math.ceil(faultEvery / 2), Math.ceil((faultEvery * 3) / 2));
      }
    }

    // --- memory samples: after a full GC, so that they show what is retained rather than garbage
    if (cycle === 1 || cycle === warmup || cycle % sampleEvery === 0 || cycle === cycles) {
      samples.push(await sample(agent, cycle, Date.now() - started));
    }
    if (Date.now() - lastProgress > 30_000 || cycle === cycles) {
      lastProgress = Date.now();
      const elapsed = (Date.now() - started) / 1000;
      const eta = (elapsed / cycle) * (cycles - cycle);
      process.stdout.write(
        `cycle ${cycle}/${cycles}  ${elapsed.toFixed(0)} s elapsed, ~${eta.toFixed(0)} s to go  rss ${MiB(process.memoryUsage().rss)} MiB  exceptions ${exceptions.runCycle.length}\n`,
      );
    }
  }
  const runtimeSeconds = (Date.now() - started) / 1000;
  if (active) {
    // The run ended inside a fault: repair it so that the host stops cleanly; it is not counted.
    await active.fault.repair(sim, active.state).catch(() => {});
  }

  const warm = samples.find((s) => s.cycle === warmup);
  const end = samples[samples.length - 1];
  const growth = (end.rssBytes - warm.rssBytes) / warm.rssBytes;
  const heapGrowth = (end.heapUsedBytes - warm.heapUsedBytes) / warm.heapUsedBytes;
  const after = samples.filter((s) => s.cycle >= warmup);
  // Informational: a leak keeps growing, a plateau stops. Growth over the second half of the run.
  const half = samples.reduce((best, s) => (Math.abs(s.cycle - cycles / 2) < Math.abs(best.cycle - cycles / 2) ? s : best), samples[0]);
  const exceptionCount = exceptions.runCycle.length + exceptions.unhandledRejection.length + exceptions.uncaughtException.length;
  const hangCycles = durationsByPhase.hangActive.length;
  result = {
    kind: 'soak',
    fullSize,
    environment: { ...env, loadAverageAtEnd: os.loadavg().map((value) => round(value, 2)) },
    parameters: {
      cycles,
      seed,
      faultEvery: `a fault every ${Math.ceil(faultEvery / 2)}-${Math.ceil((faultEvery * 3) / 2)} cycles after the previous one recovered`,
      faultHold: 'hanging faults 1-3 cycles, others 3-10 cycles (tracking stall at least 5 s)',
      warmupCycle: warmup,
      sampleEvery,
      serviceEnvironment: serviceEnv,
      instance: INSTANCE,
      rows: { enabled: agent.rows().filter((row) => row.enabled).length, total: agent.rows().length },
      timeouts: { 'defaults.timeout': HANG_BOUND, 'campaign.nlserverTimeout': HANG_BOUND },
      trackinglogd: { growthWarning: '2s', growthCritical: '4s' },
      rediscoverMs,
      faults: !args['no-faults'],
      freshSnapshotEachCycle: snapshotHookOk,
      gcExposed: true,
    },
    runtimeSeconds: round(runtimeSeconds),
    completedCycles: cycles,
    exceptions: {
      count: exceptionCount,
      runCycle: exceptions.runCycle.length,
      unhandledRejection: exceptions.unhandledRejection.length,
      uncaughtException: exceptions.uncaughtException.length,
      samples: [...exceptions.runCycle, ...exceptions.unhandledRejection, ...exceptions.uncaughtException].slice(0, 10),
    },
    memory: {
      definition:
        'RSS and heap after global.gc(); warm = after cycle ' +
        warmup +
        ', end = after the last cycle; growth = (end - warm) / warm. Slope: least-squares fit of RSS over the samples from the warm one on.',
      warm: warm,
      end: end,
      rssGrowth: round(growth, 4),
      heapUsedGrowth: round(heapGrowth, 4),
      // Where the RSS change sits: anonymous memory (heaps, malloc) or file-backed pages (code paged in).
      secondHalf: { fromCycle: half.cycle, rssGrowth: round((end.rssBytes - half.rssBytes) / half.rssBytes, 4), heapUsedGrowth: round((end.heapUsedBytes - half.heapUsedBytes) / half.heapUsedBytes, 4) },
      rssAnonDeltaBytes: end.rssAnonBytes - warm.rssAnonBytes,
      rssFileDeltaBytes: end.rssFileBytes - warm.rssFileBytes,
      heapTotalDeltaBytes: end.heapTotalBytes - warm.heapTotalBytes,
      rssSlopeBytesPer1000Cycles: Math.round(slope(after.map((s) => [s.cycle, s.rssBytes])) * 1000),
      heapSlopeBytesPer1000Cycles: Math.round(slope(after.map((s) => [s.cycle, s.heapUsedBytes])) * 1000),
      samples,
    },
    cycleMs: {
      all: percentiles(durations, [50, 90, 99]),
      healthy: percentiles(durationsByPhase.healthy, [50, 90, 99]),
      faultActive: percentiles(durationsByPhase.faultActive, [50, 90, 99]),
      hangActive: percentiles(durationsByPhase.hangActive, [50, 90, 99]),
      recovering: percentiles(durationsByPhase.recovering, [50, 90, 99]),
      over1100ms: durations.filter((ms) => ms > 1100).length,
    },
    estimate: {
      note: 'runtime ~= cycles x healthy p50 + hang cycles x ~1 s (the timeouts bound every hang)',
      hangCycles,
      predictedSeconds: round((cycles - hangCycles) * (percentiles(durationsByPhase.healthy, [50]).p50 ?? 0) / 1000 + hangCycles),
    },
    results: {
      rowStates,
      checkStates,
      unknownRows: rowStates.unknown ?? 0,
      criticalRows: rowStates.critical ?? 0,
      unknownChecks: checkStates.unknown ?? 0,
      criticalChecks: checkStates.critical ?? 0,
      falseAlarmCycles,
      falseAlarms: Object.fromEntries(Object.entries(falseAlarms).sort((a, b) => b[1] - a[1]).slice(0, 10)),
    },
    faults: Object.fromEntries(
      Object.entries(faultStats).map(([name, stats]) => [
        name,
        {
          applied: stats.applied,
          detected: stats.detected,
          recovered: stats.recovered,
          recoveryCycles: stats.recoveryCycles.length ? { max: Math.max(...stats.recoveryCycles), p50: percentiles(stats.recoveryCycles, [50]).p50 } : null,
          ...(Object.keys(stats.variants).length ? { variants: stats.variants } : {}),
          firstSigns: stats.firstSigns,
          ...(FAULTS.find((f) => f.name === name)?.notAFailure ? { note: 'not a failure: no row should change' } : {}),
        },
      ]),
    ),
    faultsDefinition:
      'detected: some check or row other than system was not ok while the fault was held or being repaired; recovered: every ' +
      'row ok (or disabled) and every check ok again; recoveryCycles: cycles run after the repair until then (1 = the first).',
    faultsApplied: Object.values(faultStats).reduce((sum, s) => sum + s.applied, 0),
    harnessErrors: harnessErrors.slice(0, 20),
    agentLog: logCounts,
    simProcesses: { atStart: simProcessesAtStart, atEnd: processesUnder(sim.root) },
  };
  result.verdict = {
    noCrash: exceptionCount === 0,
    rssGrowthUnder10Percent: growth < GROWTH_TARGET,
    pass: exceptionCount === 0 && growth < GROWTH_TARGET,
  };
  const file = args.out ? writeJson(args.out, result) : writeResult(fullSize ? 'soak' : 'soak-quick', result);
  if (fullSize && !args.out) await regenerateReport();
  print(result, file);
  process.exitCode = result.verdict.pass ? 0 : 1;
} catch (error) {
  process.stderr.write(`bench/soak.mjs: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 2;
} finally {
  await sim?.stop().catch((error) => process.stderr.write(`sim stop: ${String(error)}\n`));
}

// ----------------------------------------------------------------------------------------- helpers

/**
 * The agent reuses one process/socket/nlserver snapshot for cycles less than 250 ms apart (schedules
 * firing on the same tick share it). Back to back, ~60 cycles would share each snapshot and skip
 * /proc, pdump and monitor: dropping the cached snapshot makes every cycle do what a 1 s schedule's
 * cycle does. `snapshot` is a TypeScript-private field (an ordinary property at run time); if it is
 * ever renamed, this says so instead of silently soaking the cache.
 */
function freshSnapshot(agent, cycle) {
  if (cycle === 1) return true;
  const cached = agent.snapshot;
  if (!cached || typeof cached.at !== 'number') {
    harnessErrors.push('Agent has no `snapshot` field any more: cycles reused snapshots; update freshSnapshot() in bench/soak.mjs');
    return false;
  }
  agent.snapshot = undefined;
  return true;
}

async function sample(agent, cycle, elapsedMs) {
  globalThis.gc();
  globalThis.gc();
  const memory = process.memoryUsage();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const heap = v8.getHeapStatistics();
  const code = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'code_space');
  const series = (await agent.metrics.registry.getMetricsAsJSON()).reduce((sum, metric) => sum + metric.values.length, 0);
  return {
    cycle,
    elapsedSeconds: round(elapsedMs / 1000),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    arrayBuffersBytes: memory.arrayBuffers,
    // RSS split (proc(5)): anonymous memory (heaps, malloc) vs file-backed pages (the node binary and
    // libraries paged in as new code paths run) vs shared memory.
    rssAnonBytes: kib('RssAnon'),
    rssFileBytes: kib('RssFile'),
    rssShmemBytes: kib('RssShmem'),
    v8MallocedBytes: heap.malloced_memory,
    v8PhysicalBytes: heap.total_physical_size,
    v8CodeSpaceUsedBytes: code?.space_used_size,
    openFds: readdirSync('/proc/self/fd').length,
    metricSeries: series,
  };
}

/** Processes whose command line mentions the simulated host's root (modules, mtachild, nlserver runs). */
function processesUnder(root) {
  let count = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root)) count++;
    } catch {
      // gone
    }
  }
  return count;
}

function writeJson(file, value) {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}

function slope(points) {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function print(r, file) {
  const m = r.memory;
  const lines = [
    `soak (${r.completedCycles} cycles, seed ${r.parameters.seed}, ${r.faultsApplied} faults, ${r.runtimeSeconds} s) -> ${file}`,
    `  exceptions: ${r.exceptions.count} (runCycle ${r.exceptions.runCycle}, unhandled rejections ${r.exceptions.unhandledRejection}, uncaught ${r.exceptions.uncaughtException})`,
    `  RSS after GC: warm (cycle ${m.warm.cycle}) ${MiB(m.warm.rssBytes)} MiB -> end ${MiB(m.end.rssBytes)} MiB = ${(m.rssGrowth * 100).toFixed(2)} % (slope ${MiB(m.rssSlopeBytesPer1000Cycles)} MiB / 1000 cycles)`,
    `  heap used after GC: ${MiB(m.warm.heapUsedBytes)} -> ${MiB(m.end.heapUsedBytes)} MiB = ${(m.heapUsedGrowth * 100).toFixed(2)} %`,
    `  cycle ms: p50 ${r.cycleMs.all.p50}  p90 ${r.cycleMs.all.p90}  p99 ${r.cycleMs.all.p99}  max ${r.cycleMs.all.max}  (healthy p50 ${r.cycleMs.healthy.p50}, hang p50 ${r.cycleMs.hangActive.p50 ?? '-'})`,
    `  rows seen: ${JSON.stringify(r.results.rowStates)}; false-alarm cycles ${r.results.falseAlarmCycles}; harness errors ${r.harnessErrors.length}`,
    `  verdict: ${r.verdict.pass ? 'PASS' : 'FAIL'} (crash-free ${r.verdict.noCrash}, RSS growth < 10 % ${r.verdict.rssGrowthUnder10Percent})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
