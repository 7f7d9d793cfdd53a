import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Row } from '../../../src/core/plan.js';
import type { ProbePlugin } from '../../../src/core/plugin.js';
import type { CheckOutcome } from '../../../src/core/runner.js';
import { StatusStore } from '../../../src/core/store.js';
import type { HistoryEvent } from '../../../src/history/event.js';
import { formatEventLine, parseEventText } from '../../../src/history/eventFile.js';
import { EventLog, EVENTS_FILE, HEARTBEAT_FILE, MAX_AGE_MS, MAX_EVENTS } from '../../../src/history/eventLog.js';
import { parseEventQuery, selectEvents } from '../../../src/history/query.js';
import type { Logger } from '../../../src/util/logger.js';

const T0 = Date.parse('2026-12-05T03:00:00Z');
let dir: string;
let opened: EventLog[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'event-log-'));
});
afterEach(async () => {
  for (const log of opened) await log.close();
  opened = [];
  rmSync(dir, { recursive: true, force: true });
});

/** A log of a state directory, read back and started (the file is written from then on), as the daemon does. */
function openLog(options: Parameters<typeof EventLog.open>[0]): EventLog {
  const log = EventLog.open(options);
  log.start();
  opened.push(log);
  return log;
}

/** A logger that keeps what it was told, by level. */
function recordingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (obj: object | string, msg?: string) => lines.push({ level, msg: msg ?? String(obj) });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const change = (module: string, from: HistoryEvent['from'], to: HistoryEvent['to'], detail = `${module} ${String(to)}`) => ({ module, instance: 'prod', from, to, detail });
const fileEvents = (file = path.join(dir, EVENTS_FILE)) => parseEventText(readFileSync(file, 'utf8'));

describe('the event log on disk', () => {
  test('an event is in the file before it is visible, and read back at the next start; secrets are scrubbed', () => {
    let now = T0;
    const log = openLog({ dir, now: () => now });
    const recorded = log.record(change('mta', 'ok', 'critical', 'soap: answered 500 for password=hunter2'));
    expect(recorded.detail).toBe('soap: answered 500 for password=[redacted]');
    expect(fileEvents().events).toEqual([recorded]);
    now += 1000;
    log.record(change('mta', 'critical', 'ok'));
    const again = openLog({ dir, now: () => now });
    expect(again.all().map((event) => `${String(event.from)}>${event.to}`)).toEqual(['ok>critical', 'critical>ok']);
    expect(again.status()).toEqual({ file: path.join(dir, EVENTS_FILE), writable: true, problem: null, setAside: null });
  });

  test('a torn last line (SIGKILL mid-write) is dropped and cut off; the next event starts a line of its own', () => {
    const log = openLog({ dir, now: () => T0 });
    log.record(change('mta', null, 'ok'));
    appendFileSync(path.join(dir, EVENTS_FILE), formatEventLine({ ...change('mta', 'ok', 'critical'), time: T0 }).slice(0, 40));
    const reopened = openLog({ dir, now: () => T0 + 1 });
    expect(reopened.all()).toHaveLength(1);
    expect(reopened.status().setAside).toBeNull();
    reopened.record(change('web', null, 'ok'));
    expect(fileEvents()).toEqual({ events: [expect.objectContaining({ module: 'mta' }), expect.objectContaining({ module: 'web' })], invalid: 0 });
  });

  test('a corrupt or foreign file is set aside, its valid events kept in a new file', async () => {
    const good = formatEventLine({ ...change('mta', null, 'ok'), time: T0 });
    writeFileSync(path.join(dir, EVENTS_FILE), `${good}this is not an event\n${formatEventLine({ ...change('web', null, 'critical'), time: T0 + 1 })}`);
    const logger = recordingLogger();
    const log = openLog({ dir, now: () => T0 + 5000, log: logger });
    await log.idle();
    const aside = log.status().setAside!;
    expect(path.basename(aside)).toMatch(/^events\.jsonl\.corrupt-2026-12-05T03-00-05-000Z$/);
    expect(readFileSync(aside, 'utf8')).toContain('this is not an event');
    expect(fileEvents()).toEqual({ events: log.all(), invalid: 0 });
    expect(log.all().map((event) => event.module)).toEqual(['mta', 'web']);
    expect(log.status().writable).toBe(true);
    expect(logger.lines.filter((line) => line.level === 'warn')).toHaveLength(1);
  });

  test('before start() nothing on disk changes (a second agent whose port is taken leaves the file alone)', () => {
    const text = `${formatEventLine({ ...change('mta', null, 'ok'), time: T0 })}not an event\n${formatEventLine({ ...change('mta', 'ok', 'critical'), time: T0 }).slice(0, 30)}`;
    writeFileSync(path.join(dir, EVENTS_FILE), text);
    const log = EventLog.open({ dir, now: () => T0 });
    log.record({ module: 'agent', instance: '', from: null, to: 'started', detail: 'started' });
    expect(log.all()).toHaveLength(2);
    expect(readFileSync(path.join(dir, EVENTS_FILE), 'utf8')).toBe(text);
    expect(readdirSync(dir)).toEqual([EVENTS_FILE]);
    log.start();
    opened.push(log);
    expect(log.status().setAside).not.toBeNull();
    expect(fileEvents().events.map((event) => event.to)).toContain('started');
  });

  test('a binary file without newlines is foreign too, and never read whole into one line', async () => {
    writeFileSync(path.join(dir, EVENTS_FILE), Buffer.alloc(3 * 1024 * 1024, 0x41));
    const log = openLog({ dir, now: () => T0 });
    await log.idle();
    expect(log.status().setAside).not.toBeNull();
    expect(log.all()).toEqual([]);
  });

  test('the heartbeat or the last stopped event tells when the previous run was last alive', () => {
    let now = T0;
    const first = openLog({ dir, now: () => now });
    expect(first.previousRunEnd()).toBeUndefined();
    first.record({ module: 'agent', instance: '', from: null, to: 'started', detail: 'started' });
    first.start();
    void first.close();
    // Killed: no `stopped`; the heartbeat (touched later than the last event) says when it was alive.
    utimesSync(path.join(dir, HEARTBEAT_FILE), new Date(T0 + 90_000), new Date(T0 + 90_000));
    now = T0 + 600_000;
    const second = openLog({ dir, now: () => now });
    expect(second.previousRunEnd()).toEqual({ at: T0 + 90_000, stopped: false });
    second.record({ module: 'agent', instance: '', from: null, to: 'stopped', detail: 'stopped', time: T0 + 700_000 });
    const third = openLog({ dir, now: () => T0 + 800_000 });
    expect(third.previousRunEnd()).toEqual({ at: T0 + 700_000, stopped: true });
  });
});

