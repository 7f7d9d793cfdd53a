// Counterexamples found by test/fuzz/config.test.ts, kept as plain unit tests.
import { describe, expect, test } from '@jest/globals';
import { plugins } from '../../../probes/index.js';
import { parseDuration } from '../../../src/config/duration.js';
import { ConfigError, MAX_CONFIG_CHARS, parseConfig } from '../../../src/config/load.js';

import { FILE, problemsOf } from './problems.js';

describe('parseConfig on hostile YAML', () => {
  test('an alias to the node holding it is a ConfigError, not a TypeError from JSON.stringify', () => {
    // Was: TypeError "Converting circular structure to JSON" out of the schema's error messages.
    expect(problemsOf('listen: &a [*a]\n')).toEqual([`${FILE}: listen.0: expected a value, got a YAML alias to a node containing it`]);
    expect(problemsOf('campaign: &c {instances: [*c]}\n')).toEqual([`${FILE}: campaign.instances.0: expected a value, got a YAML alias to a node containing it`]);
    // A node used twice without a loop is fine (and then judged by the schema as usual).
    expect(problemsOf('a: &x [1]\nb: *x\n')).toEqual([`${FILE}: a: unknown key`, `${FILE}: b: unknown key`]);
  });

  test('an alias bomb is invalid YAML, not a ReferenceError', () => {
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]', 'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]'].join('\n');
    expect(problemsOf(bomb)).toEqual([`${FILE}: invalid YAML: Excessive alias count indicates a resource exhaustion attack`]);
  });

  test('keys that are not plain words are quoted: every problem stays one line naming its key', () => {
    expect(problemsOf('"": 1\n"a\\nb": 2\nmodules: {"we b": {}}\n').sort()).toEqual([
      `${FILE}: "": unknown key`,
      `${FILE}: "a\\nb": unknown key`,
      `${FILE}: modules."we b": unknown key`,
    ]);
  });

  test('a file of junk gives ten YAML errors and a count of the rest, in linear time', () => {
    const problems = problemsOf(']'.repeat(30_000));
    expect(problems).toHaveLength(11);
    expect(problems[0]).toBe(`${FILE}: invalid YAML: Unexpected flow-seq-end token in YAML document: "]" at line 1, column 1`);
    expect(problems[10]).toBe(`${FILE}: invalid YAML: 29990 more errors not shown`);
  });

  test('deep nesting is refused before the YAML library recurses: two such files used to abort Node', () => {
    // Found by test/fuzz/config.test.ts: `[[[[...` (1000 levels) overflowed the library's stack, and the
    // next deep file killed the process: "FATAL ERROR: RegExpCompiler Allocation failed - process out of memory".
    for (let round = 0; round < 3; round++) {
      expect(problemsOf('['.repeat(1000) + ']'.repeat(1000))).toEqual([`${FILE}: invalid YAML: expected at most 64 levels of nesting, got more at line 1, column 65`]);
      expect(problemsOf(`${'- '.repeat(1000)}x`)).toEqual([`${FILE}: invalid YAML: expected at most 64 levels of nesting, got more at line 1, column 128`]);
    }
    // Brackets inside quotes and comments are not nesting.
    expect(problemsOf(`listen: "${'['.repeat(500)}"  # ${'{'.repeat(500)}\n`)).toEqual([
      `${FILE}: listen: expected host:port such as 127.0.0.1:10466 or [::1]:10466 (port 0-65535), got "${'['.repeat(500)}"`,
    ]);
  });

  test('a file larger than any config is refused before parsing', () => {
    expect(problemsOf(`# ${'x'.repeat(MAX_CONFIG_CHARS)}`)).toEqual([
      `${FILE}: (top level): expected a config file of at most ${MAX_CONFIG_CHARS} characters, got ${MAX_CONFIG_CHARS + 2}`,
    ]);
  });
});

describe('parseDuration beyond exact numbers', () => {
  test('a duration with more milliseconds than a number holds exactly is no duration (was Infinity or rounded)', () => {
    expect(parseDuration('9999999999h')).toBeUndefined();
    expect(parseDuration(`${'9'.repeat(400)}d`)).toBeUndefined();
    expect(parseDuration('104249991d')).toBe(104_249_991 * 86_400_000);
    expect(problemsOf('defaults: {timeout: 9999999999h}\n')).toEqual([
      `${FILE}: defaults.timeout: expected a duration such as 500ms, 10s, 5m or 1h (longer than 0), got "9999999999h"`,
    ]);
  });
});
