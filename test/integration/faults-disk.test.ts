import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { SimulatedHost } from '../sim/host.js';
import { FaultDaemon, findRow, lastRunMs, sleep } from './faultDaemon.js';

// A full disk for the agent's own logs: its stderr (the journal, or a file it is redirected to) is
// /dev/full, where every write fails with ENOSPC. With logLevel debug the agent writes at every
// cycle; each write fails. The probes, /status, /metrics and /healthz must go on; the lost log lines
// are dropped, and the memory they would take is bounded.
const INSTANCE = 'faultdisk';
const MIB = 1024 * 1024;

let sim: SimulatedHost;
let daemon: FaultDaemon | undefined;

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: [INSTANCE], trackingIntervalMs: 200 });
}, 120_000);

afterAll(async () => {
  if (daemon) expect(await daemon.stop()).toBe(0);
  await sim?.stop();
});

describe('a full disk for the agent’s own logs', () => {
  test('stderr on /dev/full, logLevel debug: the daemon serves /status and /metrics and keeps cycling', async () => {
    expect(existsSync('/dev/full')).toBe(true);
    const config = await sim.writeAgentConfig(
      {
        logLevel: 'debug',
        defaults: { schedule: '* * * * * *', timeout: '20s' },
        modules: { system: { enabled: false } },
      },
      'full-disk.yaml',
    );
    // Something to log at every cycle besides debug lines: a row that is not ok logs 'row checked'.
    await sim.kill('stat', INSTANCE);
    daemon = await FaultDaemon.start(config, { stderrFile: '/dev/full' });
    const first = await daemon.statusWhen((doc) => findRow(doc, 'stat', INSTANCE).state === 'critical');
    const rss: number[] = [await daemon.rssBytes()];
    const runs = new Set([lastRunMs(first, 'mta', INSTANCE)]);
    let last = first;
    // Every second for 8 s at least, and on until 4 cycles were seen (a loaded machine cycles slower).
    for (let i = 0; i < 8 || (runs.size < 4 && i < 60); i++) {
      await sleep(1_000);
      last = await daemon.status();
      runs.add(lastRunMs(last, 'mta', INSTANCE));
      const metrics = await daemon.get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain(`campaign_module_up{module="stat",campaign_instance="${INSTANCE}"} 0`);
      expect((await daemon.get('/healthz')).status).toBe(200);
      rss.push(await daemon.rssBytes());
    }
    // Cycling on: a cadence, not a speed (a cycle that outlasts its 1 s tick skips the next one).
    expect(runs.size).toBeGreaterThanOrEqual(4);
    expect(findRow(last, 'mta', INSTANCE).state).toBe('ok');
    expect((await daemon.get('/status?format=text')).body).toMatch(/^stat\s+faultdisk\s+CRITICAL\s/m);
    // The log lines that could not be written are dropped, not queued.
    expect(Math.max(...rss) - rss[0]!).toBeLessThan(30 * MIB);
    await sim.startModule('stat', INSTANCE);
    await daemon.statusWhen((doc) => findRow(doc, 'stat', INSTANCE).state === 'ok');
    expect(daemon.alive()).toBe(true);
    // SIGTERM logs "stopping" and "stopped" (both lost): a clean exit all the same.
    expect(await daemon.stop()).toBe(0);
    daemon = undefined;
  }, 120_000);
});
