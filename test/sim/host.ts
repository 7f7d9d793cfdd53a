// A simulated Adobe Campaign Classic host made of real things: a temp install dir with Campaign's
// config files and log layout, real module processes whose /proc/<pid>/cmdline reads exactly like
// Campaign's, real TCP/UDP ports, a real HTTP server for /r/test and SOAP, and a stand-in
// `bin/nlserver` CLI (pdump, monitor -missing, start/stop/restart). Behaviour changes live through
// control.json (see SimControl), re-read by every process on every tick and request.
//
// The per-process behaviour lives in plain CommonJS next to this file (module-process.cjs,
// nlserver-cli.cjs, sim-lib.cjs) so that it runs without compiling, from jest and from dist/ alike.

import { execFile, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export type MachineModule = 'watchdog' | 'syslogd' | 'web' | 'trackinglogd';
export type InstanceModule = 'mta' | 'wfserver' | 'inMail' | 'stat';

export interface SimPorts {
  /** web httpPort (Tomcat HTTP, /r/test, SOAP). */
  http: number;
  /** web controlPort (Tomcat shutdown port stand-in: accepts and closes). */
  control: number;
  /** syslogd UDP port, written to customer.sh as TRACE_ADDR. */
  syslog: number;
  /** stat UDP port (serverConf `<stat port>`), used by the first instance running stat. */
  stat: number;
}

export interface SimOptions {
  /** Campaign instances (config-<inst>.xml each). Default ['prod']. */
  instances?: string[];
  /** Default all true; false = not configured and not started. */
  machineModules?: Partial<Record<MachineModule, boolean>>;
  /** Default all true for every instance. */
  instanceModules?: Partial<Record<InstanceModule, boolean>>;
  /** Per-instance override of instanceModules. */
  perInstance?: Record<string, Partial<Record<InstanceModule, boolean>>>;
  /** `trackinglogd`, `mta` (every instance) or `mta@prod`: written as `_autoStart="true"` and not started. */
  underscoreDisabled?: string[];
  /** Instances that get var/<inst>/redir/log (default: all, when trackinglogd is configured). */
  trackingInstances?: string[];
  /** Forced ports; the others are picked free. */
  ports?: Partial<SimPorts>;
  /** Use Campaign's real ports (8080, 8005, 6666, 7777) where they are free. Default false. */
  preferDefaultPorts?: boolean;
  /** trackinglogd writes one line per tracking instance every this many ms. Default 500. */
  trackingIntervalMs?: number;
  /** Every module appends a log line every this many ms. Default 1000. */
  logIntervalMs?: number;
  /** How long start() and startModule() wait for processes and ports. Default 15000. */
  readyTimeoutMs?: number;
  /**
   * serverConf `processRestartTime` (`HH:MM:SS`, local time) of every module. Default: 12 hours from
   * now, so that the daily-restart grace (a killed module is a warning, not critical, for 5 minutes
   * after it) never overlaps a test that kills modules on the real clock. Campaign's own default,
   * 06:00:00, is for tests that inject a clock.
   */
  processRestartTime?: string;
  /**
   * bin/nlserver answers `pdump [-who]` and `monitor -missing` through a loopback service of this
   * process (a bash client: a few ms of CPU a run) rather than as a Node process (~100 ms of CPU);
   * every other command, and all of them with false, run the Node CLI. Same output, modes and exit
   * codes either way (nlserver-cli.cjs). Default true; the cost bench keeps the Node one.
   */
  nlserverService?: boolean;
  /**
   * For the cost bench: a compiled stand-in (bench/nlserver-standin.c) installed as bin/nlserver, which
   * counts its runs in `bin/nlserver-answers/count` and answers `pdump [-who]` and `monitor -missing`
   * from files this host renders with the Node CLI's formatting and rewrites every second, and at once
   * after kill(), startModule() and setControl(); every other command, and those three when
   * control.json asks for another mode or a delay, run the Node CLI. Overrides nlserverService.
   */
  nlserverStandin?: string;
}

export interface SimControl {
  /** GET /r/test. */
  rTest: 'ok' | 'ok-double-quotes' | 'ok-minimal' | 'ko' | 'http500' | 'hang' | 'html';
  /** POST /nl/jsp/soaprouter.jsp. 'fault' = HTTP 500 + SOAP-ENV:Client Fault (XSV-350008). */
  soap: 'fault' | 'envelope' | 'html' | 'garbage' | 'hang';
  /** GET /nl/jsp/ping.jsp: 'ok' = `Ok\n<timestamp>`, 'error' = `Error\n...` (200), 'http500', 'hang'. */
  ping: 'ok' | 'error' | 'http500' | 'hang';
  /** Delay before every HTTP answer (slow server). */
  httpDelayMs: number;
  /** web's Tomcat control (shutdown) port: 'closed' keeps web running with the port closed. */
  tomcatControlPort: 'open' | 'closed';
  /** trackinglogd appends lines ('grow') or stays alive without writing ('stall'). */
  tracking: 'grow' | 'stall';
  /** Move syslogd's UDP socket to another port ("bound on the wrong port"); unset = ports.syslog. */
  syslogdBindPort?: number;
  /** mtachild processes each running mta keeps (0..20). */
  mtaChildren: number;
  pdumpUnit: 'MB' | 'Mb' | 'Mo';
  /** Every bin/nlserver run: 'hang' sleeps forever, 'garbage' prints junk, 'fail' exits 1, 'huge' prints 10 MiB. */
  nlserverMode: 'normal' | 'hang' | 'garbage' | 'fail' | 'huge';
  /** Delay before every bin/nlserver run does anything. */
  nlserverDelayMs: number;
  /** Logins `nlserver pdump -who` lists under Connections, once per instance; unset = `internal|monitoring` and `admin|tracking`. */
  whoSessions?: string[];
  /** 'file': modules append to their log directly; 'syslogd': they send UDP datagrams to TRACE_ADDR and syslogd writes them (as in Campaign: logs stop when syslogd is down or on the wrong port). */
  logVia: 'file' | 'syslogd';
  /** Tasks (`web@default`, `mta@prod`, `watchdog`) that stop writing log lines while staying alive. */
  silentModules: string[];
  /** Tasks whose log lines are written at level `error`. */
  errorModules: string[];
  /**
   * Rows answered to a SOAP ExecuteQuery on xtk:workflow when soap = 'envelope', one attribute per key
   * (`{ internalName: 'tracking', label: 'Tracking', state: 0, failed: 0, lastStart: '2026-11-25 10:00:00.000Z' }`).
   * The query's `<condition expr>` (`@field = 'text'` or `@field = number`, AND-ed) filters them, its
   * `<select>` nodes pick the attributes; any other condition answers a Fault.
   */
  soapWorkflows: Array<Record<string, string | number>>;
  /**
   * With soap = 'envelope': Logon needs these credentials (else HTTP 500 + Fault XSV-350022) and every
   * other call needs a session from a Logon, by `__sessiontoken` cookie plus a matching
   * `X-Security-Token`, or by the sessiontoken parameter (else the XSV-350008 "Session has expired or
   * is invalid" Fault). Unset: any Logon succeeds and calls need no session.
   */
  soapOperator?: { login: string; password: string };
  /** Sessions expire this long after their Logon (with soapOperator; 0 = at once); unset = never. */
  soapSessionTtlMs?: number;
  /** Bump it to expire every session issued before (with soapOperator). */
  soapExpireSessions: number;
  /**
   * Answers by SOAP method (`ExecuteQuery`, `Logon`, `Logoff`): the body is sent as is with HTTP 500,
   * whatever `soap` says (except 'hang'), e.g. a recorded Fault from test/fixtures/soap/.
   */
  soapFaults?: Record<string, string>;
}

/** One line for appendLog: Campaign's layout (ISO time, pid, tid, 1, level, log, message). */
export interface SimLogLine {
  level: 'info' | 'warning' | 'error';
  message: string;
  /** Default now. */
  at?: Date;
}

/** On-demand utilities the sim can run as `nlserver <module> -instance:<inst>` (they stay until killed). */
export type UtilityModule = 'export' | 'import';

export interface SimTask {
  task: string;
  module: string;
  instance: string;
  pid: number;
}

export interface CliResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when killed (timeout). */
  code: number | null;
}

