'use strict';
// Shared plumbing of the simulated Campaign host, used by the module processes (module-process.cjs),
// the stand-in CLI (nlserver-cli.cjs) and the TypeScript driver (host.ts, through createRequire).
// Plain CommonJS so that it runs without compiling.
//
// Layout under the sim root (see host.ts):
//   package.json            {"type":"commonjs"}
//   sim.json                what the host set up (ports, instances, modules, owner pid)
//   control.json            live behaviour switches, re-read by every process on every tick/request
//   procs/nlserver          symlink to the node binary: argv[0] of every module process
//   procs/<module>.js       stubs that load module-process.cjs
//   procs/out/<task>.out    stdout/stderr of the module processes
//   run/<task>.pid          pid files, written by each module once its sockets are bound
//   nl6/                    the Campaign install dir (conf/, bin/nlserver, customer.sh, var/)

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const MACHINE_MODULES = ['watchdog', 'syslogd', 'web', 'trackinglogd'];
const INSTANCE_MODULES = ['mta', 'wfserver', 'inMail', 'stat'];
/** Every module the procs/ directory has a stub for. */
const ALL_MODULES = [...MACHINE_MODULES, ...INSTANCE_MODULES, 'mtachild'];

const DEFAULT_CONTROL = Object.freeze({
  rTest: 'ok',
  soap: 'fault',
  ping: 'ok',
  httpDelayMs: 0,
  tomcatControlPort: 'open',
  tracking: 'grow',
  mtaChildren: 0,
  pdumpUnit: 'MB',
  nlserverMode: 'normal',
  nlserverDelayMs: 0,
  logVia: 'file',
  silentModules: [],
  errorModules: [],
  soapWorkflows: [],
  // soapOperator and soapSessionTtlMs are unset by default: SOAP needs no credentials.
  soapExpireSessions: 0,
});

function isMachineModule(module) {
  return MACHINE_MODULES.includes(module);
}

/** `web@default`, `mta@prod`, bare `watchdog` (as nlserver pdump prints them). */
function taskName(module, instance) {
  return module === 'watchdog' ? 'watchdog' : `${module}@${instance}`;
}

/** The arguments after `nlserver`, exactly as Campaign's watchdog launches the module. */
function moduleArgs(module, instance) {
  if (module === 'watchdog') return ['watchdog', '-svc', '-noconsole'];
  const args = [module, `-tracefile:${module}@${instance}`, `-instance:${instance}`, '-detach'];
  if (module === 'web') args.push('-tomcat');
  return args;
}

function paths(root) {
  const installDir = path.join(root, 'nl6');
  return {
    root,
    installDir,
    varDir: path.join(installDir, 'var'),
    procsDir: path.join(root, 'procs'),
    binary: path.join(root, 'procs', 'nlserver'),
    outDir: path.join(root, 'procs', 'out'),
    runDir: path.join(root, 'run'),
    simFile: path.join(root, 'sim.json'),
    controlFile: path.join(root, 'control.json'),
  };
}

function pidFile(root, module, instance) {
  return path.join(root, 'run', `${taskName(module, instance)}.pid`);
}

function logFile(root, module, instance) {
  const dir = isMachineModule(module) ? 'default' : instance;
  return path.join(root, 'nl6', 'var', dir, 'log', `${module}.log`);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function readSim(root) {
  return readJson(paths(root).simFile);
}

let lastGoodControl;
/** control.json merged over the defaults; a missing or half-written file keeps the last good one. */
function readControl(root) {
  try {
    lastGoodControl = { ...DEFAULT_CONTROL, ...readJson(paths(root).controlFile) };
  } catch {
    if (!lastGoodControl) lastGoodControl = { ...DEFAULT_CONTROL };
  }
  return lastGoodControl;
}

/** Atomic write: temp file in the same directory, then rename. */
function writeJsonAtomic(file, value) {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** argv of a live process, or undefined (gone, zombie, unreadable). */
function readCmdline(pid) {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined; // zombie or kernel thread
    const argv = raw.split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    return argv;
  } catch {
    return undefined;
  }
}

function processState(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

function isGone(pid) {
  const state = processState(pid);
  return state === undefined || state === 'Z' || state === 'X';
}

/** True when pid is a live module process of this sim (argv[0] is our procs/nlserver, argv[1] the module). */
function isSimModule(root, pid, module, instance) {
  const argv = readCmdline(pid);
  if (!argv || argv[0] !== paths(root).binary) return false;
  if (module !== undefined && argv[1] !== module) return false;
  if (instance !== undefined && module !== 'watchdog' && !argv.includes(`-instance:${instance}`)) return false;
  return !isGone(pid);
}

/** The live pid of a module, from its pid file, checked against /proc. */
function livePid(root, module, instance) {
  let pid;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile(root, module, instance), 'utf8'), 10);
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && isSimModule(root, pid, module, instance) ? pid : undefined;
}

/** Every live task listed in run/*.pid: [{task, module, instance, pid}]. */
function liveTasks(root) {
  let files = [];
  try {
    files = fs.readdirSync(paths(root).runDir).filter((f) => f.endsWith('.pid'));
  } catch {
    return [];
  }
  const tasks = [];
  for (const file of files) {
    const task = file.slice(0, -'.pid'.length);
    const [module, instance = 'default'] = task.split('@');
    const pid = livePid(root, module, instance);
    if (pid !== undefined) tasks.push({ task, module, instance, pid });
  }
  return tasks;
}