describe('bounds', () => {
  test('55,000+ events: compacted in the background to at most 50,000; the file and memory agree', async () => {
    let now = T0;
    const log = openLog({ dir, now: () => now });
    const total = Math.ceil(MAX_EVENTS * 1.1) + 2_000;
    for (let i = 0; i < total; i++) {
      now += 1;
      log.record(change(i % 2 === 0 ? 'mta' : 'web', 'ok', i % 2 === 0 ? 'critical' : 'ok', `n${i}`));
    }
    await log.idle();
    const { events, invalid } = fileEvents();
    expect(invalid).toBe(0);
    // Compacted once, at 55,001 events, to the newest 50,000; the 1,999 recorded meanwhile follow.
    expect(events.length).toBeLessThanOrEqual(Math.ceil(MAX_EVENTS * 1.1));
    expect(events.length).toBeGreaterThanOrEqual(MAX_EVENTS);
    expect(events.at(-1)!.detail).toBe(`n${total - 1}`);
    expect(events.map((event) => event.detail)).toEqual(log.all().map((event) => event.detail));
    expect(readdirSync(dir).sort()).toEqual([EVENTS_FILE, HEARTBEAT_FILE]);
    // A restart reads back the newest 50,000, and compacts the file to them.
    const reopened = openLog({ dir, now: () => now });
    expect(reopened.all().length).toBe(MAX_EVENTS);
    expect(reopened.all().at(-1)!.detail).toBe(`n${total - 1}`);
    await reopened.idle();
    expect(fileEvents().events).toHaveLength(MAX_EVENTS);
  }, 60_000);

  test('events older than 30 days go at the first heartbeat after the file holds 10 % more than that', async () => {
    let now = T0;
    const log = openLog({ dir, now: () => now });
    log.record(change('mta', null, 'ok'));
    now += 10 * 86_400_000;
    log.record(change('mta', 'ok', 'critical'));
    now = T0 + MAX_AGE_MS + 86_400_000;
    log.heartbeat();
    await log.idle();
    // 31 days: past 30 in memory, within 33 in the file.
    expect(log.all()).toHaveLength(1);
    expect(fileEvents().events).toHaveLength(2);
    now = T0 + MAX_AGE_MS * 1.1 + 1;
    log.heartbeat();
    await log.idle();
    expect(fileEvents().events.map((event) => event.to)).toEqual(['critical']);
  });
});

