#!/usr/bin/env node
// `npm test` after its prerequisites: `npm run typecheck`, `npm run deps` (dependency rules, import
// cycles) and `npm run build` side by side (two CPU-bound
// tsc runs; either failing stops here, its output shown), then jest.
//
// Jest: the test files split into lanes (TEST_LANES, default 3), each lane one
// `jest --runInBand --shard=k/n` (split by expected duration: test/lane-sequencer.cjs), all lanes at
// once. Arguments are passed to every lane's jest (`npm test -- test/unit`, `npm test -- -t slowloris`).
//
// Why lanes and not jest workers: the simulated hosts are real processes that the agent finds by
// scanning /proc, like Campaign's (`nlserver web -instance:default`), and a test that kills web@default
// expects the row to turn red. Two simulated hosts seen by one agent would hide each other. So each
// lane runs in its own PID namespace with its own /proc (`unshare --pid --fork --mount-proc`): the
// agents of a lane see only that lane's processes. Ports are ephemeral and temp dirs unique, so the
// lanes share nothing else. bash is the lane's PID 1 because it reaps orphans (module processes
// started detached by the simulated `nlserver start`) as init would; node does not. `--kill-child`:
// when a lane's unshare dies, everything left in its namespace is killed.
//
// Without root (or without unshare), there is one lane and no namespace: `jest --runInBand`, slower.
//
// Output: each lane's lines are forwarded a test file at a time, so that reports do not interleave.
// The closing line, `tests: N passed, N failed[, N skipped]` (test/summary-reporter.cjs), counts every
// lane; the exit code is 0 only if every lane ran and passed.
//
// Environment: TEST_LANES (lanes), FUZZ_RUNS (cases per fuzz property; npm test runs 1000 unless set,
// 10000 is the full count of test/fuzz/runs.ts), TEST_TIMINGS_FILE (writes each file's duration in
// seconds there, as JSON: `TEST_TIMINGS_FILE=test/durations.json npm test` refreshes the lane split).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const JEST = require.resolve('jest/bin/jest');
const SummaryReporter = require(path.join(ROOT, 'test', 'summary-reporter.cjs'));
const UNSHARE = ['--pid', '--fork', '--mount-proc', '--kill-child'];
const DEFAULT_LANES = 3;
const DEFAULT_FUZZ_RUNS = '1000';

const userArgs = process.argv.slice(2);
const timingsFile = process.env.TEST_TIMINGS_FILE;

