import { describe, expect, test } from '@jest/globals';
import { eventRowKey, type HistoryEvent } from '../../../src/history/event.js';
import { EventLog } from '../../../src/history/eventLog.js';
import type { Span } from '../../../src/history/timeline.js';
import { FLAP_CHANGES_PER_HOUR, isFlapping, MIN_FAILING_WIDTH, STRIP_MS, stripRects, stripSvg } from '../../../src/output/strip.js';
import { StatusStore } from '../../../src/core/store.js';
import type { Row } from '../../../src/core/plan.js';
import type { ProbePlugin } from '../../../src/core/plugin.js';
import { STATUS_PAGE_CSP, statusPage } from '../../../src/output/statusPage.js';
import type { State } from '../../../src/core/contracts.js';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const HOUR = 3_600_000;
const MIN = 60_000;
const since = NOW - STRIP_MS;
const span = (start: number, end: number, state: Span['state']): Span => ({ start, end, state });

describe('the 24-hour strip', () => {
  test('geometry: one viewBox unit per minute, failing spans drawn last', () => {
    const rects = stripRects(
      [span(since, since + 6 * HOUR, 'none'), span(since + 6 * HOUR, since + 12 * HOUR, 'ok'), span(since + 12 * HOUR, since + 13 * HOUR, 'critical'), span(since + 13 * HOUR, since + 14 * HOUR, 'down'), span(since + 14 * HOUR, NOW, 'ok')],
      NOW,
    );
    expect(rects.map(({ x, width, state }) => ({ x, width, state }))).toEqual([
      { x: 0, width: 360, state: 'none' },
      { x: 360, width: 360, state: 'ok' },
      { x: 780, width: 60, state: 'down' },
      { x: 840, width: 600, state: 'ok' },
      { x: 720, width: 60, state: 'critical' },
    ]);
  });

  test('a short outage is widened to stay visible, centred, and kept inside the strip', () => {
    const rects = stripRects([span(since, NOW - 10 * MIN, 'ok'), span(NOW - 10 * MIN, NOW - 10 * MIN + 20_000, 'critical'), span(NOW - 10 * MIN + 20_000, NOW - 30_000, 'ok'), span(NOW - 30_000, NOW, 'warning')], NOW);
    const critical = rects.find((rect) => rect.state === 'critical')!;
    expect(critical.width).toBe(MIN_FAILING_WIDTH);
    // Its middle (1430 + 1/6 of a unit) stays where it happened.
    expect(critical.x).toBeCloseTo(1430 + 1 / 6 - MIN_FAILING_WIDTH / 2, 1);
    const warning = rects.find((rect) => rect.state === 'warning')!;
    expect(warning).toMatchObject({ x: 1440 - MIN_FAILING_WIDTH, width: MIN_FAILING_WIDTH });
  });

  test('titles name state and times, so the strip reads without colour', () => {
    const svg = stripSvg('web@<prod>', [span(since, NOW - 2 * HOUR, 'ok'), span(NOW - 2 * HOUR, NOW - HOUR - 58 * MIN, 'critical'), span(NOW - HOUR - 58 * MIN, NOW - HOUR, 'down'), span(NOW - HOUR, NOW, 'ok')], NOW);
    const titles = [...svg.matchAll(/<rect class="seg seg-(\w+)"[^>]*><title>([^<]*)<\/title><\/rect>/g)].map((match) => [match[1], match[2]]);
    expect(titles).toEqual([
      ['ok', 'OK 2026-12-04 12:00:00 – 2026-12-05 10:00:00 UTC (22h)'],
      ['down', 'AGENT DOWN (nothing checked) 2026-12-05 10:02:00 – 2026-12-05 11:00:00 UTC (58m)'],
      ['ok', 'OK 2026-12-05 11:00:00 – now UTC (1h)'],
      ['critical', 'CRITICAL 2026-12-05 10:00:00 – 2026-12-05 10:02:00 UTC (2m)'],
    ]);
    expect(svg).toMatch(/^<svg class="strip" viewBox="0 0 1440 10" preserveAspectRatio="none" role="img" aria-label="web@&lt;prod&gt;: last 24 hours, 2026-12-04 12:00:00 to 2026-12-05 12:00:00 UTC">/);
    expect(svg).not.toContain('<prod>');
  });
});

const change = (time: number, to: State, module = 'web', instance = '', from: State | null = null): HistoryEvent => ({ time, module, instance, from, to, detail: `${module} is ${to}` });
/** Alternating changes (not first verdicts) at these times, critical first. */
const flapsAt = (times: readonly number[], module = 'web', instance = ''): HistoryEvent[] =>
  times.map((time, index) => change(time, index % 2 ? 'ok' : 'critical', module, instance, index % 2 ? 'critical' : 'ok'));

/** The page's changesLastHour as the daemon computes it: the event log's changesSince. */
function changesLastHour(events: readonly HistoryEvent[], now: number): Map<string, number> {
  const log = EventLog.inMemory({ now: () => now });
  for (const event of events) log.record(event);
  return log.changesSince(now - HOUR);
}