/** What the host plans to configure; saved in sim.json for the module processes and the CLI. */
interface PlanEntry {
  module: string;
  instance: string;
  /** Has an autoStart/_autoStart attribute in a config file (watchdog has none). */
  inConfig: boolean;
  /** Should be running: started by start() and listed by `monitor -missing` when dead. */
  autoStart: boolean;
}

interface SimLib {
  MACHINE_MODULES: string[];
  INSTANCE_MODULES: string[];
  ALL_MODULES: string[];
  DEFAULT_CONTROL: SimControl;
  isMachineModule(module: string): boolean;
  taskName(module: string, instance: string): string;
  pidFile(root: string, module: string, instance: string): string;
  logFile(root: string, module: string, instance: string): string;
  writeJsonAtomic(file: string, value: unknown): void;
  readCmdline(pid: number): string[] | undefined;
  isGone(pid: number): boolean;
  livePid(root: string, module: string, instance: string): number | undefined;
  liveTasks(root: string): SimTask[];
  processesUnder(root: string): Array<{ pid: number; argv: string[] }>;
  mtaChildPids(root: string, instance: string): number[];
  portBound(proto: 'tcp' | 'udp', port: number): boolean;
  expectedSockets(sim: unknown, control: SimControl, module: string, instance: string): Array<{ proto: 'tcp' | 'udp'; port: number }>;
  spawnModule(root: string, module: string, instance: string, options?: { detached?: boolean }): ChildProcess;
  waitUntil(check: () => boolean, timeoutMs: number, intervalMs?: number): Promise<boolean>;
  trackingFileName(id: bigint): string;
  trackingFiles(dir: string): Array<{ name: string; id: bigint }>;
  formatLogLine(level: string, message: string, pid?: number, date?: Date): string;
}

