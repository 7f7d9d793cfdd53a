// Fuzz: the agent's YAML config (parseConfig) and durations (parseDuration).
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { plugins } from '../../probes/index.js';
import { parseDuration } from '../../src/config/duration.js';
import { ConfigError, MAX_CONFIG_CHARS, parseConfig } from '../../src/config/load.js';
import { ALNUM, DIGITS, LOWER, attempt, check, hugeTextUpTo, identifier, junk, mutated, nested, over, smallText, tokenText } from './runs.js';

const FILE = '/etc/campaign-health/agent.yaml';
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNITS;

/** A duration as written (`1h30m`, `500ms`) and its milliseconds. */
const duration = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom<Unit>('ms', 's', 'm', 'h', 'd')), { minLength: 1, maxLength: 3 })
  .filter((parts) => parts.some(([n]) => n > 0))
  .map((parts) => ({ text: parts.map(([n, u]) => `${n}${u}`).join(''), ms: parts.reduce((sum, [n, u]) => sum + n * UNITS[u], 0) }));

/** A duration value of a generated config: the YAML holds `text`, the parsed config `ms`. */
class DurationValue {
  constructor(
    readonly text: string,
    readonly ms: number,
  ) {}
}
const durationValue = duration.map((d) => new DurationValue(d.text, d.ms));

