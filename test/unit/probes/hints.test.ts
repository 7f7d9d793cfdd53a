import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { plugins } from '../../../probes/index.js';
import { projectRoot } from '../../../src/paths.js';

// The source table ships beside the repository (../shared/); hints must stay verbatim to it.
const TABLE = path.join(projectRoot(), '..', 'shared', 'modules-and-frequent-issues.md');

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

  test.each(plugins.map((plugin) => [plugin.module, plugin] as const))('%s carries its scope and hint verbatim', (module, plugin) => {
    expect(table.get(module)).toEqual({ scope: plugin.scope, hint: plugin.hint });
  });

  test('module names are unique and schedules have six fields', () => {
    expect(new Set(plugins.map((plugin) => plugin.module)).size).toBe(plugins.length);
    for (const plugin of plugins) expect(plugin.defaultSchedule.split(' ')).toHaveLength(6);
  });
});
