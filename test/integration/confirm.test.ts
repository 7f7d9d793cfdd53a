import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SimulatedHost } from '../sim/host.js';
import { FaultDaemon, findRow } from './faultDaemon.js';

// A confirmation run on the real daemon (defaults.confirmAfter; the timing itself is unit-tested with
// an injected clock in test/unit/engine/confirm.test.ts). Every row runs once a minute, at a second
// a few seconds ahead: after a module is killed, one scheduled cycle sees it, and the next one is a
// minute away. With failuresBeforeCritical 2 the row can only turn critical in between through a
// confirmation run. What is asserted is that order (cycles counted, log lines), not durations.
const INSTANCE = 'confirm';

let sim: SimulatedHost;
let daemon: FaultDaemon;

beforeAll(async () => {
  sim = await SimulatedHost.start({
    instances: [INSTANCE],
    machineModules: { web: false, trackinglogd: false, syslogd: false },
    instanceModules: { wfserver: false, inMail: false, stat: false },
  });
  // The first cycle runs at start; the first scheduled one ~8 s from now, once the daemon is up.
  const second = (new Date().getSeconds() + 8) % 60;
  const configFile = await sim.writeAgentConfig(
    { logLevel: 'debug', defaults: { schedule: `${second} * * * * *`, confirmAfter: '1s' }, modules: { system: { enabled: false } } },
    'confirm.yaml',
  );
  daemon = await FaultDaemon.start(configFile);
}, 60_000);

afterAll(async () => {
  if (daemon) expect(await daemon.stop()).toBe(0);
  await sim?.stop();
});

async function cycles(): Promise<number> {
  const match = /^campaign_agent_probe_cycles_total (\d+)$/m.exec((await daemon.get('/metrics')).body);
  if (!match) throw new Error('no campaign_agent_probe_cycles_total in /metrics');
  return Number(match[1]);
}

describe('confirmation runs on the real daemon', () => {
  test('a killed module turns critical after one scheduled cycle, by the confirmation run, long before the next cycle', async () => {
    expect(findRow(await daemon.status(), 'mta', INSTANCE).state).toBe('ok');
    await sim.kill('mta', INSTANCE, 'SIGKILL');
    const before = await cycles();
    // Normally the scheduled cycle ~8 s after the config was written; on a very slow start, the next minute's.
    const down = await daemon.statusWhen((doc) => findRow(doc, 'mta', INSTANCE).state === 'critical', 90_000);
    expect(findRow(down, 'mta', INSTANCE).detail).not.toContain('runs before the state changes');
    // One scheduled cycle since the kill: with damping at 2 that one alone could not turn the row.
    expect(await cycles()).toBe(before + 1);
    const lines = daemon.output().split('\n').filter((line) => line.includes(`"row":"mta@${INSTANCE}"`));
    const held = lines.findIndex((line) => line.includes('confirmation run scheduled'));
    const confirmed = lines.findIndex((line) => line.includes('"msg":"confirmation run"'));
    expect(held).toBeGreaterThanOrEqual(0);
    expect(confirmed).toBeGreaterThan(held);
  }, 120_000);
});
