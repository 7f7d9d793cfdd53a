#!/usr/bin/env node
import { Command, Option } from 'commander';
import YAML from 'yaml';
import { resolveHintLinks } from '../core/hintLinks.js';
import { plugins } from '../../probes/index.js';
import { Agent, AGENT_VERSION } from '../agent/agent.js';
import { ConfigError, configText, EMBEDDED_CONFIG, loadConfig } from '../config/load.js';
import { runDaemon } from '../agent/daemon.js';
import { scheduleOf } from '../core/plan.js';
import { checkId } from '../core/runner.js';
import { exitCodeOf, worst } from '../core/states.js';
import type { RowStatus } from '../core/store.js';
import { createLogger } from '../util/logger.js';
import { nagiosOutput, nagiosUnknown } from '../output/nagios.js';
import { statusDocument, statusText } from '../output/status.js';
import { loadWebConfig } from '../http/webConfig.js';
import { eventsCommand, type EventsOptions } from './events.js';
import { REPORT_FORMATS, type ReportFormat } from '../history/report.js';
import { reportCommand } from './reportCommand.js';
import type { CommandOutcome } from './daemonClient.js';

const program = new Command('campaign-health')
  .description('Health checks for Adobe Campaign Classic servers: probes per module, Prometheus metrics, status endpoint.')
  .version(AGENT_VERSION)
  .showHelpAfterError();

const configOption = () => new Option('-c, --config <file>', 'agent config (YAML)').default(EMBEDDED_CONFIG, 'the embedded config/agent.yaml');

program
  .command('run')
  .description('run the daemon: scheduled probes, /metrics, /status, /healthz')
  .addOption(configOption())
  .action(async (options: { config: string }) => {
    // Exit explicitly: a check still hanging past the bounded shutdown wait (its socket, its timeout
    // timer) must not keep the process alive after the daemon has stopped.
    process.exit(await runDaemon(options.config));
  });

type CheckFormat = 'text' | 'json' | 'nagios';

