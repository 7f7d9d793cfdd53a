#!/usr/bin/env node
// One measured agent, driven cycle by cycle: `npm run bench` starts this process with the node flags
// and environment of systemd/campaign-health-agent.service, so that what it measures is what the
// service would cost. It loads the agent as the service runs it (the bundled code,
// dist/bench/agent.mjs), plus the daemon's HTTP server, and calls `agent.runCycle()` back to back:
// node-cron's finest schedule is 1 s, and 10,000 cycles at 1 s would take 2.8 hours. Every cycle gets a fresh snapshot (snapshotReuseMs 0), as every tick of
// the daemon does.
//
// Per cycle: wall time, this process's CPU time (user + system, process.cpuUsage), and the child
// processes spawned (every spawn of node:child_process is counted, whoever calls it). RSS is sampled
// as `top` would see it, with no forced GC. Prints one JSON document on stdout.
//
//   node bench/cycle-runner.mjs --config FILE --cycles 5000 --warmup 50 [--rss-every 250]

import childProcess from 'node:child_process';
import { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { parseArgs } from 'node:util';
import { clockTicksPerSecond, fromDist, round } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string' },
    cycles: { type: 'string', default: '250' },
    warmup: { type: 'string', default: '50' },
    'rss-every': { type: 'string', default: '250' },
  },
});
const cycles = Number(args.cycles);
const warmup = Number(args.warmup);
const rssEvery = Number(args['rss-every']);
if (!args.config || !(cycles >= 1) || !(warmup >= 0) || !(rssEvery >= 1)) {
  process.stderr.write('usage: node bench/cycle-runner.mjs --config FILE [--cycles N] [--warmup N] [--rss-every N]\n');
  process.exit(2);
}

// Counting spawns at the source: execa (and anything else) imports spawn from node:child_process;
// syncBuiltinESMExports() makes the ESM named export follow the patched CommonJS one.
let spawns = 0;
const realSpawn = childProcess.spawn;
childProcess.spawn = function countedSpawn(...spawnArgs) {
  spawns++;
  return realSpawn.apply(this, spawnArgs);
};
syncBuiltinESMExports();

// The agent as `npm run bundle` builds it for the service (minified, one module): how much memory a
// process holds decides what each fork() for nlserver costs it.
const { Agent, loadConfig, Scheduler, startServer, createLogger, plugins } = await fromDist('bench/agent.mjs');

const { config } = await loadConfig(plugins, args.config);
const log = createLogger(config.logLevel);
const agent = new Agent({ config, plugins, log, snapshotReuseMs: 0 });
await agent.ensurePlanned();
// The daemon's server, listening as in production (never scraped here: the bench scrapes the daemon).
const server = await startServer(agent, new Scheduler(agent, log), '127.0.0.1:0');

const rss = () => {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
};
const childCpuSeconds = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // cutime, cstime: fields 16 and 17 of proc(5), CPU of reaped children.
  return (Number(fields[13]) + Number(fields[14])) / clockTicksPerSecond();
};

/** Where resident memory goes: V8's heap, memory outside it, and file-backed pages (node's own binary). */
function memoryBreakdown() {
  const usage = process.memoryUsage();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024;
  const mib = (bytes) => round(bytes / 2 ** 20, 1);
  return {
    rssMiB: round(kib('VmRSS'), 1),
    anonymousMiB: round(kib('RssAnon'), 1),
    fileBackedMiB: round(kib('RssFile'), 1),
    v8HeapTotalMiB: mib(usage.heapTotal),
    v8HeapUsedMiB: mib(usage.heapUsed),
    externalMiB: mib(usage.external),
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]),
  };
}

const rows = agent.rows().filter((row) => row.enabled && !row.blocked);
const wallMs = [];
const cpuMs = [];
const spawnsPerCycle = [];
const rssSamples = [];
const startedAt = performance.now();
const childCpuAtStart = childCpuSeconds();
for (let cycle = 1; cycle <= cycles; cycle++) {
  const spawnsBefore = spawns;
  const cpu = process.cpuUsage();
  const t = performance.now();
  await agent.runCycle();
  const wall = performance.now() - t;
  const used = process.cpuUsage(cpu);
  if (cycle > warmup) {
    wallMs.push(round(wall, 3));
    cpuMs.push(round((used.user + used.system) / 1000, 3));
    spawnsPerCycle.push(spawns - spawnsBefore);
  }
  if (cycle === warmup || cycle % rssEvery === 0 || cycle === cycles) {
    rssSamples.push({ cycle, rssBytes: rss(), elapsedSeconds: round((performance.now() - startedAt) / 1000, 1) });
  }
}
const statuses = agent.store.all?.() ?? [];
const result = {
  rows: rows.length,
  checks: rows.reduce((sum, row) => sum + row.checks.length, 0),
  plan: rows.map((row) => ({ key: row.key, checks: row.checks.map((check) => check.name) })),
  states: Object.fromEntries(statuses.map((status) => [status.key, status.state])),
  cycles,
  warmup,
  wallMs,
  cpuMs,
  spawnsPerCycle,
  rssSamples,
  childCpuSecondsPerCycle: round((childCpuSeconds() - childCpuAtStart) / cycles, 4),
  memoryAtEnd: memoryBreakdown(),
  nodeOptions: process.env.NODE_OPTIONS ?? '',
  mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? '',
};
await server.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
