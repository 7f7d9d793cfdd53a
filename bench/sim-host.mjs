#!/usr/bin/env node
// The simulated Campaign host of `npm run bench`, in a process of its own so that its HTTP/SOAP
// server's CPU is never counted as the agent's. Starts every module on the given instances, gives
// export/import/tracking their job evidence, writes the agent config, pads the process table with N
// extra processes, prints one JSON line ({ configFile, agentUrl, root, ports, padding, ... }) and
// runs until stdin closes or SIGTERM, then stops everything it started.
//
//   node bench/sim-host.mjs --instances bench1,bench2,bench3 --padding 200 [--schedule '* * * * * *'] [--standin BIN]
// The JSON names two agent configs: configFile, and configFileNoView (campaign.nlserverView false),
// and those of bench/daemon-cost.mjs (configs: { shipped, everySecond, idle }, each with its own port).
// --standin: the compiled stand-in nlserver (bench/nlserver-standin.c) instead of the Node one; the JSON
// then names its run counter (standinCount: one byte per run).

import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fromDist, jobModules, sleep } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: 'bench1,bench2,bench3' },
    padding: { type: 'string', default: '0' },
    schedule: { type: 'string' },
    standin: { type: 'string' },
  },
});
const instances = args.instances.split(',');
const padding = Number(args.padding);
if (!(padding >= 0 && padding <= 20_000)) throw new Error(`--padding ${args.padding}: expected a whole number 0..20000`);

const { SimulatedHost } = await fromDist('test/sim/host.js');

const paddingChildren = [];
let sim;
let stopping;
const stop = () => {
  stopping ??= (async () => {
    for (const child of paddingChildren) child.kill('SIGKILL');
    await sim?.stop().catch(() => {});
    process.exit(0);
  })();
  return stopping;
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.on('error', () => void stop());
process.stdin.resume();

try {
  // Without --standin: the Node stand-in nlserver, as the recorded cycle results were measured (its
  // CPU is reported apart). With it: the compiled one, which costs a fork's worth.
  sim = await SimulatedHost.start({ instances, trackingIntervalMs: 500, nlserverService: false, ...(args.standin ? { nlserverStandin: args.standin } : {}) });
  const modules = await jobModules(sim, instances);
  const config = (nlserverView) => ({
    logLevel: 'warn',
    campaign: { nlserverView },
    ...(args.schedule ? { defaults: { schedule: args.schedule } } : {}),
    modules,
  });
  const configFile = await sim.writeAgentConfig(config(true));
  // The same host with the nlserver view off: what the agent costs without its two child processes.
  const configFileNoView = await sim.writeAgentConfig(config(false), 'agent-no-view.yaml');
  // Each config written gets a port of its own; the daemon is started on the first.
  const listenOf = async (file) => {
    const listen = /^listen: (\S+)$/m.exec(await readFile(file, 'utf8'))?.[1];
    if (!listen) throw new Error(`${file} has no listen line`);
    return `http://${listen}`;
  };
  const listen = (await listenOf(configFile)).slice('http://'.length);
  // bench/daemon-cost.mjs: the daemon as shipped (config/agent.yaml's log level, every module at its
  // own default schedule), every module at once a second, and no Campaign install at all.
  const { plugins } = await fromDist('probes/index.js');
  const everySecond = Object.fromEntries(plugins.map((plugin) => [plugin.module, { ...modules[plugin.module], schedule: '*/1 * * * * *' }]));
  const emptyInstall = path.join(sim.root, 'no-campaign');
  await mkdir(emptyInstall, { recursive: true });
  const configs = {};
  for (const [name, extra] of Object.entries({
    shipped: { logLevel: 'info', modules },
    everySecond: { logLevel: 'info', modules: everySecond },
    idle: { logLevel: 'info', campaign: { installDir: emptyInstall } },
  })) {
    const file = await sim.writeAgentConfig(extra, `agent-${name}.yaml`);
    configs[name] = { file, url: await listenOf(file) };
  }
  // Padding: ordinary long-lived processes the agent must scan past (a busy Campaign host runs
  // hundreds: JVMs, databases, shells). `sleep` is the cheapest real process there is.
  for (let i = 0; i < padding; i++) {
    const child = spawn('sleep', [String(86_400 + (i % 1000))], { stdio: 'ignore' });
    child.on('error', () => {});
    paddingChildren.push(child);
    // Spawning thousands at once can exhaust fds or pids momentarily; small pauses keep it orderly.
    if (i % 200 === 199) await sleep(20);
  }
  const paddingStartedAt = Date.now();
  const alive = paddingChildren.filter((child) => child.pid !== undefined).length;
  if (alive < padding) throw new Error(`only ${alive} of ${padding} padding processes started`);
  process.stdout.write(
    `${JSON.stringify({ configFile, configFileNoView, agentUrl: `http://${listen}`, root: sim.root, ports: sim.ports, instances, padding: alive, paddingStartedAt, simPid: process.pid, configs, ...(args.standin ? { standinCount: `${sim.nlserverPath}-answers/count` } : {}) })}\n`,
  );
} catch (error) {
  process.stderr.write(`bench/sim-host.mjs: ${error instanceof Error ? error.stack : String(error)}\n`);
  await stop();
}
