#!/usr/bin/env node
// What the whole daemon costs its server (issue 14), as the unit runs it: the bundle
// (dist/bundle/campaign-health.mjs run --config FILE) with the unit's Environment= lines, on a
// simulated host with three instances, every module and 200 padding processes, with a compiled
// stand-in nlserver (bench/nlserver-standin.c) that costs a fork's worth and counts its runs.
// Side by side, over the same window, Debian's blackbox_exporter and process-exporter asked as
// Prometheus would ask them. Phases, in this order:
//
//   shipped      every module at its shipped default schedule; peers asked every 15 s, the daemon's
//                /metrics scraped at config/prometheus/scrape.yml's interval (30 s)
//   everySecond  every module at */1 * * * * *; peers asked and /metrics scraped every second; then `throughput`
//   throughput   wrk (50 connections, --latency) on the daemon's /metrics (gzip), /healthz and /status,
//                and on blackbox_exporter's own /metrics, while the daemon keeps probing every second
//   idle         no Campaign install at all (installDir is an empty directory): reported, no target
//
// For each window: CPU from /proc/<pid>/stat deltas (utime, stime, cutime + cstime) as ms of CPU per
// second of wall time, stand-in nlserver runs (the agent's child processes), VmRSS after warm-up and
// at the end, the bytes the daemon logged, the load average. The bench's own HTTP clients are not
// counted; the peers' processes are.
//
//   node bench/daemon-cost.mjs [--quick] [--phases shipped,everySecond,throughput,idle] [--out FILE]
//                              [--view-every-second]   (the nlserver view at 1 s too in everySecond)
//   (needs `npm run build && npm run bundle`; `npm run bench` runs it too, through bench/bench.mjs)
//
// Alone, it prints its table and MET/MISS lines and writes bench/results/daemon-cost[-quick].json;
// exit 0 targets met (always with --quick), 1 a target missed, 2 the bench itself failed.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_DIR, DIST, ROOT, clockTicksPerSecond, environment, httpStatus, procCpuSplit, procMemory, round, sleep, unitEnvironment, unitNodeFlags, firstLine } from './lib.mjs';
import { PEERS, blackboxTargets, startPeer } from './peers.mjs';

export const BUNDLE = path.join(DIST, 'bundle', 'campaign-health.mjs');
const CLI = path.join(DIST, 'src', 'cli', 'main.js');
export const STANDIN_SOURCE = path.join(BENCH_DIR, 'nlserver-standin.c');
export const STANDIN_BINARY = path.join(DIST, 'bench', 'nlserver-standin');
export const ALL_PHASES = ['shipped', 'everySecond', 'throughput', 'idle'];

/** Issue 14's targets. */
export const DAEMON_TARGETS = {
  shippedCpuMsPerSecond: 1.0,
  shippedVsPeers: 0.6,
  everySecondVsPeers: 1.0,
  nlserverStartsPerMinute: 2,
  rssWarmMiB: 64,
  throughputVsBlackbox: 3,
};

/** Window lengths and warm-ups in seconds. Full: as issue 14 asks; quick: enough to keep the harness working. */
export function daemonPlan(quick) {
  return quick
    ? { shipped: { warm: 5, window: 30 }, everySecond: { warm: 3, window: 10 }, idle: { warm: 3, window: 10 }, wrkSeconds: 2, paddingAge: 0 }
    : { shipped: { warm: 30, window: 180 }, everySecond: { warm: 15, window: 60 }, idle: { warm: 15, window: 60 }, wrkSeconds: 10, paddingAge: 60 };
}

const WRK_CONNECTIONS = 50;
const ticks = clockTicksPerSecond();