/** The package root: the first directory above this file holding package.json and test/sim/module-process.cjs. */
export function projectDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'test', 'sim', 'module-process.cjs'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`test/sim/module-process.cjs not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const SIM_DIR = path.join(projectDir(), 'test', 'sim');
const lib = createRequire(import.meta.url)(path.join(SIM_DIR, 'sim-lib.cjs')) as SimLib;
const cli = createRequire(import.meta.url)(path.join(SIM_DIR, 'nlserver-cli.cjs')) as {
  startService(root: string): Promise<{ port: number; close(): Promise<void> }>;
  answers(root: string): Record<string, string> | undefined;
};

export const DEFAULT_CONTROL: SimControl = { ...lib.DEFAULT_CONTROL };
const MACHINE_MODULES: MachineModule[] = ['watchdog', 'syslogd', 'web', 'trackinglogd'];
const INSTANCE_MODULES: InstanceModule[] = ['mta', 'wfserver', 'inMail', 'stat'];
const CAMPAIGN_PORTS: SimPorts = { http: 8080, control: 8005, syslog: 6666, stat: 7777 };
const SECRET = 'SIMSECRET';

export class SimulatedHost {
  readonly root: string;
  readonly installDir: string;
  readonly varDir: string;
  /** `<installDir>/bin/nlserver`, the stand-in CLI. */
  readonly nlserverPath: string;
  readonly ports: SimPorts;
  /** UDP port of each instance's stat (the first one uses ports.stat, others get `<stat port>` in config-<inst>.xml). */
  readonly statPorts: Readonly<Record<string, number>>;
  readonly instances: readonly string[];
  readonly trackingInstances: readonly string[];
  readonly controlPath: string;
  /** `http://127.0.0.1:<port>` of the agent, once writeAgentConfig() has run. */
  agentUrl?: string;

  private control: SimControl = { ...DEFAULT_CONTROL };
  private service?: { port: number; close(): Promise<void> };
  private standinTimer?: NodeJS.Timeout;
  private readonly plan: PlanEntry[];
  private readonly readyTimeoutMs: number;
  private stopped = false;
  private readonly exitHook = (): void => {
    for (const { pid } of lib.processesUnder(this.root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };

  private constructor(init: {
    root: string;
    ports: SimPorts;
    statPorts: Record<string, number>;
    instances: string[];
    trackingInstances: string[];
    plan: PlanEntry[];
    readyTimeoutMs: number;
  }) {
    this.root = init.root;
    this.installDir = path.join(init.root, 'nl6');
    this.varDir = path.join(this.installDir, 'var');
    this.nlserverPath = path.join(this.installDir, 'bin', 'nlserver');
    this.controlPath = path.join(init.root, 'control.json');
    this.ports = init.ports;
    this.statPorts = init.statPorts;
    this.instances = init.instances;
    this.trackingInstances = init.trackingInstances;
    this.plan = init.plan;
    this.readyTimeoutMs = init.readyTimeoutMs;
  }

  /** Creates the install, starts every enabled module; resolves when all are up with their ports bound. */
  static async start(opts: SimOptions = {}): Promise<SimulatedHost> {
    const instances = opts.instances ?? ['prod'];
    if (instances.length === 0) throw new Error('SimOptions.instances must name at least one instance');
    for (const instance of instances) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(instance) || instance === 'default') throw new Error(`invalid instance name: ${instance}`);
    }
    const underscore = new Set(opts.underscoreDisabled ?? []);
    const plan: PlanEntry[] = [];
    for (const module of MACHINE_MODULES) {
      if (opts.machineModules?.[module] === false) continue;
      const disabled = underscore.has(module) || underscore.has(`${module}@default`);
      plan.push({ module, instance: 'default', inConfig: module !== 'watchdog', autoStart: !disabled });
    }
    for (const instance of instances) {
      for (const module of INSTANCE_MODULES) {
        if (!(opts.perInstance?.[instance]?.[module] ?? opts.instanceModules?.[module] ?? true)) continue;
        const disabled = underscore.has(module) || underscore.has(`${module}@${instance}`);
        plan.push({ module, instance, inConfig: true, autoStart: !disabled });
      }
    }
    const trackinglogd = plan.some((entry) => entry.module === 'trackinglogd');
    const trackingInstances = trackinglogd ? (opts.trackingInstances ?? instances) : [];

    const ports = await allocatePorts(opts);
    const statPorts: Record<string, number> = {};
    const taken = new Set(Object.values(ports));
    for (const entry of plan.filter((e) => e.module === 'stat')) {
      statPorts[entry.instance] = Object.keys(statPorts).length === 0 ? ports.stat : await freePort('udp', taken);
    }

    const root = await mkdtemp(path.join(os.tmpdir(), 'campaign-sim-'));
    const host = new SimulatedHost({
      root,
      ports,
      statPorts,
      instances,
      trackingInstances,
      plan,
      readyTimeoutMs: opts.readyTimeoutMs ?? 15000,
    });
    process.on('exit', host.exitHook);
    try {
      if ((opts.nlserverService ?? true) && !opts.nlserverStandin) host.service = await cli.startService(root);
      await host.writeFiles(opts);
      const toStart = plan.filter((entry) => entry.autoStart);
      // syslogd first (runLevel 0), then everything else at once.
      const first = toStart.filter((entry) => entry.module === 'syslogd');
      await host.launch(first);
      await host.launch(toStart.filter((entry) => entry.module !== 'syslogd'));
      if (opts.nlserverStandin) {
        host.refreshStandinAnswers();
        host.standinTimer = setInterval(() => host.refreshStandinAnswers(), 1000);
        host.standinTimer.unref();
      }
    } catch (error) {
      await host.stop().catch(() => {});
      throw error;
    }
    return host;
  }

  /** Live pid of a module (instance: `default` for machine modules, else the first instance). */
  pid(module: string, instance?: string): number | undefined {
    return lib.livePid(this.root, module, this.instanceOf(module, instance));
  }

  /** Every live task, as `nlserver pdump` lists them. */
  tasks(): SimTask[] {
    return lib.liveTasks(this.root);
  }

  /** Live mtachild pids of an instance. */
  mtaChildPids(instance?: string): number[] {
    return lib.mtaChildPids(this.root, this.instanceOf('mta', instance));
  }

  /** Sends a signal (default SIGTERM) and resolves when the process is gone. No-op if not running. */
  async kill(module: string, instance?: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const inst = this.instanceOf(module, instance);
    const pid = lib.livePid(this.root, module, inst);
    if (pid === undefined) return;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
    if (!(await lib.waitUntil(() => lib.isGone(pid), 10000))) {
      throw new Error(`${lib.taskName(module, inst)} (pid ${pid}) still alive 10 s after ${signal}`);
    }
    // A SIGKILLed process leaves its pid file behind; Campaign has no pid file to go stale, so drop it.
    const file = lib.pidFile(this.root, module, inst);
    const content = await readFile(file, 'utf8').catch(() => '');
    if (Number.parseInt(content, 10) === pid) await unlink(file).catch(() => {});
    if (this.standinTimer) this.refreshStandinAnswers();
  }

  /** Starts a configured module (again); resolves when it is up with its ports bound. No-op if running. */
  async startModule(module: string, instance?: string): Promise<void> {
    const inst = this.instanceOf(module, instance);
    const entry = this.plan.find((e) => e.module === module && e.instance === inst);
    if (!entry) throw new Error(`${lib.taskName(module, inst)} is not configured in this simulated host`);
    if (lib.livePid(this.root, module, inst) !== undefined) return;
    await this.launch([entry]);
    if (this.standinTimer) this.refreshStandinAnswers();
  }

  /** Atomically rewrites control.json; waits for a moved syslogd port or a new mtachild count to take effect. */
  async setControl(patch: Partial<SimControl>): Promise<void> {
    const next: Record<string, unknown> = { ...this.control, ...patch };
    for (const [key, value] of Object.entries(next)) if (value === undefined) delete next[key];
    this.control = next as unknown as SimControl;
    lib.writeJsonAtomic(this.controlPath, this.control);
    if (this.standinTimer) this.refreshStandinAnswers();
    const waits: Array<[string, () => boolean]> = [];
    if ('tomcatControlPort' in patch && this.pid('web') !== undefined) {
      const closed = this.control.tomcatControlPort === 'closed';
      waits.push([`Tomcat control port ${closed ? 'closed' : 'open'}`, () => lib.portBound('tcp', this.ports.control) !== closed]);
    }
    if ('syslogdBindPort' in patch && this.pid('syslogd') !== undefined) {
      const port = this.control.syslogdBindPort ?? this.ports.syslog;
      waits.push([`syslogd bound on UDP ${port}`, () => lib.portBound('udp', port)]);
    }
    if ('mtaChildren' in patch) {
      const wanted = Math.max(0, Math.min(20, Math.floor(this.control.mtaChildren)));
      for (const instance of this.instances) {
        if (this.pid('mta', instance) === undefined) continue;
        waits.push([`${wanted} mtachild of mta@${instance}`, () => lib.mtaChildPids(this.root, instance).length === wanted]);
      }
    }
    for (const [what, check] of waits) {
      if (!(await lib.waitUntil(check, 5000))) throw new Error(`setControl: timed out waiting for ${what}`);
    }
  }

  /** The current control values. */
  getControl(): SimControl {
    return { ...this.control };
  }

  /** `var/<inst>/redir/log` of an instance. */
  trackingDir(instance?: string): string {
    return path.join(this.varDir, this.instanceOf('mta', instance), 'redir', 'log');
  }

  /** Path of a module's log file (var/default/log for machine modules and watchdog). */
  logPath(module: string, instance?: string): string {
    return lib.logFile(this.root, module, this.instanceOf(module, instance));
  }

  /** Appends lines in Campaign's log layout to a module's log (var/<inst>/log/<module>.log, or `file`). */
  async appendLog(module: string, instance: string | undefined, lines: readonly SimLogLine[], file?: string): Promise<void> {
    const target = file ?? lib.logFile(this.root, module, this.instanceOf(module, instance));
    await mkdir(path.dirname(target), { recursive: true });
    const text = lines.map((line) => `${lib.formatLogLine(line.level, line.message, 4242, line.at ?? new Date())}\n`).join('');
    await writeFile(target, text, { flag: 'a' });
  }

  /**
   * Starts an on-demand utility as Campaign runs it (`nlserver export -tracefile:export@<inst>
   * -instance:<inst> -detach`); it writes var/<inst>/log/<module>.log and runs until killed (a hung
   * run). Resolves with its pid once it is up.
   */
  async startUtility(module: UtilityModule, instance: string): Promise<number> {
    const child = lib.spawnModule(this.root, module, instance);
    child.unref();
    if (!(await lib.waitUntil(() => lib.livePid(this.root, module, instance) !== undefined, this.readyTimeoutMs))) {
      throw new Error(`${lib.taskName(module, instance)} did not start`);
    }
    return lib.livePid(this.root, module, instance)!;
  }

  /** Connections accepted so far on the web's HTTP and Tomcat control ports. */
  async webConnections(): Promise<number> {
    const text = await readFile(path.join(this.root, 'run', 'web-connections.log'), 'utf8').catch(() => '');
    return text.split('\n').filter((line) => line !== '').length;
  }

  /** Creates the next tracking log file (newest id + 0x1000) and returns its name; trackinglogd writes there next. */
  async rotateTrackingLog(instance: string): Promise<string> {
    const dir = this.trackingDir(instance);
    const files = lib.trackingFiles(dir);
    const newest = files[files.length - 1];
    const name = lib.trackingFileName(newest ? newest.id + 0x1000n : 0x1000n);
    await writeFile(path.join(dir, name), '', { flag: 'wx' });
    return name;
  }

  /** Deletes the oldest tracking log files of an instance, keeping the `keep` newest. */
  async purgeTrackingLogs(instance: string, keep: number): Promise<void> {
    const dir = this.trackingDir(instance);
    const files = lib.trackingFiles(dir);
    for (const file of files.slice(0, Math.max(0, files.length - Math.max(0, keep)))) {
      await rm(path.join(dir, file.name), { force: true });
    }
  }

  /**
   * Writes root/agent.yaml: `{listen: 127.0.0.1:<free port>, stateDir: root/state, campaign: {installDir}}`
   * deep-merged with extra. The state directory is the sim's own: never the host's /var/lib/campaign-health.
   */
  async writeAgentConfig(extra: object = {}, name = 'agent.yaml'): Promise<string> {
    const port = await freePort('tcp', new Set(Object.values(this.ports)));
    const config = deepMerge({ listen: `127.0.0.1:${port}`, stateDir: path.join(this.root, 'state'), campaign: { installDir: this.installDir } }, extra as Record<string, unknown>);
    const file = path.join(this.root, name);
    await writeFile(file, YAML.stringify(config));
    this.agentUrl = `http://${String(config.listen)}`;
    return file;
  }

  /** Runs the stand-in CLI: `bin/nlserver <args>`. Killed after timeoutMs (default 15 s). */
  runCli(args: string[], timeoutMs = 15000): Promise<CliResult> {
    return new Promise((resolve) => {
      const env = { ...process.env };
      delete env.NODE_OPTIONS;
      execFile(this.nlserverPath, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      });
    });
  }

  /** Kills every process of the sim (CLI-started and mtachild included) and removes root. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.standinTimer);
    const signalAll = (signal: NodeJS.Signals): number[] => {
      const pids = lib.processesUnder(this.root).map(({ pid }) => pid);
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          // gone
        }
      }
      return pids;
    };
    const allGone = (): boolean => lib.processesUnder(this.root).length === 0;
    signalAll('SIGTERM');
    if (!(await lib.waitUntil(allGone, 3000))) {
      signalAll('SIGKILL');
      await lib.waitUntil(allGone, 3000);
    }
    process.off('exit', this.exitHook);
    await this.service?.close();
    await rm(this.root, { recursive: true, force: true });
    const left = lib.processesUnder(this.root);
    if (left.length > 0) throw new Error(`SimulatedHost.stop: processes still alive: ${left.map((p) => p.pid).join(', ')}`);
  }

  // ------------------------------------------------------------------------------------ internals

  private instanceOf(module: string, instance?: string): string {
    if (lib.isMachineModule(module)) return 'default';
    return instance ?? this.instances[0] ?? 'default';
  }

  /** Spawns entries and waits until each has its pid file (written after its sockets are bound) and ports. */
  private async launch(entries: PlanEntry[]): Promise<void> {
    const children = new Map<PlanEntry, ChildProcess>();
    const exits = new Map<PlanEntry, string>();
    for (const entry of entries) {
      const child = lib.spawnModule(this.root, entry.module, entry.instance);
      child.unref();
      child.on('exit', (code, signal) => exits.set(entry, signal ? `killed by ${signal}` : `exited with code ${code}`));
      children.set(entry, child);
    }
    const pending = (): PlanEntry[] =>
      entries.filter((entry) => {
        if (lib.livePid(this.root, entry.module, entry.instance) === undefined) return true;
        const sockets = lib.expectedSockets(this.simJson(), this.control, entry.module, entry.instance);
        return !sockets.every(({ proto, port }) => lib.portBound(proto, port));
      });
    const started = Date.now();
    const ok = await lib.waitUntil(
      () => pending().length === 0 || [...exits.keys()].some((entry) => pending().includes(entry)),
      this.readyTimeoutMs,
    );
    const failed = pending();
    if (ok && failed.length === 0) return;
    const details = await Promise.all(
      failed.map(async (entry) => {
        const task = lib.taskName(entry.module, entry.instance);
        const sockets = lib.expectedSockets(this.simJson(), this.control, entry.module, entry.instance);
        const missing = sockets.filter(({ proto, port }) => !lib.portBound(proto, port)).map(({ proto, port }) => `${proto}/${port}`);
        const out = await readFile(path.join(this.root, 'procs', 'out', `${task}.out`), 'utf8').catch(() => '');
        const state = exits.get(entry) ?? (lib.livePid(this.root, entry.module, entry.instance) ? 'running' : 'no pid file yet');
        const tail = out.trim().split('\n').slice(-5).join('\n    ');
        return `${task}: ${state}${missing.length ? `, ports not bound: ${missing.join(' ')}` : ''}${tail ? `\n    ${tail}` : ''}`;
      }),
    );
    const why = ok ? `a process died after ${Date.now() - started} ms` : `not up after ${this.readyTimeoutMs} ms`;
    throw new Error(`simulated Campaign host (${this.root}): ${why}:\n  ${details.join('\n  ')}`);
  }

  /** The compiled stand-in's answer files (SimOptions.nlserverStandin), or none when it must run the Node CLI. */
  private refreshStandinAnswers(): void {
    if (this.stopped) return;
    const dir = `${this.nlserverPath}-answers`;
    try {
      const answers = cli.answers(this.root);
      for (const name of ['pdump', 'pdump-who', 'monitor-missing']) {
        const file = path.join(dir, name);
        if (answers?.[name] === undefined) {
          rmSync(file, { force: true });
          continue;
        }
        writeFileSync(`${file}.tmp`, answers[name]);
        renameSync(`${file}.tmp`, file);
      }
    } catch {
      // The host is being torn down; the next refresh (or none) decides.
    }
  }

  private simJsonCache?: object;
  private simJson(): object {
    this.simJsonCache ??= {
      ports: this.ports,
      statPorts: this.statPorts,
    };
    return this.simJsonCache;
  }

  private async writeFiles(opts: SimOptions): Promise<void> {
    const root = this.root;
    const procs = path.join(root, 'procs');
    const conf = path.join(this.installDir, 'conf');
    const bin = path.join(this.installDir, 'bin');
    await Promise.all([procs, path.join(procs, 'out'), path.join(root, 'run'), conf, bin, path.join(this.varDir, 'tmp')].map((d) => mkdir(d, { recursive: true })));

    // Module processes and the CLI are CommonJS whatever the nearest package.json above /tmp says.
    await writeFile(path.join(root, 'package.json'), '{"type":"commonjs"}\n');
    await symlink(process.execPath, path.join(procs, 'nlserver'));
    const modulePath = path.join(SIM_DIR, 'module-process.cjs');
    for (const module of [...lib.ALL_MODULES, 'export', 'import']) {
      await writeFile(
        path.join(procs, `${module}.js`),
        `'use strict';\nrequire(${JSON.stringify(modulePath)}).main({ module: ${JSON.stringify(module)}, root: ${JSON.stringify(root)} });\n`,
      );
    }
    const cliMain = `'use strict';\nrequire(${JSON.stringify(path.join(SIM_DIR, 'nlserver-cli.cjs'))}).main(${JSON.stringify(root)});\n`;
    if (opts.nlserverStandin) {
      const dir = `${this.nlserverPath}-answers`;
      await mkdir(dir, { recursive: true });
      await copyFile(opts.nlserverStandin, this.nlserverPath);
      await writeFile(path.join(dir, 'fallback'), `#!${process.execPath}\n${cliMain}`, { mode: 0o755 });
    } else if (this.service) {
      const entry = path.join(procs, 'nlserver-cli.js');
      await writeFile(entry, cliMain);
      await writeFile(this.nlserverPath, nlserverClient(this.service.port, root, entry));
    } else {
      await writeFile(this.nlserverPath, `#!${process.execPath}\n${cliMain}`);
    }
    await chmod(this.nlserverPath, 0o755);

    // Log and tracking directories.
    const dirs = [path.join(this.varDir, 'default', 'log')];
    for (const instance of this.instances) dirs.push(path.join(this.varDir, instance, 'log'), path.join(this.varDir, instance, 'mta'));
    for (const instance of this.trackingInstances) dirs.push(path.join(this.varDir, instance, 'redir', 'log'), path.join(this.varDir, instance, 'redir', 'url'));
    await Promise.all(dirs.map((d) => mkdir(d, { recursive: true })));
    for (const instance of this.trackingInstances) {
      await writeFile(path.join(this.trackingDir(instance), lib.trackingFileName(0x1000n)), '');
    }

    await writeFile(path.join(conf, 'serverConf.xml'), this.serverConf(opts.processRestartTime ?? farFromNow()));
    await writeFile(path.join(conf, 'config-default.xml'), this.configDefault());
    for (const instance of this.instances) await writeFile(path.join(conf, `config-${instance}.xml`), this.configInstance(instance));
    const customer = path.join(this.installDir, 'customer.sh');
    await writeFile(
      customer,
      '#!/bin/sh\n# Site environment overrides of the simulated Campaign host.\n' +
        `export TMPDIR=${path.join(this.varDir, 'tmp')}\n` +
        `export TRACE_ADDR=localhost:${this.ports.syslog}\n`,
    );
    await chmod(customer, 0o755);

    lib.writeJsonAtomic(this.controlPath, this.control);
    lib.writeJsonAtomic(path.join(root, 'sim.json'), {
      ownerPid: process.pid,
      root,
      installDir: this.installDir,
      varDir: this.varDir,
      ports: this.ports,
      statPorts: this.statPorts,
      instances: this.instances,
      trackingInstances: this.trackingInstances,
      trackingIntervalMs: opts.trackingIntervalMs ?? 500,
      logIntervalMs: opts.logIntervalMs ?? 1000,
      modules: this.plan,
    });
  }

  private autoStartAttr(module: string, instance: string): string {
    const entry = this.plan.find((e) => e.module === module && e.instance === instance);
    return entry?.autoStart ? 'autoStart="true"' : '_autoStart="true"';
  }

  private has(module: string, instance: string): boolean {
    return this.plan.some((e) => e.module === module && e.instance === instance);
  }

  private serverConf(restartTime: string): string {
    const restart = `processRestartTime="${restartTime}"`;
    return [
      "<?xml version='1.0' encoding='UTF-8'?>",
      '<!-- serverConf.xml of a simulated Adobe Campaign Classic host -->',
      '<serverconf>',
      '  <shared>',
      '    <dataStore hosts="*" lang="eng">',
      '      <dataSource name="default">',
      `        <dbcnx encrypted="0" login="neolane" password="${SECRET}" provider="PostgreSQL" server="db"/>`,
      '      </dataSource>',
      '    </dataStore>',
      '  </shared>',
      `  <syslogd maxFileSizeMb="10" maxNumberOfLoginsFiles="365" runLevel="0" ${restart}/>`,
      `  <web controlPort="${this.ports.control}" httpPort="${this.ports.http}" MaxThreads="75" MinSpareThreads="5" ${restart}>`,
      '    <redirection showSourceIP="true" startRedirection="true" startRedirectionInModule="true"/>',
      `    <relay><url targetUrl="http://localhost:${this.ports.http}" urlPath="*.jsp"/></relay>`,
      '  </web>',
      `  <trackinglogd maxLogsSizeOnDiskMb="500" maxSharedLogs="25000" purgeLogsPeriod="50000" ${restart}/>`,
      `  <mta maxMemoryMb="1024" logLevel="2" ${restart}>`,
      '    <child maxWaitingMessages="2000" maxWorkingSetMb="128"/>',
      '  </mta>',
      `  <stat port="${this.ports.stat}" ${restart}/>`,
      `  <wfserver dataBasePoolPeriodSec="20" ${restart}/>`,
      `  <inMail popMailPeriodSec="300" inMailPeriodSec="5" ${restart}/>`,
      '</serverconf>',
      '',
    ].join('\n');
  }

  private configDefault(): string {
    const lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<serverconf>', '  <shared>', `    <xtk internalPassword="${SECRET}-internal"/>`, '  </shared>'];
    if (this.has('web', 'default')) lines.push(`  <web args="-tomcat" ${this.autoStartAttr('web', 'default')}/>`);
    if (this.has('trackinglogd', 'default')) lines.push(`  <trackinglogd ${this.autoStartAttr('trackinglogd', 'default')}/>`);
    // Where syslogd is enabled is undocumented (it always runs); only a migration's _autoStart is written.
    if (this.has('syslogd', 'default') && !this.plan.find((e) => e.module === 'syslogd')?.autoStart) lines.push('  <syslogd _autoStart="true"/>');
    lines.push('</serverconf>', '');
    return lines.join('\n');
  }

  private configInstance(instance: string): string {
    const statPort = this.statPorts[instance] ?? this.ports.stat;
    const statAddress = statPort === 7777 ? 'localhost' : `localhost:${statPort}`;
    const lines = [
      "<?xml version='1.0' encoding='UTF-8'?>",
      '<serverconf>',
      '  <shared>',
      `    <dataStore hosts="${instance}.sim.local" lang="eng">`,
      '      <dataSource name="default">',
      `        <dbcnx encrypted="0" login="neolane:${instance}" password="${SECRET}-${instance}" provider="PostgreSQL" server="db"/>`,
      '      </dataSource>',
      '    </dataStore>',
      '  </shared>',
    ];
    if (this.has('mta', instance)) lines.push(`  <mta ${this.autoStartAttr('mta', instance)} statServerAddress="${statAddress}"/>`);
    if (this.has('wfserver', instance)) lines.push(`  <wfserver ${this.autoStartAttr('wfserver', instance)}/>`);
    if (this.has('inMail', instance)) lines.push(`  <inMail ${this.autoStartAttr('inMail', instance)}/>`);
    if (this.has('stat', instance)) {
      const port = this.statPorts[instance] !== this.ports.stat ? ` port="${this.statPorts[instance]}"` : '';
      lines.push(`  <stat ${this.autoStartAttr('stat', instance)}${port}/>`);
    }
    lines.push('</serverconf>', '');
    return lines.join('\n');
  }
}

