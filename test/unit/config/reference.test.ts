import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { plugins } from '../../../probes/index.js';
import { buildConfigSchema } from '../../../src/config/schema.js';
import { projectRoot } from '../../../src/util/paths.js';

// The configuration reference (docs/configuration.md) is written by hand for people, and checked here against the
// schema the agent actually enforces: every key is documented, nothing documented is invented, and
// every default shown is the real one.

interface Leaf {
  key: string;
  default?: unknown;
}

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; defaultValue?: unknown };
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Every configurable key of the schema: scalars, lists and maps are leaves; objects are walked. */
function leaves(schema: z.ZodType, key: string, found: Leaf[], inherited?: unknown): void {
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      for (const [name, child] of Object.entries(def.shape!)) leaves(child, key ? `${key}.${name}` : name, found);
      return;
    case 'optional':
    case 'nullable':
      return leaves(def.innerType!, key, found, inherited);
    case 'default':
    case 'prefault':
      return leaves(def.innerType!, key, found, def.defaultValue);
    case 'pipe':
      return leaves(def.in!, key, found, inherited);
    case 'array': {
      found.push({ key, ...(inherited === undefined ? {} : { default: inherited }) });
      if (defOf(def.element!).type === 'object') leaves(def.element!, `${key}[]`, found);
      return;
    }
    case 'union': {
      const object = def.options!.find((option) => defOf(option).type === 'object');
      if (object) return leaves(object, key, found, inherited);
      found.push({ key, ...(inherited === undefined ? {} : { default: inherited }) });
      return;
    }
    default:
      found.push({ key, ...(inherited === undefined ? {} : { default: inherited }) });
  }
}

/** Keys every module accepts, and the job fields shared by export, import and tracking, are documented once. */
function documentedAs(key: string): string {
  return key
    .replace(/^modules\.[A-Za-z]+\.(enabled|schedule|timeout|restartGrace|failuresBeforeCritical|successesBeforeOk|confirmAfter|restarts\.[A-Za-z]+|logErrors\.[A-Za-z]+)$/, 'modules.<name>.$1')
    .replace(/^modules\.(export|import|tracking)\.jobs\[\]\./, 'modules.<job module>.jobs[].');
}

function schemaKeys(): Map<string, unknown> {
  const found: Leaf[] = [];
  leaves(buildConfigSchema(plugins) as unknown as z.ZodType, '', found);
  const keys = new Map<string, unknown>();
  for (const leaf of found) {
    const key = documentedAs(leaf.key);
    if (!keys.has(key) || leaf.default !== undefined) keys.set(key, leaf.default);
  }
  return keys;
}

function readmeRows(): Map<string, string> {
  const readme = readFileSync(path.join(projectRoot(), 'docs', 'configuration.md'), 'utf8');
  const start = readme.indexOf('\n## Configuration reference\n');
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, string>();
  for (const [, key, cell] of section.matchAll(/^\| `([^`]+)` \| ([^|]*) \|/gm)) rows.set(key!, cell!.trim());
  return rows;
}

/** How a default is written in the table: strings in backticks, numbers and booleans plain, lists as `[]`. */
function shown(value: unknown): string {
  if (typeof value === 'string') return `\`${value}\``;
  if (Array.isArray(value) && value.length === 0) return '`[]`';
  return String(value);
}

describe('configuration reference (docs/configuration.md)', () => {
  const keys = schemaKeys();
  const rows = readmeRows();

  test('the schema walk finds the keys (guards the walk itself)', () => {
    expect(keys.get('listen')).toBe('127.0.0.1:10466');
    expect(keys.get('modules.system.load.warning')).toBe(0.8);
    expect(keys.has('modules.<job module>.jobs[].maxAge')).toBe(true);
    expect(keys.size).toBeGreaterThan(60);
  });

  test('every key of the schema is documented', () => {
    expect([...keys.keys()].filter((key) => !rows.has(key))).toEqual([]);
  });

  test('nothing documented is unknown to the schema', () => {
    expect([...rows.keys()].filter((key) => !keys.has(key))).toEqual([]);
  });

  test('every documented default is the real default', () => {
    const wrong = [...keys]
      .filter(([key, value]) => value !== undefined && rows.get(key) !== shown(value))
      .map(([key, value]) => `${key}: docs/configuration.md says ${rows.get(key)}, schema says ${shown(value)}`);
    expect(wrong).toEqual([]);
  });

  test('the embedded template config/agent.yaml names every module and section', () => {
    const template = readFileSync(path.join(projectRoot(), 'config', 'agent.yaml'), 'utf8');
    for (const plugin of plugins) expect(template).toMatch(new RegExp(`^  ${plugin.module}:`, 'm'));
    for (const section of ['listen:', 'logLevel:', 'campaign:', 'defaults:', 'modules:']) expect(template).toContain(section);
  });
});
