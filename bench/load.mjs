#!/usr/bin/env node
// Load test: the real daemon (`node dist/src/cli/main.js run`) probing a simulated three-instance Campaign
// host every second while autocannon hammers /metrics and /status from loopback. See bench/README.md.
//
//   npm run build && npm run bench:load                 # full size: 200 connections, 30 s
//   node bench/load.mjs --duration 5                     # quick run (written to results/load-quick.json)
//
// Exit code: 0 when there were no request errors (connection errors, timeouts, non-2xx) and no missed
// probe cycle, 1 otherwise, 2 when the bench itself could not run.

import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  DIST,
  clockTicksPerSecond,
  environment,
  fromDist,
  jobModules,
  percentiles,
  procCpuSeconds,
  procMemory,
  regenerateReport,
  round,
  sleep,
  writeResult,
} from './lib.mjs';

const FULL = { duration: 30, connections: 200 };
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: String(FULL.duration) },
    connections: { type: 'string', default: String(FULL.connections) },
    'observer-ms': { type: 'string', default: '250' },
    // Writes a V8 CPU profile of the daemon to this directory (node --cpu-prof), for investigation.
    'cpu-prof': { type: 'string' },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const observerMs = Number(args['observer-ms']);
if (!(duration > 0) || !(connections >= 2)) {
  process.stderr.write('usage: node bench/load.mjs [--duration SECONDS] [--connections N (>= 2)] [--observer-ms MS]\n');
  process.exit(2);
}
const fullSize = duration >= FULL.duration && connections >= FULL.connections;
const SCHEDULE = '* * * * * *';
const INSTANCES = ['load', 'load2', 'load3'];
// Counter reads happen this long after a second boundary, well after that tick's cycle (~0.1-0.3 s unloaded).
const READ_OFFSET_MS = 700;

const { SimulatedHost } = await fromDist('test/sim/host.js');
const ticks = clockTicksPerSecond();
const env = environment();

