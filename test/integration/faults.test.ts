import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { plugins } from '../../probes/index.js';
import { Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/util/logger.js';
import { nlserverReader } from '../../src/clients/nlserver/view.js';
import { createCycleSnapshot } from '../../src/snapshot/cycle.js';
import { readProcesses } from '../../src/snapshot/processes.js';
import { SimulatedHost } from '../sim/host.js';
import { FaultDaemon, findCheck, findRow, lastRunMs, sleep, type FullStatusDoc } from './faultDaemon.js';
import { notLooked, waitFor } from './helpers.js';

// Faults on a running simulated host, each answered by the daemon without crashing and with a
// truthful row: a probe target that hangs, nlserver hanging or printing 10 MB, tracking logs rotated
// and purged inside short growth windows, a module restarting while cycles run. The instance is
// named `faults` so that assertions can stay on per-instance rows and files of this host: other
// simulated hosts may run on the machine at the same time, and per-machine process checks
// (`nlserver web`) see their processes too.
const INSTANCE = 'faults';
const MIB = 1024 * 1024;

let sim: SimulatedHost;
let configFile: string;
let daemon: FaultDaemon;

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: [INSTANCE], trackingIntervalMs: 200 });
  configFile = await sim.writeAgentConfig(
    {
      // Timeouts far apart, so that which one ended a check or a cycle shows whatever the machine's
      // speed: a hung web check ends at 4 s, a hung nlserver at 4 s, anything else would need 20 s.
      defaults: { schedule: '* * * * * *', timeout: '20s' },
      // The view read every second too (its default is a minute): the nlserver faults show at once.
      campaign: { nlserverTimeout: '4s', nlserverSchedule: '* * * * * *' },
      modules: {
        // The system row reads the machine running the tests: it has its own tests.
        system: { enabled: false },
        web: { timeout: '4s' },
        // Its own schedule (the same period written differently is another cycle): unaffected by the
        // web row's slow cycle. stat@faults is also checked every second on that schedule.
        stat: { schedule: '*/1 * * * * *' },
        trackinglogd: { growthWarning: '3s', growthCritical: '6s' },
      },
    },
    'faults.yaml',
  );
  daemon = await FaultDaemon.start(configFile);
}, 120_000);

afterAll(async () => {
  if (daemon) expect(await daemon.stop()).toBe(0);
  await sim?.stop();
});

/** Polls /status (and /healthz) every `everyMs` for `forMs`; the daemon must answer every time. */
async function sampleStatus(forMs: number, everyMs = 250): Promise<{ doc: FullStatusDoc; healthz: number }[]> {
  const samples: { doc: FullStatusDoc; healthz: number }[] = [];
  const until = Date.now() + forMs;
  while (Date.now() < until) {
    samples.push({ doc: await daemon.status(), healthz: (await daemon.get('/healthz')).status });
    await sleep(everyMs);
  }
  return samples;
}

const distinct = (values: number[]): number[] => [...new Set(values)].sort((a, b) => a - b);
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const gaps = (values: number[]): number[] => values.slice(1).map((value, index) => value - values[index]!);

/** Processes running the simulated host's bin/nlserver (pdump, monitor) right now. */
async function nlserverRuns(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(sim.nlserverPath)) pids.push(Number(entry));
  }
  return pids;
}

