'use strict';
// The stand-in for `<install>/bin/nlserver` of the simulated host. bin/nlserver is a two-line script
// (`#!<node>` + require of this file). It reads run/*.pid, sim.json and control.json of the sim root.
//
//   nlserver pdump [-who]                 running tasks (memory from /proc/<pid>/status VmRSS)
//   nlserver monitor -missing             tasks whose autoStart is true but that are not running
//   nlserver start|stop|restart <module>[@<instance>] [-immediate] [-noconsole] [-verbose]
//   nlserver shutdown                     stops every task
//   nlserver watchdog -svc [-noconsole]   starts the watchdog and every autoStart task not running
//
// control.json `nlserverMode`: normal | hang | garbage | fail | huge; `nlserverDelayMs` delays every
// command; `pdumpUnit`: MB | Mb | Mo; `whoSessions`: the logins `pdump -who` lists per instance
// (unset: internal|monitoring and admin|tracking).

const crypto = require('node:crypto');
const lib = require('./sim-lib.cjs');

const BANNER = 'Application server for Adobe Campaign Classic (7.3 24.1 build 9356@abc1234) of 01/03/2024';
const START_TIMEOUT_MS = 10000;
const STOP_GRACE_MS = 5000;

const out = (line) => process.stdout.write(`${line}\n`);
const console_ = (line) => out(`${lib.clock()} >   ${line}`);

async function main(root) {
  const args = process.argv.slice(2);
  let control;
  let sim;
  try {
    control = lib.readControl(root);
    sim = lib.readSim(root);
  } catch (error) {
    process.stderr.write(`nlserver: cannot read the simulated host at ${root}: ${error.message}\n`);
    process.exit(2);
  }
  watchOwner(root, sim);
  if (control.nlserverDelayMs > 0) await lib.sleep(control.nlserverDelayMs);
  switch (control.nlserverMode) {
    case 'hang':
      setInterval(() => {}, 60000);
      return;
    case 'fail':
      process.stderr.write(`${lib.clock()} >   ERROR: unable to connect to the watchdog (simulated failure) (iRc=-2)\n`);
      process.exit(1);
      return;
    case 'garbage':
      return garbage();
    case 'huge':
      return huge();
    default:
      break;
  }
  const [command, ...rest] = args;
  let code = 0;
  switch (command) {
    case 'pdump':
      pdump(root, control, rest.includes('-who'), sim);
      break;
    case 'monitor':
      if (!rest.includes('-missing')) return usage(`'nlserver monitor' without -missing is not simulated`);
      monitorMissing(root, sim);
      break;
    case 'start':
    case 'stop':
    case 'restart': {
      const mask = rest.find((arg) => !arg.startsWith('-'));
      if (!mask) return usage(`'nlserver ${command}' needs <module>[@<instance>]`);
      code = await control_(root, sim, command, mask, rest.includes('-immediate'));
      break;
    }
    case 'shutdown':
      out(`${lib.clock()} > ${BANNER}`);
      for (const task of lib.liveTasks(root)) await stopTask(root, task.module, task.instance, task.pid, false);
      break;
    case 'watchdog':
      code = await startStack(root, sim);
      break;
    default:
      return usage(command ? `unknown command '${command}'` : 'no command');
  }
  process.exit(code);
}

/** A hung or slow CLI run still dies with the process that owns the sim. */
function watchOwner(root, sim) {
  const timer = setInterval(() => {
    let alive = true;
    try {
      process.kill(sim.ownerPid, 0);
    } catch (error) {
      alive = error.code === 'EPERM';
    }
    if (!alive || !require('node:fs').existsSync(lib.paths(root).simFile)) process.exit(1);
  }, 500);
  timer.unref();
}

function usage(reason) {
  process.stderr.write(
    `nlserver: ${reason}\nUsage: nlserver <pdump [-who] | monitor -missing | start|stop|restart <module>[@<instance>] | shutdown | watchdog -svc>\n`,
  );
  process.exit(1);
}

function garbage() {
  const lines = [];
  for (let i = 0; i < 12; i++) lines.push(`#~ ${crypto.randomBytes(9).toString('base64')} ?? ${crypto.randomInt(1e6)} !! zz`);
  out(lines.join('\n'));
  process.exit(0);
}

function huge() {
  const line = `${'x'.repeat(1023)}\n`;
  const chunk = line.repeat(64); // 64 KiB
  let left = 160; // 10 MiB
  process.stdout.on('error', () => process.exit(0));
  const write = () => {
    while (left > 0) {
      left -= 1;
      if (!process.stdout.write(chunk)) return process.stdout.once('drain', write);
    }
    process.exit(0);
  };
  write();
}

function memory(pid, unit) {
  const kb = lib.rssKb(pid) ?? 0;
  return `${(kb / 1024).toFixed(1)} ${unit}`;
}

