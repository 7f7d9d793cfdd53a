import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';
import YAML from 'yaml';
import { STATE_COLOURS, STATUS_PAGE_CSP } from '../../src/output/statusPage.js';
import { SimulatedHost } from '../sim/host.js';
import { Daemon, row } from './helpers.js';

// The status page as a person sees it: the real daemon against the simulated host, the page in a
// real browser (Debian's chromium, driven by playwright-core), so CSS, the CSP and the meta refresh
// are what a browser makes of them, not what a string comparison thinks.

const CHROMIUM = '/usr/bin/chromium';
// Root in CI and containers needs --no-sandbox; the rest keeps chromium from calling out of a closed
// network (its connections are refused there and it would stall or log noise).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEB_HINT = "Check this module if the console and web connections don't work";

// Runs inside the page (evaluate serialises the function); the project compiles without the DOM lib.
declare const getComputedStyle: (element: unknown) => { backgroundColor: string };

let sim: SimulatedHost;
let daemon: Daemon;
let browser: Browser;

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: ['prod'] });
  const file = await sim.writeAgentConfig({
    // Every second, so a killed module shows within the page's own refresh interval.
    defaults: { schedule: '* * * * * *', timeout: '20s' },
    // The system row reads the machine running the tests: it has its own tests.
    modules: { system: { enabled: false } },
  }, 'status-page.yaml');
  const { listen } = YAML.parse(await readFile(file, 'utf8')) as { listen: string };
  daemon = await Daemon.start(file, listen);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (daemon) expect(await daemon.stop()).toBe(0);
  await sim?.stop();
});

/** The row of the modules table whose module cell reads exactly `module` (the events list below names modules too). */
const moduleRow = (page: Page, module: string) => page.locator('table.modules > tbody > tr').filter({ has: page.getByText(module, { exact: true }) });

/** `#cf222e` → `rgb(207, 34, 46)`, as getComputedStyle reports colours. */
function rgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((at) => Number.parseInt(hex.slice(at, at + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}

/** A page that remembers the last document it loaded (the meta refresh loads new ones by itself) and any CSP complaint. */
async function openPage(): Promise<{ page: Page; lastDocument: () => Response | undefined; cspViolations: string[] }> {
  const page = await browser.newPage();
  let last: Response | undefined;
  const cspViolations: string[] = [];
  page.on('response', (response) => {
    if (response.request().resourceType() === 'document') last = response;
  });
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
  await page.goto(`${daemon.baseUrl}/`);
  return { page, lastDocument: () => last, cspViolations };
}

describe('the status page in a browser', () => {
  test('a healthy host: the person sees OK overall and an OK row for web', async () => {
    await daemon.statusWhen((doc) => doc.state === 'ok');
    const { page, lastDocument, cspViolations } = await openPage();
    try {
      expect(await page.title()).toBe('OK · Campaign health');
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Campaign health: OK');
      const web = moduleRow(page, 'web');
      expect(await web.count()).toBe(1);
      expect(await web.locator('.badge').innerText()).toBe('OK');
      expect(await web.locator('.badge').evaluate((element) => getComputedStyle(element).backgroundColor)).toBe(rgb(STATE_COLOURS.ok));
      expect(await web.getByText(WEB_HINT).count()).toBe(0);
      // The system row was switched off: greyed, labelled, no hint.
      expect(await moduleRow(page, 'system').locator('.badge').innerText()).toBe('DISABLED');
      const headers = lastDocument()!.headers();
      expect(headers['content-type']).toBe('text/html; charset=utf-8');
      expect(headers['content-security-policy']).toBe(STATUS_PAGE_CSP);
      expect(cspViolations).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('web killed: the page refreshes itself and shows web CRITICAL in red with its hint', async () => {
    await daemon.statusWhen((doc) => doc.state === 'ok');
    const { page, lastDocument, cspViolations } = await openPage();
    await sim.kill('web');
    try {
      // No reload from the test: the meta refresh must bring the change (every 10 s, checks every 1 s).
      const web = moduleRow(page, 'web');
      await web.locator('.badge', { hasText: 'CRITICAL' }).waitFor({ timeout: 30_000 });
      expect(await page.title()).toBe('CRITICAL · Campaign health');
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Campaign health: CRITICAL');
      expect(await page.locator('header').getByRole('link', { name: 'web@default' }).isVisible()).toBe(true);
      const badge = web.locator('.badge');
      expect(await badge.innerText()).toBe('CRITICAL');
      // The stylesheet is allowed by its hash in the CSP: the colour proves the two agree.
      expect(await badge.evaluate((element) => getComputedStyle(element).backgroundColor)).toBe(rgb(STATE_COLOURS.critical));
      expect(await web.getByText(WEB_HINT).isVisible()).toBe(true);
      expect(await web.locator('strong', { hasText: 'xtk:session' }).isVisible()).toBe(true);
      expect(await web.locator('.detail').innerText()).toContain(`http_port: no TCP listener on port ${sim.ports.http}`);
      // Rows that are fine carry no hint.
      expect(await moduleRow(page, 'watchdog').locator('.hint').count()).toBe(0);
      const headers = lastDocument()!.headers();
      expect(headers['content-security-policy']).toBe(STATUS_PAGE_CSP);
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['cache-control']).toBe('no-store');
      expect(cspViolations).toEqual([]);
    } finally {
      await page.close();
      await sim.startModule('web');
    }
    await daemon.statusWhen((doc) => row(doc, 'web').state === 'ok');
  }, 120_000);

  test('the page links to the JSON status and the metrics, and they still answer as before', async () => {
    const { page } = await openPage();
    try {
      await page.getByRole('link', { name: 'JSON' }).click();
      expect(new URL(page.url()).pathname).toBe('/status');
      expect(JSON.parse(await page.locator('body').innerText())).toMatchObject({ modules: expect.any(Array) });
    } finally {
      await page.close();
    }
    expect((await daemon.get('/status?format=text')).body).toMatch(/^web\s+default\s/m);
    expect((await daemon.get('/metrics')).type).toContain('text/plain');
    expect((await daemon.get('/healthz')).status).toBe(200);
  });
});

describe('GET / over plain HTTP', () => {
  test('HEAD answers the headers without a body; other methods are 405, unknown paths 404', async () => {
    const head = await fetch(`${daemon.baseUrl}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(head.headers.get('content-security-policy')).toBe(STATUS_PAGE_CSP);
    expect(await head.text()).toBe('');
    const post = await fetch(`${daemon.baseUrl}/`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await daemon.get('/index.html')).status).toBe(404);
  });

  test('the simulated database password is not on the page', async () => {
    const page = await daemon.get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<table class="modules">');
    expect(page.body).not.toContain('SIMSECRET');
  });
});
