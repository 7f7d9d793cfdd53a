import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { Row } from '../../src/core/plan.js';
import type { CheckOutcome } from '../../src/core/runner.js';
import { StatusStore, type RowStatus } from '../../src/core/store.js';
import type { ProbePlugin } from '../../src/core/plugin.js';
import { escapeHtml, hintSegments, REFRESH_SECONDS, STATUS_PAGE_CSP, statusPage } from '../../src/output/statusPage.js';

const plugin = (module: string, hint: string, scope = `scope of ${module}`): ProbePlugin => ({
  module,
  scope,
  hint,
  runsOn: 'machine',
  defaultSchedule: '*/30 * * * * *',
  expected: () => true,
  checks: () => [],
});
const WEB_HINT = "Check this module if the console and web connections don't work and trigger an **xtk:session** type error";
const WF_HINT = 'If you encounter any problems, restart this module. If necessary, apply the procedure to increase precision of logs detailed in the [Log precision](../../production/using/log-precision.md) section.';
const planRow = (module: string, hint: string, instance = 'default', enabled = true): Row => {
  const p = plugin(module, hint);
  return { key: `${module}@${instance}`, module, instance, plugin: p, enabled, note: enabled ? '' : 'not enabled on this host', schedule: p.defaultSchedule, timeoutMs: 1000, intervalMs: 30_000, failuresBeforeCritical: 1, successesBeforeOk: 1, confirmAfterMs: 0, checks: [] };
};
const outcome = (name: string, state: CheckOutcome['state'], message: string): CheckOutcome => ({ name, state, message, durationMs: 1, lastRun: 0, values: {}, labels: {} });
const info = { version: '1.2.3', startedAt: Date.UTC(2026, 10, 25, 16, 58) };
const NOW = Date.UTC(2026, 10, 25, 17, 2, 3);

const HOSTILE = `<script>alert(1)</script> "quoted" 'single' & <img src=x onerror=alert(2)>`;

/** web critical (hostile detail), watchdog ok, wfserver warning, export disabled. */
function rows(): RowStatus[] {
  const store = new StatusStore(() => 0);
  const web = planRow('web', WEB_HINT);
  const watchdog = planRow('watchdog', 'Check this module if no processes start.');
  const wfserver = planRow('wfserver', WF_HINT, 'prod');
  const exported = planRow('export', 'The operator who scheduled this export needs to re-launch it.', 'prod', false);
  store.sync([watchdog, web, wfserver, exported], NOW - 65_000);
  store.record(watchdog, [outcome('process', 'ok', 'running')], NOW - 65_000);
  store.record(web, [outcome('r_test', 'critical', HOSTILE)], NOW - 65_000);
  store.record(wfserver, [outcome('log', 'warning', 'wfserver.log not written for 26h')], NOW - 1000);
  return store.all();
}

/** The <tr> of one row, located by its module name. */
function rowHtml(page: string, module: string): string {
  const found = page.match(new RegExp(`<tr id="row-${module}@[^"]*"[\\s\\S]*?</tr>`));
  if (!found) throw new Error(`no row ${module} in\n${page}`);
  return found[0];
}

