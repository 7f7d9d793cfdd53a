import { describe, expect, test } from '@jest/globals';
import type { HistoryEvent } from '../../../src/history/event.js';
import { availability, reportSince, renderReport, reportCsv, reportText } from '../../../src/history/report.js';
import { timelines } from '../../../src/history/timeline.js';
import type { State } from '../../../src/core/contracts.js';

const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);
const MIN = 60_000;
const at = (minutes: number): number => T0 + minutes * MIN;
const change = (minutes: number, from: State | null, to: State, module = 'mta', instance = 'prod'): HistoryEvent => ({ time: at(minutes), module, instance, from, to, detail: `${module} ${to}` });
const agent = (minutes: number, to: 'started' | 'stopped', downSince?: number): HistoryEvent => ({
  time: at(minutes),
  module: 'agent',
  instance: '',
  from: null,
  to,
  detail: `agent ${to}`,
  ...(downSince === undefined ? {} : { downSince: at(downSince) }),
});

/**
 * mta@prod over [0, 120] minutes: ok (from before the window), critical 10-20, ok, warning 30-40,
 * agent stopped 40-50, warning, critical 51-70, agent killed (heartbeat 70, restarted 80), critical
 * again 80-90, ok, critical 100-now. export@prod: disabled throughout.
 */
const SEQUENCE: HistoryEvent[] = [
  agent(-60, 'started'),
  change(-30, null, 'ok'),
  change(-5, null, 'disabled', 'export'),
  change(10, 'ok', 'critical'),
  change(20, 'critical', 'ok'),
  change(30, 'ok', 'warning'),
  agent(40, 'stopped'),
  agent(50, 'started', 40),
  change(51, 'warning', 'critical'),
  agent(80, 'started', 70),
  change(80, null, 'critical'),
  change(90, 'critical', 'ok'),
  change(100, 'ok', 'critical'),
];

