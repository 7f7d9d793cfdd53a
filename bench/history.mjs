// The history's render cost (issue 15): the status page (24-hour strips, flap badges, latest events)
// and the availability report over 50,000 events, the most the event log keeps. Not a test (timings
// are not tests): prints the medians and exits 1 when one misses its budget.
//   npm run build && node bench/history.mjs [--events 50000]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { StatusStore } from '../dist/src/core/store.js';
import { statusPage } from '../dist/src/output/statusPage.js';
import { availability, renderReport } from '../dist/src/history/report.js';
import { EventLog } from '../dist/src/history/eventLog.js';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '50000' } } });
const COUNT = Number(args.events);
/** Per rendering, median of 20 after 3 of warm-up: one render is at most 1 s of the page's cache. */
const BUDGET_MS = { page: 100, report7d: 100, report30d: 150 };

const NOW = Date.UTC(2026, 11, 5, 12);
const DAY = 86_400_000;
const modules = ['web', 'mta', 'wfserver', 'inMail', 'stat', 'watchdog', 'syslogd', 'trackinglogd', 'nlserver', 'export', 'import', 'tracking', 'system'];
const instances = ['prod', 'staging', 'dev'];
const plugin = (module) => ({ module, scope: module, hint: `Restart **${module}**`, runsOn: 'instance', defaultSchedule: '*/30 * * * * *', expected: () => true, checks: () => [] });
const rows = modules.flatMap((module) => instances.map((instance) => ({ key: `${module}@${instance}`, module, instance, plugin: plugin(module), enabled: true, note: '', schedule: '*/30 * * * * *', timeoutMs: 1000, intervalMs: 30_000, failuresBeforeCritical: 1, successesBeforeOk: 1, confirmAfterMs: 0, checks: [] })));
const store = new StatusStore(() => NOW);
store.sync(rows, NOW - DAY);

// 50,000 changes spread over 30 days, every row flapping between ok, warning and critical, with an agent restart a day.
const STATES = ['ok', 'critical', 'ok', 'warning'];
const events = [];
const step = (30 * DAY) / COUNT;
for (let index = 0; index < COUNT; index += 1) {
  const row = rows[index % rows.length];
  const time = Math.round(NOW - 30 * DAY + index * step);
  if (index % Math.round(COUNT / 30) === 0) events.push({ time, module: 'agent', instance: '', from: null, to: 'started', detail: 'started', downSince: time - 60_000 });
  events.push({ time, module: row.module, instance: row.instance, from: STATES[(index - 1) & 3] ?? null, to: STATES[index & 3], detail: `${row.module}: check said ${'x'.repeat(80)}` });
}

// The daemon's source: the event log in memory (bounded as on disk), its per-row change counts.
const log = EventLog.inMemory({ now: () => NOW });
for (const event of events) log.record(event);
const HOUR = 3_600_000;
/** What the server passes the page at every rendering. */
const pageHistory = () => ({ events: log.all(), changesLastHour: log.changesSince(NOW - HOUR) });

function median(render) {
  for (let index = 0; index < 3; index += 1) render();
  const times = [];
  for (let index = 0; index < 20; index += 1) {
    const start = performance.now();
    render();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[10];
}

const info = { version: 'bench', startedAt: NOW - DAY };
const measured = {
  page: median(() => statusPage(store.all(), info, NOW, pageHistory())),
  report7d: median(() => renderReport(availability(events, { since: NOW - 7 * DAY, now: NOW, agentRunning: true }), 'json')),
  report30d: median(() => renderReport(availability(events, { since: NOW - 30 * DAY, now: NOW, agentRunning: true }), 'text')),
};
const pageBytes = statusPage(store.all(), info, NOW, pageHistory()).length;
let missed = false;
for (const [name, ms] of Object.entries(measured)) {
  const over = ms > BUDGET_MS[name];
  missed ||= over;
  console.log(`${name.padEnd(10)} ${ms.toFixed(1).padStart(7)} ms  (budget ${BUDGET_MS[name]} ms)${over ? '  MISSED' : ''}`);
}
console.log(`${events.length} events, ${rows.length} rows; page ${Math.round(pageBytes / 1024)} KiB`);
process.exitCode = missed ? 1 : 0;