describe('status page', () => {
  test('module text is rendered inert: no tag, attribute or entity from a detail survives unescaped', () => {
    const page = statusPage(rows(), info, NOW);
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('"quoted"');
    expect(rowHtml(page, 'web')).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &#39;single&#39; &amp; &lt;img src=x onerror=alert(2)&gt;',
    );
  });

  test('escapeHtml covers the five special characters and drops control characters', () => {
    expect(escapeHtml(`a<b>c&d"e'f`)).toBe('a&lt;b&gt;c&amp;d&quot;e&#39;f');
    expect(escapeHtml('x\u0000y\u001bz\ttab')).toBe('x y z\ttab');
    // Already-escaped text is escaped again: it is text, not markup.
    expect(escapeHtml('&lt;')).toBe('&amp;lt;');
  });

  test('names, instances and the version are escaped too', () => {
    const store = new StatusStore(() => 0);
    const odd = planRow('web', WEB_HINT, '<b>"x"</b>');
    store.sync([odd], 0);
    const page = statusPage(store.all(), { ...info, version: '<i>9</i>' }, NOW);
    expect(page).not.toContain('<b>');
    expect(page).not.toContain('<i>9');
    expect(page).toContain('&lt;b&gt;&quot;x&quot;&lt;/b&gt;');
  });

  test('title and banner carry the overall state; the banner names the failing rows worst first', () => {
    const page = statusPage(rows(), info, NOW);
    expect(page).toMatch(/<title>CRITICAL · Campaign health<\/title>/);
    expect(page).toMatch(/<header class="banner state-critical"[^>]*>\s*<h1>Campaign health: <span class="overall">CRITICAL<\/span><\/h1>/);
    expect(page).toContain('1 critical, 1 warning, 1 ok, 1 disabled. Failing: <a href="#row-web@default">web@default</a>, <a href="#row-wfserver@prod">wfserver@prod</a>');
  });

  test('each row: badge with a text label, since relative with the ISO time in its title, detail', () => {
    const web = rowHtml(statusPage(rows(), info, NOW), 'web');
    expect(web).toContain('<span class="badge state-critical">CRITICAL</span>');
    const since = new Date(NOW - 65_000).toISOString();
    expect(web).toContain(`<time datetime="${since}" title="${since}">1m 5s ago</time>`);
    expect(web).toContain('<span class="module">web</span>');
    expect(web).toContain('<td data-label="Instance">default</td>');
  });

  test('failing rows show the hint on its own line, Markdown as strong text, links to Adobe\'s pages only', () => {
    const page = statusPage(rows(), info, NOW);
    expect(rowHtml(page, 'web')).toContain(
      "<p class=\"hint\"><span class=\"hint-label\">What to do:</span> Check this module if the console and web connections don&#39;t work and trigger an <strong>xtk:session</strong> type error</p>",
    );
    const wf = rowHtml(page, 'wfserver');
    expect(wf).toContain('<span class="badge state-warning">WARNING</span>');
    // The store resolved the table's relative link to Adobe's published page; the page links it.
    expect(wf).toContain(
      'detailed in the <a href="https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/troubleshooting-toc/working-with-log-toc/log-precision" rel="noreferrer">Log precision</a> section.</p>',
    );
    expect(wf).not.toContain('log-precision.md');
  });

  test('a link that is not absolute https keeps its label only', () => {
    expect(hintSegments('see [the docs](../../x.md) or [that](javascript:alert%281%29)')).toEqual([{ text: 'see the docs or that', kind: 'text' }]);
  });

  test('ok and disabled rows have no hint; disabled rows are greyed and say why', () => {
    const page = statusPage(rows(), info, NOW);
    expect(rowHtml(page, 'watchdog')).not.toContain('class="hint"');
    const exported = rowHtml(page, 'export');
    expect(exported).toContain('class="row-disabled"');
    expect(exported).toContain('<span class="badge state-disabled">DISABLED</span>');
    expect(exported).toContain('not enabled on this host');
    expect(exported).not.toContain('class="hint"');
    expect(exported).not.toContain('re-launch');
  });

  test('refreshes itself, links to the other endpoints relatively, shows version and generation time', () => {
    const page = statusPage(rows(), info, NOW);
    expect(page).toContain(`<meta http-equiv="refresh" content="${REFRESH_SECONDS}">`);
    expect(page).toContain('<a href="./status">JSON</a>');
    expect(page).toContain('<a href="./metrics">Prometheus metrics</a>');
    expect(page).toContain('campaign-health-agent 1.2.3');
    expect(page).toContain(`Generated <time datetime="${new Date(NOW).toISOString()}">`);
    expect(page.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
  });

  test('nothing planned yet is UNKNOWN, not OK', () => {
    const page = statusPage([], info, NOW);
    expect(page).toContain('<title>UNKNOWN · Campaign health</title>');
    expect(page).toContain('No modules planned yet.');
  });

  test('the CSP allows exactly the page stylesheet (by hash), no script, nothing else', () => {
    const page = statusPage(rows(), info, NOW);
    const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => match[1]!);
    expect(styles).toHaveLength(1);
    const hash = createHash('sha256').update(styles[0]!, 'utf8').digest('base64');
    expect(STATUS_PAGE_CSP).toBe(`default-src 'none'; style-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
    // A hash does not cover style attributes: the page must not rely on any.
    expect(page).not.toMatch(/\sstyle=/);
    // The hostile detail's onerror= is still there, but as text: never inside a tag.
    expect(page).not.toMatch(/<script|<[^>]*\son[a-z]+=/i);
  });
});

describe('hint segments', () => {
  test('bold, code and links; everything else is text', () => {
    expect(hintSegments('Run `nlserver pdump` for **xtk:session**, see [Log precision](../a.md#x).')).toEqual([
      { text: 'Run ', kind: 'text' },
      { text: 'nlserver pdump', kind: 'code' },
      { text: ' for ', kind: 'text' },
      { text: 'xtk:session', kind: 'strong' },
      { text: ', see Log precision.', kind: 'text' },
    ]);
    expect(hintSegments('a ** b')).toEqual([{ text: 'a ** b', kind: 'text' }]);
  });

  test('markup inside a hint stays text', () => {
    const store = new StatusStore(() => 0);
    const row = planRow('web', '**<b>x</b>** [<i>y</i>](javascript:void) `<u>`');
    store.sync([row], 0);
    store.record(row, [outcome('process', 'critical', 'gone')], 0);
    const hint = statusPage(store.all(), info, NOW).match(/<p class="hint">.*<\/p>/)![0];
    expect(hint).toBe('<p class="hint"><span class="hint-label">What to do:</span> <strong>&lt;b&gt;x&lt;/b&gt;</strong> &lt;i&gt;y&lt;/i&gt; <code>&lt;u&gt;</code></p>');
  });
});
