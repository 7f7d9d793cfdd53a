#!/usr/bin/env node
import { Command, Option } from 'commander';
import YAML from 'yaml';
import { plugins } from '../probes/index.js';
import { Agent, AGENT_VERSION } from './agent.js';
import { ConfigError, EMBEDDED_CONFIG, loadConfig } from './config/load.js';
import { runDaemon } from './daemon.js';
import { scheduleOf } from './engine/plan.js';
import { exitCodeOf, worst } from './engine/states.js';
import { createLogger } from './logger.js';
import { statusDocument, statusText } from './status.js';

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
    process.exitCode = await runDaemon(options.config);
  });

program
  .command('check')
  .description('run every enabled probe once, print the result, exit 0 ok / 1 warning / 2 critical / 3 unknown')
  .addOption(configOption())
  .option('-m, --module <name>', 'only this module (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
  .action(async (options: { config: string; module: string[]; format: 'text' | 'json' }) => {
    // Nagios reads exit 3 as UNKNOWN: the check could not run.
    const { config } = await loadOrExit(options.config, 3);
    const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
    const known = plugins.map((plugin) => plugin.module);
    const unknown = options.module.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      process.stderr.write(`--module: unknown module ${unknown.map((name) => JSON.stringify(name)).join(', ')}; known modules: ${known.join(', ')}\n`);
      process.exit(3);
    }
    const agent = new Agent({ config, plugins, log });
    await agent.refresh();
    const selected = agent.rows().filter((row) => options.module.length === 0 || options.module.includes(row.module));
    const keys = new Set(selected.map((row) => row.key));
    await agent.runCycle(keys);
    const rows = agent.store.all().filter((row) => keys.has(row.key));
    const now = agent.now();
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
    const agent = new Agent({ config, plugins, log: createLogger('error') });
    await agent.refresh();
    const install = agent.currentInstall();
    const report = {
      file,
      config,
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
  .description('list the probe plugins: modules, checks, schedules and remediation hints')
  .addOption(configOption())
  .action(async (options: { config: string }) => {
    const { config } = await loadOrExit(options.config);
    const agent = new Agent({ config, plugins, log: createLogger('error') });
    await agent.refresh();
    for (const plugin of plugins) {
      const schedule = scheduleOf(plugin, config);
      const rows = agent.rows().filter((row) => row.plugin === plugin);
      const row = rows.find((candidate) => candidate.enabled && !candidate.blocked) ?? rows[0];
      const checks = !row ? '' : row.blocked ? `(cannot check: ${row.blocked})` : !row.enabled ? `(${row.note})` : row.checks.map((check) => check.name).join(', ');
      process.stdout.write(
        `${plugin.module} (${plugin.runsOn === 'machine' ? 'one per machine' : 'one per instance'})\n` +
          `  scope:    ${plugin.scope}\n  schedule: ${schedule}\n  checks:   ${checks || '(none apply on this host)'}\n  hint:     ${plugin.hint}\n\n`,
      );
    }
  });

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
