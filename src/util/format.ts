// Small helpers shared by the check primitives: names, and the text pieces of result messages.

const CHECK_NAME = /^[a-z0-9_]+$/;

/** Check names become metric label values, so they are restricted to [a-z0-9_]+ up front. */
export function assertCheckName(name: string): string {
  if (!CHECK_NAME.test(name)) {
    throw new Error(`check name must match [a-z0-9_]+, got ${JSON.stringify(name)}`);
  }
  return name;
}

const DURATION_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/**
 * `850ms`, `12s`, `5m 3s`, `1h 2m`, `2h`, `3d 4h`: the two most significant units, because a person
 * reading a status line needs the order of magnitude, not the exact second count.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let rest = Math.floor(ms / 1000);
  const counts = DURATION_UNITS.map(([unit, size]) => {
    const count = Math.floor(rest / size);
    rest -= count * size;
    return { unit, count };
  });
  const first = counts.findIndex((c) => c.count > 0);
  const [lead, next] = counts.slice(first, first + 2);
  const shown = next !== undefined && next.count > 0 ? [lead, next] : [lead];
  return shown.map((c) => `${c?.count}${c?.unit}`).join(' ');
}

/** `512 B`, `3.2 KiB`, `1.5 MiB`, `2.0 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Makes foreign text (a response body, a command's output) safe for a one-line message: control
 * characters and line breaks become spaces, runs of whitespace collapse, long text is cut with `…`.
 */
export function snippet(text: string, maxChars: number): string {
  const oneLine = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return oneLine.length > maxChars ? `${oneLine.slice(0, maxChars)}…` : oneLine;
}

/** The first non-blank line of `text`, made safe with {@link snippet}. */
export function firstLine(text: string, maxChars: number): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return snippet(line, maxChars);
}