let sim;
let daemon;
// Ctrl-C or SIGTERM: stop the daemon and the simulated host, write nothing.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`bench/load.mjs: interrupted by ${signal}: no result written\n`);
    Promise.allSettled([daemon?.stop()])
      .then(() => sim?.stop())
      .finally(() => process.exit(2));
  });
}
try {
  // The Node stand-in nlserver, as the recorded results were measured.
  sim = await SimulatedHost.start({ instances: INSTANCES, trackingIntervalMs: 200, nlserverService: false });
  const configFile = await sim.writeAgentConfig({
    logLevel: 'info',
    defaults: { schedule: SCHEDULE },
    modules: await jobModules(sim, INSTANCES),
  });
  const base = sim.agentUrl;
  daemon = startDaemon(configFile, args['cpu-prof']);
  await waitFor(async () => (await get(`${base}/healthz`))?.status === 200, 20_000, () => `daemon never became healthy:\n${daemon.output()}`);
  // Every enabled row has run at least once, then a few quiet cycles so that the JIT has settled.
  await waitFor(async () => (await statusDoc(base)).modules.every((row) => row.state === 'disabled' || row.lastRun !== null), 10_000, () => 'rows never ran');
  await sleep(3000);
  const before = await statusDoc(base);

  // --- t0: quiet, 700 ms after a second boundary
  await untilOffset(READ_OFFSET_MS);
  const t0 = Date.now();
  const cycles0 = await cyclesTotal(base);
  const mem0 = procMemory(daemon.pid);
  const cpu0 = procCpuSeconds(daemon.pid, ticks);
  const log0 = daemon.logCounts();

  // --- load, with an observer polling /status for each row's lastRun and sampling the daemon's RSS
  const observer = observe(base, daemon.pid, observerMs);
  const loadStart = Date.now();
  const half = Math.floor(connections / 2);
  const [metrics, status] = await Promise.all([
    cannon(`${base}/metrics`, half, duration),
    cannon(`${base}/status`, connections - half, duration),
  ]);
  const loadEnd = Date.now();
  const cpuLoad = procCpuSeconds(daemon.pid, ticks);
  const observed = await observer.stop();

  // --- t1: quiet again, 700 ms after a second boundary, at least 2 s after the load
  await sleep(2000);
  await untilOffset(READ_OFFSET_MS);
  const t1 = Date.now();
  const cycles1 = await cyclesTotal(base);
  const mem1 = procMemory(daemon.pid);
  const cpu1 = procCpuSeconds(daemon.pid, ticks);
  const log1 = daemon.logCounts();
  const after = await statusDoc(base);

  // One schedule ('* * * * * *'): one cycle per second boundary crossed between the two reads.
  const expectedCycles = Math.floor(t1 / 1000) - Math.floor(t0 / 1000);
  const countedCycles = cycles1 - cycles0;
  const missedCycles = Math.max(0, expectedCycles - countedCycles);
  const logDelta = Object.fromEntries(Object.keys(log1).map((key) => [key, log1[key] - (log0[key] ?? 0)]));

  const endpoints = { '/metrics': summarize(metrics), '/status': summarize(status) };
  const requestErrors = Object.values(endpoints).reduce((sum, e) => sum + e.errors + e.non2xx, 0);
  const result = {
    kind: 'load',
    fullSize,
    environment: { ...env, loadAverageAtEnd: os.loadavg().map((value) => round(value, 2)) },
    parameters: {
      durationSeconds: duration,
      connections,
      split: { '/metrics': half, '/status': connections - half },
      schedule: SCHEDULE,
      instances: INSTANCES,
      rows: { enabled: before.modules.filter((row) => row.state !== 'disabled').length, total: before.modules.length },
      autocannonTimeoutSeconds: 10,
      observerIntervalMs: observerMs,
      loopback: base,
    },
    endpoints,
    totals: {
      requests: Object.values(endpoints).reduce((sum, e) => sum + e.requests, 0),
      requestsPerSecond: round(Object.values(endpoints).reduce((sum, e) => sum + e.requestsPerSecond, 0)),
      errors: Object.values(endpoints).reduce((sum, e) => sum + e.errors, 0),
      timeouts: Object.values(endpoints).reduce((sum, e) => sum + e.timeouts, 0),
      non2xx: Object.values(endpoints).reduce((sum, e) => sum + e.non2xx, 0),
    },
    cycles: {
      definition:
        'Counter campaign_agent_probe_cycles_total read at t0 and t1, both 700 ms after a second boundary and outside ' +
        'the load (t0 just before it starts, t1 >= 2 s after it ends). The single schedule fires once per second ' +
        'boundary, so expected = floor(t1/1s) - floor(t0/1s); counted = counter(t1) - counter(t0); missed = expected - counted.',
      t0: new Date(t0).toISOString(),
      t1: new Date(t1).toISOString(),
      windowSeconds: round((t1 - t0) / 1000, 3),
      loadWindow: { start: new Date(loadStart).toISOString(), end: new Date(loadEnd).toISOString() },
      expected: expectedCycles,
      counted: countedCycles,
      missed: missedCycles,
      daemonLog: {
        skippedOverlap: logDelta.overlap ?? 0,
        missedExecution: logDelta.missedExecution ?? 0,
        cycleFailed: logDelta.cycleFailed ?? 0,
        warnings: logDelta.warn ?? 0,
        errors: logDelta.error ?? 0,
      },
      rows: observed.rows,
      observer: observed.observer,
    },
    rowStates: { before: stateCounts(before), after: stateCounts(after), duringLoad: observed.states },
    daemon: {
      pid: daemon.pid,
      rssBeforeBytes: mem0.rss,
      rssAfterBytes: mem1.rss,
      rssPeakDuringLoadBytes: observed.rssPeak,
      vmHwmBytes: mem1.hwm,
      cpuSecondsDuringLoad: round(cpuLoad - cpu0, 2),
      cpuPercentOfOneCoreDuringLoad: round((100 * (cpuLoad - cpu0)) / ((loadEnd - t0) / 1000), 1),
      cpuSecondsWindow: round(cpu1 - cpu0, 2),
    },
  };
  result.verdict = {
    zeroRequestErrors: requestErrors === 0,
    zeroMissedCycles: missedCycles === 0,
    pass: requestErrors === 0 && missedCycles === 0,
  };
  const file = writeResult(fullSize ? 'load' : 'load-quick', result);
  if (fullSize) await regenerateReport();
  print(result, file);
  process.exitCode = result.verdict.pass ? 0 : 1;
} catch (error) {
  process.stderr.write(`bench/load.mjs: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 2;
} finally {
  if (daemon) {
    const code = await daemon.stop();
    if (code !== 0) process.stderr.write(`daemon exited with ${code}:\n${daemon.output().slice(-4000)}\n`);
  }
  await sim?.stop();
}

// ----------------------------------------------------------------------------------------- helpers

function startDaemon(configFile, profileDir) {
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(DIST, 'src', 'cli', 'main.js'), 'run', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let output = '';
  let partial = '';
  const counts = { lines: 0, warn: 0, error: 0, overlap: 0, missedExecution: 0, cycleFailed: 0 };
  const onData = (chunk) => {
    const text = partial + chunk.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      counts.lines++;
      if (output.length < 1_000_000) output += `${line}\n`;
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.level >= 50) counts.error++;
      else if (entry.level >= 40) counts.warn++;
      const msg = String(entry.msg ?? '');
      if (msg.includes('this tick is skipped')) counts.overlap++;
      if (msg.includes('missed execution')) counts.missedExecution++;
      if (msg === 'probe cycle failed') counts.cycleFailed++;
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return {
    pid: child.pid,
    output: () => output,
    logCounts: () => ({ ...counts }),
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function get(url) {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(15_000) });
  } catch {
    return undefined;
  }
}

async function statusDoc(base) {
  const response = await fetch(`${base}/status`);
  if (response.status !== 200) throw new Error(`/status answered ${response.status}`);
  return response.json();
}

async function cyclesTotal(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const match = /^campaign_agent_probe_cycles_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/m.exec(text);
  if (!match) throw new Error('campaign_agent_probe_cycles_total not found in /metrics');
  return Number(match[1]);
}

async function waitFor(condition, timeoutMs, describe) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(describe());
}

/** Sleeps until `offsetMs` after the next second boundary. */
async function untilOffset(offsetMs) {
  const now = Date.now();
  let target = Math.floor(now / 1000) * 1000 + offsetMs;
  if (target <= now + 50) target += 1000;
  await sleep(target - now);
}

function cannon(url, connections, seconds) {
  return autocannon({ url, connections, duration: seconds, timeout: 10, pipelining: 1 });
}

function summarize(r) {
  return {
    requests: r.requests.total,
    requestsPerSecond: round(r.requests.average),
    responses2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    resets: r.resets,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, mean: round(r.latency.average, 2) },
    bytesPerSecond: Math.round(r.throughput.average),
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count])),
  };
}

function stateCounts(doc) {
  const counts = {};
  for (const row of doc.modules) counts[row.state] = (counts[row.state] ?? 0) + 1;
  return counts;
}

/**
 * Polls /status every `intervalMs` during the load: collects the distinct lastRun of each row (a new
 * value = one completed run), the gaps between them, and how stale rows were when the daemon answered
 * (generatedAt - lastRun, both the daemon's clock). Samples the daemon's RSS at the same pace.
 */
function observe(base, pid, intervalMs) {
  const runs = new Map();
  const staleness = [];
  const pollLatency = [];
  const pollStarts = [];
  const states = {};
  // Duration of each check run seen (keyed by row/check/lastRun so that a run is counted once).
  const checkRuns = new Map();
  let rssPeak = 0;
  let failures = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      pollStarts.push(started);
      try {
        rssPeak = Math.max(rssPeak, procMemory(pid).rss ?? 0);
      } catch {
        // the daemon is gone (interrupted): the run is being abandoned
      }
      try {
        const doc = await statusDoc(base);
        pollLatency.push(Date.now() - started);
        const generated = Date.parse(doc.generatedAt);
        for (const row of doc.modules) {
          states[row.state] = (states[row.state] ?? 0) + 1;
          if (row.lastRun === null || row.state === 'disabled') continue;
          const key = `${row.module}@${row.instance}`;
          if (!runs.has(key)) runs.set(key, new Set());
          runs.get(key).add(Date.parse(row.lastRun));
          staleness.push(generated - Date.parse(row.lastRun));
          for (const check of row.checks) checkRuns.set(`${key}/${check.name}@${check.lastRun}`, { name: `${row.module}/${check.name}`, ms: check.durationMs });
        }
      } catch {
        failures++;
      }
      await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const gaps = [];
      const rows = {};
      for (const [key, set] of runs) {
        const sorted = [...set].sort((a, b) => a - b);
        const rowGaps = sorted.slice(1).map((value, index) => value - sorted[index]);
        gaps.push(...rowGaps);
        rows[key] = { runsSeen: sorted.length, maxGapMs: rowGaps.length ? Math.max(...rowGaps) : null, gapsOf2sOrMore: rowGaps.filter((g) => g >= 2000).length };
      }
      const byCheck = new Map();
      for (const { name, ms } of checkRuns.values()) {
        if (!byCheck.has(name)) byCheck.set(name, []);
        byCheck.get(name).push(ms);
      }
      const slowestChecks = [...byCheck]
        .map(([name, values]) => ({ check: name, ...percentiles(values, [50]) }))
        .sort((a, b) => b.max - a.max)
        .slice(0, 8);
      const intervals = pollStarts.slice(1).map((value, index) => value - pollStarts[index]);
      const worst = Object.entries(rows).sort((a, b) => (b[1].maxGapMs ?? 0) - (a[1].maxGapMs ?? 0))[0];
      return {
        rssPeak,
        states,
        rows: {
          definition:
            'distinct lastRun values of each enabled row seen by the observer polling /status during the load; a gap is the time ' +
            'between two consecutive ones, 1000 ms when every tick runs on time. A tick may start up to 1 s late (node-cron tolerance) ' +
            'so gaps between 1 and 2 s can be late ticks; a gap of 2 s or more is certainly a missed tick, provided the observer ' +
            'never paused 1 s or more between polls (observer.maxPollIntervalMs); stalenessMs = generatedAt - lastRun, both the daemon clock',
          count: runs.size,
          runsSeenPerRow: percentiles(Object.values(rows).map((r) => r.runsSeen), [50]),
          gapMs: percentiles(gaps, [50, 99]),
          gapsOf2sOrMore: gaps.filter((g) => g >= 2000).length,
          worstRow: worst ? { row: worst[0], ...worst[1] } : null,
          stalenessMs: percentiles(staleness, [50, 99]),
          // durationMs of the check runs seen during the load (module/check, all instances), slowest first.
          slowestChecks,
        },
        observer: {
          polls: pollLatency.length,
          failedPolls: failures,
          pollLatencyMs: percentiles(pollLatency, [50, 99]),
          maxPollIntervalMs: intervals.length ? Math.max(...intervals) : null,
        },
      };
    },
  };
}

function print(result, file) {
  const lines = [`load test (${result.parameters.durationSeconds} s, ${result.parameters.connections} connections) -> ${file}`];
  for (const [name, e] of Object.entries(result.endpoints)) {
    lines.push(
      `  ${name.padEnd(9)} ${String(e.requests).padStart(8)} req  ${String(e.requestsPerSecond).padStart(8)} req/s  errors ${e.errors}  timeouts ${e.timeouts}  non-2xx ${e.non2xx}  latency p50 ${e.latencyMs.p50} ms  p99 ${e.latencyMs.p99} ms  max ${e.latencyMs.max} ms`,
    );
  }
  const c = result.cycles;
  lines.push(
    `  probe cycles: expected ${c.expected}, counted ${c.counted}, missed ${c.missed} (daemon log: ${c.daemonLog.skippedOverlap} overlap skips, ${c.daemonLog.missedExecution} missed executions)`,
    `  row runs: max gap ${c.rows.gapMs.max} ms, gaps >= 2 s: ${c.rows.gapsOf2sOrMore}; staleness p99 ${c.rows.stalenessMs.p99} ms; observer max poll interval ${c.observer.maxPollIntervalMs} ms`,
    `  daemon: RSS ${(result.daemon.rssBeforeBytes / 2 ** 20).toFixed(1)} -> ${(result.daemon.rssAfterBytes / 2 ** 20).toFixed(1)} MiB (peak ${(result.daemon.rssPeakDuringLoadBytes / 2 ** 20).toFixed(1)}), CPU ${result.daemon.cpuPercentOfOneCoreDuringLoad} % of one core during the load`,
    `  verdict: ${result.verdict.pass ? 'PASS' : 'FAIL'} (request errors ${result.verdict.zeroRequestErrors ? 'none' : 'present'}, missed cycles ${result.cycles.missed})`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
