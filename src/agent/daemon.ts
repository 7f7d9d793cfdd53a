import { isIP } from 'node:net';
import { plugins } from '../../probes/index.js';
import { Agent, AGENT_VERSION } from './agent.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { Scheduler } from '../core/scheduler.js';
import { createLogger } from '../util/logger.js';
import { startServer, type StatusServer } from '../http/server.js';
import type { Logger } from '../core/contracts.js';
import { loadWebConfig, type WebConfig } from '../http/webConfig.js';
import { EventLog } from '../history/eventLog.js';
import { formatDuration } from '../util/format.js';

/** SIGTERM waits this long for running checks; with the server's close grace, exit stays well under 5 s. */
export const STOP_WAIT_MS = 2_500;

/** `campaign-health run`: resolves with the process exit code once the daemon has stopped. */
export async function runDaemon(configFile: string): Promise<number> {
  let loaded;
  try {
    loaded = await loadConfig(plugins, configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`invalid config, not starting:\n${error.problems.map((problem) => `  ${problem}`).join('\n')}\n`);
    return 2;
  }
  const { config } = loaded;
  let web: WebConfig | undefined;
  try {
    web = config.webConfigFile ? await loadWebConfig(config.webConfigFile) : undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`invalid web config, not starting:\n${error.problems.map((problem) => `  ${problem}`).join('\n')}\n`);
    return 2;
  }
  const log = createLogger(config.logLevel);
  // Opened and `started` recorded before the plan: the first verdicts (disabled rows at plan time) follow it.
  const history = EventLog.open({ dir: config.stateDir, log });
  history.record(startedEvent(history));
  const agent = new Agent({ config, plugins, log, history });
  const scheduler = new Scheduler(agent, log);
  // Plan before listening, so /status never answers with an empty table.
  await agent.ensurePlanned();
  let server: StatusServer;
  try {
    server = await startServer(agent, scheduler, config.listen, { web });
  } catch (error) {
    log.error({ listen: config.listen, err: String(error) }, 'cannot listen; not starting');
    // The state directory stays untouched (history.start() was not called): it may be another agent's.
    return 1;
  }
  history.start();
  log.info(
    { version: AGENT_VERSION, config: configFile, listen: `${server.address.host}:${server.address.port}`, tls: server.tls, basicAuth: Boolean(web?.auth), webConfigFile: config.webConfigFile },
    'campaign-health-agent started',
  );
  warnIfExposed(log, server, web);

  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, waitMs: STOP_WAIT_MS }, 'stopping: no new probe cycles, waiting for running checks');
      await scheduler.stop(STOP_WAIT_MS);
      await server.close();
      history.record({ module: 'agent', instance: '', from: null, to: 'stopped', detail: `stopped by ${signal}` });
      await history.close();
      log.info('stopped');
      resolve(0);
    };
    // on, not once: while an nlserver command runs, execa's signal-exit listens too, and re-raises the
    // signal (killing the process before the stop) when it finds itself the only listener left.
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });

  // SIGHUP re-reads the config file and the web config file it names; if either does not validate,
  // both are refused and the running ones stay. One reload at a time.
  let reloading = Promise.resolve();
  const reload = async () => {
    let next;
    let nextWeb: WebConfig | undefined;
    try {
      next = (await loadConfig(plugins, configFile)).config;
      nextWeb = next.webConfigFile ? await loadWebConfig(next.webConfigFile) : undefined;
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems : [String(error)];
      agent.metrics.configLoaded(false, agent.now());
      agent.history.record({ module: 'agent', instance: '', from: null, to: 'reload_refused', detail: `config reload refused, the running config stays: ${problems.join('; ')}` });
      log.error({ config: configFile, problems }, 'config reload refused: keeping the running config');
      return;
    }
    if (next.listen !== agent.config.listen) log.warn({ listen: next.listen }, 'listen changed: takes effect at the next restart');
    if (next.stateDir !== agent.config.stateDir) log.warn({ stateDir: next.stateDir }, 'stateDir changed: takes effect at the next restart');
    const webConfigFile = next.webConfigFile ?? agent.config.webConfigFile;
    await agent.reconfigure(next);
    scheduler.syncGroups();
    for (const note of server.update(nextWeb)) log.warn({ webConfigFile }, note);
    web = nextWeb;
    agent.metrics.configLoaded(true, agent.now());
    agent.history.record({ module: 'agent', instance: '', from: null, to: 'reloaded', detail: `config reloaded from ${configFile}` });
    log.info({ config: configFile, webConfigFile: next.webConfigFile }, 'config reloaded');
    warnIfExposed(log, server, web);
  };
  process.on('SIGHUP', () => {
    reloading = reloading.then(reload).catch((error: unknown) => log.error({ err: String(error) }, 'config reload failed'));
  });

  // Not awaited: the first cycle may hang until its timeout, and signals must be answered meanwhile.
  scheduler.start().catch((error: unknown) => log.error({ err: String(error) }, 'scheduler failed to start'));
  return stopped;
}

/** `started`, with when the previous run was last known alive (its `stopped`, else its heartbeat). */
function startedEvent(history: EventLog) {
  const previous = history.previousRunEnd();
  const iso = (ms: number) => new Date(ms).toISOString();
  const at = Date.now();
  const detail =
    previous === undefined
      ? `campaign-health-agent ${AGENT_VERSION} started; no earlier run recorded`
      : previous.stopped
        ? `campaign-health-agent ${AGENT_VERSION} started; the previous run stopped at ${iso(previous.at)} (down ${formatDuration(Math.max(0, at - previous.at))})`
        : `campaign-health-agent ${AGENT_VERSION} started; the previous run ended without stopping (killed, crashed or the host went down), last seen alive at ${iso(previous.at)} (down ${formatDuration(Math.max(0, at - previous.at))} at most)`;
  return { module: 'agent', instance: '', from: null, to: 'started' as const, detail, time: at, ...(previous === undefined ? {} : { downSince: Math.min(previous.at, at) }) };
}

/** Loopback: 127.0.0.0/8, ::1 (also IPv4-mapped), localhost. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

function warnIfExposed(log: Logger, server: StatusServer, web: WebConfig | undefined): void {
  if (isLoopback(server.address.host) || server.tls || web?.auth) return;
  log.warn(
    { listen: `${server.address.host}:${server.address.port}` },
    'listening on a non-loopback address without TLS or basic auth: anyone who can reach this port reads /metrics and /status; set webConfigFile (docs/metrics.md: TLS and basic auth) or firewall the port',
  );
}