/** cc -O2 bench/nlserver-standin.c → dist/bench/nlserver-standin (when the source is newer). */
export function compileStandin() {
  mkdirSync(path.dirname(STANDIN_BINARY), { recursive: true });
  if (existsSync(STANDIN_BINARY) && statSync(STANDIN_BINARY).mtimeMs >= statSync(STANDIN_SOURCE).mtimeMs) return STANDIN_BINARY;
  const compiler = ['cc', 'gcc'].find((name) => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0);
  if (!compiler) throw new Error('no C compiler (cc or gcc) for bench/nlserver-standin.c: apt-get install gcc libc6-dev');
  execFileSync(compiler, ['-O2', '-Wall', '-Werror', '-o', STANDIN_BINARY, STANDIN_SOURCE], { stdio: ['ignore', 'inherit', 'inherit'] });
  return STANDIN_BINARY;
}

/**
 * Runs the phases on `sim` (the JSON line of a bench/sim-host.mjs started with --standin), or on a
 * simulated host of its own. `track(child)` registers a child process for the caller's clean-up on
 * interrupt; `log(text)` reports progress (stderr).
 */
export async function measureDaemonCost({ quick, phases = ALL_PHASES, track = (child) => child, log = () => {}, padding = 200, sim: given, viewEverySecond = false }) {
  const plan = daemonPlan(quick);
  const unitEnv = unitEnvironment();
  let sim = given ? { info: given, stop: async () => {} } : undefined;
  if (!sim) {
    log(`daemon cost: simulated host, ${padding} padding processes, compiled stand-in nlserver`);
    sim = await startSimHost(padding, compileStandin(), track);
  }
  if (!sim.info.standinCount) throw new Error('the simulated host runs no compiled stand-in nlserver (bench/sim-host.mjs --standin)');
  const out = { plan, phases: {}, unitEnvironment: unitEnv, unitNodeFlags: unitNodeFlags(), padding: sim.info.padding };
  try {
    out.nlserverSchedule = viewEverySecond
      ? nlserverScheduleOption(sim.info.configs.everySecond.file).note
      : 'its shipped default in every phase (0 * * * * *): the view has its own schedule, "every module at 1 s" sets the modules\' schedules';
    for (const phase of ['shipped', 'everySecond', 'idle']) {
      if (!phases.includes(phase) && !(phase === 'everySecond' && phases.includes('throughput'))) continue;
      const config = sim.info.configs[phase];
      const daemon = await startDaemon(config, unitEnv, track);
      try {
        await waitForHealthy(daemon, phase === 'idle' ? 20_000 : 90_000);
        const peers = phase === 'idle' ? [] : await startPeers(sim.info, await planOf(config.url), track);
        const floor = phase === 'shipped' ? await startNodeFloor(sim.info, config.url, unitEnv, track) : undefined;
        try {
          const settings = plan[phase];
          // The padding processes must be a minute old, as a server's are (younger ones are read in
          // full every cycle: src/snapshot/processes.ts).
          const agedAt = sim.info.paddingStartedAt + plan.paddingAge * 1000;
          const warmUntil = Math.max(Date.now() + settings.warm * 1000, agedAt);
          log(`daemon cost: ${phase}: warm-up ${round((warmUntil - Date.now()) / 1000)} s`);
          await sleepUntil(warmUntil);
          if (phases.includes(phase)) {
            log(`daemon cost: ${phase}: ${settings.window} s window`);
            out.phases[phase] = await window(phase, daemon, peers, sim.info, settings.window, floor);
          }
          if (phase === 'everySecond' && phases.includes('throughput')) {
            log(`daemon cost: throughput (wrk, ${WRK_CONNECTIONS} connections, ${plan.wrkSeconds} s per endpoint)`);
            out.phases.throughput = await throughput(config.url, peers.find((peer) => peer.name === 'blackbox_exporter'), plan.wrkSeconds);
          }
        } finally {
          for (const peer of peers) await peer.stop();
          await floor?.stop();
        }
      } finally {
        await daemon.stop();
      }
    }
  } finally {
    await sim.stop();
  }
  return out;
}