describe('a probe target hanging forever', () => {
  test('web is unknown with "timeout" after its 4 s, while the other rows keep their cadence', async () => {
    await sim.setControl({ rTest: 'hang', soap: 'hang' });
    try {
      const hung = await daemon.statusWhen(
        // Rows are flap-damped (failuresBeforeCritical, 2 by default): the row follows its checks a run later.
        (doc) => findRow(doc, 'web').state === 'unknown' && findCheck(doc, 'web', 'r_test').state === 'unknown' && findCheck(doc, 'web', 'soap').state === 'unknown',
        30_000,
      );
      for (const name of ['r_test', 'soap']) {
        const check = findCheck(hung, 'web', name);
        expect(check.message).toBe('check did not finish within 4s (timeout)');
        // The deadline is the module's timeout, not defaults.timeout (20s): honoured, not waited past.
        expect(check.durationMs).toBeGreaterThanOrEqual(3900);
        expect(check.durationMs).toBeLessThan(10_000);
      }
      expect(findRow(hung, 'web').state).toBe('unknown');
      expect(findRow(hung, 'web').detail).toContain('r_test: check did not finish within 4s (timeout)');
      // What answers is still judged.
      expect(findCheck(hung, 'web', 'http_port').state).toBe('ok');

      const samples = await sampleStatus(12_000);
      for (const { doc, healthz } of samples) {
        expect(healthz).toBe(200);
        expect(findRow(doc, 'web').state).toBe('unknown');
      }
      const runs = (module: string, instance = 'default') => distinct(samples.map(({ doc }) => lastRunMs(doc, module, instance)));
      // Same schedule as web: its cycle lasts the 4 s timeout, then the next tick starts it again.
      // Every cycle moves lastRun on, and no gap comes near the 20 s a cycle held past web's timeout would take.
      for (const [module, instance] of [['nlserver', 'default'], ['web', 'default'], ['mta', INSTANCE]] as const) {
        const seen = runs(module, instance);
        expect(seen.length).toBeGreaterThanOrEqual(2);
        for (const gap of gaps(seen)) expect(gap).toBeLessThan(10_000);
      }
      // Another schedule is another cycle: stat@faults is not held by web at all. It runs more often
      // than web, and most of its gaps (a tick, or an nlserver run on a loaded machine) are shorter
      // than web's shortest (its 4 s timeout and a tick): held by web, they would be the same.
      const stat = runs('stat', INSTANCE);
      const web = runs('web');
      expect(stat.length).toBeGreaterThan(web.length + 1);
      expect(median(gaps(stat))).toBeLessThan(Math.min(...gaps(web)));
    } finally {
      await sim.setControl({ rTest: 'ok', soap: 'fault' });
    }
    const back = await daemon.statusWhen((doc) => findCheck(doc, 'web', 'r_test').state === 'ok' && findCheck(doc, 'web', 'soap').state === 'ok');
    expect(findCheck(back, 'web', 'r_test').durationMs).toBeLessThan(4_000);
  }, 120_000);
});

