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

/** A process still alive: a zombie (Z) or a dead one (X) has already exited; the zombies check reports it. */
export function isAlive(p: ProcessInfo): boolean {
  return p.stateLetter !== 'Z' && p.stateLetter !== 'X';
}

export function processAgeMs(p: ProcessInfo, nowMs: number): number {
  return Math.max(0, nowMs - p.startedAtMs);
}

/**
 * The one "processes too old" rule, shared by the system row and the per-module process_age checks: a
 * live process that has run longer than `maxAgeMs` (tooOldAfterMs for resident modules).
 */
export function isTooOld(p: ProcessInfo, nowMs: number, maxAgeMs: number): boolean {
  return isAlive(p) && processAgeMs(p, nowMs) > maxAgeMs;
}

/**
 * `nlserver <module>` processes that outlived the daily restart: Campaign restarts every module at
 * processRestartTime, so one still running is stuck (a DB lock, a loop). Oldest first.
 */
export function findTooOld(processes: readonly ProcessInfo[], nowMs: number, maxAgeMs: number): OldProcess[] {
  const old: OldProcess[] = [];
  for (const p of processes) {
    const label = moduleLabel(p);
    const module = p.argv[1];
    if (label === undefined || module === undefined || NOT_RESTARTED_DAILY.has(module)) continue;
    if (isTooOld(p, nowMs, maxAgeMs)) old.push({ pid: p.pid, label, ageMs: processAgeMs(p, nowMs) });
  }
  return old.sort((a, b) => b.ageMs - a.ageMs || a.pid - b.pid);
}
