import type { Check, CheckContext, CheckResult, ProcessInfo } from '../core/contracts.js';
import { assertCheckName, formatDuration } from '../util/format.js';
import { nlserverProcesses } from '../snapshot/cycle.js';
import { isNlserver } from '../snapshot/processes.js';

export interface ProcessCheckOptions {
  /** Campaign module name as it appears as nlserver's first argument, case-sensitive (`inMail`). */
  module: string;
  /** Campaign instance; omit for machine-wide modules such as watchdog, which carry no instance. */
  instance?: string;
  name?: string;
}

/**
 * Is `nlserver <module>` running (for `instance`, when given)? Campaign starts modules as e.g.
 * `nlserver web -tracefile:web@default -instance:default -detach -tomcat -autorepair` or
 * `nlserver watchdog -svc -noconsole`.
 */
export function processCheck(opts: ProcessCheckOptions): Check {
  const name = assertCheckName(opts.name ?? 'process');
  if (!/^[A-Za-z0-9_]+$/.test(opts.module)) {
    throw new Error(`processCheck: module must be a Campaign module name like "web" or "inMail", got ${JSON.stringify(opts.module)}`);
  }
  const label = opts.instance === undefined ? opts.module : `${opts.module}@${opts.instance}`;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const candidates = (await nlserverProcesses(ctx.snapshot)).filter((p) => isModuleProcess(p, opts.module, opts.instance));
      // A zombie has exited and only waits for its parent to reap it: it is not running.
      const running = candidates.filter((p) => p.stateLetter !== 'Z');
      if (running.length === 0) return notFound(opts, candidates);
      return found(label, running, ctx.now());
    },
  };
}

/**
 * `nlserver <module> ...` with the instance flags when an instance is asked for. argv[1] must be the
 * module itself, so commands about a module (`nlserver stop web`, `nlserver restart mta@prod`,
 * `nlserver pdump`) never match.
 */
export function isModuleProcess(p: ProcessInfo, module: string, instance?: string): boolean {
  if (p.argv[1] !== module || !isNlserver(p)) return false;
  if (instance === undefined) return true;
  return p.argv.includes(`-instance:${instance}`) || p.argv.includes(`-tracefile:${module}@${instance}`);
}

function found(label: string, running: ProcessInfo[], nowMs: number): CheckResult {
  const pids = running.map((p) => p.pid).sort((a, b) => a - b);
  // With several processes the youngest one is reported, so a process that restarted recently
  // shows up as a short uptime even when its siblings kept running.
  const youngestStartMs = Math.max(...running.map((p) => p.startedAtMs));
  const uptimeMs = Math.max(0, nowMs - youngestStartMs);
  const detail =
    running.length === 1 ? `pid ${pids[0]}, up ${formatDuration(uptimeMs)}` : `${running.length} processes, pids ${pids.join(',')}`;
  return {
    state: 'ok',
    message: `${label} running (${detail})`,
    values: { processes: running.length, uptime_seconds: Math.floor(uptimeMs / 1000) },
  };
}

function notFound(opts: ProcessCheckOptions, zombies: ProcessInfo[]): CheckResult {
  const pattern =
    opts.instance === undefined ? `nlserver ${opts.module}` : `nlserver ${opts.module} ... -instance:${opts.instance}`;
  const zombieNote =
    zombies.length === 0 ? '' : ` (only zombie${zombies.length > 1 ? 's' : ''}: pid ${zombies.map((p) => p.pid).join(',')})`;
  return {
    state: 'critical',
    message: `no '${pattern}' process found${zombieNote}`,
    values: { processes: 0, uptime_seconds: 0 },
  };
}
