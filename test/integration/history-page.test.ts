import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import YAML from 'yaml';
import { formatEventLine } from '../../src/history/eventFile.js';
import type { HistoryEvent } from '../../src/history/event.js';
import { STATUS_PAGE_CSP } from '../../src/output/statusPage.js';
import { projectRoot } from '../../src/util/paths.js';
import { freePort, SimulatedHost } from '../sim/host.js';
import { Daemon, row, runCli, waitFor } from './helpers.js';

// History as an operator meets it (issue 15): the real daemon on the simulated host, a module killed
// and restored, then the page in the real Chromium (the red segment of the strip, the two events, the
// flapping badge), GET /report and `campaign-health report`, from the daemon and from the file of a
// stopped one. Asserts what is observable, so it holds whichever event log feeds the daemon.

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = path.join(projectRoot(), 'test-artifacts', 'history-page.png');

let sim: SimulatedHost;
let daemon: Daemon;
let browser: Browser;
let configFile: string;

beforeAll(async () => {
  const launching = chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  sim = await SimulatedHost.start({ instances: ['prod'] });
  configFile = await sim.writeAgentConfig(
    {
      stateDir: path.join(sim.root, 'state'),
      // Every second, and no damping on web: each kill and restore is one change, seen within a cycle.
      defaults: { schedule: '* * * * * *', timeout: '20s' },
      modules: { system: { enabled: false }, web: { failuresBeforeCritical: 1 } },
    },
    'history-page.yaml',
  );
  await mkdir(path.join(sim.root, 'state'), { recursive: true });
  const { listen } = YAML.parse(await readFile(configFile, 'utf8')) as { listen: string };
  daemon = await Daemon.start(configFile, listen);
  browser = await launching;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (daemon) expect(await daemon.stop()).toBe(0);
  await sim?.stop();
});

/** Kills web, waits for the daemon to show it critical, restores it, waits for ok. */
async function killAndRestoreWeb(): Promise<void> {
  await daemon.statusWhen((doc) => row(doc, 'web').state === 'ok');
  await sim.kill('web');
  await daemon.statusWhen((doc) => row(doc, 'web').state === 'critical');
  await sim.startModule('web');
  await daemon.statusWhen((doc) => row(doc, 'web').state === 'ok');
}

const webRow = (page: Page) => page.locator('[id="row-web@default"]');
const eventRows = (page: Page) => page.locator('table.events tbody tr');

/** Loads the page until `ready` holds (history is published with the next cycle, the page cached up to 1 s). */
async function pageWhen(page: Page, ready: () => Promise<boolean>, what: string): Promise<void> {
  await waitFor(
    async () => {
      await page.goto(`${daemon.baseUrl}/`);
      return ready();
    },
    20_000,
    () => `the page never showed ${what}`,
  );
}

describe('history on the status page, in a browser', () => {
  test('web killed and restored: a red segment titled CRITICAL, and both changes in the events list with the hint', async () => {
    await killAndRestoreWeb();
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
    });
    try {
      const red = webRow(page).locator('svg.strip rect.seg-critical');
      await pageWhen(page, async () => (await red.count()) === 1 && (await eventRows(page).filter({ hasText: 'CRITICAL → OK' }).count()) === 1, 'the outage');
      expect(await red.locator('title').textContent()).toMatch(/^CRITICAL \d{4}-\d\d-\d\d \d\d:\d\d:\d\d – \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+(ms|s)\)$/);
      // Drawn, not just present: a real width on screen, in the critical colour from the hashed stylesheet.
      const box = await red.boundingBox();
      expect(box!.width).toBeGreaterThanOrEqual(1);
      expect(await red.evaluate((element) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(element).fill)).toBe('rgb(207, 34, 46)');
      const down = eventRows(page).filter({ hasText: 'OK → CRITICAL' });
      const up = eventRows(page).filter({ hasText: 'CRITICAL → OK' });
      expect(await down.count()).toBe(1);
      expect(await up.count()).toBe(1);
      // Host-wide: instance '' in the events, the bare module on the page.
      expect(await down.locator('td').nth(1).innerText()).toBe('web');
      expect(await down.innerText()).toContain(`no TCP listener on port ${sim.ports.http}`);
      expect(await down.locator('details summary').innerText()).toBe('What to do');
      expect(await up.locator('details').count()).toBe(0);
      // The newest first: the recovery above the failure.
      const texts = await eventRows(page).allInnerTexts();
      expect(texts.findIndex((text) => text.includes('CRITICAL → OK'))).toBeLessThan(texts.findIndex((text) => text.includes('OK → CRITICAL')));
      expect(await webRow(page).getByText('FLAPPING').count()).toBe(0);
      expect(cspViolations).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  test('web flapping: more than 4 changes within the hour wear the badge; screenshot saved', async () => {
    // With the first test's two changes: six.
    await killAndRestoreWeb();
    await killAndRestoreWeb();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await pageWhen(page, async () => (await webRow(page).getByText('FLAPPING').count()) === 1, 'the flapping badge');
      expect(await webRow(page).locator('.flapping').getAttribute('title')).toBe('changed state more than 4 times in the last hour');
      expect(await webRow(page).locator('rect.seg-critical').count()).toBe(3);
      expect(await page.locator('[id="row-watchdog@default"]').getByText('FLAPPING').count()).toBe(0);
      await mkdir(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      process.stdout.write(`history page screenshot: ${SCREENSHOT}\n`);
    } finally {
      await page.close();
    }
    const head = await fetch(`${daemon.baseUrl}/`);
    expect(head.headers.get('content-security-policy')).toBe(STATUS_PAGE_CSP);
    expect(await head.text()).not.toMatch(/<script/i);
  }, 60_000);
});

