// Judging a reading against Campaign's two thresholds, and the text pieces of the messages. Counts
// (core files, zombies) and ratios (memory used / installed) are judged the same way: at or above.

export interface Thresholds {
  warning: number;
  critical: number;
}

export interface Judgement {
  state: 'ok' | 'warning' | 'critical';
  /** The level crossed, or for ok the next one, so every message can name a threshold. */
  level: 'warning' | 'critical';
  threshold: number;
}

/** Campaign turns orange at the warning value and red at the alert value ("= 1" for cores: at, not above). */
export function judge(reading: number, thresholds: Thresholds): Judgement {
  if (reading >= thresholds.critical) return { state: 'critical', level: 'critical', threshold: thresholds.critical };
  if (reading >= thresholds.warning) return { state: 'warning', level: 'warning', threshold: thresholds.warning };
  // With warning = critical (core files: 1 and 1) the next state is critical, not a warning.
  const next = thresholds.warning < thresholds.critical ? 'warning' : 'critical';
  return { state: 'ok', level: next, threshold: thresholds.warning };
}

/** `warning at 80%`, or `critical at 2` for counts. */
export function thresholdText(judgement: Judgement, format: (value: number) => string = String): string {
  return `${judgement.level} at ${format(judgement.threshold)}`;
}

/**
 * A reading as a whole percent, rounded down: 0.799 shows `79%`, never the `80%` a warning at 80%
 * would contradict. The tiny epsilon keeps 0.29 (0.28999... in binary) from showing as 28%.
 */
export function percent(ratio: number): string {
  return `${Math.floor(ratio * 100 + 1e-9)}%`;
}

/** A threshold ratio as a percent, one decimal when it has one: `80%`, `82.5%`. */
export function thresholdPercent(ratio: number): string {
  return `${Number((ratio * 100).toFixed(1))}%`;
}

/** `pids 12, 13, 14 and 2 more`: enough to act on, bounded for a one-line message. */
export function listSome(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
