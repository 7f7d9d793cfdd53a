import YAML from 'yaml';
import { plugins } from '../../../probes/index.js';
import type { CommandResult } from '../../../src/clients/command.js';
import { parseConfig } from '../../../src/config/load.js';
import type { AgentConfig } from '../../../src/config/schema.js';
import type { CheckOutcome } from '../../../src/core/runner.js';
import type { NlserverView } from '../../../src/clients/nlserver/view.js';
import {
  Restarter,
  type ObservedStatus,
  type RestartableRow,
  type RestartAction,
  type RestartMetrics,
  type RestartResult,
} from '../../../src/restarts/restarter.js';
import type { CheckState, Logger } from '../../../src/core/contracts.js';

// The rule engine with everything around it faked: a clock, a recording nlserver, a recording
// metrics sink and logger, a view that is up unless told otherwise.

export const MINUTE = 60_000;
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

export const IDLE_WHO = [
  '12:00:00 > Application server for Adobe Campaign Classic (7.3 24.1 build 9356@abc1234) of 01/03/2024',
  'mta@prod (4242) - 15.6 MB',
  '',
  'Connections ------------------------------------------------------',
  'Last Access IP Instance Login',
  '15/01/2026 12:00:00 127.0.0.1 prod internal|monitoring',
  '',
  'Connection pool --------------------------------------------------',
  'Datasource Server Provider Login',
  'default prod db PostgreSQL neolane',
  '',
].join('\n');

export const BUSY_WHO = IDLE_WHO.replace('internal|monitoring', 'internal|monitoring\n15/01/2026 11:59:00 10.0.0.7 prod operator|console');

export function commandResult(patch: Partial<CommandResult> = {}): CommandResult {
  return { exitCode: 0, stdout: '', stderr: '', timedOut: false, truncated: false, failed: false, ...patch };
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  msg: string;
}

export function recordingLogger(entries: LogEntry[]): Logger {
  const at = (level: LogEntry['level']) => (obj: object | string, msg?: string) => {
    entries.push(typeof obj === 'string' ? { level, fields: {}, msg: obj } : { level, fields: obj as Record<string, unknown>, msg: msg ?? '' });
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function upView(): NlserverView {
  const parsed = { entries: [], noTasks: false, unexpected: [] };
  return { enabled: true, pdump: { ok: true, parsed, durationMs: 1 }, missing: { ok: true, parsed, durationMs: 1 } };
}

export function outcome(name: string, state: CheckState): CheckOutcome {
  return { name, state, message: `${name} ${state}`, durationMs: 1, lastRun: 0, values: {}, labels: {} };
}

/** A run of a daemon row: `process` and `log` checks; `absent` makes the process check critical. */
export function status(state: CheckState, opts: { absent?: boolean } = {}): ObservedStatus {
  const absent = opts.absent ?? state === 'critical';
  return { checks: [outcome('process', absent ? 'critical' : 'ok'), outcome('log', absent ? 'ok' : state)] };
}

export function row(module = 'mta', instance = 'prod', runsOn: 'instance' | 'machine' = 'instance'): RestartableRow {
  return { key: `${module}@${instance}`, module, instance, enabled: true, plugin: { runsOn } };
}

export function configWith(modules: Record<string, unknown>): AgentConfig {
  return parseConfig(plugins, YAML.stringify({ campaign: { installDir: '/opt/nl6', nlserverTimeout: '2s' }, modules }), 'test.yaml');
}

type Labels = { module: string; instance: string; action: RestartAction; result: RestartResult };

export class Harness {
  now = T0;
  readonly calls: string[][] = [];
  readonly logs: LogEntry[] = [];
  readonly counted: Labels[] = [];
  readonly suppressed = new Map<string, boolean>();
  readonly rowsSeen: string[][] = [];
  who = IDLE_WHO;
  whoResult?: Partial<CommandResult>;
  actionResult: Partial<CommandResult> = {};
  view: NlserverView | undefined = upView();
  config: AgentConfig;
  readonly restarter: Restarter;

  constructor(modules: Record<string, unknown>) {
    this.config = configWith(modules);
    const metrics: RestartMetrics = {
      restartRows: (rows) => this.rowsSeen.push(rows.map((r) => `${r.module}@${r.instance}`)),
      countRestart: (labels) => this.counted.push(labels),
      restartSuppressed: (labels, on) => this.suppressed.set(`${labels.module}@${labels.instance}`, on),
    };
    this.restarter = new Restarter({
      config: () => this.config,
      log: recordingLogger(this.logs),
      metrics,
      now: () => this.now,
      run: async (args) => {
        this.calls.push(args);
        if (args[0] === 'pdump') return commandResult({ stdout: this.who, ...this.whoResult });
        return commandResult(this.actionResult);
      },
    });
  }

  /** One recorded run of `target` at the current clock, then the clock moves on by `stepMs`. */
  async observe(state: CheckState, opts: { absent?: boolean; target?: RestartableRow; stepMs?: number } = {}) {
    const event = await this.restarter.observe(opts.target ?? row(), status(state, opts), async () => this.view, this.now);
    this.now += opts.stepMs ?? 30_000;
    return event;
  }

  /** Results of a series of runs, `-` where nothing was decided. */
  async series(states: CheckState[], opts: { absent?: boolean; target?: RestartableRow; stepMs?: number } = {}): Promise<string[]> {
    const out: string[] = [];
    for (const state of states) {
      const event = await this.observe(state, opts);
      out.push(event ? `${event.action}:${event.result}` : '-');
    }
    return out;
  }

  /** Only the start/restart commands (pdump -who left out). */
  actions(): string[] {
    return this.calls.filter((args) => args[0] !== 'pdump').map((args) => args.join(' '));
  }
}