program
  .command('check')
  .description('run every enabled probe once, print the result, exit 0 ok / 1 warning / 2 critical / 3 unknown')
  .addOption(configOption())
  .option('-m, --module <name>', 'only this module (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
  .addOption(new Option('-f, --format <format>', 'output format (nagios: plugin output with perfdata)').choices(['text', 'json', 'nagios']).default('text'))
  // A usage error means the check did not run: Nagios' UNKNOWN (3), not commander's 1 (WARNING).
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 3))
  .action(async (options: { config: string; module: string[]; format: CheckFormat }) => {
    // Nagios reads exit 3 as UNKNOWN: the check could not run. It shows stdout, so in its format the
    // reason goes there, as the status line.
    const cannotRun = (reason: string, problems: string[] = []): never => {
      if (options.format === 'nagios') process.stdout.write(nagiosUnknown(reason, problems).output);
      else process.stderr.write(problems.length > 0 ? `${reason}:\n${problems.map((problem) => `  ${problem}`).join('\n')}\n` : `${reason}\n`);
      process.exit(3);
    };
    let loaded: Awaited<ReturnType<typeof loadConfig>>;
    try {
      loaded = await loadConfig(plugins, options.config);
    } catch (error) {
      if (error instanceof ConfigError) return cannotRun('invalid config', error.problems);
      throw error;
    }
    const { config } = loaded;
    const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
    const known = plugins.map((plugin) => plugin.module);
    const unknown = options.module.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      return cannotRun(`--module: unknown module ${unknown.map((name) => JSON.stringify(name)).join(', ')}; known modules: ${known.join(', ')}`);
    }
    let rows: RowStatus[];
    let agent: Agent;
    try {
      // A check is read-only: automatic restarts belong to the daemon alone.
      agent = new Agent({ config, plugins, log, restarts: false });
      await agent.refresh();
      const selected = agent.rows().filter((row) => options.module.length === 0 || options.module.includes(row.module));
      const keys = new Set(selected.map((row) => row.key));
      await agent.runCycle(keys);
      rows = agent.store.all().filter((row) => keys.has(row.key));
    } catch (error) {
      // Checks catch their own failures; this is the agent itself failing, which is not a verdict.
      return cannotRun(`check failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const now = agent.now();
    if (options.format === 'nagios') {
      const result = nagiosOutput(rows);
      process.stdout.write(result.output);
      process.exitCode = result.exitCode;
      return;
    }
    process.stdout.write(
      options.format === 'json'
        ? `${JSON.stringify(statusDocument(rows, { version: AGENT_VERSION, startedAt: agent.startedAt }, now), null, 2)}\n`
        : statusText(rows, now),
    );
    process.exitCode = exitCodeOf(worst(rows.map((row) => row.state)));
  });

program
  .command('config')
  .description('configuration commands')
  .command('check')
  .description('validate the config and print it resolved, with what discovery found')
  .addOption(configOption())
  .action(async (options: { config: string }) => {
    const { config, file } = await loadOrExit(options.config);
    const web = config.webConfigFile ? await loadWebConfigOrExit(config.webConfigFile) : undefined;
    const agent = new Agent({ config, plugins, log: createLogger('error') });
    await agent.refresh();
    const install = agent.currentInstall();
    const report = {
      file,
      // Durations as durations (`5m`), not the milliseconds the agent works with.
      config: configText(plugins, config),
      ...(web ? { webConfig: { file: web.file, tls: web.tls ? { clientAuth: web.tls.clientAuth } : false, basicAuthUsers: web.auth?.userCount ?? 0, headers: Object.keys(web.headers) } } : {}),
      discovered: {
        installDir: install?.installDir,
        found: install?.found,
        problems: install?.problems,
        varDir: install?.varDir,
        instances: install?.instances,
        traceAddr: install?.traceAddr,
        rows: agent.rows().map((row) => ({
          module: row.module,
          instance: row.instance,
          enabled: row.enabled,
          note: row.blocked ?? row.note,
          schedule: row.schedule,
        })),
      },
    };
    process.stdout.write(`# ${file}: valid\n${YAML.stringify(report)}`);
  });

program
  .command('probes')
  .description('list the probe plugins: modules, checks, schedules and troubleshooting hints')
  .addOption(configOption())
  .action(async (options: { config: string }) => {
    const { config } = await loadOrExit(options.config);
    const agent = new Agent({ config, plugins, log: createLogger('error') });
    await agent.refresh();
    for (const plugin of plugins) {
      const schedule = scheduleOf(plugin, config);
      const rows = agent.rows().filter((row) => row.plugin === plugin);
      const row = rows.find((candidate) => candidate.enabled && !candidate.blocked) ?? rows[0];
      const checks = !row ? '' : row.blocked ? `(cannot check: ${row.blocked})` : !row.enabled ? `(${row.note})` : row.checks.map((check) => checkId(check.name, check.labels)).join(', ');
      process.stdout.write(
        `${plugin.module} (${plugin.runsOn === 'machine' ? 'one per machine' : 'one per instance'})\n` +
          `  scope:    ${plugin.scope}\n  schedule: ${schedule}\n  checks:   ${checks || '(none apply on this host)'}\n  hint:     ${resolveHintLinks(plugin.hint)}\n\n`,
      );
    }
  });

program
  .command('events')
  .description("what changed and when: the running daemon's GET /events, or the state file when the daemon does not answer (docs/history.md)")
  .addOption(configOption())
  .option('--since <when>', 'a duration back from now (24h, 30m, 7d) or an ISO 8601 time', '24h')
  .option('-m, --module <name>', 'only this module (agent: the agent’s own events)')
  .option('-i, --instance <name>', 'only this instance')
  .option('--limit <count>', 'at most this many events, newest first (1-50000)', '500')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
  .addOption(userOption())
  .addOption(passwordFileOption())
  .action(async (options: EventsOptions & { config: string }) => {
    const { config } = await loadOrExit(options.config);
    const web = config.webConfigFile ? await loadWebConfigOrExit(config.webConfigFile) : undefined;
    printOutcome(await eventsCommand(config, web, options));
  });

program
  .command('report')
  .description('availability per module and instance (shares of time per state, incidents, time to recover) from the running daemon, or from its event file when it is down')
  .addOption(configOption())
  .option('-s, --since <when>', 'start of the window: a duration back from now (7d, 24h, 90m) or an ISO 8601 time', '7d')
  .addOption(new Option('-f, --format <format>', 'output format').choices([...REPORT_FORMATS]).default('text'))
  .addOption(userOption())
  .addOption(passwordFileOption())
  .action(async (options: { config: string; since: string; format: ReportFormat; user?: string; passwordFile?: string }) => {
    const { config } = await loadOrExit(options.config);
    const web = config.webConfigFile ? await loadWebConfigOrExit(config.webConfigFile) : undefined;
    printOutcome(await reportCommand(config, web, options));
  });

// Asking the daemon (events, report): basic auth as its web config requires it.
function userOption(): Option {
  return new Option('--user <name>', 'basic auth user, when the web config requires one');
}

function passwordFileOption(): Option {
  return new Option('--password-file <file>', "file holding that user's password");
}

function printOutcome(outcome: CommandOutcome): void {
  process.stdout.write(outcome.stdout);
  process.stderr.write(outcome.stderr);
  process.exitCode = outcome.exitCode;
}

async function loadWebConfigOrExit(file: string) {
  try {
    return await loadWebConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`invalid web config:\n${error.problems.map((problem) => `  ${problem}`).join('\n')}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function loadOrExit(file: string, exitCode = 2) {
  try {
    return await loadConfig(plugins, file);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`invalid config:\n${error.problems.map((problem) => `  ${problem}`).join('\n')}\n`);
      process.exit(exitCode);
    }
    throw error;
  }
}

await program.parseAsync(process.argv);
