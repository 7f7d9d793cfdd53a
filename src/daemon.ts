import { plugins } from '../probes/index.js';
import { Agent, AGENT_VERSION } from './agent.js';
import { ConfigError, loadConfig } from './config/load.js';
import { Scheduler } from './engine/scheduler.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

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
  const log = createLogger(config.logLevel);
  const agent = new Agent({ config, plugins, log });
  const scheduler = new Scheduler(agent, log);
  // Plan before listening, so /status never answers with an empty table.
  await agent.ensurePlanned();
  let server;
  try {
    server = await startServer(agent, scheduler, config.listen);
  } catch (error) {
    log.error({ listen: config.listen, err: String(error) }, 'cannot listen; not starting');
    return 1;
  }
  log.info({ version: AGENT_VERSION, config: configFile, listen: `${server.address.host}:${server.address.port}` }, 'campaign-health-agent started');
  await scheduler.start();

  // SIGHUP re-reads the config file; a config that does not validate is refused and the old one stays.
  process.on('SIGHUP', () => {
    loadConfig(plugins, configFile)
      .then(async ({ config: next }) => {
        if (next.listen !== agent.config.listen) log.warn({ listen: next.listen }, 'listen changed: takes effect at the next restart');
        await agent.reconfigure(next);
        scheduler.syncGroups();
        log.info({ config: configFile }, 'config reloaded');
      })
      .catch((error: unknown) => {
        const problems = error instanceof ConfigError ? error.problems : [String(error)];
        log.error({ config: configFile, problems }, 'config reload refused: keeping the running config');
      });
  });

  return new Promise<number>((resolve) => {
    const stop = async (signal: string) => {
      log.info({ signal }, 'stopping');
      await scheduler.stop();
      await server.close();
      log.info('stopped');
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}