/** One measurement window: every process's /proc/<pid>/stat before and after, peers asked at their cadence. */
async function window(phase, daemon, peers, info, seconds, floor) {
  const cadence = phase === 'everySecond' ? 1 : 15;
  // Start half-way between two runs of a 30 s (or 1 s) schedule, so that a window of a whole number
  // of periods holds exactly that many runs, wherever the bench starts (idle has no runs to hold).
  const period = phase === 'shipped' ? 30_000 : 1000;
  await sleepUntil(Math.ceil((Date.now() - period / 2) / period) * period + period / 2);
  const rssWarm = procMemory(daemon.pid);
  const count0 = standinRuns(info);
  const log0 = daemon.loggedBytes();
  const load0 = os.loadavg();
  const cpu0 = procCpuSplit(daemon.pid, ticks);
  const live0 = liveDescendantsCpu(daemon.pid);
  const peers0 = peers.map((peer) => procCpuSplit(peer.pid, ticks));
  const floor0 = floor && procCpuSplit(floor.pid, ticks);
  const t0 = performance.now();
  let asks = 0;
  let failedRequests = 0;
  const n = peers.length ? Math.round(seconds / cadence) : 0;
  const scrapeSeconds = scrapeEvery(phase);
  for (let k = 0; k < n; k++) {
    // Asked in the middle of each cadence slot: exactly n asks fall in the window.
    await sleep(Math.max(0, t0 + (k + 0.5) * cadence * 1000 - performance.now()));
    // Prometheus scrapes the daemon too: serving /metrics is its cost. Shipped: at the interval of the
    // scrape config we ship (config/prometheus/scrape.yml, 30 s), every other ask of the peers; every
    // second: at each ask.
    const scrapeNow = (k * cadence) % scrapeSeconds === 0;
    const scrapes = scrapeNow ? [scrapeMetrics(daemon.url), ...(floor ? [scrapeMetrics(floor.url)] : [])] : [];
    const failures = await Promise.all([...peers.map((peer) => peer.cycle()), ...scrapes]);
    failedRequests += failures.reduce((sum, value) => sum + value, 0);
    asks++;
  }
  await sleep(Math.max(0, t0 + seconds * 1000 - performance.now()));
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu1 = procCpuSplit(daemon.pid, ticks);
  const live1 = liveDescendantsCpu(daemon.pid);
  const peers1 = peers.map((peer) => procCpuSplit(peer.pid, ticks));
  const floor1 = floor && procCpuSplit(floor.pid, ticks);
  const count1 = standinRuns(info);
  const perSecond = (value) => round((value * 1000) / wallSeconds, 2);
  const agent = {
    utimeMsPerSecond: perSecond(cpu1.utime - cpu0.utime),
    stimeMsPerSecond: perSecond(cpu1.stime - cpu0.stime),
    childrenMsPerSecond: perSecond(cpu1.cutime + cpu1.cstime - cpu0.cutime - cpu0.cstime),
    // A long-lived child (a helper process, say) is not reaped within the window: its CPU is in no
    // field of the daemon's stat, so it is read from its own, as is that of its children.
    liveDescendantsMsPerSecond: perSecond(live1.seconds - live0.seconds),
    liveDescendantsAtEnd: live1.count,
  };
  agent.totalMsPerSecond = round(agent.utimeMsPerSecond + agent.stimeMsPerSecond + agent.childrenMsPerSecond + agent.liveDescendantsMsPerSecond, 2);
  const peerRows = {};
  peers.forEach((peer, i) => {
    const before = peers0[i];
    const after = peers1[i];
    peerRows[peer.name] = {
      msPerSecond: perSecond(cpuSum(after) - cpuSum(before)),
      rssMiB: round(procMemory(peer.pid).rss / 2 ** 20),
      requestsPerAsk: peer.requestsPerCycle,
      does: peer.does,
      version: peer.version,
    };
  });
  const peersSum = Object.values(peerRows).reduce((sum, row) => sum + row.msPerSecond, 0);
  const floorMs = floor && perSecond(cpuSum(floor1) - cpuSum(floor0));
  const end = procMemory(daemon.pid);
  const runs = count1 - count0;
  return {
    windowSeconds: round(wallSeconds, 1),
    agent,
    nlserverRuns: runs,
    nlserverRunsPerMinute: round((runs * 60) / wallSeconds, 2),
    daemonLogBytesPerSecond: round((daemon.loggedBytes() - log0) / wallSeconds, 1),
    rssWarmMiB: round(rssWarm.rss / 2 ** 20),
    rssEndMiB: round(end.rss / 2 ** 20),
    rssPeakMiB: round(end.hwm / 2 ** 20),
    peers: peerRows,
    peerAskEverySeconds: peers.length ? cadence : undefined,
    agentScrapedEverySeconds: peers.length ? scrapeSeconds : undefined,
    peerAsks: asks,
    failedRequests,
    peersMsPerSecond: peers.length ? round(peersSum, 2) : undefined,
    agentVsPeers: peers.length && peersSum > 0 ? round(agent.totalMsPerSecond / peersSum, 2) : undefined,
    peersRssMiB: peers.length ? round(Object.values(peerRows).reduce((sum, row) => sum + row.rssMiB, 0)) : undefined,
    // Not a peer: the part of the agent's cost that no Node.js program doing its job could avoid.
    nodeFloor: floor ? { msPerSecond: floorMs, rssMiB: round(procMemory(floor.pid).rss / 2 ** 20), series: floor.series, nlserverRuns: floor.runs() } : undefined,
    agentVsNodeFloor: floor && floorMs > 0 ? round(agent.totalMsPerSecond / floorMs, 2) : undefined,
    loadAverage: { start: load0.map((value) => round(value, 2)), end: os.loadavg().map((value) => round(value, 2)) },
  };
}