// -------------------------------------------------------------------------------------- helpers

async function allocatePorts(opts: SimOptions): Promise<SimPorts> {
  const forced = opts.ports ?? {};
  const taken = new Set<number>(Object.values(forced).filter((p): p is number => typeof p === 'number'));
  const pick = async (key: keyof SimPorts, proto: 'tcp' | 'udp'): Promise<number> => {
    const given = forced[key];
    if (given !== undefined) return given;
    const preferred = CAMPAIGN_PORTS[key];
    if (opts.preferDefaultPorts && !taken.has(preferred) && (await portFree(proto, preferred))) {
      taken.add(preferred);
      return preferred;
    }
    return freePort(proto, taken);
  };
  return {
    http: await pick('http', 'tcp'),
    control: await pick('control', 'tcp'),
    syslog: await pick('syslog', 'udp'),
    stat: await pick('stat', 'udp'),
  };
}

/** Binds port 0 on 127.0.0.1, reads the port, closes; skips ports in `taken` and adds the result to it. */
export async function freePort(proto: 'tcp' | 'udp', taken: Set<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await bindAndRelease(proto, 0);
    if (port !== undefined && !taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`could not find a free ${proto} port on 127.0.0.1`);
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
export async function portFree(proto: 'tcp' | 'udp', port: number): Promise<boolean> {
  return (await bindAndRelease(proto, port)) !== undefined;
}

function bindAndRelease(proto: 'tcp' | 'udp', port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (proto === 'tcp') {
      const server = net.createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
      });
    } else {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => {
        socket.close();
        resolve(undefined);
      });
      socket.bind(port, '127.0.0.1', () => {
        const { port: bound } = socket.address();
        socket.close(() => resolve(bound));
      });
    }
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** Objects merged key by key, everything else (arrays included) replaced by `extra`. */
export function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}

