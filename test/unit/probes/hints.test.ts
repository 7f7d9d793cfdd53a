import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { plugins } from '../../../probes/index.js';
import { projectRoot } from '../../../src/util/paths.js';

// Adobe's table (help/production/using/modules-and-frequent-issues.md), committed as a fixture;
// hints must stay verbatim to it.
const TABLE = path.join(projectRoot(), 'test', 'fixtures', 'modules-and-frequent-issues.md');
// The team's shared copy, beside the repository where it exists (developer machines, CI).
const SHARED_TABLE = path.join(projectRoot(), '..', 'shared', 'modules-and-frequent-issues.md');

function tableRows(): Map<string, { scope: string; hint: string }> {
  const html = readFileSync(TABLE, 'utf8');
  const rows = new Map<string, { scope: string; hint: string }>();
  for (const [, body] of html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)) {
    const cells = [...body!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map(([, cell]) => toMarkdown(cell!));
    if (cells.length === 3) rows.set(cells[0]!, { scope: cells[1]!, hint: cells[2]! });
  }
  return rows;
}

function toMarkdown(cell: string): string {
  return cell
    .replace(/<br\s*\/?>/g, '')
    .replace(/<a href="([^"]+)"[^>]*>([^<]*)<\/a>/g, '[$2]($1)')
    .replace(/<strong>([^<]*)<\/strong>/g, '**$1**')
    .trim();
}

describe('probe plugins', () => {
  const table = tableRows();

  test('the table was read', () => {
    expect(table.size).toBe(11);
  });

  test('the fixture is the shared copy of the table, where that copy exists', () => {
    const shared = existsSync(SHARED_TABLE) ? readFileSync(SHARED_TABLE, 'utf8') : readFileSync(TABLE, 'utf8');
    expect(readFileSync(TABLE, 'utf8')).toBe(shared);
  });

  const modules = plugins.filter((plugin) => (plugin.kind ?? 'module') === 'module');

  test.each(modules.map((plugin) => [plugin.module, plugin] as const))('%s carries its scope and hint verbatim', (module, plugin) => {
    expect(table.get(module)).toEqual({ scope: plugin.scope, hint: plugin.hint });
  });

  test('every module of the table has a probe plugin, none is left out', () => {
    expect(modules.map((plugin) => plugin.module).sort()).toEqual([...table.keys()].sort());
  });

  test("the agent's own rows are not named like a module of the table", () => {
    const own = plugins.filter((plugin) => plugin.kind === 'host').map((plugin) => plugin.module);
    expect(own.sort()).toEqual(['nlserver', 'system']);
    for (const module of own) expect(table.has(module)).toBe(false);
  });

  test('module names are unique and schedules have six fields', () => {
    expect(new Set(plugins.map((plugin) => plugin.module)).size).toBe(plugins.length);
    for (const plugin of plugins) expect(plugin.defaultSchedule.split(' ')).toHaveLength(6);
  });
});
