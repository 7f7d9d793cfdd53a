// Durations are written the Prometheus way (`500ms`, `10s`, `5m`, `1h30m`) so operators reuse habits.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;

/**
 * Parses a duration string to milliseconds; undefined when the text is not a duration, or names more
 * milliseconds than a number holds exactly (`9999999999h`; 400 nines would even give Infinity).
 */
export function parseDuration(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit as string]!;
  return Number.isSafeInteger(total) ? total : undefined;
}
