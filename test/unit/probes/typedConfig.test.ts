import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { z } from 'zod';
import { parseConfig } from '../../../src/config/load.js';
import { durationSchema, restartGraceShape, type ModuleConfigOf } from '../../../src/config/schema.js';
import { definePlugin } from '../../../src/core/plugin.js';
import type { Install } from '../../../src/core/contracts.js';
import { projectRoot } from '../../../src/util/paths.js';

// Probe config is typed from each plugin's own schema (definePlugin): no probe casts a config value.
// The type-level half of this file is checked by `tsc -p tsconfig.json` (npm test's typecheck, which
// includes test/): an `Assert` that is not true, or a @ts-expect-error line that compiles, fails it.

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

const FILE = '/etc/campaign-health/agent.yaml';

const shape = {
  ...restartGraceShape,
  slowResponse: durationSchema.prefault('2s'),
  relay: z.strictObject({ host: z.string(), wait: durationSchema.optional() }).optional(),
  names: z.array(z.string()).default([]),
};

let seenConfig: unknown;
let seenOwn: unknown;

const typed = definePlugin({
  module: 'typed',
  scope: 'test',
  hint: 'test',
  runsOn: 'machine',
  defaultSchedule: '*/30 * * * * *',
  expected: (_install, _instance, _config, own) => {
    type _Own = Assert<Equal<typeof own.slowResponse, number>>;
    seenOwn = own;
    return own.names.length === 0;
  },
  configShape: shape,
  checks(target) {
    const { config } = target;
    // The plugin's own keys: defaults filled in, durations in milliseconds, nested objects typed.
    type _Slow = Assert<Equal<typeof config.slowResponse, number>>;
    type _Grace = Assert<Equal<typeof config.restartGrace, number>>;
    type _Relay = Assert<Equal<typeof config.relay, { host: string; wait?: number | undefined } | undefined>>;
    type _Names = Assert<Equal<typeof config.names, string[]>>;
    // ...and the keys every module has.
    type _Timeout = Assert<Equal<typeof config.timeout, number | undefined>>;
    type _Enabled = Assert<Equal<typeof config.enabled, 'auto' | boolean>>;
    type _Restarts = Assert<Equal<NonNullable<typeof config.restarts>['window'], number>>;
    type _Whole = Assert<Equal<typeof config, ModuleConfigOf<typeof shape>>>;
    seenConfig = config;
    return [];
  },
});

/** Never called: what must not compile. */
export function mustNotCompile(config: ModuleConfigOf<typeof shape>): void {
  // @ts-expect-error a key the schema does not declare
  void config.slowresponse;
  // @ts-expect-error a duration is a number of milliseconds, not text to parse
  void config.slowResponse.endsWith('s');
  // @ts-expect-error a duration default is given as text through .prefault; .default would take milliseconds
  void durationSchema.default('5m');
  definePlugin({
    module: 'bad',
    scope: 'test',
    hint: 'test',
    runsOn: 'machine',
    defaultSchedule: '*/30 * * * * *',
    expected: () => true,
    // @ts-expect-error a plugin may not redefine a key every module has
    configShape: { timeout: z.number() },
    checks: () => [],
  });
}

const install: Install = {
  installDir: '/opt/nl6',
  found: true,
  problems: [],
  varDir: '/opt/nl6/var',
  instances: [],
  moduleAttributes: () => ({}),
  autoStart: () => false,
  confProblem: () => undefined,
  redirLogDirs: [],
};

describe('definePlugin: a probe sees its config typed and parsed', () => {
  test('checks and expected get the module block: defaults filled in, durations in milliseconds', () => {
    const config = parseConfig([typed], 'modules:\n  typed:\n    slowResponse: 1m30s\n    relay: {host: relay.example, wait: 500ms}\n', FILE);
    expect(typed.expected(install, 'default', config)).toBe(true);
    typed.checks({ module: 'typed', instance: 'default', install, config: config.modules.typed!, timeoutMs: 10_000, campaign: config.campaign });
    const expected = { enabled: 'auto', failuresBeforeCritical: 2, successesBeforeOk: 1, logErrors: { window: 900_000, critical: [], ignore: [] }, restartGrace: 300_000, slowResponse: 90_000, relay: { host: 'relay.example', wait: 500 }, names: [] };
    expect(seenConfig).toEqual(expected);
    expect(seenOwn).toEqual(expected);
  });

  test('a config parsed without the plugin: expected sees the block `{}` gives', () => {
    const config = parseConfig([], '', FILE);
    expect(typed.expected(install, 'default', config)).toBe(true);
    expect(seenOwn).toEqual({ enabled: 'auto', failuresBeforeCritical: 2, successesBeforeOk: 1, logErrors: { window: 900_000, critical: [], ignore: [] }, restartGrace: 300_000, slowResponse: 2_000, names: [] });
  });

  test('a plugin redefining a key every module has is refused when the schema is built', () => {
    expect(() => parseConfig([{ module: 'bad', configShape: { timeout: z.number() } }], '', FILE)).toThrow('modules.bad: the plugin redefines timeout, keys every module has');
  });
});

/** Type assertions (`x as T`, `<T>x`, `x!`) and parseDuration calls in a TypeScript source; `as const` is no cast. */
function castsIn(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const where = (node: ts.Node) => `${path.basename(file)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}: ${node.getText(source)}`;
  const visit = (node: ts.Node): void => {
    const constAssertion = ts.isAsExpression(node) && ts.isTypeReferenceNode(node.type) && node.type.typeName.getText(source) === 'const';
    if ((ts.isAsExpression(node) && !constAssertion) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node)) found.push(where(node));
    if (ts.isCallExpression(node) && node.expression.getText(source) === 'parseDuration') found.push(where(node));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('probes cast nothing', () => {
  test('the scan finds casts, non-null assertions and parseDuration calls (guards the scan itself)', () => {
    const text = "const a = config.logMaxAge as string;\nconst b = <number>config.port;\nconst c = parseDuration(a)!;\nconst d = ['x'] as const;\nconst e = 'run as the Campaign user';\n";
    expect(castsIn('probe.ts', text)).toEqual([
      'probe.ts:1: config.logMaxAge as string',
      'probe.ts:2: <number>config.port',
      'probe.ts:3: parseDuration(a)!',
      'probe.ts:3: parseDuration(a)',
    ]);
  });

  test('no probe in probes/ asserts a type or parses a duration itself', () => {
    const dir = path.join(projectRoot(), 'probes');
    const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    expect(files.flatMap((name) => castsIn(path.join(dir, name), readFileSync(path.join(dir, name), 'utf8')))).toEqual([]);
  });
});
