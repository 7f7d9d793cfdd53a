#!/usr/bin/env node
// Per-cycle file and parse work, cold and hot: the module-log checks (tail + line parsing) of 20 logs
// with a few KB appended to each per cycle, the /r/test answer parse of 3 instances, and the six kernel
// files the system checks read (procfs readText).
// Cold: one cycle, then a pause with full garbage collections (V8 flushes the bytecode of functions
// left unused over several GCs, as happens between two cycles 30 s apart in the daemon). Hot: cycles
// back to back. CPU from process.cpuUsage() (every thread of the process: libuv's pool included).
//
//   node --expose-gc bench/io-cycle.mjs [srcDir=src] [coldCycles=12] [hotCycles=300]
// The source is bundled with esbuild first (as the daemon is), so any checkout (e.g. an older src/) can be compared.
import { build } from 'esbuild';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [srcDir = 'src', coldCycles = '12', hotCycles = '300'] = process.argv.slice(2);
const LOGS = 20;
const INSTANCES = 3;
const work = mkdtempSync(path.join(tmpdir(), 'io-cycle-'));
const entry = path.join(work, 'entry.ts');
writeFileSync(
  entry,
  `export { logErrorsCheck } from ${JSON.stringify(path.resolve(srcDir, 'checks/logErrors.js'))};\n` +
    `export { parseRedirTest } from ${JSON.stringify(path.resolve(srcDir, 'checks/redirTest.js'))};\n` +
    `export { readText } from ${JSON.stringify(path.resolve(srcDir, 'snapshot/procfs.js'))};\n`,
);
const bundle = path.join(work, 'bundle.mjs');
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'error' });
const { logErrorsCheck, parseRedirTest, readText } = await import(pathToFileURL(bundle).href);
/** The kernel files the system checks read each cycle. */
const SYSTEM_FILES = ['meminfo', 'loadavg', 'sys/fs/file-nr', 'sysvipc/shm', 'sys/kernel/pid_max', 'sys/kernel/core_pattern'].map((f) => `/proc/${f}`);

const gc = globalThis.gc ?? (() => undefined);
if (globalThis.gc === undefined) console.error('run with --expose-gc for a realistic cold cycle');
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const stamp = (ms, level, text) => `${new Date(ms).toISOString()}\t66462\t66501\t1\t${level}\tlog\t${text}\n`;
const LEVELS = ['info', 'info', 'info', 'info', 'info', 'info', 'warning', 'info', 'info', 'error'];
/** About 3 KB: 25 lines, a warning and an error or so. */
function chunk(nowMs, i) {
  let text = '';
  for (let k = 0; k < 25; k++) {
    const level = LEVELS[(i + k) % LEVELS.length];
    text += stamp(nowMs - 1000 + k, level, level === 'error' ? 'XTK-170024 The SQL query failed for table NmsDelivery (id=' + k + ')' : `Updating table 'NmcTrackingLogMessages' row ${k} of batch ${i}, 42 records processed`);
  }
  return text;
}

const logs = [];
for (let i = 0; i < LOGS; i++) {
  const dir = path.join(work, `inst${i % INSTANCES}`);
  const live = path.join(dir, `module${i}.log`);
  const rotated = path.join(dir, `module${i}_2.log`);
  mkdirSync(dir, { recursive: true });
  logs.push({ live, rotated });
}
const t0 = Date.now();
for (const [i, { live, rotated }] of logs.entries()) {
  // 200 KB of history; half the modules have a rotated sibling.
  let history = '';
  for (let k = 0; k < 70; k++) history += chunk(t0 - 3600_000 + k * 1000, k);
  writeFileSync(live, history);
  if (i % 2 === 0) writeFileSync(rotated, history);
}
const checks = logs.map(({ live, rotated }) => ({ check: logErrorsCheck({ files: [live, rotated], critical: [/PGS-220000/] }), memory: new Map() }));
const REDIR = `<redir status='OK' date='2024-05-01 12:00:00.000Z' build='9032' host='tracking.example.com' localHost='front_srv1' instance='default' sourceIP='10.0.0.1'/>`;

let cycle = 0;
async function oneCycle() {
  const now = Date.now();
  for (const [i, { live }] of logs.entries()) appendFileSync(live, chunk(now, cycle + i));
  const start = process.cpuUsage();
  const controller = new AbortController();
  for (const { check, memory } of checks) {
    const result = await check.run({ signal: controller.signal, snapshot: undefined, now: () => now, memory, log: silent });
    if (result.state === 'unknown') throw new Error(result.message);
  }
  const logsDone = process.cpuUsage(start);
  for (let i = 0; i < INSTANCES; i++) if (parseRedirTest(REDIR)?.status !== 'OK') throw new Error('redir');
  const xmlDone = process.cpuUsage(start);
  for (const file of SYSTEM_FILES) await readText(file);
  const used = process.cpuUsage(start);
  cycle++;
  const ms = (u) => (u.user + u.system) / 1000;
  return { total: ms(used), logs: ms(logsDone), xml: ms(xmlDone) - ms(logsDone), sys: ms(used) - ms(xmlDone) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await oneCycle(); // first look-back (256 KiB a file): not part of either figure
const cold = [];
for (let i = 0; i < Number(coldCycles); i++) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (let k = 0; k < 8; k++) gc();
  await new Promise((resolve) => setTimeout(resolve, 500));
  cold.push(await oneCycle());
}
const hot = [];
for (let i = 0; i < Number(hotCycles); i++) hot.push(await oneCycle());
const fmt = (runs) => {
  if (runs.length === 0) return 'not run';
  const xs = runs.map((r) => r.total);
  const part = (key) => median(runs.map((r) => r[key])).toFixed(2);
  return `median ${median(xs).toFixed(2)} ms (logs ${part('logs')}, /r/test ${part('xml')}, /proc files ${part('sys')}), min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}`;
};
console.log(`${srcDir}: ${LOGS} logs (+~3 KB each) + ${INSTANCES} /r/test parses + ${SYSTEM_FILES.length} /proc files per cycle`);
console.log(`  cold (${cold.length} cycles, gc between): ${fmt(cold)}`);
console.log(`  hot  (${hot.length} cycles back to back): ${fmt(hot)}`);
rmSync(work, { recursive: true, force: true });