function lanesWanted() {
  const text = process.env.TEST_LANES;
  if (text === undefined || text === '') return DEFAULT_LANES;
  const lanes = Number(text);
  if (!Number.isInteger(lanes) || lanes < 1) {
    process.stderr.write(`TEST_LANES must be a positive integer, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return lanes;
}

/** Why lanes cannot have their own PID namespace here, or undefined if they can. */
function noIsolation() {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  const probe = spawnSync('unshare', [...UNSHARE, 'true'], { stdio: 'ignore' });
  if (probe.error) return `unshare: ${probe.error.message}`;
  if (probe.status !== 0) return `\`unshare ${UNSHARE.join(' ')} true\` failed (${probe.status ?? probe.signal})`;
  return undefined;
}

const stripColors = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** Copies `stream` to `out` in blocks: a file's report (from its PASS/FAIL line on) goes out in one write. */
function forward(stream, out) {
  stream.setEncoding('utf8');
  let partial = '';
  let block = '';
  let timer;
  const flush = () => {
    clearTimeout(timer);
    if (block !== '') out.write(block);
    block = '';
  };
  stream.on('data', (chunk) => {
    partial += chunk;
    for (let end = partial.indexOf('\n'); end >= 0; end = partial.indexOf('\n')) {
      const line = partial.slice(0, end + 1);
      partial = partial.slice(end + 1);
      if (/^\s*(PASS|FAIL)\s/.test(stripColors(line))) flush();
      block += line;
    }
    clearTimeout(timer);
    timer = setTimeout(flush, 300);
  });
  return new Promise((resolve) => {
    stream.on('end', () => {
      block += partial;
      flush();
      resolve();
    });
  });
}

/** Runs `npm run <script>` for each script at once; exits if any fails, after showing its output. */
async function npmRunAll(scripts) {
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const runs = scripts.map(
    (script) =>
      new Promise((resolve) => {
        const child = spawn(npm[0], [...npm.slice(1), 'run', '--silent', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk) => (output += chunk));
        child.stderr.on('data', (chunk) => (output += chunk));
        child.on('error', (error) => resolve({ script, status: error.message, output }));
        child.on('close', (code, signal) => resolve({ script, status: code ?? signal, output }));
      }),
  );
  let failed = false;
  for (const { script, status, output } of await Promise.all(runs)) {
    process.stderr.write(output);
    if (status !== 0) {
      process.stderr.write(`npm run ${script} failed (${status})\n`);
      failed = true;
    }
  }
  if (failed) process.exit(1);
}

await npmRunAll(['typecheck', 'deps', 'build']);

const isolationProblem = noIsolation();
const wanted = lanesWanted();
const lanes = isolationProblem === undefined ? wanted : 1;
if (isolationProblem !== undefined && wanted > 1) {
  process.stderr.write(`test lanes: one lane, no PID namespace (${isolationProblem}): the simulated hosts must not run side by side\n`);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'campaign-health-test-'));
const env = {
  ...process.env,
  NODE_OPTIONS: '--experimental-vm-modules --disable-warning=ExperimentalWarning',
  FUZZ_RUNS: process.env.FUZZ_RUNS ?? DEFAULT_FUZZ_RUNS,
};
const started = Date.now();
const children = [];

const runs = Array.from({ length: lanes }, async (_, index) => {
  const lane = index + 1;
  const summaryFile = path.join(work, `summary-${lane}.json`);
  const jsonFile = path.join(work, `results-${lane}.json`);
  const jestArgs = [
    JEST,
    '--runInBand',
    ...(lanes > 1 ? [`--shard=${lane}/${lanes}`, '--passWithNoTests'] : []),
    ...(process.stderr.isTTY ? ['--colors'] : []),
    ...(timingsFile ? ['--json', `--outputFile=${jsonFile}`] : []),
    ...userArgs,
  ];
  const argv = isolationProblem === undefined ? ['unshare', ...UNSHARE, '--', 'bash', '-c', '"$@"; exit $?', `lane-${lane}`, process.execPath, ...jestArgs] : [process.execPath, ...jestArgs];
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: { ...env, TEST_SUMMARY_FILE: summaryFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  await Promise.all([forward(child.stdout, process.stdout), forward(child.stderr, process.stderr)]);
  const status = await exited;
  const counts = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')) : undefined;
  const seconds = Math.round((Date.now() - started) / 1000);
  return { lane, status, counts, seconds, jsonFile };
});

// Interrupted: the lanes go too. unshare holds SIGINT and SIGTERM until its child exits, so it gets
// SIGKILL; --kill-child then kills the lane's PID 1, and with it everything in the namespace.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(isolationProblem === undefined ? 'SIGKILL' : 'SIGTERM');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

const results = await Promise.all(runs);
const total = { passed: 0, failed: 0, skipped: 0 };
const problems = [];
for (const { lane, status, counts } of results) {
  if (counts === undefined) {
    problems.push(`lane ${lane} ended without results (exit ${status})`);
    total.failed += 1;
    continue;
  }
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
  if (status !== 0 && counts.failed === 0) {
    problems.push(`lane ${lane} exited ${status} with no failed test`);
    total.failed += 1;
  }
}
if (total.passed + total.failed + total.skipped === 0) problems.push('no tests found');

if (timingsFile) {
  const timings = {};
  for (const { jsonFile } of results) {
    if (!existsSync(jsonFile)) continue;
    for (const file of JSON.parse(readFileSync(jsonFile, 'utf8')).testResults) {
      timings[path.relative(ROOT, file.name)] = Math.round((file.endTime - file.startTime) / 100) / 10;
    }
  }
  const sorted = Object.fromEntries(Object.entries(timings).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(timingsFile, `${JSON.stringify(sorted, null, 2)}\n`);
}
rmSync(work, { recursive: true, force: true });

const laneTimes = results.map(({ lane, seconds }) => `${lane}: ${seconds} s`).join(', ');
process.stderr.write(`\ntest lanes: ${lanes}${isolationProblem === undefined ? ' (PID namespaces)' : ''}, done after ${laneTimes}\n`);
for (const problem of problems) process.stderr.write(`${problem}\n`);
process.stderr.write(SummaryReporter.line(total));
process.exit(problems.length === 0 && total.failed === 0 ? 0 : 1);