/** Local time of day 12 hours from now, `HH:MM:SS`: as far as a daily time gets from any test run. */
function farFromNow(): string {
  const at = new Date(Date.now() + 12 * 3_600_000);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** bin/nlserver as a bash client of the sim's nlserver service (nlserver-cli.cjs, startService()). */
function nlserverClient(port: number, root: string, nodeEntry: string): string {
  const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/bash
# Stand-in nlserver of the simulated Campaign host at ${root}.
# pdump [-who] and monitor -missing are answered by the process that owns the sim, on 127.0.0.1:${port}
# (test/sim/nlserver-cli.cjs, startService); any other command runs the Node CLI.
case "$*" in
  'pdump' | 'pdump -who' | 'monitor -missing') ;;
  *) exec -a "$0" ${quote(process.execPath)} ${quote(nodeEntry)} "$@" ;;
esac
export LC_ALL=C
if ! { exec 3<>/dev/tcp/127.0.0.1/${port}; } 2>/dev/null; then
  echo "nlserver: the simulated host at ${root} does not answer" >&2
  exit 2
fi
printf '%s\\n' "$*" >&3
if ! read -r code errors <&3; then
  echo "nlserver: the simulated host at ${root} went away" >&2
  exit 2
fi
if [ "$errors" -gt 0 ]; then
  IFS= read -r -N "$errors" text <&3
  printf '%s' "$text" >&2
fi
if [ "$code" = 0 ]; then exec cat <&3; fi
cat <&3
exit "$code"
`;
}