function pdump(root, control, who, sim) {
  out(`${lib.clock()} > ${BANNER}`);
  const tasks = lib.liveTasks(root);
  if (tasks.length === 0) out('No tasks');
  for (const { task, pid } of tasks) out(`${task} (${pid}) - ${memory(pid, control.pdumpUnit)}`);
  if (!who) return;
  const now = new Date();
  const two = (n) => String(n).padStart(2, '0');
  const stamp = `${two(now.getDate())}/${two(now.getMonth() + 1)}/${now.getFullYear()} ${lib.clock(now)}`;
  out('');
  out('Connections ------------------------------------------------------');
  out('Last Access IP Instance Login');
  const logins = Array.isArray(control.whoSessions) ? control.whoSessions : ['internal|monitoring', 'admin|tracking'];
  for (const instance of sim.instances) for (const login of logins) out(`${stamp} 127.0.0.1 ${instance} ${login}`);
  out('');
  out('Connection pool --------------------------------------------------');
  out('Datasource Server Provider Login');
  for (const instance of sim.instances) out(`default ${instance} db PostgreSQL neolane`);
}

function monitorMissing(root, sim) {
  out(`${lib.clock()} > ${BANNER}`);
  for (const entry of sim.modules) {
    if (!entry.inConfig || !entry.autoStart) continue;
    if (lib.livePid(root, entry.module, entry.instance) === undefined) out(lib.taskName(entry.module, entry.instance));
  }
}

function findModule(sim, mask) {
  const [module, instance = 'default'] = mask.split('@');
  return sim.modules.find((entry) => entry.module === module && (entry.module === 'watchdog' || entry.instance === instance));
}

function commandLine(module, instance) {
  return `nlserver ${lib.moduleArgs(module, instance).join(' ')}`;
}

async function control_(root, sim, command, mask, immediate) {
  const entry = findModule(sim, mask);
  if (!entry) {
    const [module, instance = 'default'] = mask.split('@');
    out(`${lib.clock()} > No task corresponds to the mask ${module}@${instance}`);
    return 1;
  }
  const { module, instance } = entry;
  if (command !== 'start') {
    const pid = lib.livePid(root, module, instance);
    if (pid === undefined) console_(`Task '${lib.taskName(module, instance)}' is not running`);
    else await stopTask(root, module, instance, pid, immediate);
  }
  if (command === 'stop') return 0;
  return startTask(root, sim, module, instance);
}

async function stopTask(root, module, instance, pid, immediate) {
  console_(`Stop requested for '${lib.taskName(module, instance)}' ('${commandLine(module, instance)}', pid=${pid}, tid=${-pid * 4096})...`);
  const signal = immediate ? 'SIGKILL' : 'SIGTERM';
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
  if (!(await lib.waitUntil(() => lib.isGone(pid), STOP_GRACE_MS))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    await lib.waitUntil(() => lib.isGone(pid), 2000);
  }
  try {
    const file = lib.pidFile(root, module, instance);
    if (Number.parseInt(require('node:fs').readFileSync(file, 'utf8'), 10) === pid) require('node:fs').unlinkSync(file);
  } catch {
    // no pid file
  }
}

async function startTask(root, sim, module, instance) {
  const name = lib.taskName(module, instance);
  const running = lib.livePid(root, module, instance);
  if (running !== undefined) {
    console_(`Task '${name}' is already running (pid=${running})`);
    return 0;
  }
  console_(`Running task '${name}' ('${commandLine(module, instance)}') in a new process`);
  const child = lib.spawnModule(root, module, instance, { detached: true });
  child.unref();
  const up = await lib.waitUntil(() => {
    if (lib.livePid(root, module, instance) === undefined) return false;
    const sockets = lib.expectedSockets(sim, lib.readControl(root), module, instance);
    return sockets.every(({ proto, port }) => lib.portBound(proto, port));
  }, START_TIMEOUT_MS);
  if (!up) {
    process.stderr.write(`${lib.clock()} >   ERROR: task '${name}' did not start within ${START_TIMEOUT_MS} ms\n`);
    return 1;
  }
  if (module === 'web') console_('Tomcat started');
  console_('Server started');
  return 0;
}

async function startStack(root, sim) {
  out(`${lib.clock()} > ${BANNER}`);
  let code = 0;
  const order = [...sim.modules].sort((a, b) => rank(a.module) - rank(b.module));
  for (const entry of order) {
    if (!entry.autoStart) continue;
    if (lib.livePid(root, entry.module, entry.instance) !== undefined) continue;
    code = Math.max(code, await startTask(root, sim, entry.module, entry.instance));
  }
  return code;
}

/** watchdog first, then syslogd (runLevel 0), then the others. */
function rank(module) {
  return module === 'watchdog' ? 0 : module === 'syslogd' ? 1 : 2;
}

module.exports = { main };
