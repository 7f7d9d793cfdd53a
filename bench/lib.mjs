// Shared helpers of the bench scripts (load.mjs, soak.mjs, report.mjs). Plain ESM, no build step:
// the agent and the simulated host are imported from dist/ (`npm run build` first).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(BENCH_DIR);
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');
export const DIST = path.join(ROOT, 'dist');

/** Imports a compiled module from dist/ with a readable error when the build is missing. */
export async function fromDist(relative) {
  const file = path.join(DIST, relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return import(pathToFileURL(file).href);
}

/** Who ran this, where and on what code: the report's "Environment" section. */
export function environment() {
  const git = (args) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  };
  const dirty = git(['status', '--porcelain', '--', 'src', 'probes', 'test/sim']);
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memoryTotalMiB: Math.round(os.totalmem() / 2 ** 20),
    loadAverageAtStart: os.loadavg().map((value) => Math.round(value * 100) / 100),
    gitCommit: git(['rev-parse', '--short', 'HEAD'])?.trim(),
    // The bench measures dist/, built from the working tree: uncommitted changes are part of what ran.
    uncommittedSourceFiles: (dirty ?? '').split('\n').filter((line) => line.length > 3).map((line) => line.slice(3)),
  };
}

/** USER_HZ for /proc/<pid>/stat utime/stime (100 on every mainstream Linux, asked anyway). */
export function clockTicksPerSecond() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Resident set size of a process, in bytes (VmRSS of /proc/<pid>/status), and its peak (VmHWM). */
export function procMemory(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat). */
export function procCpuSeconds(pid, ticksPerSecond) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/**
 * CPU of a process from /proc/<pid>/stat, in seconds: its own user and system time (all threads, fields
 * 14 and 15) and that of its children it has waited for (cutime, cstime: fields 16 and 17).
 */
export function procCpuSplit(pid, ticksPerSecond) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const at = (index) => Number(fields[index]) / ticksPerSecond;
  return { utime: at(11), stime: at(12), cutime: at(13), cstime: at(14) };
}

/** Nearest-rank percentile of an unsorted numeric array (copied, not modified). */
export function percentiles(values, ps = [50, 90, 99]) {
  const sorted = Float64Array.from(values).sort();
  const out = { count: sorted.length };
  if (sorted.length === 0) return out;
  for (const p of ps) out[`p${p}`] = round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]);
  out.min = round(sorted[0]);
  out.max = round(sorted[sorted.length - 1]);
  out.mean = round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length);
  return out;
}

export function round(value, digits = 1) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export const MiB = (bytes) => round(bytes / 2 ** 20, 1);

/** mulberry32: a small seeded PRNG, so a soak's fault sequence can be replayed from its seed. */
export function prng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** Integer in [min, max]. */
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes bench/results/<name>.json (pretty, trailing newline) and returns the path. */
export function writeResult(name, result) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/**
 * Export, import and tracking only get rows when jobs are configured: gives the simulated host job
 * evidence and returns the module config that enables them, so that a run covers every module.
 */
export async function jobModules(sim, instances) {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const [first, second = first] = instances;
  const file = async (dir, name, content) => {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, name), content);
  };
  await file(path.join(sim.varDir, first, 'export'), 'recipients_bench.csv', 'id;email\n1;a@example.com\n');
  await file(path.join(sim.varDir, second, 'upload'), 'crm.csv', 'id;email\n1;a@example.com\n');
  await file(path.join(sim.root, 'tracking-runs', first), 'tracking.log', 'consolidation done\n');
  return {
    export: { jobs: [{ name: 'recipients', instance: first, glob: 'recipients_*.csv', maxAge: '24h' }] },
    import: { jobs: [{ name: 'crm', instance: second, glob: '*.csv', maxAge: '24h', errorPattern: '\\berror\\b' }] },
    tracking: {
      jobs: [{ name: 'consolidation', instance: first, path: path.join(sim.root, 'tracking-runs', '{instance}'), glob: '*.log', maxAge: '24h' }],
      redirectionUrl: { [first]: `http://127.0.0.1:${sim.ports.http}` },
    },
  };
}

/** Renders bench/RESILIENCE.md from the result files (report.mjs does the work). */
export async function regenerateReport() {
  const { writeReport } = await import('./report.mjs');
  return writeReport();
}

export const UNIT_FILE = path.join(ROOT, 'systemd', 'campaign-health-agent.service');

/**
 * The node options on the unit's ExecStart line (between the node binary and the bundle), so a measured
 * agent runs with the V8 flags the service has: `--single-threaded` cannot be given through NODE_OPTIONS.
 */
export function unitNodeFlags(file = UNIT_FILE) {
  const line = readFileSync(file, 'utf8').split('\n').find((candidate) => candidate.startsWith('ExecStart='));
  if (!line) throw new Error(`${file}: no ExecStart= line`);
  const words = line.slice('ExecStart='.length).trim().split(/\s+/);
  const script = words.findIndex((word, k) => k > 0 && !word.startsWith('-'));
  if (script < 1) throw new Error(`${file}: ExecStart= names no script after the node binary: ${line}`);
  return words.slice(1, script);
}

/** The unit's Environment= lines (NODE_OPTIONS, MALLOC_*), so a measured agent runs as the service would. */
export function unitEnvironment(file = UNIT_FILE) {
  const out = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^Environment=(?:"([^"]*)"|(\S+))$/.exec(line.trim());
    const assignment = match?.[1] ?? match?.[2];
    if (!assignment) continue;
    const eq = assignment.indexOf('=');
    out[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  return out;
}

/** The status of a GET (body read and dropped), or undefined when there is no answer within 2 s. */
export async function httpStatus(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

/** The first line a child process prints (the simulated host's or the cycle runner's JSON result). */
export function firstLine(child, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${what} printed nothing within ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(buffered.slice(0, end));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before printing its result`));
    });
  });
}