/** wrk on the daemon's endpoints and on blackbox_exporter's /metrics, one after the other. */
async function throughput(daemonUrl, blackbox, seconds) {
  const targets = [
    // Prometheus asks for gzip; tools reading /status mostly do not.
    { name: 'daemon /metrics', url: `${daemonUrl}/metrics`, headers: ['Accept-Encoding: gzip'] },
    { name: 'daemon /healthz', url: `${daemonUrl}/healthz`, headers: [] },
    { name: 'daemon /status', url: `${daemonUrl}/status`, headers: [] },
    ...(blackbox ? [{ name: 'blackbox_exporter /metrics', url: `http://127.0.0.1:${blackbox.port}/metrics`, headers: ['Accept-Encoding: gzip'] }] : []),
  ];
  const out = { connections: WRK_CONNECTIONS, seconds, endpoints: {} };
  for (const target of targets) out.endpoints[target.name] = await wrk(target.url, target.headers, seconds);
  const bb = out.endpoints['blackbox_exporter /metrics'];
  if (bb && !bb.unavailable) {
    for (const name of ['daemon /metrics', 'daemon /healthz', 'daemon /status']) {
      const own = out.endpoints[name];
      if (own.unavailable) continue;
      own.vsBlackbox = { throughput: round(own.requestsPerSecond / bb.requestsPerSecond, 2), p99: round(own.p99Ms / bb.p99Ms, 2) };
    }
  }
  return out;
}

async function wrk(url, headers, seconds) {
  const args = ['-t', '2', '-c', String(WRK_CONNECTIONS), '-d', `${seconds}s`, '--latency', '--timeout', '10s', ...headers.flatMap((header) => ['-H', header]), url];
  const result = await new Promise((resolve) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) => resolve({ error: error.message }));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  if (result.error || result.code !== 0) return { unavailable: `wrk: ${result.error ?? result.stderr.trim() ?? `exit ${result.code}`} (apt-get install wrk)` };
  return parseWrk(result.stdout);
}

/** Requests/sec, the latency distribution and the errors of wrk's --latency report. */
export function parseWrk(text) {
  const ms = (value, unit) => Number(value) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit];
  const latency = {};
  for (const match of text.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$/gm)) latency[`p${match[1]}Ms`] = round(ms(match[2], match[3]), 2);
  const requests = Number(/^\s*(\d+) requests in/m.exec(text)?.[1]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  return {
    requestsPerSecond: round(Number(/^Requests\/sec:\s+([\d.]+)/m.exec(text)?.[1]), 0),
    requests,
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
    errors: non2xx + (socket ? socket.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0),
  };
}

// ---------------------------------------------------------------------------------------- verdicts