describe('nlserver hanging or printing 10 MB', () => {
  test('hanging: the nlserver row is unknown with the reason, module rows are judged from the process table', async () => {
    await sim.setControl({ nlserverMode: 'hang' });
    try {
      const doc = await daemon.statusWhen(
        (status) => findRow(status, 'nlserver').state === 'unknown' && findCheck(status, 'nlserver', 'pdump').message.includes('timed out'),
        30_000,
      );
      expect(findRow(doc, 'nlserver').state).toBe('unknown');
      expect(findCheck(doc, 'nlserver', 'pdump').message).toBe('nlserver pdump failed: nlserver timed out after 4000 ms; modules are judged from the process table');
      expect(findCheck(doc, 'nlserver', 'monitor_missing').message).toBe(
        'nlserver monitor -missing failed: nlserver timed out after 4000 ms; modules are judged from the process table',
      );
      const mta = findRow(doc, 'mta', INSTANCE);
      expect(mta.state).toBe('ok');
      expect(findCheck(doc, 'mta', 'process', INSTANCE).message).toMatch(/^mta@faults running \(pid \d+, up /);
      // monitor_missing could not look: left out of the verdict, its reason in notLooked.
      expect(notLooked(doc as never, 'mta', 'monitor_missing', INSTANCE).message).toBe('not looked: nlserver monitor -missing failed (nlserver timed out after 4000 ms)');
      expect(findCheck(doc, 'mta', 'memory', INSTANCE).message).toMatch(/^mta@faults resident [\d.]+ MiB from \/proc \(nlserver pdump failed \(nlserver timed out after 4000 ms\)\)$/);
      expect((await daemon.get('/metrics')).body).toContain('campaign_nlserver_up{command="pdump"} 0');
      expect((await daemon.get('/healthz')).status).toBe(200);
    } finally {
      await sim.setControl({ nlserverMode: 'normal' });
    }
    await daemon.statusWhen((status) => findRow(status, 'nlserver').state === 'ok', 20_000);
    // Every hung run was killed: none is left behind.
    await waitFor(async () => (await nlserverRuns()).length === 0, 10_000, () => 'hung nlserver runs are still alive');
  }, 120_000);

  test('10 MB of output: cut at 256 KiB, the row says so, module rows still judged, daemon memory bounded', async () => {
    // Warm: the daemon has run for a while, so its heap has its working size.
    const before = await daemon.rssBytes();
    await sim.setControl({ nlserverMode: 'huge' });
    const rss: number[] = [];
    try {
      const doc = await daemon.statusWhen(
        (status) => findRow(status, 'nlserver').state === 'unknown' && findCheck(status, 'nlserver', 'pdump').message.includes('output exceeded'),
        20_000,
      );
      expect(findRow(doc, 'nlserver').state).toBe('unknown');
      expect(findCheck(doc, 'nlserver', 'pdump').message).toBe(
        'nlserver pdump failed: nlserver stopped: output exceeded 262144 bytes; modules are judged from the process table',
      );
      expect(findRow(doc, 'mta', INSTANCE).state).toBe('ok');
      expect(findCheck(doc, 'mta', 'memory', INSTANCE).message).toContain('from /proc (nlserver pdump failed (nlserver stopped: output exceeded 262144 bytes))');
      // About ten cycles of two schedules, each running pdump and monitor: 40 runs of 10 MiB offered.
      for (let i = 0; i < 20; i++) {
        await sleep(500);
        rss.push(await daemon.rssBytes());
        expect((await daemon.get('/healthz')).status).toBe(200);
      }
      const last = await daemon.status();
      expect(findRow(last, 'nlserver').state).toBe('unknown');
      expect(lastRunMs(last, 'nlserver')).toBeGreaterThan(lastRunMs(doc, 'nlserver'));
    } finally {
      await sim.setControl({ nlserverMode: 'normal' });
    }
    // The bound: 40 x 10 MiB went by, at most 4 x 256 KiB per cycle is ever held. 50 MiB of growth
    // leaves room for V8's heap sizing, but not for the output being buffered.
    const growth = Math.max(...rss) - before;
    expect(growth).toBeLessThan(50 * MIB);
    await daemon.statusWhen((status) => findRow(status, 'nlserver').state === 'ok', 20_000);
  }, 120_000);
});

describe('tracking logs rotated and purged during short growth windows', () => {
  test('rotation, purge of older files and purge of every file are activity: ok throughout', async () => {
    const seen: string[] = [];
    const watch = async (forMs: number) => {
      for (const { doc } of await sampleStatus(forMs, 200)) {
        const check = findCheck(doc, 'trackinglogd', 'redir_log', 'default', { redir_instance: INSTANCE });
        seen.push(`${check.state}: ${check.message}`);
      }
    };
    await watch(1_000);
    const rotated: string[] = [];
    for (let i = 0; i < 4; i++) {
      rotated.push(await sim.rotateTrackingLog(INSTANCE));
      await watch(1_500);
      await sim.purgeTrackingLogs(INSTANCE, 1);
      await watch(1_500);
    }
    // Everything purged at once: trackinglogd starts a new file, lower-numbered than the last one.
    await sim.purgeTrackingLogs(INSTANCE, 0);
    await watch(2_500);
    // ... and the check finds it growing, however long a loaded machine takes to get there.
    const last = await daemon.statusWhen((doc) => {
      const check = findCheck(doc, 'trackinglogd', 'redir_log', 'default', { redir_instance: INSTANCE });
      seen.push(`${check.state}: ${check.message}`);
      return check.message.startsWith('newest ');
    });
    // The windows are 3 s / 6 s, the run 15 s: a missed activity would have shown.
    expect(seen.filter((line) => !line.startsWith('ok: '))).toEqual([]);
    expect(seen.some((line) => line.includes(rotated[3]!))).toBe(true);
    expect(findCheck(last, 'trackinglogd', 'redir_log', 'default', { redir_instance: INSTANCE }).message).toMatch(/^newest 0x[0-9A-F]{16}\.log grew \d+ms ago|^newest 0x[0-9A-F]{16}\.log grew \d+s ago/);
  }, 120_000);
});

describe('a process restarting between the snapshot and the check', () => {
  test('killed and restarted in a loop while cycles run: running or not found, never an exception', async () => {
    const seen = new Map<string, Set<string>>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const doc = await daemon.status();
        for (const check of findRow(doc, 'stat', INSTANCE).checks) {
          if (!seen.has(check.name)) seen.set(check.name, new Set());
          seen.get(check.name)!.add(`${check.state}: ${check.message}`);
        }
        await sleep(100);
      }
    })();
    try {
      for (let i = 0; i < 6; i++) {
        await sim.kill('stat', INSTANCE, i % 2 === 0 ? 'SIGTERM' : 'SIGKILL');
        await sleep(150 + 200 * (i % 3));
        if (i === 5) {
          // Whether a short gap falls on a cycle is chance: the last one lasts until a cycle has seen it.
          const down = await daemon.statusWhen((doc) => findCheck(doc, 'stat', 'process', INSTANCE).state === 'critical');
          const check = findCheck(down, 'stat', 'process', INSTANCE);
          seen.get('process')?.add(`${check.state}: ${check.message}`);
        }
        await sim.startModule('stat', INSTANCE);
        await sleep(300);
      }
    } finally {
      sampling = false;
      await sampler;
    }
    const all = [...seen.values()].flatMap((set) => [...set]);
    expect(all.filter((line) => /^unknown|check failed|check returned|NaN|undefined/.test(line))).toEqual([]);
    const processLines = [...seen.get('process')!];
    for (const line of processLines) {
      // Up since the file started (a minute or more, on a slow machine), or since a restart here.
      expect(line).toMatch(/^ok: stat@faults running \(pid [1-9]\d*, up \d+(ms|s|m|h)( \d+(s|m))?\)$|^critical: no 'nlserver stat \.\.\. -instance:faults' process found$/);
    }
    expect(processLines.some((line) => line.startsWith('critical'))).toBe(true);
    for (const line of seen.get('udp_port')!) expect(line).toMatch(/^(ok|critical): /);
    // Restarted for good: green again, with the new pid.
    const pid = sim.pid('stat', INSTANCE);
    // The row may still be ok from flap damping while the check saw it down: wait for the new pid itself.
    const doc = await daemon.statusWhen((status) => findRow(status, 'stat', INSTANCE).state === 'ok' && findCheck(status, 'stat', 'process', INSTANCE).message.includes(`pid ${pid},`));
    expect(findCheck(doc, 'stat', 'process', INSTANCE).state).toBe('ok');
  }, 120_000);

  test('a process table read just before the process exited: the checks judge it, nothing throws', async () => {
    const { config } = await loadConfig(plugins, configFile);
    const pid = sim.pid('stat', INSTANCE)!;
    const stale = await readProcesses();
    expect(stale.some((p) => p.pid === pid)).toBe(true);
    await sim.kill('stat', INSTANCE, 'SIGKILL');
    try {
      const nlserver = nlserverReader({ enabled: 'auto', file: sim.nlserverPath, installDir: sim.installDir, timeoutMs: 5_000 });
      // The table as it was when the snapshot was taken, plus a zombie and an entry with no argv.
      const zombie = { ...stale.find((p) => p.pid === pid)!, pid: 2 ** 22 + 1, stateLetter: 'Z' };
      const empty = { pid: 2 ** 22 + 2, ppid: 1, argv: [], comm: 'nlserver', startedAtMs: Date.now() + 3_600_000, rssBytes: 0, stateLetter: 'S' };
      let snapshots = 0;
      const agent = new Agent({
        config,
        plugins,
        log: silentLogger,
        snapshotFactory: () => {
          snapshots += 1;
          const live = createCycleSnapshot({ nlserver });
          return snapshots === 1 ? { ...live, processes: async () => [...stale, zombie, empty] } : live;
        },
      });
      await agent.refresh();
      const key = `stat@${INSTANCE}`;
      await agent.runCycle(new Set([key]));
      const first = agent.store.get(key)!;
      const checks = Object.fromEntries(first.checks.map((check) => [check.name, check]));
      // The snapshot still lists it: running, with a sane uptime, as the table said.
      expect(checks.process).toMatchObject({ state: 'ok' });
      expect(checks.process!.message).toMatch(new RegExp(`^stat@faults running \\(pid ${pid}, up \\d+(ms|s|m|h)( \\d+(s|m))?\\)$`));
      expect(checks.process!.values.uptime_seconds).toBeGreaterThanOrEqual(0);
      // What is read after the exit says it is gone: the row is critical, not unknown.
      expect(checks.udp_port!.state).toBe('critical');
      expect(checks.monitor_missing!.state).toBe('critical');
      expect(first.state).toBe('critical');
      for (const check of first.checks) expect(Object.values(check.values).every(Number.isFinite)).toBe(true);
      // The next cycle reads the table again.
      await sleep(300);
      await agent.runCycle(new Set([key]));
      const second = agent.store.get(key)!;
      expect(second.checks.find((check) => check.name === 'process')).toMatchObject({ state: 'critical', message: "no 'nlserver stat ... -instance:faults' process found" });
      expect(second.state).toBe('critical');
    } finally {
      await sim.startModule('stat', INSTANCE);
    }
    await daemon.statusWhen((status) => findRow(status, 'stat', INSTANCE).state === 'ok');
    expect(daemon.alive()).toBe(true);
  }, 120_000);
});