/**
 * Every process of this sim except us: module processes (argv[0] is procs/nlserver, mtachild included)
 * and runs of the stand-in CLI (argv[1] is nl6/bin/nlserver). Other processes that merely mention the
 * root (an agent started with --config <root>/agent.yaml) are not ours and are left alone.
 */
function processesUnder(root) {
  const { binary, installDir } = paths(root);
  const cli = path.join(installDir, 'bin', 'nlserver');
  const found = [];
  let entries = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const argv = readCmdline(pid);
    if (argv && (argv[0] === binary || argv[1] === cli || argv[0] === cli)) found.push({ pid, argv });
  }
  return found;
}

/** Live `mtachild` processes of one instance. */
function mtaChildPids(root, instance) {
  const binary = paths(root).binary;
  return processesUnder(root)
    .filter(({ argv }) => argv[0] === binary && argv[1] === 'mtachild' && argv.includes(`-instance:${instance}`))
    .map(({ pid }) => pid);
}

/** VmRSS of a process in kB, or undefined. */
function rssKb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const LOOPBACK_OR_ANY_V4 = new Set(['0100007F', '00000000']);

/**
 * Whether a socket on 127.0.0.1 or 0.0.0.0 (or :: / ::1 for v6) is bound to the port: TCP in LISTEN state,
 * UDP in any state. Read from /proc/net, as the agent does.
 */
function portBound(proto, port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of [proto, `${proto}6`]) {
    let text;
    try {
      text = fs.readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4) continue;
      const [address, p] = fields[1].split(':');
      if (p !== hexPort) continue;
      if (proto === 'tcp' && fields[3] !== '0A') continue;
      if (table.endsWith('6') ? true : LOOPBACK_OR_ANY_V4.has(address)) return true;
    }
  }
  return false;
}

/** What a module must have bound before it counts as up: [{proto, port}]. */
function expectedSockets(sim, control, module, instance) {
  switch (module) {
    case 'web':
      return [
        { proto: 'tcp', port: sim.ports.http },
        ...(control.tomcatControlPort === 'closed' ? [] : [{ proto: 'tcp', port: sim.ports.control }]),
      ];
    case 'syslogd':
      return [{ proto: 'udp', port: control.syslogdBindPort ?? sim.ports.syslog }];
    case 'stat': {
      const port = sim.statPorts[instance];
      return port ? [{ proto: 'udp', port }] : [];
    }
    default:
      return [];
  }
}

/** Spawns one module process with Campaign's command line; stdout/stderr go to procs/out/<task>.out. */
function spawnModule(root, module, instance, { detached = false } = {}) {
  const p = paths(root);
  fs.mkdirSync(p.outDir, { recursive: true });
  const out = fs.openSync(path.join(p.outDir, `${taskName(module, instance)}.out`), 'a');
  const env = { ...process.env };
  // jest's NODE_OPTIONS (--experimental-vm-modules...) must not leak into the stand-in processes.
  delete env.NODE_OPTIONS;
  delete env.NODE_CHANNEL_FD;
  if (detached) env.CAMPAIGN_SIM_DETACHED = '1';
  else delete env.CAMPAIGN_SIM_DETACHED;
  try {
    const child = spawn(p.binary, moduleArgs(module, instance), {
      cwd: p.procsDir,
      env,
      stdio: ['ignore', out, out],
      detached,
    });
    child.on('error', () => {});
    return child;
  } finally {
    fs.closeSync(out);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true; false on timeout. */
async function waitUntil(check, timeoutMs, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** Campaign log line: `2021-05-31T08:42:18.124Z<TAB>pid<TAB>tid<TAB>1<TAB>level<TAB>log<TAB>message`. */
function formatLogLine(level, message, pid = process.pid, date = new Date()) {
  return `${date.toISOString()}\t${pid}\t${pid}\t1\t${level}\tlog\t${message}`;
}

/** `HH:MM:SS` local time, as the nlserver console prints it. */
function clock(date = new Date()) {
  const two = (n) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** Tracking log file names: `0x` + 16 upper-case hex digits + `.log`; the id is the first line id. */
const TRACKING_FILE = /^0x([0-9A-Fa-f]{16})\.log$/;

function trackingFileName(id) {
  return `0x${id.toString(16).toUpperCase().padStart(16, '0')}.log`;
}

/** Tracking log files of a directory sorted by id: [{name, id (bigint)}]. */
function trackingFiles(dir) {
  let names = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => {
      const match = TRACKING_FILE.exec(name);
      return match ? { name, id: BigInt(`0x${match[1]}`) } : undefined;
    })
    .filter(Boolean)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

module.exports = {
  MACHINE_MODULES,
  INSTANCE_MODULES,
  ALL_MODULES,
  DEFAULT_CONTROL,
  isMachineModule,
  taskName,
  moduleArgs,
  paths,
  pidFile,
  logFile,
  readSim,
  readControl,
  writeJsonAtomic,
  readCmdline,
  isGone,
  isSimModule,
  livePid,
  liveTasks,
  processesUnder,
  mtaChildPids,
  rssKb,
  portBound,
  expectedSockets,
  spawnModule,
  sleep,
  waitUntil,
  formatLogLine,
  clock,
  trackingFileName,
  trackingFiles,
};