export function daemonCostVerdicts(cost, quick) {
  const list = [];
  const add = (target, value, limit, met) => list.push({ target, value, limit, met: value === undefined ? null : met });
  const shipped = cost.phases.shipped;
  if (shipped) {
    add(`daemon CPU at the shipped schedules (ms per s, ${shipped.windowSeconds} s)`, shipped.agent.totalMsPerSecond, DAEMON_TARGETS.shippedCpuMsPerSecond, shipped.agent.totalMsPerSecond <= DAEMON_TARGETS.shippedCpuMsPerSecond);
    add('daemon CPU vs blackbox + process-exporter asked every 15 s (ratio)', shipped.agentVsPeers, DAEMON_TARGETS.shippedVsPeers, shipped.agentVsPeers <= DAEMON_TARGETS.shippedVsPeers);
    add('nlserver processes started per minute, shipped schedules', shipped.nlserverRunsPerMinute, DAEMON_TARGETS.nlserverStartsPerMinute, shipped.nlserverRunsPerMinute <= DAEMON_TARGETS.nlserverStartsPerMinute);
    add('daemon RSS after warm-up, shipped schedules (MiB)', shipped.rssWarmMiB, DAEMON_TARGETS.rssWarmMiB, shipped.rssWarmMiB <= DAEMON_TARGETS.rssWarmMiB);
  }
  const every = cost.phases.everySecond;
  if (every) add('daemon CPU vs the peers asked every second, every module at 1 s (ratio)', every.agentVsPeers, DAEMON_TARGETS.everySecondVsPeers, every.agentVsPeers <= DAEMON_TARGETS.everySecondVsPeers);
  const tp = cost.phases.throughput;
  if (tp) {
    for (const name of ['daemon /metrics', 'daemon /healthz', 'daemon /status']) {
      const vs = tp.endpoints[name]?.vsBlackbox;
      add(`${name} req/s vs blackbox_exporter /metrics under wrk (ratio)`, vs?.throughput, DAEMON_TARGETS.throughputVsBlackbox, vs?.throughput >= DAEMON_TARGETS.throughputVsBlackbox);
      add(`${name} p99 vs blackbox_exporter /metrics p99 under wrk (ratio)`, vs?.p99, 1, vs?.p99 <= 1);
    }
  }
  // Timings of a short run on a loaded machine say little: shown, never judged.
  if (quick) for (const verdict of list) if (verdict.met !== null) verdict.quickOnly = true;
  return list;
}

