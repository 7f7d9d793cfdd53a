import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { formatDuration } from '../util/format.js';

export interface RestartGraceOptions {
  /** serverConf `processRestartTime`, server local time `HH:MM[:SS]`; Campaign's default is 06:00:00. */
  restartTime: string | undefined;
  graceMs: number;
}

const DEFAULT_RESTART_TIME = '06:00:00';
const DAY_MS = 86_400_000;

/**
 * Campaign restarts every module daily at processRestartTime: PIDs change and the module is briefly
 * gone. Inside [restartTime, restartTime + grace] a critical result of the wrapped checks is only a
 * warning, so the daily restart is not paged as an outage, yet stays visible.
 */
export function withRestartGrace(checks: Check[], opts: RestartGraceOptions): Check[] {
  const offsetMs = parseTimeOfDay(opts.restartTime) ?? (parseTimeOfDay(DEFAULT_RESTART_TIME) as number);
  if (opts.graceMs <= 0) return checks;
  const window = `daily restart at ${formatTimeOfDay(offsetMs)}, grace ${formatDuration(opts.graceMs)}`;
  return checks.map((check) => ({
    ...check,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const result = await check.run(ctx);
      if (result.state !== 'critical' || !inWindow(ctx.now(), offsetMs, opts.graceMs)) return result;
      return { ...result, state: 'warning', message: `${result.message} (${window}: warning, not critical)` };
    },
  }));
}

/** Is `now` (server local time) within grace after today's, or yesterday's, restart time? */
export function inWindow(nowMs: number, offsetMs: number, graceMs: number): boolean {
  const local = new Date(nowMs);
  const sinceMidnight = ((local.getHours() * 60 + local.getMinutes()) * 60 + local.getSeconds()) * 1000 + local.getMilliseconds();
  // A window that starts late in the evening runs past midnight.
  const sinceRestart = (sinceMidnight - offsetMs + DAY_MS) % DAY_MS;
  return sinceRestart <= graceMs;
}

export function parseTimeOfDay(text: string | undefined): number | undefined {
  const match = text === undefined ? null : /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!match) return undefined;
  const [hours, minutes, seconds] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  return ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

function formatTimeOfDay(offsetMs: number): string {
  const total = Math.floor(offsetMs / 1000);
  return [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60].map((n) => String(n).padStart(2, '0')).join(':');
}
