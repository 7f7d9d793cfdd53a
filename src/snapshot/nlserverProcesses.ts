import { MODULE_NAME } from '../util/names.js';
import { isNlserver } from './processes.js';
import type { ProcessInfo } from '../core/contracts.js';

const DAY_MS = 86_400_000;

/**
 * Modules the daily restart (processRestartTime) leaves alone: watchdog is what does the restarting
 * and runs for as long as Campaign does; mtachild processes belong to mta, which starts and retires
 * them itself.
 */
const NOT_RESTARTED_DAILY = new Set(['watchdog', 'mtachild']);

/** Campaign module names as nlserver's first argument: `web`, `inMail`, `wfserver`. */

export { isNlserver };

/** `wfserver@prod` for `nlserver wfserver -instance:prod ...`; undefined when not an `nlserver <module>` process. */
export function moduleLabel(p: ProcessInfo): string | undefined {
  const module = p.argv[1];
  if (!isNlserver(p) || module === undefined || !MODULE_NAME.test(module)) return undefined;
  const instance =
    p.argv.find((arg) => arg.startsWith('-instance:'))?.slice('-instance:'.length) ??
    p.argv.find((arg) => arg.startsWith(`-tracefile:${module}@`))?.slice(`-tracefile:${module}@`.length);
  return instance ? `${module}@${instance}` : module;
}

export interface Zombies {
  /** Zombies that are nlserver processes or children nlserver has not reaped. */
  campaign: ProcessInfo[];
  /** The host's other zombies: some other program's unreaped children, not Campaign's problem. */
  others: number;
}

export function findZombies(processes: readonly ProcessInfo[]): Zombies {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const zombies = processes.filter((p) => p.stateLetter === 'Z');
  const campaign = zombies.filter((p) => {
    const parent = byPid.get(p.ppid);
    return isNlserver(p) || (parent !== undefined && isNlserver(parent));
  });
  return { campaign, others: zombies.length - campaign.length };
}

export interface OldProcess {
  pid: number;
  /** `module` or `module@instance`. */
  label: string;
  ageMs: number;
}

/** The longest an nlserver module may run: one day between daily restarts, plus `graceMs`. */
export function tooOldAfterMs(graceMs: number): number {
  return DAY_MS + graceMs;
}

/**
 * `nlserver <module>` processes that outlived the daily restart: Campaign restarts every module at
 * processRestartTime, so one still running is stuck (a DB lock, a loop). Oldest first.
 */
export function findTooOld(processes: readonly ProcessInfo[], nowMs: number, maxAgeMs: number): OldProcess[] {
  const old: OldProcess[] = [];
  for (const p of processes) {
    // A zombie has already exited; the zombies check reports it.
    if (p.stateLetter === 'Z' || p.stateLetter === 'X') continue;
    const label = moduleLabel(p);
    const module = p.argv[1];
    if (label === undefined || module === undefined || NOT_RESTARTED_DAILY.has(module)) continue;
    const ageMs = nowMs - p.startedAtMs;
    if (ageMs > maxAgeMs) old.push({ pid: p.pid, label, ageMs });
  }
  return old.sort((a, b) => b.ageMs - a.ageMs || a.pid - b.pid);
}
