import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { web } from '../../probes/web.js';
import { projectRoot } from '../../src/util/paths.js';
import { freeTcpPort } from '../sim/net-util.js';
import { SimulatedHost } from '../sim/host.js';
import { Daemon, waitFor } from './helpers.js';

// The Prometheus side of the agent, checked with the real tools (Debian package `prometheus`, which
// .ci/run installs): promtool on /metrics and on config/prometheus/*, then a real Prometheus scraping
// the daemon on a simulated host with the real scrape job and alert rules.
const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';
/** Makes Prometheus die with the test process, even one killed with SIGKILL (as test/sim/dovecot.ts). */
const SETPRIV = '/usr/bin/setpriv';
const INSTALL_HINT = 'apt-get install -y prometheus';
const CONFIG_DIR = path.join(projectRoot(), 'config', 'prometheus');
const STDERR_KEPT_CHARS = 16_384;

let sim: SimulatedHost;
let daemon: Daemon;
let agentAddress: string;
let tmp: string;

async function jobFile(dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, 'id;email\n1;a@example.com\n');
  const when = new Date(Date.now() - 60_000);
  await utimes(file, when, when);
}

beforeAll(async () => {
  for (const file of [PROMTOOL, PROMETHEUS]) {
    if (!existsSync(file)) throw new Error(`${file} not found: these tests need Prometheus and promtool; install them with \`${INSTALL_HINT}\``);
  }
  tmp = await mkdtemp(path.join(os.tmpdir(), 'campaign-prometheus-'));
  sim = await SimulatedHost.start({ instances: ['prod'], trackingIntervalMs: 200 });
  // Every row enabled, so that every kind of series is in /metrics: job evidence for export, import
  // and tracking (campaign_job_last_success_timestamp_seconds), the system row (campaign_system_*).
  await jobFile(path.join(sim.varDir, 'prod', 'export'), 'recipients.csv');
  await jobFile(path.join(sim.varDir, 'prod', 'upload'), 'crm.csv');
  await jobFile(path.join(sim.root, 'tracking-runs', 'prod'), 'tracking.log');
  const file = await sim.writeAgentConfig(
    {
      // Every second, so that Prometheus sees a killed module within seconds.
      defaults: { schedule: '* * * * * *', timeout: '20s' },
      modules: {
        trackinglogd: { growthWarning: '5s', growthCritical: '10s' },
        export: { jobs: [{ name: 'recipients', instance: 'prod', glob: '*.csv', maxAge: '1h' }] },
        import: { jobs: [{ name: 'crm', instance: 'prod', glob: '*.csv', maxAge: '1h' }] },
        tracking: {
          jobs: [{ name: 'consolidation', instance: 'prod', path: path.join(sim.root, 'tracking-runs', '{instance}'), glob: '*.log', maxAge: '2h' }],
          redirectionUrl: { prod: `http://127.0.0.1:${sim.ports.http}` },
        },
      },
    },
    'prometheus-agent.yaml',
  );
  agentAddress = (YAML.parse(await readFile(file, 'utf8')) as { listen: string }).listen;
  daemon = await Daemon.start(file, agentAddress);
}, 120_000);

