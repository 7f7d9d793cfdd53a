// Shared settings and generators of the parser fuzz tests (test/fuzz/*.test.ts).
//
// Every property runs NUM_RUNS generated cases. fast-check prints the seed and the shrunk counterexample
// of a failing property; replay one with `fc.assert(prop, { seed, path, endOnFailure: true })`. Lengths
// use `size: 'max'` where the given maximum matters (fast-check's default size keeps strings and arrays
// to about 10 items).
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';

/**
 * FUZZ_RUNS if set, else 10,000. `npm test` sets 1,000 (scripts/test.mjs) unless FUZZ_RUNS is already
 * set: `FUZZ_RUNS=10000 npm test` runs the full count.
 */
export const NUM_RUNS = fuzzRuns(process.env.FUZZ_RUNS);

function fuzzRuns(text: string | undefined): number {
  if (text === undefined || text === '') return 10_000;
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got ${JSON.stringify(text)}`);
  return runs;
}

/**
 * A single case slower than this fails: a hang guard (bound), not a speed assertion. A case over it
 * is run twice more and judged by its fastest run: a loaded machine may pause one run (scheduling,
 * GC), a quadratic loop or a backtracking regex is slow every time. The slowest cases take about a
 * quarter of it on a loaded 2-core machine.
 */
export const CASE_LIMIT_MS = 1000;
const CASE_TRIES = 3;

/** Asserts a property over NUM_RUNS cases, each bounded in time. */
export function check<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void): void {
  fc.assert(
    fc.property(arbitrary, (value) => {
      let fastest = Infinity;
      for (let tries = 0; tries < CASE_TRIES && fastest >= CASE_LIMIT_MS; tries++) {
        const started = performance.now();
        predicate(value);
        fastest = Math.min(fastest, performance.now() - started);
      }
      if (fastest >= CASE_LIMIT_MS) throw new Error(`one case took ${Math.round(fastest)} ms at best of ${CASE_TRIES} runs (bound ${CASE_LIMIT_MS} ms)`);
    }),
    { numRuns: NUM_RUNS },
  );
}

/** What a call did: its value, or the error it threw (so properties can judge rejections). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A rejection is clear: an Error with a one-line, non-empty message, no `[object Object]`, no stack. */
export function expectClearError(error: unknown, maxChars = 2000): string {
  if (!(error instanceof Error)) throw new Error(`threw a non-Error: ${String(error)}`);
  const { message } = error;
  if (message.trim() === '') throw new Error('threw an Error without message');
  if (message.includes('[object Object]')) throw new Error(`message holds [object Object]: ${message}`);
  if (/\n\s+at /.test(message)) throw new Error(`message holds a stack: ${message}`);
  if (message.length > maxChars) throw new Error(`message is ${message.length} characters long`);
  return message;
}

// ---------------------------------------------------------------------------------------------
// Junk: arbitrary text, biased toward what breaks parsers.

const CONTROL = [...'\u0000\u0001\u0007\b\t\n\u000b\f\r\u001b\u007f\u0085\u00a0\u2028\u2029\ufeff'];
const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];

/** One "character" from anywhere: printable ASCII, any code point, controls, lone surrogates. */
export const anyUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...CONTROL) },
  { weight: 1, arbitrary: fc.constantFrom(...LONE_SURROGATES) },
);

/** Short arbitrary text (unicode, controls, line breaks). */
export const smallText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80, size: 'max' }),
  fc.string({ unit: 'binary', maxLength: 80, size: 'max' }),
  fc.string({ unit: anyUnit, maxLength: 80, size: 'max' }),
);

/**
 * Up to ~100 KB made of a few runs of a repeated short piece (`a~` x 40000 + `\n` x 3): cheap to build,
 * and the shape that exposes quadratic loops and regex backtracking.
 */
export function hugeTextUpTo(maxChars: number): fc.Arbitrary<string> {
  return fc
    .array(fc.tuple(fc.string({ unit: anyUnit, minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: Math.ceil(maxChars / 2.5) })), {
      minLength: 1,
      maxLength: 4,
    })
    .map((runs) => runs.map(([piece, times]) => piece.repeat(times)).join('').slice(0, maxChars));
}

export const hugeText: fc.Arbitrary<string> = hugeTextUpTo(100_000);

/** Text made of a parser's own tokens, so that junk gets deep into its grammar. */
export function tokenText(tokens: readonly string[], maxTokens = 40): fc.Arbitrary<string> {
  return fc.array(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...tokens) }, { weight: 1, arbitrary: anyUnit }), { maxLength: maxTokens, size: 'max' }).map((parts) =>
    parts.join(''),
  );
}

/** Deep nesting (`[[[[...]]]]`, `<a><a>...`): `open` and `close` repeated 1 to `max` times around `inner`. */
export function nested(pieces: ReadonlyArray<readonly [string, string]>, inner = '', max = 3000): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...pieces), fc.integer({ min: 1, max }), fc.boolean())
    .map(([[open, close], times, closed]) => `${open.repeat(times)}${inner}${closed ? close.repeat(times) : ''}`);
}

/** Valid text with a few random edits (insert, delete, replace, duplicate a slice). */
export function mutated(valid: fc.Arbitrary<string>, insertions: fc.Arbitrary<string> = smallText): fc.Arbitrary<string> {
  const edit = fc.record({
    at: fc.nat(),
    length: fc.nat({ max: 12 }),
    kind: fc.constantFrom('insert', 'delete', 'replace', 'duplicate'),
    text: insertions,
  });
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([text, edits]) => {
    let out = text;
    for (const { at, length, kind, text: piece } of edits) {
      const i = out.length === 0 ? 0 : at % (out.length + 1);
      const end = Math.min(out.length, i + length);
      if (kind === 'insert') out = out.slice(0, i) + piece + out.slice(i);
      else if (kind === 'delete') out = out.slice(0, i) + out.slice(end);
      else if (kind === 'replace') out = out.slice(0, i) + piece + out.slice(end);
      else out = out.slice(0, end) + out.slice(i, end) + out.slice(end);
    }
    return out;
  });
}

/** Everything above, weighted; `huge` sets how often (out of ~100) a text of up to `hugeChars` comes. */
export function junk(extra: ReadonlyArray<fc.Arbitrary<string>> = [], huge = 1, hugeChars = 100_000): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 40, arbitrary: smallText },
    ...extra.map((arbitrary) => ({ weight: Math.floor(58 / Math.max(1, extra.length)), arbitrary })),
    { weight: huge, arbitrary: hugeChars === 100_000 ? hugeText : hugeTextUpTo(hugeChars) },
  );
}

// ---------------------------------------------------------------------------------------------
// Small valid pieces.

/** Strings over an alphabet given as a string of characters. */
export function over(alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength, size: 'max' });
}

export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
export const ALNUM = LOWER + UPPER + DIGITS;

/** An identifier: a letter then letters, digits or `_`. */
export const identifier: fc.Arbitrary<string> = fc
  .tuple(over(LOWER + UPPER, 1, 1), over(ALNUM + '_', 0, 12))
  .map(([a, b]) => a + b);

/** Values of mixed text (printable ASCII, sometimes a non-ASCII character), without leading or trailing spaces. */
export const textValue: fc.Arbitrary<string> = fc
  .tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 30, size: 'max' }), fc.nat(), fc.constantFrom('', '', '', 'é', 'ß', '日', '😀', 'Ω'))
  .map(([ascii, at, extra]) => {
    const i = ascii.length === 0 ? 0 : at % ascii.length;
    return (ascii.slice(0, i) + extra + ascii.slice(i)).trim();
  });

/** Escapes the five XML specials. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}