describe('availability arithmetic on a known sequence', () => {
  const report = availability(SEQUENCE, { since: at(0), now: at(120), agentRunning: true });
  const mta = report.rows.find((row) => row.module === 'mta')!;
  const exported = report.rows.find((row) => row.module === 'export')!;

  test('agent down: the stop/start and the SIGKILL gap (heartbeat to restart), 20 minutes', () => {
    expect(report.agentDown).toEqual([
      { start: at(40), end: at(50) },
      { start: at(70), end: at(80) },
    ]);
    expect(report.agentDownMs).toBe(20 * MIN);
  });

  test('time per state, gaps counted as agent down and never as a state', () => {
    expect(mta.ms).toEqual({ ok: 30 * MIN, warning: 11 * MIN, critical: 59 * MIN, unknown: 0, disabled: 0, agentDown: 20 * MIN, noData: 0 });
    expect(mta.shares.ok).toBe(0.25);
    expect(mta.shares.critical).toBeCloseTo(59 / 120, 12);
    expect(mta.shares.agentDown).toBeCloseTo(1 / 6, 12);
    expect(Object.values(mta.shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(exported.ms).toEqual({ ok: 0, warning: 0, critical: 0, unknown: 0, disabled: 100 * MIN, agentDown: 20 * MIN, noData: 0 });
    expect(exported.incidents).toEqual([]);
    expect(exported.longestIncidentMs).toBeNull();
    expect(exported.meanTimeToRecoverMs).toBeNull();
  });

  test('incidents: a gap inside one does not split it; the open one has no recovery', () => {
    expect(mta.incidents).toEqual([
      { start: at(10), end: at(20), durationMs: 10 * MIN, open: false, beganBeforeWindow: false, recoveredAt: at(20), timeToRecoverMs: 10 * MIN },
      { start: at(51), end: at(90), durationMs: 39 * MIN, open: false, beganBeforeWindow: false, recoveredAt: at(90), timeToRecoverMs: 39 * MIN },
      { start: at(100), end: at(120), durationMs: 20 * MIN, open: true, beganBeforeWindow: false, recoveredAt: null, timeToRecoverMs: null },
    ]);
    expect(mta.longestIncidentMs).toBe(39 * MIN);
    expect(mta.meanTimeToRecoverMs).toBe(24.5 * MIN);
  });

  test('the state at the window start comes from the last event before it; an incident in progress is cut there', () => {
    const late = availability(SEQUENCE, { since: at(15), now: at(120), agentRunning: true }).rows.find((row) => row.module === 'mta')!;
    expect(late.incidents[0]).toEqual({ start: at(15), end: at(20), durationMs: 5 * MIN, open: false, beganBeforeWindow: true, recoveredAt: at(20), timeToRecoverMs: 5 * MIN });
    expect(late.ms.critical).toBe(54 * MIN);
  });

  test('before a row is first seen is no data, not ok', () => {
    const early = availability(SEQUENCE, { since: at(-60), now: at(0), agentRunning: true }).rows.find((row) => row.module === 'mta')!;
    expect(early.ms).toMatchObject({ noData: 30 * MIN, ok: 30 * MIN });
  });

  test('a stopped daemon (computed from its file): the tail after the last event is agent down', () => {
    const events = SEQUENCE.filter((event) => event.time <= at(30));
    const stopped = availability(events, { since: at(0), now: at(60), agentRunning: false });
    expect(stopped.agentDown).toEqual([{ start: at(30), end: at(60) }]);
    expect(stopped.rows.find((row) => row.module === 'mta')!.ms).toMatchObject({ ok: 20 * MIN, critical: 10 * MIN, warning: 0, agentDown: 30 * MIN });
    // A `stopped` last: down from then, whether or not the caller thinks the agent runs.
    const withStop = availability([...events, agent(35, 'stopped')], { since: at(0), now: at(60), agentRunning: true });
    expect(withStop.agentDown).toEqual([{ start: at(35), end: at(60) }]);
  });

  test('a critical span ending in an agent-down tail is neither open nor recovered', () => {
    const events = [change(-1, null, 'critical')];
    const row = availability([...events, agent(10, 'stopped')], { since: at(0), now: at(20), agentRunning: false }).rows[0]!;
    expect(row.incidents).toEqual([{ start: at(0), end: at(10), durationMs: 10 * MIN, open: false, beganBeforeWindow: true, recoveredAt: null, timeToRecoverMs: null }]);
  });

  test('events out of order (a clock set back) are sorted; spans cover the window exactly', () => {
    const shuffled = [...SEQUENCE].reverse();
    expect(availability(shuffled, { since: at(0), now: at(120), agentRunning: true })).toEqual(report);
    for (const row of timelines(SEQUENCE, { since: at(0), now: at(120), agentRunning: true }).rows) {
      expect(row.spans[0]!.start).toBe(at(0));
      expect(row.spans[row.spans.length - 1]!.end).toBe(at(120));
      row.spans.slice(1).forEach((span, index) => {
        expect(span.start).toBe(row.spans[index]!.end);
        expect(span.state).not.toBe(row.spans[index]!.state);
      });
    }
  });
});

describe('since values', () => {
  const now = at(0);
  test('durations, ISO dates and ISO times with a zone (as GET /events reads them)', () => {
    expect(reportSince('7d', now)).toEqual({ since: now - 7 * 86_400_000 });
    expect(reportSince('1h30m', now)).toEqual({ since: now - 90 * MIN });
    expect(reportSince('2026-11-30T00:00:00Z', now)).toEqual({ since: Date.UTC(2026, 10, 30) });
    expect(reportSince('2026-11-30T01:00+01:00', now)).toEqual({ since: Date.UTC(2026, 10, 30) });
    expect(reportSince('2026-11-30', now)).toEqual({ since: Date.UTC(2026, 10, 30) });
  });

  test.each([
    ['', 'expected a duration such as 1h'],
    ['abc', 'got "abc"'],
    ['7 d', 'got "7 d"'],
    ['-1h', 'got "-1h"'],
    ['0s', 'leaves no window'],
    ['2026-11-30T00:00:00', 'got "2026-11-30T00:00:00"'],
    ['2026-13-45T00:00:00Z', 'got "2026-13-45T00:00:00Z"'],
    ['2026-12-02T00:00:00Z', 'it is not before now'],
  ])('%j is refused, saying why', (text, message) => {
    const parsed = reportSince(text, now);
    expect('error' in parsed && parsed.error).toContain(message);
    expect('error' in parsed && parsed.error).toMatch(/^since: /);
  });
});

describe('formats', () => {
  const report = availability(SEQUENCE, { since: at(0), now: at(120), agentRunning: true });

  test('text: a header line, the agent downtime, one aligned line per row, worst first', () => {
    const text = reportText(report, ['the daemon did not answer']);
    const lines = text.split('\n');
    expect(lines[0]).toBe('availability from 2026-12-01T00:00:00.000Z to 2026-12-01T02:00:00.000Z (2h)');
    expect(lines[1]).toBe('the daemon did not answer');
    expect(lines[2]).toBe('agent down: 20m in 2 span(s): 2026-12-01T00:40:00.000Z to 2026-12-01T00:50:00.000Z, 2026-12-01T01:10:00.000Z to 2026-12-01T01:20:00.000Z');
    expect(lines[4]).toMatch(/^MODULE\s+INSTANCE\s+OK\s+WARN\s+CRIT\s+UNKN\s+DISAB\s+AGENT DOWN\s+NO DATA\s+INCIDENTS\s+LONGEST\s+MTTR$/);
    expect(lines[5]!.split(/\s{2,}/)).toEqual(['mta', 'prod', '25.00%', '9.17%', '49.17%', '-', '-', '16.67%', '-', '3 (open)', '39m', '24m 30s']);
    expect(lines[6]!.split(/\s{2,}/)).toEqual(['export', 'prod', '-', '-', '-', '-', '83.33%', '16.67%', '-', '0', '-', '-']);
    // Columns line up: every cell of a column ends at the same place.
    expect(lines[5]!.length).toBe(lines[4]!.length);
  });

  test('json: ISO times, fractions, counts', () => {
    const document = JSON.parse(renderReport(report, 'json'));
    expect(document).toMatchObject({ since: '2026-12-01T00:00:00.000Z', now: '2026-12-01T02:00:00.000Z', agentRunning: true, agentDownMs: 20 * MIN });
    const mta = document.rows.find((row: { module: string }) => row.module === 'mta');
    expect(mta).toMatchObject({ instance: 'prod', incidentCount: 3, longestIncidentMs: 39 * MIN, meanTimeToRecoverMs: 24.5 * MIN });
    expect(mta.shares).toEqual({ ok: 0.25, warning: 0.091667, critical: 0.491667, unknown: 0, disabled: 0, agentDown: 0.166667, noData: 0 });
    expect(mta.incidents[2]).toEqual({ start: '2026-12-01T01:40:00.000Z', end: '2026-12-01T02:00:00.000Z', durationMs: 20 * MIN, open: true, beganBeforeWindow: false, recoveredAt: null, timeToRecoverMs: null });
  });

  test('csv: a header and one line per row; a name that looks like a formula stays text', () => {
    const lines = reportCsv(report).split('\r\n');
    expect(lines[0]).toBe(
      'since,now,module,instance,ok_share,warning_share,critical_share,unknown_share,disabled_share,agentDown_share,noData_share,ok_ms,warning_ms,critical_ms,unknown_ms,disabled_ms,agentDown_ms,noData_ms,incidents,open_incidents,longest_incident_ms,mean_time_to_recover_ms',
    );
    expect(lines[2]).toBe('2026-12-01T00:00:00.000Z,2026-12-01T02:00:00.000Z,mta,prod,0.25,0.091667,0.491667,0,0,0.166667,0,1800000,660000,3540000,0,0,1200000,0,3,1,2340000,1470000');
    expect(lines[3]).toBe('');
    const odd = availability([change(-1, null, 'ok', 'web', '=cmd|"x",y')], { since: at(0), now: at(1), agentRunning: true });
    expect(reportCsv(odd).split('\r\n')[1]).toContain(',web,"\'=cmd|""x"",y",1,');
  });
});