describe('an unwritable state directory', () => {
  test('a path under a file: events kept in memory, said in the status, logged once; writable again later', async () => {
    const blocker = path.join(dir, 'blocker');
    writeFileSync(blocker, '');
    const stateDir = path.join(blocker, 'state');
    const logger = recordingLogger();
    const statuses: boolean[] = [];
    const log = openLog({ dir: stateDir, now: () => T0, log: logger });
    log.onStatus = (status) => statuses.push(status.writable);
    for (let i = 0; i < 5; i++) log.record(change('mta', 'ok', 'critical'));
    log.heartbeat();
    expect(log.all()).toHaveLength(5);
    expect(log.status()).toMatchObject({ writable: false, problem: expect.stringContaining('ENOTDIR') });
    expect(logger.lines.filter((line) => line.level === 'error')).toHaveLength(1);
    // The directory can be made: the next attempt writes the file, from memory, whole.
    rmSync(blocker);
    log.record(change('mta', 'critical', 'ok'));
    await log.idle();
    expect(log.status()).toMatchObject({ writable: true, problem: null });
    expect(fileEvents(path.join(stateDir, EVENTS_FILE)).events).toHaveLength(6);
    expect(logger.lines.filter((line) => line.level === 'info').map((line) => line.msg)).toEqual(['state directory writable again: events are written to disk']);
    expect(statuses).toEqual([true]);
  });

  test('a rewrite that fails while appends work: said once, the file stays writable, tried again a heartbeat later', async () => {
    let now = T0;
    const logger = recordingLogger();
    const log = openLog({ dir, now: () => now, log: logger, maxEvents: 10 });
    // The temp file cannot be made (a directory has its name); appends to events.jsonl still work.
    mkdirSync(path.join(dir, `${EVENTS_FILE}.tmp`));
    for (let i = 0; i < 30; i++) {
      log.record(change('mta', 'ok', 'critical', `n${i}`));
      await log.idle();
    }
    expect(log.status()).toMatchObject({ writable: true, problem: null });
    expect(fileEvents().events).toHaveLength(30);
    expect(logger.lines.filter((line) => line.level !== 'debug').map((line) => line.msg)).toEqual(['cannot compact the event file: it grows past its bounds until it can']);
    rmSync(path.join(dir, `${EVENTS_FILE}.tmp`), { recursive: true });
    now += 30_000;
    log.heartbeat();
    await log.idle();
    expect(fileEvents().events).toHaveLength(30);
    now += 60_000;
    log.heartbeat();
    await log.idle();
    expect(fileEvents().events.map((event) => event.detail)).toEqual(log.all().map((event) => event.detail));
    expect(log.all()).toHaveLength(10);
  });

  test('an in-memory log (the one-shot check) writes nothing', () => {
    const log = EventLog.inMemory({ now: () => T0 });
    log.record(change('mta', null, 'ok'));
    log.start();
    expect(log.status()).toEqual({ file: null, writable: false, problem: null, setAside: null });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('queries', () => {
  const events: HistoryEvent[] = [
    { ...change('mta', null, 'ok'), time: T0 },
    // Host-wide: instance '' in events.
    { ...change('web', null, 'ok'), instance: '', time: T0 + 1000 },
    { ...change('mta', 'ok', 'critical'), instance: 'other', time: T0 + 2000 },
    { ...change('mta', 'critical', 'ok'), time: T0 + 3000 },
  ];

  test('newest first, filtered by since, module, instance, limited', () => {
    const query = (text: string) => {
      const parsed = parseEventQuery(new URLSearchParams(text), T0 + 4000);
      if ('error' in parsed) throw new Error(parsed.error);
      return selectEvents(events, parsed.query).map((event) => event.time - T0);
    };
    expect(query('')).toEqual([3000, 2000, 1000, 0]);
    expect(query('module=mta')).toEqual([3000, 2000, 0]);
    expect(query('module=mta&instance=prod&limit=1')).toEqual([3000]);
    // A host-wide row, by its events' instance or by its /status one.
    expect(query('instance=')).toEqual([1000]);
    expect(query('instance=default')).toEqual([1000]);
    expect(query('since=2s')).toEqual([3000, 2000]);
    expect(query('since=2026-12-05T03:00:01Z')).toEqual([3000, 2000, 1000]);
    expect(query('since=2026-12-05T04:00:01%2B01:00')).toEqual([3000, 2000, 1000]);
  });

  test.each([
    ['since=yesterday', /^since: expected a duration such as 1h, 30m or 7d, or an ISO 8601 date or time \(2026-12-05, 2026-12-05T03:00:00Z\), got "yesterday"$/],
    ['since=2026-12-05T03:00:00', /^since: /],
    ['limit=0', /^limit: expected a whole number from 1 to 50000, got "0"$/],
    ['limit=50001', /^limit: /],
    ['limit=ten', /^limit: /],
    ['module=a&module=b', /^module: given more than once$/],
    ['modul=mta', /^unknown parameter "modul": expected since, module, instance, limit$/],
  ])('%s is refused naming the parameter', (text, message) => {
    const parsed = parseEventQuery(new URLSearchParams(text), T0);
    expect('error' in parsed && parsed.error).toMatch(message);
  });

  test('changesSince counts state changes per row, not first verdicts nor agent events', () => {
    const log = EventLog.inMemory({ now: () => T0 });
    for (const event of events) log.record(event);
    log.record({ module: 'agent', instance: '', from: null, to: 'started', detail: 'x', time: T0 + 3500 });
    expect([...log.changesSince(T0 + 2500)]).toEqual([['mta\nprod', 1]]);
    expect(new Map(log.changesSince(T0))).toEqual(new Map([['mta\nprod', 1], ['mta\nother', 1]]));
    // Further back than the 24 hours kept per row: counted from the whole log, the same.
    expect(new Map(log.changesSince(T0 - 7 * 86_400_000))).toEqual(new Map([['mta\nprod', 1], ['mta\nother', 1]]));
  });
});

describe('the status store reports changes as /status shows them', () => {
  const plugin: ProbePlugin = { module: 'mta', scope: 's', hint: 'h', runsOn: 'instance', defaultSchedule: '* * * * * *', expected: () => true, checks: () => [] };
  const row = (enabled = true): Row => ({
    key: 'mta@prod', module: 'mta', instance: 'prod', plugin, enabled, note: 'disabled in the config', schedule: '* * * * * *',
    intervalMs: 1000, timeoutMs: 1000, failuresBeforeCritical: 2, successesBeforeOk: 1, confirmAfterMs: 0, checks: [],
  });
  const outcome = (state: 'ok' | 'critical'): CheckOutcome => ({ name: 'process', state, message: state, durationMs: 1, lastRun: 0, values: {}, labels: {} });

  test('no event for the placeholder; first verdict from null; a damped run is no change; disabled is one', () => {
    const store = new StatusStore(() => T0);
    const seen: string[] = [];
    store.onChange = (status, from) => seen.push(`${String(from)}>${status.state}`);
    store.sync([row()], T0);
    expect(seen).toEqual([]);
    store.record(row(), [outcome('ok')], T0 + 1000);
    store.record(row(), [outcome('critical')], T0 + 2000);
    store.record(row(), [outcome('critical')], T0 + 3000);
    store.record(row(), [outcome('ok')], T0 + 4000);
    store.sync([row(false)], T0 + 5000);
    store.sync([row()], T0 + 6000);
    store.record(row(), [outcome('ok')], T0 + 7000);
    expect(seen).toEqual(['null>ok', 'ok>critical', 'critical>ok', 'ok>disabled', 'disabled>ok']);
  });
});

test('the state directory is created with the file and the heartbeat', () => {
  const stateDir = path.join(dir, 'a', 'b');
  const log = openLog({ dir: stateDir, now: () => T0 });
  log.start();
  void log.close();
  expect(existsSync(path.join(stateDir, HEARTBEAT_FILE))).toBe(true);
  expect(statSync(path.join(stateDir, HEARTBEAT_FILE)).mtimeMs).toBe(T0);
});