describe('flapping', () => {
  // A first verdict, then five changes, the oldest exactly at the hour's edge.
  const events = [change(NOW - 2 * HOUR, 'ok'), ...flapsAt([NOW - HOUR, NOW - 40 * MIN, NOW - 30 * MIN, NOW - 20 * MIN, NOW - 10 * MIN])];
  const web = eventRowKey('web', '');

  test(`more than ${FLAP_CHANGES_PER_HOUR} changes in the last hour, counted with an injected now; a first verdict is no change`, () => {
    expect(changesLastHour(events, NOW).get(web)).toBe(5);
    expect(isFlapping(5)).toBe(true);
    expect(changesLastHour(events, NOW + 1).get(web)).toBe(4);
    expect(isFlapping(4)).toBe(false);
    // An hour later they have aged out.
    expect(changesLastHour(events, NOW + 50 * MIN).get(web)).toBe(1);
  });
});

const plugin = (module: string, hint: string): ProbePlugin => ({ module, scope: `scope of ${module}`, hint, runsOn: 'machine', defaultSchedule: '*/30 * * * * *', expected: () => true, checks: () => [] });
const planRow = (module: string, hint: string, instance = 'default'): Row => {
  const p = plugin(module, hint);
  return { key: `${module}@${instance}`, module, instance, plugin: p, enabled: true, note: '', schedule: p.defaultSchedule, timeoutMs: 1000, intervalMs: 30_000, failuresBeforeCritical: 1, successesBeforeOk: 1, confirmAfterMs: 0, checks: [] };
};

describe('the page with history', () => {
  const web = planRow('web', 'Check **xtk:session** errors');
  const mta = planRow('mta', 'Restart the mta', 'prod');
  const store = new StatusStore(() => NOW);
  store.sync([web, mta], NOW - 2 * HOUR);
  store.record(web, [{ name: 'http_port', state: 'ok', message: 'listening', durationMs: 1, lastRun: NOW, values: {}, labels: {} }], NOW);
  const flaps = flapsAt([50, 40, 30, 20, 10].map((minutes) => NOW - minutes * MIN), 'mta', 'prod');
  const events: HistoryEvent[] = [
    { time: NOW - 3 * HOUR, module: 'agent', instance: '', from: null, to: 'started', detail: 'agent started' },
    change(NOW - 2 * HOUR, 'ok'),
    { ...change(NOW - 90 * MIN, 'critical'), detail: '<script>alert(1)</script> no listener' },
    { ...change(NOW - 80 * MIN, 'ok'), from: 'critical' },
    ...flaps,
  ];
  const page = statusPage(store.all(), { version: '1', startedAt: NOW - 3 * HOUR }, NOW, { events, changesLastHour: changesLastHour(events, NOW) });
  const rowOf = (module: string): string => page.match(new RegExp(`<tr id="row-${module}@[^"]*"[\\s\\S]*?</tr>`))![0];

  test('each row has its strip; the host-wide row finds its events under instance ""', () => {
    expect(rowOf('web')).toContain('<svg class="strip"');
    expect(rowOf('web')).toMatch(/<rect class="seg seg-critical"[^>]*><title>CRITICAL 2026-12-05 10:30:00 – 2026-12-05 10:40:00 UTC \(10m\)<\/title>/);
    expect(rowOf('mta')).toContain('<svg class="strip"');
  });

  test('the flapping badge on the row that changed 5 times in the hour, not on the other', () => {
    expect(rowOf('mta')).toContain('FLAPPING');
    expect(rowOf('web')).not.toContain('FLAPPING');
  });

  test('latest events newest first, escaped, with the module hint on failing ones', () => {
    const list = page.slice(page.indexOf('<table class="events">'));
    const rows = [...list.matchAll(/<tr class="event[^"]*">([\s\S]*?)<\/tr>/g)].map((match) => match[1]!);
    expect(rows).toHaveLength(events.length);
    expect(rows[0]).toContain('mta@prod');
    expect(rows[rows.length - 1]).toContain('agent started');
    const failing = rows.find((row) => row.includes('no listener'))!;
    expect(failing).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(failing).toContain('<details><summary>What to do</summary>Check <strong>xtk:session</strong> errors</details>');
    expect(rows.find((row) => row.includes('CRITICAL → OK'))).not.toContain('What to do');
    expect(page).not.toContain('<script>');
  });

  test('at most 50 events listed; still no script, and the stylesheet hash still matches the CSP', () => {
    const many = Array.from({ length: 120 }, (_, index) => change(NOW - (120 - index) * MIN, index % 2 ? 'ok' : 'warning'));
    const big = statusPage(store.all(), { version: '1', startedAt: NOW }, NOW, { events: many, changesLastHour: changesLastHour(many, NOW) });
    expect(big.match(/<tr class="event /g)).toHaveLength(50);
    expect(big).not.toMatch(/<script|\son\w+=|style="/i);
    expect(STATUS_PAGE_CSP).toContain("style-src 'sha256-");
  });

  test('50,000 events render in one pass (no budget asserted here: the bench has it)', () => {
    const many = Array.from({ length: 50_000 }, (_, index) => change(NOW - 30 * 24 * HOUR + index * 50_000, index % 2 ? 'ok' : 'critical', index % 3 ? 'web' : 'mta', index % 3 ? '' : 'prod'));
    const big = statusPage(store.all(), { version: '1', startedAt: NOW }, NOW, { events: many, changesLastHour: changesLastHour(many, NOW) });
    expect(big.match(/<svg class="strip"/g)).toHaveLength(2);
  });
});
