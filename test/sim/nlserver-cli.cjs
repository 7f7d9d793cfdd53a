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
const net = require('node:net');
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

function garbageText() {
  const lines = [];
  for (let i = 0; i < 12; i++) lines.push(`#~ ${crypto.randomBytes(9).toString('base64')} ?? ${crypto.randomInt(1e6)} !! zz`);
  return `${lines.join('\n')}\n`;
}

function garbage() {
  process.stdout.write(garbageText());
  process.exit(0);
}

/** 10 MiB of lines to `stream`, with its back-pressure; `done` once written or the reader gone. */
function writeHuge(stream, done) {
  const line = `${'x'.repeat(1023)}\n`;
  const chunk = line.repeat(64); // 64 KiB
  let left = 160; // 10 MiB
  stream.on('error', done);
  const write = () => {
    while (left > 0) {
      left -= 1;
      if (!stream.write(chunk)) return stream.once('drain', write);
    }
    done();
  };
  write();
}

function huge() {
  writeHuge(process.stdout, () => process.exit(0));
}

function memory(pid, unit) {
  const kb = lib.rssKb(pid) ?? 0;
  return `${(kb / 1024).toFixed(1)} ${unit}`;
}

function pdump(root, control, who, sim, print = out) {
  print(`${lib.clock()} > ${BANNER}`);
  const tasks = lib.liveTasks(root);
  if (tasks.length === 0) print('No tasks');
  for (const { task, pid } of tasks) print(`${task} (${pid}) - ${memory(pid, control.pdumpUnit)}`);
  if (!who) return;
  const now = new Date();
  const two = (n) => String(n).padStart(2, '0');
  const stamp = `${two(now.getDate())}/${two(now.getMonth() + 1)}/${now.getFullYear()} ${lib.clock(now)}`;
  print('');
  print('Connections ------------------------------------------------------');
  print('Last Access IP Instance Login');
  const logins = Array.isArray(control.whoSessions) ? control.whoSessions : ['internal|monitoring', 'admin|tracking'];
  for (const instance of sim.instances) for (const login of logins) print(`${stamp} 127.0.0.1 ${instance} ${login}`);
  print('');
  print('Connection pool --------------------------------------------------');
  print('Datasource Server Provider Login');
  for (const instance of sim.instances) print(`default ${instance} db PostgreSQL neolane`);
}

function monitorMissing(root, sim, print = out) {
  print(`${lib.clock()} > ${BANNER}`);
  for (const entry of sim.modules) {
    if (!entry.inConfig || !entry.autoStart) continue;
    if (lib.livePid(root, entry.module, entry.instance) === undefined) print(lib.taskName(entry.module, entry.instance));
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

/**
 * The fast path of bin/nlserver (see host.ts): `pdump [-who]` and `monitor -missing`, which the agent
 * runs every probe cycle, answered by the process that owns the sim. bin/nlserver is then a bash
 * client of this loopback service, a few ms of CPU a run where a Node process takes ~100 ms: a daemon
 * probing every second would otherwise spend a third of a core on its stand-in nlserver. Same output,
 * modes (control.json), delays and exit codes as main(). The client sends its arguments on one line;
 * the answer is `<exit code> <stderr bytes>\n`, the stderr bytes, then stdout until the connection
 * closes. In `hang` mode nothing is answered: the client waits until its caller kills it.
 */
async function startService(root) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let request = '';
    const onData = (chunk) => {
      request += chunk.toString('latin1');
      const end = request.indexOf('\n');
      if (end < 0) return;
      socket.off('data', onData);
      answer(root, request.slice(0, end).split(' '), socket).catch(() => socket.destroy());
    };
    socket.on('data', onData);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    /** Stops listening and cuts every connection (a client hanging on `hang` then exits). */
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function answer(root, args, socket) {
  const reply = (code, stderr, stdout) => {
    socket.write(`${code} ${Buffer.byteLength(stderr)}\n${stderr}`);
    socket.end(stdout);
  };
  let control;
  let sim;
  try {
    control = lib.readControl(root);
    sim = lib.readSim(root);
  } catch (error) {
    return reply(2, `nlserver: cannot read the simulated host at ${root}: ${error.message}\n`, '');
  }
  if (control.nlserverDelayMs > 0) await lib.sleep(control.nlserverDelayMs);
  switch (control.nlserverMode) {
    case 'hang':
      return;
    case 'fail':
      return reply(1, `${lib.clock()} >   ERROR: unable to connect to the watchdog (simulated failure) (iRc=-2)\n`, '');
    case 'garbage':
      return reply(0, '', garbageText());
    case 'huge':
      socket.write('0 0\n');
      return writeHuge(socket, () => socket.end());
    default:
      break;
  }
  let stdout = '';
  const collect = (line) => {
    stdout += `${line}\n`;
  };
  if (args[0] === 'pdump') pdump(root, control, args.includes('-who'), sim, collect);
  else monitorMissing(root, sim, collect);
  reply(0, '', stdout);
}

/**
 * What `pdump`, `pdump -who` and `monitor -missing` print right now, for the cost bench's compiled
 * stand-in (bench/nlserver-standin.c), which answers from files the host keeps current
 * (host.ts, SimOptions.nlserverStandin). undefined when control.json asks for anything but a normal,
 * immediate answer: the stand-in then runs this Node CLI, which honours every mode.
 */
function answers(root) {
  const control = lib.readControl(root);
  if (control.nlserverMode !== 'normal' || control.nlserverDelayMs > 0) return undefined;
  const sim = lib.readSim(root);
  const render = (print) => {
    let text = '';
    print((line) => {
      text += `${line}\n`;
    });
    return text;
  };
  return {
    pdump: render((collect) => pdump(root, control, false, sim, collect)),
    'pdump-who': render((collect) => pdump(root, control, true, sim, collect)),
    'monitor-missing': render((collect) => monitorMissing(root, sim, collect)),
  };
}

module.exports = { main, startService, answers };