afterAll(async () => {
  if (daemon) await daemon.stop();
  await sim?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The campaign-health job of config/prometheus/scrape.yml, as shipped, with its file_sd pointed at `sdFiles`. */
async function shippedJob(sdFiles: string): Promise<Record<string, unknown>> {
  const scrape = YAML.parse(await readFile(path.join(CONFIG_DIR, 'scrape.yml'), 'utf8')) as { scrape_configs: Array<Record<string, unknown>> };
  const job = scrape.scrape_configs.find((entry) => entry.job_name === 'campaign-health');
  if (!job) throw new Error('scrape.yml has no campaign-health job');
  return { ...job, file_sd_configs: [{ files: [sdFiles] }] };
}

async function promtool(args: string[], input?: string): Promise<{ exitCode: number | undefined; output: string }> {
  const result = await execa(PROMTOOL, args, { reject: false, timeout: 20_000, all: true, cwd: projectRoot(), ...(input === undefined ? { stdin: 'ignore' as const } : { input }) });
  return { exitCode: result.exitCode, output: String(result.all ?? '') };
}

describe('promtool', () => {
  test('check metrics: /metrics of a daemon with every row enabled has zero findings, default metrics included', async () => {
    // Wait for a cycle where every kind of row has reported (jobs and system included).
    await daemon.statusWhen((doc) => ['export', 'import', 'tracking', 'system', 'nlserver'].every((module) => doc.modules.some((row) => row.module === module && row.checks.length > 0)));
    const { body } = await daemon.get('/metrics');
    for (const name of ['campaign_job_last_success_timestamp_seconds{module="export",campaign_instance="prod",campaign_job="recipients"}', 'campaign_system_memory_total_bytes', 'campaign_nlserver_up', 'process_cpu_seconds_total', 'nodejs_heap_size_total_bytes']) {
      expect(body).toContain(name);
    }
    const result = await promtool(['check', 'metrics'], body);
    expect(result).toEqual({ exitCode: 0, output: '' });
  });

  test('/metrics: no campaign_* series has an instance or job label; the Campaign instance is campaign_instance, the job campaign_job', async () => {
    await daemon.statusWhen((doc) => ['export', 'import', 'tracking', 'trackinglogd'].every((module) => doc.modules.some((row) => row.module === module && row.checks.length > 0)));
    const { body } = await daemon.get('/metrics');
    const samples = body
      .split('\n')
      .filter((line) => line.startsWith('campaign_'))
      .map((line) => {
        const match = /^(\w+)(?:\{(.*)\})? \S+$/.exec(line);
        if (!match) throw new Error(`unparsed sample line: ${line}`);
        const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name]) => name!);
        return { name: match[1]!, labels, line };
      });
    expect(samples.length).toBeGreaterThan(100);
    expect(samples.filter((sample) => sample.labels.includes('instance') || sample.labels.includes('job')).map((sample) => sample.line)).toEqual([]);
    // The labels that took their place are there, with their values.
    expect(body).toContain('campaign_module_up{module="mta",campaign_instance="prod"} ');
    expect(body).toContain('campaign_job_last_success_timestamp_seconds{module="import",campaign_instance="prod",campaign_job="crm"} ');
    // trackinglogd's tracking logs of prod: the check `redir_log`, the instance a label, not in the name.
    expect(body).toMatch(/^campaign_check_success\{module="trackinglogd",campaign_instance="default",check="redir_log",redir_instance="prod"\} [01]$/m);
    expect(body).toMatch(/^campaign_file_growth_age_seconds\{module="trackinglogd",campaign_instance="default",check="redir_log",redir_instance="prod"\} /m);
    expect(samples.filter((sample) => /check="redir_log_/.test(sample.line))).toEqual([]);
  });

  test("every campaign_* HELP says the value comes from the scheduled probes", async () => {
    const { body } = await daemon.get('/metrics');
    const helps = body.split('\n').filter((line) => line.startsWith('# HELP campaign_'));
    expect(helps.length).toBeGreaterThan(20);
    expect(helps.filter((line) => !/scheduled probe/i.test(line))).toEqual([]);
  });

  test('check rules: alerts.yml is valid', async () => {
    const result = await promtool(['check', 'rules', 'config/prometheus/alerts.yml']);
    expect(result.output).toContain('SUCCESS: 8 rules found');
    expect(result.exitCode).toBe(0);
  });

  test('test rules: the unit tests of every alert pass', async () => {
    const result = await promtool(['test', 'rules', 'config/prometheus/alerts.test.yml']);
    expect(result.output).toContain('SUCCESS');
    expect(result.exitCode).toBe(0);
    // Every alert of the rule file has a firing case and a not-firing case.
    const rules = YAML.parse(await readFile(path.join(CONFIG_DIR, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> };
    const tests = YAML.parse(await readFile(path.join(CONFIG_DIR, 'alerts.test.yml'), 'utf8')) as {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const cases = tests.tests.flatMap((entry) => entry.alert_rule_test ?? []);
    for (const { alert } of rules.groups.flatMap((group) => group.rules)) {
      expect({ alert, fires: cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0) }).toEqual({ alert, fires: true });
      expect({ alert, silent: cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0) }).toEqual({ alert, silent: true });
    }
  });

  test('check config: the shipped scrape job, the rules and the example targets file', async () => {
    const dir = await mkdtemp(path.join(tmp, 'check-config-'));
    await mkdir(path.join(dir, 'file_sd'));
    await copyFile(path.join(CONFIG_DIR, 'targets.example.yml'), path.join(dir, 'file_sd', 'prod.yml'));
    const config = {
      rule_files: [path.join(CONFIG_DIR, 'alerts.yml')],
      scrape_configs: [await shippedJob(path.join(dir, 'file_sd', '*.yml'))],
    };
    const file = path.join(dir, 'prometheus.yml');
    await writeFile(file, YAML.stringify(config));
    const result = await promtool(['check', 'config', file]);
    expect(result.output).toContain('SUCCESS: 8 rules found');
    expect(result.output).not.toContain('WARNING');
    expect(result.exitCode).toBe(0);
  });
});

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}
interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

/** A real Prometheus on loopback, with its own config and TSDB in a temp dir. */
class PrometheusServer {
  private stderr = '';
  private exitStatus: string | undefined;
  private readonly exited: Promise<void>;
  private readonly exitHook = (): void => {
    this.child.kill('SIGKILL');
  };

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_KEPT_CHARS);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
        resolve();
      });
      child.once('error', (error) => {
        this.exitStatus = `failed to start: ${error.message}`;
        resolve();
      });
    });
    process.on('exit', this.exitHook);
  }

  static async start(dir: string, config: object): Promise<PrometheusServer> {
    const port = await freeTcpPort();
    const configFile = path.join(dir, 'prometheus.yml');
    await writeFile(configFile, YAML.stringify(config));
    const args = [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`];
    const [file, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', PROMETHEUS, ...args]] : [PROMETHEUS, args];
    const server = new PrometheusServer(spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] }), `http://127.0.0.1:${port}`);
    try {
      await waitFor(
        async () => {
          if (server.exitStatus !== undefined) throw new Error(`prometheus stopped during startup (${server.exitStatus}):\n${server.stderr}`);
          return (await fetch(`${server.baseUrl}/-/ready`).catch(() => undefined))?.status === 200;
        },
        15_000,
        () => `prometheus not ready on ${server.baseUrl}:\n${server.stderr}`,
      );
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  log(): string {
    return this.stderr;
  }

  async query(expr: string): Promise<PromSample[]> {
    const doc = (await (await fetch(`${this.baseUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; data: { result: PromSample[] }; error?: string };
    if (doc.status !== 'success') throw new Error(`query ${expr}: ${doc.error ?? doc.status}`);
    return doc.data.result;
  }

  async alerts(): Promise<PromAlert[]> {
    const doc = (await (await fetch(`${this.baseUrl}/api/v1/alerts`)).json()) as { status: string; data: { alerts: PromAlert[] } };
    if (doc.status !== 'success') throw new Error(`/api/v1/alerts: ${doc.status}`);
    return doc.data.alerts;
  }

  async stop(): Promise<void> {
    process.off('exit', this.exitHook);
    if (this.exitStatus !== undefined) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

describe('end to end: a real Prometheus scraping the agent with the shipped job and rules', () => {
  let prometheus: PrometheusServer;
  const WEB_UP = 'campaign_module_up{module="web",campaign_instance="default"}';

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmp, 'prometheus-'));
    await mkdir(path.join(dir, 'file_sd'));
    // The same agent twice: once named by relabeling (host = address without port), once with an
    // explicit host label, which the relabeling must keep.
    await writeFile(path.join(dir, 'file_sd', 'sim.yml'), YAML.stringify([
      { targets: [agentAddress], labels: { env: 'test', role: 'app' } },
      { targets: [agentAddress], labels: { env: 'test', role: 'app', host: 'campaign-sim' } },
    ]));
    // The shipped job and rule file; only the intervals are shortened (the daemon probes every second).
    const job = { ...(await shippedJob(path.join(dir, 'file_sd', '*.yml'))), scrape_interval: '1s', scrape_timeout: '1s' };
    prometheus = await PrometheusServer.start(dir, {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [path.join(CONFIG_DIR, 'alerts.yml')],
      scrape_configs: [job],
    });
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
  });

  const webUp = async (): Promise<Record<string, string>> =>
    Object.fromEntries((await prometheus.query(WEB_UP)).map((sample) => [sample.metric.host ?? '', sample.value[1]]));

  test("healthy: Prometheus reads web up on both targets, the Campaign instance as campaign_instance, no alert for web", async () => {
    let last: Record<string, string> = {};
    await waitFor(async () => JSON.stringify(last = await webUp()) === JSON.stringify({ '127.0.0.1': '1', 'campaign-sim': '1' }), 30_000, () => `web never read 1 on both targets: ${JSON.stringify(last)}\n${prometheus.log()}`);
    // The job Prometheus runs is the shipped one: scraped labels never override the target's
    // (Prometheus leaves honor_labels out of its config dump while it is false).
    const loaded = YAML.parse(((await (await fetch(`${prometheus.baseUrl}/api/v1/status/config`)).json()) as { data: { yaml: string } }).data.yaml) as {
      scrape_configs: Array<{ job_name: string; honor_labels?: boolean }>;
    };
    expect(loaded.scrape_configs.map((entry) => [entry.job_name, entry.honor_labels ?? false])).toEqual([['campaign-health', false]]);
    const [sample, ...others] = await prometheus.query('campaign_module_up{module="web",campaign_instance="default",host="127.0.0.1"}');
    expect(others).toEqual([]);
    expect(sample?.metric).toEqual({ __name__: 'campaign_module_up', module: 'web', campaign_instance: 'default', instance: agentAddress, job: 'campaign-health', host: '127.0.0.1', env: 'test', role: 'app' });
    // instance and job are the target's on every series: nothing of the agent's was renamed exported_*.
    expect(await prometheus.query('{__name__=~"campaign_.+",instance!="' + agentAddress + '"}')).toEqual([]);
    expect(await prometheus.query('{__name__=~"campaign_.+",job!="campaign-health"}')).toEqual([]);
    expect(await prometheus.query('{__name__=~".+",exported_instance!=""} or {__name__=~".+",exported_job!=""}')).toEqual([]);
    expect((await prometheus.query('campaign_job_last_success_timestamp_seconds{host="127.0.0.1"}')).map((entry) => entry.metric.campaign_job).sort()).toEqual(['consolidation', 'crm', 'recipients']);
    expect((await prometheus.query('up{job="campaign-health"}')).map((entry) => entry.metric.instance)).toEqual([agentAddress, agentAddress]);
    expect((await prometheus.alerts()).filter((alert) => alert.labels.module === 'web')).toEqual([]);
  });

  test('web killed: campaign_module_up reads 0 and CampaignModuleDown is pending or firing with its hint', async () => {
    await waitFor(async () => Object.values(await webUp()).join() === '1,1', 30_000, () => 'web not up before the test');
    await sim.kill('web');
    try {
      let last: Record<string, string> = {};
      await waitFor(async () => JSON.stringify(last = await webUp()) === JSON.stringify({ '127.0.0.1': '0', 'campaign-sim': '0' }), 30_000, () => `web never read 0: ${JSON.stringify(last)}`);
      let alerts: PromAlert[] = [];
      let webDown: PromAlert[] = [];
      await waitFor(
        async () => {
          alerts = await prometheus.alerts();
          webDown = alerts.filter((alert) => alert.labels.alertname === 'CampaignModuleDown' && alert.labels.module === 'web');
          return webDown.length === 2;
        },
        30_000,
        () => `no CampaignModuleDown for web on both targets: ${JSON.stringify(alerts, null, 1)}\n${prometheus.log()}`,
      );
      for (const alert of webDown) {
        expect(['pending', 'firing']).toContain(alert.state);
        expect(alert.labels).toMatchObject({ severity: 'critical', module: 'web', campaign_instance: 'default', instance: agentAddress, job: 'campaign-health' });
        expect(alert.annotations).toMatchObject({
          scope: web.scope,
          hint: web.hint,
          summary: `Campaign web@default is down on ${alert.labels.host}`,
          runbook_url: 'https://github.com/example/campaign-health-agent/blob/main/docs/alerts.md#campaignmoduledown',
        });
        // The failing checks of that host, looked up by the rule's description template (which of
        // them have failed by now depends on the timing of the probe runs).
        const failing = /Failing checks: ([a-z_, ]*)\./.exec(alert.annotations.description ?? '')?.[1]?.split(', ') ?? [];
        expect(failing.length).toBeGreaterThan(0);
        for (const name of failing) expect(['process', 'monitor_missing', 'memory', 'http_port', 'control_port', 'r_test', 'soap']).toContain(name);
      }
      expect(webDown.map((alert) => alert.labels.host).sort()).toEqual(['127.0.0.1', 'campaign-sim']);
    } finally {
      await sim.startModule('web');
    }
  });
});
