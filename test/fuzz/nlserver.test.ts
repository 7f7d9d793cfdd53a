// Fuzz: `nlserver pdump` and `nlserver monitor -missing` output (src/clients/nlserver/*.ts).
import { describe, test } from '@jest/globals';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KNOWN_MODULES } from '../../src/util/names.js';
import { parseMonitorMissing } from '../../src/clients/nlserver/monitorMissing.js';
import type { ParsedOutput } from '../../src/clients/nlserver/output.js';
import { parsePdump } from '../../src/clients/nlserver/pdump.js';
import { ALNUM, DIGITS, LOWER, UPPER, check, junk, mutated, over, tokenText } from './runs.js';

const MIB = 1024 * 1024;

// The banner in its documented spellings (campaign-facts §3): v7 builds, v6 builds, and the docs' template.
const BANNERS = [
  'Application server for Adobe Campaign Classic (7.3 24.1 build 9356@abc1234) of 01/03/2024',
  'Application Server for Adobe Campaign version 6.1 (build 8795) dated 05/05/2017',
  'Application server for Adobe Campaign Classic (7.X YY.R build XXX@SHA1) of DD/MM/YYYY',
];
const NO_TASKS = ['No tasks', 'No task', 'no task'];

const moduleName = fc.oneof(
  fc.constantFrom(...KNOWN_MODULES, 'mtachild'),
  fc.tuple(over(LOWER + UPPER, 1, 1), over(ALNUM + '_', 0, 10)).map(([a, b]) => a + b),
);
const instanceName = fc.tuple(over(ALNUM, 1, 1), over(ALNUM + '_-', 0, 12)).map(([a, b]) => a + b);
const clock = fc.option(
  fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), fc.constantFrom(' > ', '  >  ', ' >')).map(
    ([h, m, s, sep]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${sep}`,
  ),
  { nil: '' },
);
const space = fc.constantFrom(' ', '  ', '\t', ' \t ');
const eol = fc.constantFrom('\n', '\r\n');

interface GeneratedTask {
  module: string;
  instance?: string;
  pid: number;
  integer: string;
  decimals: string;
  comma: boolean;
  unit: 'MB' | 'Mb' | 'Mo';
}

const task: fc.Arbitrary<GeneratedTask> = fc.record(
  {
    module: moduleName,
    instance: instanceName,
    pid: fc.integer({ min: 1, max: 4_194_304 }),
    integer: fc.oneof(fc.nat({ max: 4096 }).map(String), over(DIGITS, 1, 9)),
    decimals: over(DIGITS, 0, 6),
    comma: fc.boolean(),
    unit: fc.constantFrom('MB' as const, 'Mb' as const, 'Mo' as const),
  },
  { requiredKeys: ['module', 'pid', 'integer', 'decimals', 'comma', 'unit'] },
);

function taskLine(t: GeneratedTask, sp: string): string {
  const amount = t.decimals === '' ? t.integer : `${t.integer}${t.comma ? ',' : '.'}${t.decimals}`;
  return `${t.module}${t.instance === undefined ? '' : `@${t.instance}`}${sp}(${t.pid})${sp}-${sp}${amount}${sp === '\t' ? ' ' : sp}${t.unit}`;
}

function expectedTask(t: GeneratedTask): object {
  const amount = Number(t.decimals === '' ? t.integer : `${t.integer}.${t.decimals}`);
  return { module: t.module, ...(t.instance === undefined ? {} : { instance: t.instance }), pid: t.pid, memoryBytes: Math.round(amount * MIB) };
}

const WHO = ['Connections ------------------------------------------------------', 'Last Access IP Instance Login', '25/11/2026 10:00:00 127.0.0.1 default internal|monitoring', '', 'Connection pool ----------', 'default xxxxx myserver myprovider test400'];

/** A pdump listing in the documented format, with what parsing it must give. */
const pdumpListing = fc
  .record({
    banner: fc.option(fc.constantFrom(...BANNERS), { nil: undefined }),
    tasks: fc.array(task, { maxLength: 25 }),
    noTasks: fc.constantFrom(...NO_TASKS),
    clock,
    sp: space,
    eol,
    blankLines: fc.boolean(),
    who: fc.boolean(),
    indent: fc.constantFrom('', ' ', '\t'),
  })
  .map((g) => {
    const lines: string[] = [];
    if (g.banner !== undefined) lines.push(`${g.clock}${g.banner}`);
    if (g.tasks.length === 0) lines.push(`${g.clock}${g.noTasks}`);
    for (const t of g.tasks) {
      lines.push(`${g.indent}${taskLine(t, g.sp)}`);
      if (g.blankLines) lines.push('');
    }
    if (g.who) lines.push('', ...WHO);
    return { text: lines.join(g.eol) + g.eol, g };
  });

/** A monitor -missing listing in the documented format. */
const missingListing = fc
  .record({
    banner: fc.option(fc.constantFrom(...BANNERS), { nil: undefined }),
    tasks: fc.array(
      fc.oneof(
        fc.record({ module: moduleName, instance: instanceName }),
        fc.constantFrom(...KNOWN_MODULES).map((module) => ({ module })),
      ),
      { maxLength: 20 },
    ),
    clock,
    eol,
    indent: fc.constantFrom('', ' ', '\t'),
  })
  .map((g) => {
    const lines = [...(g.banner === undefined ? [] : [`${g.clock}${g.banner}`]), ...g.tasks.map((t) => `${g.indent}${'instance' in t ? `${t.module}@${t.instance}` : t.module}`)];
    return { text: lines.join(g.eol) + g.eol, g };
  });

const PDUMP_TOKENS = ['mta', 'web', '@', 'default', ' ', '(', ')', '12', '0', '9999999999', ' - ', '-', '1.5', '7,0', ',', '.', 'MB', 'Mo', 'Mb', 'kB', 'GB', 'TB', '\n', '\r\n', '12:17:21 > ', BANNERS[0]!, 'No tasks', 'Connections ---', '\u0000', '\u001b[31m'];
const pdumpJunk = junk([mutated(pdumpListing.map((l) => l.text)), tokenText(PDUMP_TOKENS)]);
const missingJunk = junk([mutated(missingListing.map((l) => l.text)), tokenText(['mta', 'inMail', '@', 'prod', '-x', '_', '\n', ' ', 'watchdog', BANNERS[1]!, 'no task', '\t', '\u0007'])]);

/** Bounds every parse keeps, whatever the input. */
function assertBounded(parsed: ParsedOutput<unknown>, input: string): void {
  assert.ok(parsed.unexpected.length <= 10, `${parsed.unexpected.length} unexpected lines kept`);
  for (const line of parsed.unexpected) {
    assert.ok(line.length <= 120, `unexpected line of ${line.length} characters`);
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f]/);
  }
  assert.equal(typeof parsed.noTasks, 'boolean');
  if (parsed.banner !== undefined) {
    assert.match(parsed.banner, /^Application server for Adobe Campaign/i);
    assert.ok(parsed.banner.length <= input.length);
  }
  // Every entry comes from a line of its own: never more entries than lines.
  assert.ok(parsed.entries.length <= input.split('\n').length);
}

describe('fuzz: nlserver pdump', () => {
  test('documented listings round-trip: every task, instance, pid and memory (MB, Mb, Mo; decimal point or comma)', () => {
    check(pdumpListing, ({ text, g }) => {
      const parsed = parsePdump(text);
      assert.deepEqual(parsed.entries, g.tasks.map(expectedTask));
      assert.deepEqual(parsed.unexpected, []);
      assert.equal(parsed.banner, g.banner);
      assert.equal(parsed.noTasks, g.tasks.length === 0);
    });
  });

  test('any text: never throws, bounded, pids positive integers, memory finite and non-negative', () => {
    check(pdumpJunk, (text) => {
      const parsed = parsePdump(text);
      assertBounded(parsed, text);
      for (const t of parsed.entries) {
        assert.ok(Number.isSafeInteger(t.pid) && t.pid > 0, `pid ${t.pid}`);
        assert.ok(Number.isFinite(t.memoryBytes) && t.memoryBytes >= 0, `memory ${t.memoryBytes}`);
        assert.match(t.module, /^[A-Za-z][A-Za-z0-9_]*$/);
        if (t.instance !== undefined) assert.match(t.instance, /^[A-Za-z0-9][A-Za-z0-9_-]*$/);
      }
    });
  });
});

describe('fuzz: nlserver monitor -missing', () => {
  test('documented listings round-trip: module@instance and bare module names', () => {
    check(missingListing, ({ text, g }) => {
      const parsed = parseMonitorMissing(text);
      assert.deepEqual(parsed.entries, g.tasks.map((t) => ({ ...t })));
      assert.deepEqual(parsed.unexpected, []);
      assert.equal(parsed.banner, g.banner);
    });
  });

  test('any text: never throws, bounded, a bare word is a task only when it names a module', () => {
    check(missingJunk, (text) => {
      const parsed = parseMonitorMissing(text);
      assertBounded(parsed, text);
      for (const t of parsed.entries) {
        assert.match(t.module, /^[A-Za-z][A-Za-z0-9_]*$/);
        if (t.instance === undefined) assert.ok(KNOWN_MODULES.includes(t.module), `bare ${t.module} is not a module`);
        else assert.match(t.instance, /^[A-Za-z0-9][A-Za-z0-9_-]*$/);
      }
    });
  });
});
