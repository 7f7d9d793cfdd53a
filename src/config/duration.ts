import * as z from 'zod';

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

const UNITS_DESCENDING: readonly (readonly [string, number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** Milliseconds as a duration parseDuration reads back exactly: `1h30m`, `90000` → `1m30s`, `0ms`. */
export function durationText(ms: number): string {
  let rest = Math.max(0, Math.trunc(ms));
  let text = '';
  for (const [unit, size] of UNITS_DESCENDING) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) text += `${count}${unit}`;
  }
  return text || '0ms';
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/**
 * A config duration: written as text (`5m`), read as milliseconds. A codec, so the parsed config holds
 * numbers of ms while `z.encode` gives text back (`config check` prints durations as durations).
 * `examples` is what the messages quote, e.g. `500ms, 10s, 5m or 1h`.
 *
 * Defaults go through `.prefault('5m')` (the text, parsed like a written value); zod's `.default()`
 * takes an output, so `.default('5m')` does not type-check.
 */
export function durationCodec(examples: string) {
  const text = z
    .string({ error: (issue) => `expected a duration such as ${examples}, got ${show(issue.input)}` })
    .refine((value) => (parseDuration(value) ?? 0) > 0, {
      error: (issue) => `expected a duration such as ${examples} (longer than 0), got ${show(issue.input)}`,
    });
  // The refine (a non-aborting issue, so sibling and object checks still report) admits only texts
  // parseDuration reads as more than 0 ms: decode is never given another, the 0 is unreachable.
  return z.codec(text, z.number(), { decode: (value) => parseDuration(value) ?? 0, encode: durationText });
}

/**
 * A duration where 0 means off (`confirmAfter: 0`): written `0`, `0s` or as any duration, read as
 * milliseconds. YAML reads a bare `0` as a number, hence the one number admitted.
 */
export function durationOrOffCodec(examples: string, maxMs: number) {
  const expected = (input: unknown): string => `expected a duration such as ${examples} (at most ${durationText(maxMs)}), or 0 for off, got ${show(input)}`;
  // The bound also keeps the value a valid timer delay (setTimeout fires at once past 2^31 - 1 ms).
  const text = z
    .union([z.literal(0), z.string()], { error: (issue) => expected(issue.input) })
    .refine((value) => value === 0 || (parseDuration(value) ?? Infinity) <= maxMs, { error: (issue) => expected(issue.input) });
  return z.codec(text, z.number(), { decode: (value) => (value === 0 ? 0 : (parseDuration(value) ?? 0)), encode: durationText });
}
