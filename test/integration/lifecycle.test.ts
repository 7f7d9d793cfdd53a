import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { SERVER_LIMITS } from '../../src/http/server.js';
import { SimulatedHost } from '../sim/host.js';
import { freeTcpPort } from '../sim/net-util.js';
import { check, Daemon, waitFor } from './helpers.js';

// The daemon's lifecycle: SIGHUP reloads (and says whether the last one worked, as a metric), and
// SIGTERM stops promptly even with a check hanging and a client holding a keep-alive connection.

/** The daemon's JSON log line whose msg starts with `msg`. */
function logLine(output: string, msg: string): { time: number; msg: string; waitMs?: number } {
  const line = output.split('\n').find((entry) => entry.includes(`"msg":"${msg}`));
  if (!line) throw new Error(`no log line "${msg}" in:\n${output}`);
  return JSON.parse(line) as { time: number; msg: string; waitMs?: number };
}

/** Processes running `file` (the simulated host's bin/nlserver) right now. */
function nlserverRuns(file: string): number {
  return readdirSync('/proc').filter((entry) => {
    try {
      return /^\d+$/.test(entry) && readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(file);
    } catch {
      return false;
    }
  }).length;
}

function gauge(body: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
  if (!match) throw new Error(`${name} not in /metrics`);
  return Number(match[1]);
}

describe('SIGHUP and campaign_agent_config_last_reload_success', () => {
  let dir: string;
  let config: string;
  let daemon: Daemon;
  /** Just before the daemon was started, and once it was healthy (seconds, as the metric). */
  let startingAt: number;
  let healthyAt: number;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'chk-life-'));
    const listen = `127.0.0.1:${await freeTcpPort()}`;
    config = path.join(dir, 'agent.yaml');
    await writeFile(config, YAML.stringify({ listen, campaign: { installDir: path.join(dir, 'no-install') }, modules: { system: { enabled: false } } }));
    startingAt = Date.now() / 1000;
    daemon = await Daemon.start(config, listen);
    healthyAt = Date.now() / 1000;
  });

  afterAll(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });

  test('1 after start; 0 and a log line naming the problem after a refused reload; 1 again after a good one', async () => {
    const start = (await daemon.get('/metrics')).body;
    expect(gauge(start, 'campaign_agent_config_last_reload_success')).toBe(1);
    const startedAt = gauge(start, 'campaign_agent_config_last_reload_success_timestamp_seconds');
    // Loaded while the daemon started (the metric has whole seconds or finer).
    expect(startedAt).toBeGreaterThanOrEqual(Math.floor(startingAt));
    expect(startedAt).toBeLessThanOrEqual(healthyAt);

    const original = await readFile(config, 'utf8');
    await writeFile(config, `${original}logLevel: chatty\n`);
    daemon.signal('SIGHUP');
    await waitFor(() => daemon.output().includes('config reload refused'), 5_000, () => daemon.output());
    const line = daemon.output().split('\n').find((entry) => entry.includes('config reload refused'))!;
    expect(JSON.parse(line)).toMatchObject({ level: 50, msg: 'config reload refused: keeping the running config', config });
    expect(line).toContain(`${config}: logLevel: expected one of fatal, error, warn, info, debug, trace, got \\"chatty\\"`);
    const refused = (await daemon.get('/metrics')).body;
    expect(gauge(refused, 'campaign_agent_config_last_reload_success')).toBe(0);
    expect(gauge(refused, 'campaign_agent_config_last_reload_success_timestamp_seconds')).toBe(startedAt);
    // Still serving with the old config.
    expect((await daemon.get('/healthz')).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    await writeFile(config, original);
    daemon.signal('SIGHUP');
    await waitFor(() => daemon.output().includes('config reloaded'), 5_000, () => daemon.output());
    const reloaded = (await daemon.get('/metrics')).body;
    expect(gauge(reloaded, 'campaign_agent_config_last_reload_success')).toBe(1);
    expect(gauge(reloaded, 'campaign_agent_config_last_reload_success_timestamp_seconds')).toBeGreaterThan(startedAt);
  });
});

describe('SIGTERM', () => {
  let sim: SimulatedHost;

  beforeAll(async () => {
    // Its own instance name and machine modules only, not to be confused with other simulated hosts.
    sim = await SimulatedHost.start({ instances: ['lifecycle'], instanceModules: { mta: false, wfserver: false, inMail: false, stat: false } });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  test('with a check hanging (60 s timeout) and an idle keep-alive client, the daemon exits 0 waiting for neither', async () => {
    const file = await sim.writeAgentConfig({ defaults: { schedule: '* * * * * *', timeout: '60s' }, modules: { system: { enabled: false } } }, 'lifecycle.yaml');
    const { listen } = YAML.parse(await readFile(file, 'utf8')) as { listen: string };
    const daemon = await Daemon.start(file, listen);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await daemon.statusWhen((doc) => check(doc, 'web', 'r_test').state === 'ok');
      // A keep-alive connection, left open and idle.
      await new Promise<void>((resolve, reject) => {
        http.get(`${daemon.baseUrl}/metrics`, { agent }, (response) => response.resume().on('end', resolve)).on('error', reject);
      });
      await sim.setControl({ rTest: 'hang' });
      // The cycle now hangs on /r/test; the next ticks are skipped and say so.
      await waitFor(() => daemon.output().includes('previous probe cycle still running'), 10_000, () => daemon.output());

      const exitCode = await daemon.stop();
      expect(exitCode).toBe(0);
      // Timed by the daemon's own log, not by how fast this machine starts and reaps processes: the
      // stop waits at most its waitMs (2.5 s) for the hanging check, and closes the idle connection at
      // once; waiting for the check (60 s) or for the client's keep-alive timeout would take longer
      // than waitMs + keepAliveTimeoutMs.
      const stopping = logLine(daemon.output(), 'stopping: no new probe cycles, waiting for running checks');
      const stopped = logLine(daemon.output(), 'stopped');
      expect(stopping.waitMs).toBe(2_500);
      expect(stopped.time - stopping.time).toBeLessThan(stopping.waitMs! + SERVER_LIMITS.keepAliveTimeoutMs);
    } finally {
      agent.destroy();
      await sim.setControl({ rTest: 'ok' });
    }
  });

  test('while an nlserver command is running (execa listens for signals too), SIGTERM still exits 0', async () => {
    const file = await sim.writeAgentConfig(
      { defaults: { schedule: '* * * * * *' }, campaign: { nlserverTimeout: '30s', nlserverSchedule: '* * * * * *' }, modules: { system: { enabled: false } } },
      'lifecycle-nlserver.yaml',
    );
    const { listen } = YAML.parse(await readFile(file, 'utf8')) as { listen: string };
    const daemon = await Daemon.start(file, listen);
    try {
      await daemon.statusWhen((doc) => doc.modules.some((row) => row.module === 'nlserver' && row.state === 'ok'));
      // nlserver pdump now hangs: from the next tick on, a child process is always running. Wait until
      // one does, however long the machine takes to get there.
      await sim.setControl({ nlserverMode: 'hang' });
      await waitFor(() => nlserverRuns(sim.nlserverPath) > 0, 30_000, () => `no nlserver run is hanging:\n${daemon.output()}`);
      const exitCode = await daemon.stop();
      expect(exitCode).toBe(0);
      expect(daemon.output()).toContain('"msg":"stopped"');
    } finally {
      await sim.setControl({ nlserverMode: 'normal' });
    }
  });
});