describe('the availability report', () => {
  test('GET /report: web had three incidents, all recovered; times add up to the window', async () => {
    const answer = await daemon.get('/report?since=1h');
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/json; charset=utf-8');
    const report = JSON.parse(answer.body) as { agentRunning: boolean; rows: { module: string; instance: string; shares: Record<string, number>; incidentCount: number; meanTimeToRecoverMs: number; incidents: { open: boolean; recoveredAt: string | null }[] }[] };
    expect(report.agentRunning).toBe(true);
    const web = report.rows.find((candidate) => candidate.module === 'web')!;
    expect(web.instance).toBe('');
    expect(web.incidentCount).toBe(3);
    expect(web.incidents.every((incident) => !incident.open && incident.recoveredAt !== null)).toBe(true);
    expect(web.meanTimeToRecoverMs).toBeGreaterThan(0);
    expect(web.shares.critical).toBeGreaterThan(0);
    expect(Object.values(web.shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const csv = await daemon.get('/report?since=1h&format=csv');
    expect(csv.type).toBe('text/csv; charset=utf-8');
    expect(csv.body.split('\r\n')[0]).toMatch(/^since,now,module,instance,ok_share,/);
    expect((await daemon.get('/report?format=text')).body).toMatch(/^availability from .* \(7d\)\n/);
  });

  test('bad query values are 400 with a message naming the value', async () => {
    expect(await daemon.get('/report?since=yesterday')).toMatchObject({ status: 400, body: expect.stringContaining('since: expected a duration such as 1h, 30m or 7d') });
    expect(await daemon.get('/report?since=2999-01-01T00:00:00Z')).toMatchObject({ status: 400, body: expect.stringContaining('it is not before now') });
    expect(await daemon.get('/report?format=xml')).toMatchObject({ status: 400, body: 'format: expected one of text, json, csv, got "xml"\n' });
  });

  test('campaign-health report asks the running daemon', async () => {
    const text = await runCli(['report', '--config', configFile, '--since', '1h']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^MODULE\s+INSTANCE\s+OK/m);
    expect(text.stdout).toMatch(/^web\s+-\s+.*\s3\s/m);
    expect(text.stdout).not.toContain('did not answer');
    expect(text.stderr).toBe(`report from the running daemon at ${daemon.baseUrl}`);
  });

  test('with the daemon down, the report comes from the event file and counts the tail as agent down', async () => {
    const stateDir = path.join(sim.root, 'stopped-state');
    await mkdir(stateDir, { recursive: true });
    const now = Date.now();
    const at = (minutesAgo: number): number => now - minutesAgo * 60_000;
    const events: HistoryEvent[] = [
      { time: at(131), module: 'agent', instance: '', from: null, to: 'started', detail: 'started' },
      { time: at(130), module: 'mta', instance: 'prod', from: null, to: 'ok', detail: 'ok' },
      { time: at(90), module: 'mta', instance: 'prod', from: 'ok', to: 'critical', detail: 'no mta' },
      { time: at(80), module: 'mta', instance: 'prod', from: 'critical', to: 'ok', detail: 'ok' },
      { time: at(60), module: 'agent', instance: '', from: null, to: 'stopped', detail: 'stopped' },
    ];
    await writeFile(path.join(stateDir, 'events.jsonl'), `${events.map(formatEventLine).join('')}{"torn":`);
    const listen = `127.0.0.1:${await freePort('tcp', new Set())}`;
    const stopped = path.join(sim.root, 'stopped.yaml');
    await writeFile(stopped, YAML.stringify({ listen, stateDir, campaign: { installDir: sim.installDir } }));
    const result = await runCli(['report', '--config', stopped, '--since', '2h']);
    expect(result.exitCode).toBe(0);
    const source = `the daemon did not answer (nothing answers at ${listen} (ECONNREFUSED)): read from its event file ${path.join(stateDir, 'events.jsonl')}`;
    expect(result.stdout).toContain(source);
    expect(result.stderr.startsWith(source)).toBe(true);
    expect(result.stdout).toContain('was cut short');
    expect(result.stdout).toMatch(/^agent down: 1h in 1 span\(s\)/m);
    expect(result.stdout).toMatch(/^mta\s+prod\s+41\.\d\d%\s+-\s+8\.33%\s+-\s+-\s+50\.\d\d%\s+-\s+1\s+10m\s+10m$/m);
    const json = JSON.parse((await runCli(['report', '--config', stopped, '--since', '2h', '--format', 'json'])).stdout);
    expect(json).toMatchObject({ agentRunning: false, notes: [expect.stringContaining('counted as agent down'), expect.stringContaining('cut short')] });
  });
});
