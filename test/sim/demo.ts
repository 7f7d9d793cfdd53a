// `npm run demo`: a simulated Campaign host, the real agent watching it, and a scripted story of
// breakdowns and repairs. `--no-story` keeps everything healthy. Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, projectDir, SimulatedHost } from './host.js';

const withStory = !process.argv.includes('--no-story');
const sim = await SimulatedHost.start({ instances: ['prod', 'staging'], preferDefaultPorts: true });
// An export job's output, so the export row has evidence to judge.
const exportDir = path.join(sim.varDir, 'prod', 'export');
const exportFile = path.join(exportDir, 'recipients.csv');
mkdirSync(exportDir, { recursive: true });
writeFileSync(exportFile, 'id;email\n');
const ageExport = (hours: number) => {
  const when = new Date(Date.now() - hours * 3_600_000);
  utimesSync(exportFile, when, when);
};
const configFile = await sim.writeAgentConfig({
  defaults: { schedule: '*/2 * * * * *', timeout: '4s' },
  campaign: { nlserverTimeout: '3s' },
  modules: { export: { jobs: [{ name: 'recipients', instance: 'prod', glob: '*.csv', maxAge: '1h' }] } },
});
const agentLog = path.join(sim.root, 'agent.log');
const agentOut = openSync(agentLog, 'a');
const agent = spawn(process.execPath, [path.join(projectDir(), 'dist', 'src', 'cli', 'main.js'), 'run', '--config', configFile], {
  stdio: ['ignore', agentOut, agentOut],
});

const wrongSyslogPort = await freePort('udp', new Set(Object.values(sim.ports)));
const steps: Array<{ at: number; say: string; act: () => Promise<unknown> }> = [
  { at: 10, say: 'breaking web: killing nlserver web', act: () => sim.kill('web') },
  { at: 22, say: 'repairing web: nlserver start web', act: () => sim.runCli(['start', 'web']) },
  { at: 32, say: 'stalling tracking: trackinglogd alive but writing nothing', act: () => sim.setControl({ tracking: 'stall' }) },
  { at: 46, say: 'tracking logs grow again', act: () => sim.setControl({ tracking: 'grow' }) },
  { at: 54, say: "/r/test answers status='KO'", act: () => sim.setControl({ rTest: 'ko' }) },
  { at: 64, say: "/r/test answers status='OK' again", act: () => sim.setControl({ rTest: 'ok' }) },
  { at: 72, say: `syslogd moves to UDP ${wrongSyslogPort} (TRACE_ADDR says ${sim.ports.syslog})`, act: () => sim.setControl({ syslogdBindPort: wrongSyslogPort }) },
  { at: 84, say: `syslogd back on UDP ${sim.ports.syslog}`, act: () => sim.setControl({ syslogdBindPort: undefined }) },
  { at: 92, say: 'crashing mta@prod: kill -9', act: () => sim.kill('mta', 'prod', 'SIGKILL') },
  { at: 104, say: 'repairing mta: nlserver start mta@prod', act: () => sim.runCli(['start', 'mta@prod']) },
  { at: 112, say: 'nlserver pdump hangs: the nlserver row goes unknown, modules fall back to /proc', act: () => sim.setControl({ nlserverMode: 'hang' }) },
  { at: 124, say: 'nlserver answers again', act: () => sim.setControl({ nlserverMode: 'normal' }) },
  { at: 132, say: 'the prod export job has produced nothing for 3h', act: async () => ageExport(3) },
  { at: 142, say: 'the export job ran again', act: async () => ageExport(0) },
  { at: 150, say: 'story over: everything healthy again (Ctrl-C to stop)', act: async () => {} },
];

const header = [
  `Simulated Campaign host: ${sim.installDir}`,
  `  ports: http ${sim.ports.http}, control ${sim.ports.control}, syslogd udp ${sim.ports.syslog}, stat udp ${sim.ports.stat}`,
  `  CLI:   ${sim.nlserverPath} pdump`,
  `Agent:   ${sim.agentUrl}/status?format=text   ${sim.agentUrl}/metrics`,
  `  config ${configFile}, log ${agentLog}`,
  '',
].join('\n');
const story: string[] = [withStory ? 'healthy for now' : 'healthy until Ctrl-C (--no-story)'];
const started = Date.now();
const elapsed = () => Math.round((Date.now() - started) / 1000);

async function tick(): Promise<void> {
  while (withStory && steps[0] && steps[0].at <= elapsed()) {
    const step = steps.shift()!;
    story.push(`t+${step.at}s ${step.say}`);
    await step.act().catch((error: unknown) => story.push(`  (failed: ${String(error)})`));
  }
  let table: string;
  try {
    const response = await fetch(`${sim.agentUrl}/status?format=text`, { signal: AbortSignal.timeout(1500) });
    table = await response.text();
  } catch (error) {
    table = `(agent not answering yet: ${error instanceof Error ? error.message : String(error)})\n`;
  }
  const clear = process.stdout.isTTY ? '\x1b[2J\x1b[H' : '\n';
  process.stdout.write(`${clear}${header}${story.slice(-6).join('\n')}\n\n[t+${elapsed()}s]\n${table}`);
}

let stopping = false;
let timer: NodeJS.Timeout | undefined;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    clearInterval(timer);
    if (agent.exitCode === null) {
      agent.kill('SIGTERM');
      const killer = setTimeout(() => agent.kill('SIGKILL'), 5000);
      await new Promise((resolve) => agent.once('exit', resolve));
      clearTimeout(killer);
    }
    await sim.stop();
    process.stdout.write('\nstopped the agent and the simulated host\n');
  }
  process.exit(code);
}

agent.on('exit', (code, signal) => {
  if (stopping) return;
  const tail = readFileSync(agentLog, 'utf8').trim().split('\n').slice(-15).join('\n');
  process.stderr.write(`\nthe agent exited (${signal ?? `code ${code}`}); last lines of ${agentLog}:\n${tail}\n`);
  void shutdown(1);
});
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
timer = setInterval(() => void tick(), 2000);
void tick();