export function renderDaemonCost(cost) {
  const lines = [];
  const row = (cells) => lines.push(cells.map((cell, i) => String(cell ?? '–').padEnd(i === 0 ? 52 : 22)).join('').trimEnd());
  const phases = ['shipped', 'everySecond', 'idle'].filter((name) => cost.phases[name]);
  const title = { shipped: 'shipped schedules', everySecond: 'every module 1 s', idle: 'idle (no Campaign)' };
  lines.push(`whole daemon (bundle, unit environment; N = ${cost.padding} padding; ms of CPU per second of wall time)`);
  row(['', ...phases.map((name) => title[name])]);
  const each = (label, pick) => row([label, ...phases.map((name) => pick(cost.phases[name]))]);
  each('window s (peers asked / daemon scraped every … s)', (p) => `${p.windowSeconds}${p.peerAskEverySeconds ? ` (${p.peerAskEverySeconds} / ${p.agentScrapedEverySeconds})` : ''}`);
  each('agent CPU ms/s: total', (p) => p.agent.totalMsPerSecond);
  each('  utime / stime / children (cutime+cstime)', (p) => `${p.agent.utimeMsPerSecond} / ${p.agent.stimeMsPerSecond} / ${p.agent.childrenMsPerSecond}`);
  each('  live child processes: CPU ms/s (count)', (p) => `${p.agent.liveDescendantsMsPerSecond} (${p.agent.liveDescendantsAtEnd})`);
  each('nlserver runs (per minute)', (p) => `${p.nlserverRuns} (${p.nlserverRunsPerMinute})`);
  each('agent RSS MiB after warm-up / end / peak', (p) => `${p.rssWarmMiB} / ${p.rssEndMiB} / ${p.rssPeakMiB}`);
  each('agent log bytes per s', (p) => p.daemonLogBytesPerSecond);
  for (const peer of PEERS) each(`${peer.name} CPU ms/s (RSS MiB)`, (p) => (p.peers[peer.name] ? `${p.peers[peer.name].msPerSecond} (${p.peers[peer.name].rssMiB})` : undefined));
  each('peers CPU ms/s, sum', (p) => (p.peersMsPerSecond === undefined ? undefined : `${p.peersMsPerSecond}${p.failedRequests ? ` (${p.failedRequests} failed requests)` : ''}`));
  each('agent / peers CPU (ratio)', (p) => p.agentVsPeers);
  each('agent / peers RSS (ratio)', (p) => (p.peersRssMiB ? round(p.rssWarmMiB / p.peersRssMiB, 2) : undefined));
  each('node floor CPU ms/s (RSS MiB)', (p) => (p.nodeFloor ? `${p.nodeFloor.msPerSecond} (${p.nodeFloor.rssMiB})` : undefined));
  each('agent / node floor CPU (ratio)', (p) => p.agentVsNodeFloor);
  each('load average at start / end (1 min)', (p) => `${p.loadAverage.start[0]} / ${p.loadAverage.end[0]}`);
  const tp = cost.phases.throughput;
  if (tp) {
    lines.push('');
    lines.push(`wrk, ${tp.connections} connections, ${tp.seconds} s each, while the daemon probes every module every second`);
    row(['', 'req/s', 'p50 / p99 ms', 'vs blackbox req/s, p99']);
    for (const [name, r] of Object.entries(tp.endpoints)) {
      if (r.unavailable) row([name, r.unavailable]);
      else row([name, `${r.requestsPerSecond}${r.errors ? ` (${r.errors} errors)` : ''}`, `${r.p50Ms} / ${r.p99Ms}`, r.vsBlackbox ? `${r.vsBlackbox.throughput} ×, ${r.vsBlackbox.p99} ×` : '']);
    }
  }
  if (cost.nlserverSchedule) lines.push('', `campaign.nlserverSchedule: ${cost.nlserverSchedule}`);
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------ the processes

async function startSimHost(padding, standin, track) {
  const child = track(spawn(process.execPath, [path.join(BENCH_DIR, 'sim-host.mjs'), '--padding', String(padding), '--standin', standin], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const info = JSON.parse(await firstLine(child, 120_000, 'the simulated host'));
  return {
    info,
    stop: async () => {
      child.stdin.end();
      await exited(child, 30_000);
    },
  };
}

/**
 * --view-every-second: `campaign.nlserverSchedule` once a second too in the every-second phase (two
 * nlserver forks a second), as the bench ran before the view had a schedule of its own. Asked of
 * `config check`, which refuses unknown keys.
 */
function nlserverScheduleOption(file) {
  const text = readFileSync(file, 'utf8').replace(/^campaign:\n/m, "campaign:\n  nlserverSchedule: '*/1 * * * * *'\n");
  const probe = path.join(path.dirname(file), 'agent-probe-nlserver-schedule.yaml');
  writeFileSync(probe, text);
  const accepted = spawnSync(process.execPath, [CLI, 'config', 'check', '--config', probe], { stdio: 'ignore' }).status === 0;
  rmSync(probe, { force: true });
  if (!accepted) return { note: 'not accepted by this daemon (option not there yet): the every-second run has no nlserver schedule of its own' };
  writeFileSync(file, text);
  return { note: "set to '*/1 * * * * *' in the every-second configuration" };
}

/** Seconds between two scrapes of the daemon: the shipped scrape config's interval, or every second. */
export function scrapeEvery(phase) {
  if (phase === 'everySecond') return 1;
  const text = readFileSync(path.join(ROOT, 'config', 'prometheus', 'scrape.yml'), 'utf8');
  const match = /job_name: campaign-health[\s\S]*?scrape_interval: (\d+)s/.exec(text);
  if (!match) throw new Error('config/prometheus/scrape.yml: no scrape_interval (in seconds) for job campaign-health');
  return Number(match[1]);
}

/** One scrape of the daemon's /metrics as Prometheus sends it (gzip accepted); 1 when it failed. */
async function scrapeMetrics(url) {
  try {
    const response = await fetch(`${url}/metrics`, { headers: { 'accept-encoding': 'gzip' }, signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    return response.status === 200 ? 0 : 1;
  } catch {
    return 1;
  }
}

async function startDaemon(config, unitEnv, track) {
  const child = track(spawn(process.execPath, [...unitNodeFlags(), BUNDLE, 'run', '--config', config.file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...unitEnv } }));
  let tail = '';
  let bytes = 0;
  child.stderr.on('data', (chunk) => {
    bytes += chunk.length;
    tail = (tail + chunk).slice(-4000);
  });
  return {
    pid: child.pid,
    url: config.url,
    loggedBytes: () => bytes,
    tail: () => tail,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: async () => {
      child.kill('SIGTERM');
      await exited(child, 10_000);
    },
  };
}

async function waitForHealthy(daemon, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (daemon.exited()) throw new Error(`the daemon exited:\n${daemon.tail()}`);
    // Healthy: every schedule has completed its first cycle (src/core/scheduler.ts).
    if ((await httpStatus(`${daemon.url}/healthz`)) === 200) return;
    await sleep(200);
  }
  // Idle may never be healthy (nothing planned); the window measures it all the same.
  if ((await httpStatus(`${daemon.url}/status`)) === undefined) throw new Error(`the daemon never answered on ${daemon.url}:\n${daemon.tail()}`);
}

/** The daemon's rows and their checks, as /status lists them (what blackbox_exporter is given to probe). */
async function planOf(url) {
  const response = await fetch(`${url}/status`, { signal: AbortSignal.timeout(5000) });
  const document = await response.json();
  return document.modules.map((row) => ({ key: `${row.module}@${row.instance}`, checks: row.checks.map((check) => check.name) }));
}

/**
 * bench/node-floor.mjs beside the daemon, as the unit would run it: the /proc scan, the view's two
 * nlserver commands once a minute and a /metrics of the daemon's size, nothing else. It runs a copy
 * of the stand-in with answers of its own, so that the daemon's nlserver count stays the daemon's.
 */
async function startNodeFloor(info, daemonUrl, unitEnv, track) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-node-floor-'));
  const standin = path.join(dir, 'nlserver');
  const answers = `${standin}-answers`;
  mkdirSync(answers);
  copyFileSync(STANDIN_BINARY, standin);
  chmodSync(standin, 0o755);
  for (const name of ['pdump', 'monitor-missing']) copyFileSync(path.join(path.dirname(info.standinCount), name), path.join(answers, name));
  const series = (await (await fetch(`${daemonUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text()).split('\n').filter((line) => line && !line.startsWith('#')).length;
  const child = track(
    spawn(process.execPath, [...unitNodeFlags(), path.join(BENCH_DIR, 'node-floor.mjs'), '--series', String(series), '--standin', standin], {
      env: { ...process.env, ...unitEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const { port } = JSON.parse(await firstLine(child, 30_000, 'the node floor'));
  return {
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    series,
    runs: () => countedRuns(path.join(answers, 'count')),
    stop: async () => {
      child.kill('SIGTERM');
      await exited(child, 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startPeers(info, plan, track) {
  const running = [];
  for (const peer of PEERS) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${peer.name}-`));
    const started = await startPeer(peer, dir, info, plan, track);
    if (started.unavailable) throw new Error(started.unavailable);
    running.push({
      ...started,
      name: peer.name,
      stop: async () => {
        await started.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  }
  return running;
}

/**
 * CPU (utime + stime + cutime + cstime) of the daemon's live descendants, summed. The whole tree's
 * CPU up to now is the sum of that over every live process of the tree (the daemon included): a
 * process's own time plus what it reaped; one that exits is counted in its parent's cutime from then on.
 */
function liveDescendantsCpu(root) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (pid) => {
    for (let at = parents.get(pid), hops = 0; at !== undefined && hops < 64; at = parents.get(at), hops++) if (at === root) return true;
    return false;
  };
  let seconds = 0;
  let count = 0;
  for (const pid of parents.keys()) {
    if (!inTree(pid)) continue;
    try {
      const cpu = procCpuSplit(pid, ticks);
      seconds += cpuSum(cpu);
      count++;
    } catch {
      // exited meanwhile: its parent's cutime has it, or will
    }
  }
  return { seconds, count };
}

function standinRuns(info) {
  return countedRuns(info.standinCount);
}

/** A stand-in's run counter: one byte per run (bench/nlserver-standin.c); none yet is 0. */
function countedRuns(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

// ----------------------------------------------------------------------------------------- helpers

/** A process's whole CPU from procCpuSplit: its own time and its reaped children's. */
function cpuSum(cpu) {
  return cpu.utime + cpu.stime + cpu.cutime + cpu.cstime;
}

async function sleepUntil(epochMs) {
  const wait = epochMs - Date.now();
  if (wait > 0) await sleep(wait);
}


export function exited(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// -------------------------------------------------------------------------------------------- main

async function main() {
  const { values: args } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      phases: { type: 'string', default: ALL_PHASES.join(',') },
      out: { type: 'string' },
      'view-every-second': { type: 'boolean', default: false },
    },
  });
  const phases = args.phases.split(',');
  const unknown = phases.filter((phase) => !ALL_PHASES.includes(phase));
  if (unknown.length) {
    process.stderr.write(`bench/daemon-cost.mjs: unknown phase ${unknown.join(', ')} (phases: ${ALL_PHASES.join(', ')})\n`);
    process.exit(2);
  }
  for (const file of [BUNDLE, CLI]) {
    if (!existsSync(file)) {
      process.stderr.write(`bench/daemon-cost.mjs: ${file} is missing: run \`npm run build && npm run bundle\` first\n`);
      process.exit(2);
    }
  }
  const children = new Set();
  const track = (child) => {
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      for (const child of children) child.kill('SIGTERM');
      process.stderr.write(`bench/daemon-cost.mjs: interrupted by ${signal}: no result written\n`);
      setTimeout(() => process.exit(2), 3000).unref();
    });
  }
  const started = Date.now();
  const env = environment();
  let cost;
  try {
    cost = await measureDaemonCost({ quick: args.quick, phases, track, viewEverySecond: args['view-every-second'], log: (text) => process.stderr.write(`[daemon-cost ${round((Date.now() - started) / 1000)} s] ${text}\n`) });
  } catch (error) {
    for (const child of children) child.kill('SIGKILL');
    process.stderr.write(`bench/daemon-cost.mjs: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  }
  const verdicts = daemonCostVerdicts(cost, args.quick);
  const result = {
    kind: 'daemon-cost',
    quick: args.quick,
    environment: { ...env, loadAverageAtEnd: os.loadavg().map((value) => round(value, 2)), durationSeconds: round((Date.now() - started) / 1000) },
    targets: DAEMON_TARGETS,
    daemonCost: cost,
    verdicts,
  };
  process.stdout.write(`${renderDaemonCost(cost)}\n\n${renderVerdicts(verdicts)}\n`);
  const file = args.out ?? path.join(BENCH_DIR, 'results', args.quick ? 'daemon-cost-quick.json' : 'daemon-cost.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`written: ${path.relative(ROOT, file)} (load average ${env.loadAverageAtStart.join(' ')} at start)\n`);
  process.exit(!args.quick && verdicts.some((verdict) => verdict.met === false) ? 1 : 0);
}

export function renderVerdicts(verdicts) {
  return verdicts
    .map((verdict) => `${verdict.met === null ? 'n/a ' : verdict.met ? 'MET ' : 'MISS'}  ${verdict.target}: ${verdict.value ?? 'not measured'} (target ${verdict.limit})${verdict.quickOnly ? ' [quick: indicative]' : ''}`)
    .join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