const cron = fc.oneof(
  fc.integer({ min: 1, max: 59 }).map((n) => `*/${n} * * * * *`),
  fc.tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 30 })).map(([s, m]) => `${s} */${m} * * * *`),
  fc.constantFrom('0 0 6 * * *', '*/30 * * * * *', '0 0 * * * mon-fri'),
);
const port = fc.integer({ min: 1, max: 65535 });
const absPath = fc.array(over(ALNUM + '._-', 1, 10), { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
const instanceName = fc.tuple(over(ALNUM, 1, 1), over(ALNUM + '_-', 0, 10)).map(([a, b]) => a + b);
const enabled = fc.constantFrom<'auto' | boolean>('auto', true, false);
const host = fc.oneof(fc.constantFrom('relay.example.com', 'localhost', '10.0.0.25', '::1'), over(LOWER + DIGITS, 1, 12));

/** A valid config as a JS object: a few keys of each level, with valid values. */
const validConfig = fc.record(
  {
    listen: fc.tuple(fc.constantFrom('127.0.0.1', 'localhost', '0.0.0.0', '[::1]'), fc.integer({ min: 0, max: 65535 })).map(([h, p]) => `${h}:${p}`),
    logLevel: fc.constantFrom('fatal', 'error', 'warn', 'info', 'debug', 'trace'),
    campaign: fc.record(
      {
        installDir: absPath,
        nlserverView: enabled,
        nlserverTimeout: durationValue,
        instances: fc.uniqueArray(instanceName, { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
    defaults: fc.record({ timeout: durationValue, schedule: cron }, { requiredKeys: [] }),
    modules: fc.record(
      {
        watchdog: fc.record({ enabled }, { requiredKeys: [] }),
        syslogd: fc.record({ enabled, port, restartGrace: durationValue }, { requiredKeys: [] }),
        web: fc.record({ enabled, rTest: fc.boolean(), soap: fc.boolean(), slowResponse: durationValue, schedule: cron }, { requiredKeys: [] }),
        mta: fc.record({ logMaxAge: durationValue, smtp: fc.record({ host, port }) }, { requiredKeys: [] }),
        trackinglogd: fc.record({ growthWarning: durationValue, glob: fc.constantFrom('0x*.log', '*.log') }, { requiredKeys: [] }),
        system: fc.record({ enabled, timeout: durationValue }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

/**
 * Plain objects (fc.record gives null-prototype ones), for YAML and deep comparison, with durations as
 * written (`text`) or as the parsed config holds them (`ms`).
 */
const plainAs =
  (durations: 'text' | 'ms') =>
  (value: unknown): unknown =>
    value instanceof DurationValue
      ? value[durations]
      : Array.isArray(value)
        ? value.map(plainAs(durations))
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainAs(durations)(v)]))
          : value;

// A small YAML writer (YAML.stringify costs more than the parse under test): JSON is YAML, so flow style is
// JSON.stringify; block style writes plain scalars where they are safe and JSON-quoted ones elsewhere.
const RESERVED_PLAIN = /^(?:true|false|null|yes|no|on|off|y|n|~)$/i;

function scalar(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan';
  if (typeof value === 'string' && /^[A-Za-z/][A-Za-z0-9_./:@-]*$/.test(value) && !RESERVED_PLAIN.test(value)) return value;
  return JSON.stringify(value) ?? 'null';
}

const isNode = (value: unknown): value is object => value !== null && typeof value === 'object';

function block(value: Record<string, unknown>, indent: string, comment: string): string {
  return Object.entries(value)
    .map(([key, child]) => {
      const head = `${indent}${scalar(key)}:`;
      if (!isNode(child) || Object.keys(child).length === 0) return `${head} ${isNode(child) ? (Array.isArray(child) ? '[]' : '{}') : scalar(child)}${comment}\n`;
      if (Array.isArray(child)) return `${head}${comment}\n${child.map((item) => `${indent}  - ${isNode(item) ? JSON.stringify(item) : scalar(item)}\n`).join('')}`;
      return `${head}${comment}\n${block(child as Record<string, unknown>, `${indent}  `, comment)}`;
    })
    .join('');
}

function yamlOf(value: Record<string, unknown>, style: 'block' | 'flow' | 'comments'): string {
  if (style === 'flow') return `${JSON.stringify(value)}\n`;
  return style === 'comments' ? `# agent.yaml\n---\n${block(value, '', '  # note')}` : block(value, '', '');
}

/** Renders a config object as YAML in one of several styles; `config` is what parsing it must give (durations in ms). */
const rendered = fc.tuple(validConfig, fc.constantFrom<'block' | 'flow' | 'comments'>('block', 'flow', 'comments')).map(([config, style]) => ({
  config: plainAs('ms')(config) as Record<string, unknown>,
  text: yamlOf(plainAs('text')(config) as Record<string, unknown>, style),
}));

/** Every leaf of `expected` is found at the same place in `actual`. */
function assertContains(actual: unknown, expected: unknown, where = ''): void {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.ok(actual !== null && typeof actual === 'object', `${where} is not a mapping`);
    for (const [key, value] of Object.entries(expected)) assertContains((actual as Record<string, unknown>)[key], value, `${where}.${key}`);
  } else {
    assert.deepEqual(actual, expected, where);
  }
}

// Breaking a valid config: one edit at a key path, and whether the result must be refused.
const WRONG_VALUES: unknown[] = [5, -1, 0, 1.5, 'x', '', 'ten seconds', '10', '* * * * *', true, null, [], ['a'], {}, { a: 1 }, '\n', 'C:\\nl6', '🙂', 1e400, 'localhost:99999'];
const LEAVES = [
  ['listen'], ['logLevel'], ['campaign', 'installDir'], ['campaign', 'nlserverView'], ['campaign', 'nlserverTimeout'], ['campaign', 'instances'],
  ['defaults', 'timeout'], ['defaults', 'schedule'], ['modules', 'web', 'enabled'], ['modules', 'web', 'rTest'], ['modules', 'web', 'slowResponse'],
  ['modules', 'mta', 'smtp', 'port'], ['modules', 'mta', 'smtp', 'host'], ['modules', 'syslogd', 'port'], ['modules', 'export', 'jobs'], ['campaign', 'soap', 'login'],
  ['modules', 'tracking', 'redirectionUrl'], ['modules', 'tracking', 'workflow', 'internalName'], ['modules', 'inMail', 'pop3', 'maxMessages'],
  ['modules'], ['campaign'], ['defaults'], ['modules', 'web'],
];
const unknownKey = fc.oneof(identifier, fc.constantFrom('webb', 'baseURL', 'a b', 'key\nwith a line break', 'tab\there', '__proto__', 'constructor', 'ключ', '', ':', '[object Object]'));

const broken = fc
  .record({
    config: validConfig.map(plainAs('text')),
    edits: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('wrong' as const), at: fc.constantFrom(...LEAVES), value: fc.constantFrom(...WRONG_VALUES) }),
        fc.record({ kind: fc.constant('unknown' as const), at: fc.constantFrom([], ['campaign'], ['modules'], ['modules', 'web'], ['defaults']), key: unknownKey }),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ config, edits }) => {
    const root = config as Record<string, unknown>;
    for (const edit of edits) {
      const path = edit.kind === 'wrong' ? edit.at.slice(0, -1) : edit.at;
      let node = root;
      for (const key of path) {
        const next = node[key];
        node[key] = next !== null && typeof next === 'object' && !Array.isArray(next) ? next : {};
        node = node[key] as Record<string, unknown>;
      }
      if (edit.kind === 'wrong') node[edit.at[edit.at.length - 1]!] = structuredClone(edit.value);
      else Object.defineProperty(node, edit.key, { value: 1, enumerable: true, writable: true, configurable: true });
    }
    return yamlOf(root, 'block');
  });

const YAML_TOKENS = ['listen: ', 'modules:\n', '  web:\n', '    enabled: ', 'true', 'auto', '5s', '{', '}', '[', ']', ': ', '- ', '\n', '  ', '"', "'", '#', '&a ', '*a', '!!str ', '!!binary ', '? ', '---\n', '...\n', '|\n', '>\n', '%YAML 1.2\n', '<<: *a', '\t', 'campaign:', 'installDir: /x', 'null', '~', '0x1F', '.inf', '1e400'];

/** A problem line: `<file>: ` then `invalid YAML: ...`, or a key (or `(top level)`) and what was wrong. */
const PROBLEM = new RegExp(`^${FILE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: (invalid YAML: \\S[^\\n]*|\\(top level\\): \\S[^\\n]*|[^\\s:][^\\n]*?: \\S[^\\n]*)$`);

function assertClearConfigError(error: unknown): void {
  assert.ok(error instanceof ConfigError, `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  assert.equal(error.file, FILE);
  assert.ok(error.problems.length > 0);
  for (const problem of error.problems) {
    assert.match(problem, PROBLEM);
    assert.ok(!problem.includes('[object Object]') || problem.includes('"[object Object]"'), problem);
    assert.ok(!/\n\s+at /.test(problem), `stack in ${problem}`);
  }
}

describe('fuzz: YAML config', () => {
  test('valid configs round-trip in block (plain and quoted scalars), flow and commented YAML: every value given comes out', () => {
    check(rendered, ({ config, text }) => {
      const parsed = parseConfig(plugins, text, FILE);
      assertContains(parsed, config);
      assert.ok(parsed.campaign.nlserver.startsWith('/'));
    });
  });

  test('broken configs (wrong types and values, unknown keys) are refused with one clear line per problem', () => {
    check(broken, (text) => {
      const outcome = attempt(() => parseConfig(plugins, text, FILE));
      // An edit may land on a value that is still valid (`0` for listen's port...): only a throw is judged.
      if (!outcome.ok) assertClearConfigError(outcome.error);
    });
  });

  test('any text and mutated configs: a config, or a ConfigError whose every line names the file and a key', () => {
    // Huge texts: past MAX_CONFIG_CHARS (refused at once) or below it, where the YAML library takes ~20 µs
    // per error token; 24 KiB keeps a case of `]]]...` far under the 1 s bound on a busy runner.
    const huge = fc.oneof(hugeTextUpTo(24 * 1024), fc.tuple(smallText, fc.integer({ min: MAX_CONFIG_CHARS + 1, max: 100_000 })).map(([t, n]) => t.padEnd(n, 'x')));
    // Deep nesting: the YAML library recurses per level (two overflows in one process aborted Node).
    const deep = fc.oneof(
      nested([['[', ']'], ['{a: ', '}'], ['- ', ''], ['? ', ''], ['- [', ']'], ['[{a: ', '}]']], 'x', 1200),
      fc.integer({ min: 1, max: 300 }).map((n) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n')),
    );
    check(fc.oneof({ weight: 99, arbitrary: junk([mutated(rendered.map((r) => r.text)), tokenText(YAML_TOKENS), deep], 0) }, { weight: 1, arbitrary: huge }), (text) => {
      const outcome = attempt(() => parseConfig(plugins, text, FILE));
      if (!outcome.ok) assertClearConfigError(outcome.error);
    });
  });
});

describe('fuzz: parseDuration', () => {
  test('durations round-trip to milliseconds', () => {
    check(duration, ({ text, ms }) => {
      assert.equal(parseDuration(text), ms);
    });
  });

  test('any text: undefined or a safe non-negative whole number of milliseconds, never NaN, never a throw', () => {
    const digits = fc.tuple(fc.integer({ min: 1, max: 400 }), fc.constantFrom('ms', 's', 'm', 'h', 'd')).map(([n, u]) => `${'9'.repeat(n)}${u}`);
    check(junk([digits, mutated(duration.map((d) => d.text)), tokenText(['1', '0', '10', 'ms', 's', 'm', 'h', 'd', ' ', '-', '.', 'e', 'µs', 'Infinity'])]), (text) => {
      const ms = parseDuration(text);
      if (ms !== undefined) assert.ok(Number.isSafeInteger(ms) && ms >= 0, `${JSON.stringify(text.slice(0, 40))} gave ${ms}`);
    });
  });
});
