import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { plugins } from '../../probes/index.js';
import { Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/config/load.js';
import type { AgentConfig } from '../../src/config/schema.js';
import type { RowStatus } from '../../src/core/store.js';
import { silentLogger } from '../../src/util/logger.js';
import { statusDocument, statusText } from '../../src/output/status.js';
import { statusPage } from '../../src/output/statusPage.js';
import { SimulatedHost } from '../sim/host.js';
import { sleep } from './faultDaemon.js';

// The clock jumping forward and back between cycles, on a live simulated host: the Agent runs
// in-process with an injected clock (the host's own files and processes keep the real one, as files
// written before a real jump do). No negative durations, `since` never ahead of the clock, no false
// critical from a jump, recovery once the clock is back, the daily-restart window follows the clock.
const INSTANCE = 'faultclock';
const HOUR = 3_600_000;
const KEYS = new Set(['trackinglogd@default', `mta@${INSTANCE}`, `wfserver@${INSTANCE}`, `inMail@${INSTANCE}`, `stat@${INSTANCE}`, 'nlserver@default']);

let sim: SimulatedHost;
let config: AgentConfig;

beforeAll(async () => {
  // Campaign's default restart time: the daily-restart test below sets the clock around it.
  sim = await SimulatedHost.start({ instances: [INSTANCE], trackingIntervalMs: 200, processRestartTime: '06:00:00' });
  const file = await sim.writeAgentConfig({
    modules: {
      system: { enabled: false },
      trackinglogd: { growthWarning: '1h', growthCritical: '6h' },
      mta: { logMaxAge: '1h' },
    },
  });
  ({ config } = await loadConfig(plugins, file));
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

/** A duration written negative: `-5s`, `-120ms`, `up -3m`. */
const NEGATIVE_DURATION = /(^|[\s(])-\d+(\.\d+)?\s?(ms|s|m|h|d)\b/;

function expectNoNegativeTime(rows: RowStatus[], now: number): void {
  for (const row of rows) {
    expect(row.since).toBeLessThanOrEqual(now);
    expect(row.detail).not.toMatch(NEGATIVE_DURATION);
    for (const check of row.checks) {
      expect(check.message).not.toMatch(NEGATIVE_DURATION);
      expect(check.durationMs).toBeGreaterThanOrEqual(0);
      // Ages, uptimes and times since growth are never negative.
      for (const [name, value] of Object.entries(check.values)) {
        if (/seconds|bytes|processes|children/.test(name)) expect({ [name]: value }).toEqual({ [name]: Math.max(0, value) });
      }
    }
  }
  const document = statusDocument(rows, { version: 'test', startedAt: now }, now);
  for (const module of document.modules) expect(Date.parse(module.since)).toBeLessThanOrEqual(Date.parse(document.generatedAt));
  expect(statusText(rows, now)).not.toMatch(/-\d+(ms|s|m|h|d) ago/);
  expect(statusPage(rows, { version: 'test', startedAt: now }, now)).not.toMatch(/>-\d+(ms|s|m|h|d) ago</);
}

describe('the clock jumping forward and back between cycles', () => {
  test('+2h, back, -2h, back: no negative durations, since never ahead, never critical, ok once the clock is right', async () => {
    let offset = 0;
    const agent = new Agent({ config, plugins, log: silentLogger, now: () => Date.now() + offset });
    await agent.refresh();
    const seen: string[] = [];
    for (const jump of [0, +2 * HOUR, 0, -2 * HOUR, 0, +2 * HOUR, -2 * HOUR, 0]) {
      offset = jump;
      await agent.runCycle(KEYS);
      const now = agent.now();
      const rows = agent.store.all().filter((row) => KEYS.has(row.key));
      expect(rows).toHaveLength(KEYS.size);
      expectNoNegativeTime(rows, now);
      for (const row of rows) {
        seen.push(`${jump / HOUR}h ${row.key} ${row.state}: ${row.detail}`);
        // A jump is never an outage.
        expect(['ok', 'warning']).toContain(row.state);
        if (jump <= 0) {
          // Files written at (real) now look fresh or "from the future" (age 0): nothing to warn about.
          expect(`${row.key} ${row.state}: ${row.detail}`).toBe(`${row.key} ok: ${row.detail}`);
        }
      }
      const growth = rows.find((row) => row.key === 'trackinglogd@default')!.checks.find((check) => check.name === 'redir_log' && check.checkLabels?.redir_instance === INSTANCE)!;
      // Growth is judged from what the check saw change, so it stays ok whichever way the clock went.
      expect(growth.state).toBe('ok');
      await sleep(400);
    }
    // After a forward jump the module logs, last written "2h ago" by that clock, are stale, and say
    // so as a warning (their stale state); back on the right clock they are ok again (checked above).
    expect(seen.filter((line) => line.startsWith('2h ') && line.includes(' warning: '))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^2h mta@faultclock warning: log: mta(_2)?\.log written 2h ago, older than 1h(; children: 0 mtachild processes for faultclock \(counted, not judged\))?$/)]),
    );
  }, 120_000);

  test('a stall that starts around a backward jump is reported after growthWarning on the new clock', async () => {
    let offset = 0;
    const agent = new Agent({ config, plugins, log: silentLogger, now: () => Date.now() + offset });
    await agent.refresh();
    const key = new Set(['trackinglogd@default']);
    const growth = () => agent.store.get('trackinglogd@default')!.checks.find((check) => check.name === 'redir_log' && check.checkLabels?.redir_instance === INSTANCE)!;
    await agent.runCycle(key);
    // trackinglogd writes every 200 ms: the next run sees the file grow.
    await sleep(600);
    offset = 2 * HOUR;
    await agent.runCycle(key);
    expect(growth().state).toBe('ok');
    await sim.setControl({ tracking: 'stall' });
    try {
      await sleep(600);
      await agent.runCycle(key);
      // Set back two hours: no growth since, but none for long either.
      offset = 0;
      await agent.runCycle(key);
      expect(growth()).toMatchObject({ state: 'ok' });
      // 61 minutes later on that clock: a stall of 61 minutes, not one "in the future" for two more hours.
      offset = 61 * 60_000;
      await agent.runCycle(key);
      expect(growth().state).toBe('warning');
      expect(growth().message).toMatch(/^no growth of 0x[0-9A-F]{16}\.log for 1h 1m \(warning after 1h, critical after 6h\)$/);
    } finally {
      await sim.setControl({ tracking: 'grow' });
    }
  }, 120_000);

  test('the daily-restart window follows the clock it is given, jumps included', async () => {
    // 06:02 server time, two minutes into the 06:00:00 restart, grace 5m.
    const restart = new Date();
    restart.setHours(6, 2, 0, 0);
    let offset = 0;
    const agent = new Agent({ config, plugins, log: silentLogger, now: () => restart.getTime() + offset });
    await agent.refresh();
    const key = `wfserver@${INSTANCE}`;
    const processCheck = () => agent.store.get(key)!.checks.find((check) => check.name === 'process')!;
    await sim.kill('wfserver', INSTANCE);
    try {
      const seen: string[] = [];
      for (const jump of [0, +2 * HOUR, 0, -2 * HOUR, 0]) {
        offset = jump;
        await agent.runCycle(new Set([key]));
        seen.push(`${jump / HOUR}h ${processCheck().state}: ${processCheck().message}`);
        expectNoNegativeTime([agent.store.get(key)!], agent.now());
      }
      const missing = "no 'nlserver wfserver ... -instance:faultclock' process found";
      const graced = `${missing} (daily restart at 06:00:00, grace 5m: warning, not critical)`;
      expect(seen).toEqual([`0h warning: ${graced}`, `2h critical: ${missing}`, `0h warning: ${graced}`, `-2h critical: ${missing}`, `0h warning: ${graced}`]);
    } finally {
      await sim.startModule('wfserver', INSTANCE);
    }
  }, 120_000);
});
