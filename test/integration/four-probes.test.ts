import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile, rm, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { SimulatedHost } from '../sim/host.js';
import { check, Daemon, row, runCli, waitFor, type StatusDoc } from './helpers.js';

// One simulated Campaign host (instance prod) for the whole file; each test breaks one thing and
// repairs it, so the order of tests does not matter.
let sim: SimulatedHost;
let config: string;

async function checkJson(...extra: string[]): Promise<{ exitCode: number | undefined; doc: StatusDoc; stderr: string }> {
  const result = await runCli(['check', '--config', config, '--format', 'json', ...extra]);
  return { exitCode: result.exitCode, doc: JSON.parse(result.stdout) as StatusDoc, stderr: result.stderr };
}

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: ['prod'], trackingIntervalMs: 200 });
  config = await sim.writeAgentConfig({
    // Generous: a check that ends by its timeout is a failure here, however loaded the machine.
    defaults: { timeout: '20s' },
    // The system row reads the machine running the tests: it has its own tests.
    modules: { system: { enabled: false }, trackinglogd: { growthWarning: '2s', growthCritical: '4s' } },
  });
});

afterAll(async () => {
  await sim?.stop();
});

describe('check on a healthy simulated host', () => {
  test('every one of the four modules is ok and the exit code is 0', async () => {
    const { exitCode, doc } = await checkJson();
    expect(doc.modules.map((entry) => `${entry.module}@${entry.instance}=${entry.state}`).slice(0, 4)).toEqual([
      'watchdog@default=ok',
      'syslogd@default=ok',
      'web@default=ok',
      'trackinglogd@default=ok',
    ]);
    expect(exitCode).toBe(0);
    expect(check(doc, 'syslogd', 'udp_port').message).toContain(String(sim.ports.syslog));
    expect(row(doc, 'web').checks.map((entry) => entry.name)).toEqual(['process', 'monitor_missing', 'memory', 'log_errors', 'http_port', 'control_port', 'r_test', 'soap']);
    expect(check(doc, 'web', 'soap').message).toContain('Fault');
    // One redir_log check per Campaign instance with a redir/log directory, told apart by its label.
    expect(row(doc, 'trackinglogd').checks.map((entry) => [entry.name, entry.labels])).toEqual([
      ['process', undefined],
      ['monitor_missing', undefined],
      ['memory', undefined],
      ['log_errors', undefined],
      ['redir_log', { redir_instance: 'prod' }],
    ]);
  });

  test('--module restricts the run and the text format shows a table', async () => {
    const result = await runCli(['check', '--config', config, '--module', 'syslogd']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^syslogd\s+default\s+OK\s/m);
    expect(result.stdout).not.toMatch(/^web\s/m);
  });

  test('an unknown --module is refused with the list of modules', async () => {
    const result = await runCli(['check', '--config', config, '--module', 'webb']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('--module: unknown module "webb"; known modules: watchdog, syslogd, web, trackinglogd');
  });
});

describe('check when a module breaks', () => {
  test('watchdog killed: critical with its hint, exit 2', async () => {
    await sim.kill('watchdog');
    try {
      const { exitCode, doc } = await checkJson('--module', 'watchdog');
      expect(row(doc, 'watchdog')).toMatchObject({ state: 'critical', remediation: 'Check this module if no processes start.' });
      expect(check(doc, 'watchdog', 'process').message).toContain("no 'nlserver watchdog");
      expect(exitCode).toBe(2);
      const text = await runCli(['check', '--config', config, '--module', 'watchdog']);
      expect(text.stdout).toContain('hint: Check this module if no processes start.');
    } finally {
      await sim.startModule('watchdog');
    }
  });

  test('syslogd killed: process and UDP port both critical', async () => {
    await sim.kill('syslogd');
    try {
      const { doc } = await checkJson('--module', 'syslogd');
      expect(row(doc, 'syslogd').state).toBe('critical');
      expect(check(doc, 'syslogd', 'process').state).toBe('critical');
      expect(check(doc, 'syslogd', 'udp_port').state).toBe('critical');
    } finally {
      await sim.startModule('syslogd');
    }
  });

  test('syslogd bound on another port than TRACE_ADDR says: critical, naming what is bound', async () => {
    const elsewhere = sim.ports.syslog + 1;
    await sim.setControl({ syslogdBindPort: elsewhere });
    await sim.kill('syslogd');
    await sim.startModule('syslogd');
    try {
      const { doc } = await checkJson('--module', 'syslogd');
      expect(check(doc, 'syslogd', 'process').state).toBe('ok');
      const udp = check(doc, 'syslogd', 'udp_port');
      expect(udp.state).toBe('critical');
      expect(udp.message).toContain(`port ${sim.ports.syslog}`);
      expect(udp.message).toContain(String(elsewhere));
    } finally {
      await sim.setControl({ syslogdBindPort: undefined });
      await sim.kill('syslogd');
      await sim.startModule('syslogd');
    }
  });

  test('web killed: process and both ports critical, HTTP checks fail', async () => {
    await sim.kill('web');
    try {
      const { doc } = await checkJson('--module', 'web');
      expect(row(doc, 'web').state).toBe('critical');
      for (const name of ['process', 'http_port', 'control_port', 'r_test', 'soap']) expect(check(doc, 'web', name).state).toBe('critical');
    } finally {
      await sim.startModule('web');
    }
  });

  test('Tomcat control port closed while web runs: control_port critical, the rest ok', async () => {
    await sim.setControl({ tomcatControlPort: 'closed' });
    try {
      const { doc } = await checkJson('--module', 'web');
      expect(row(doc, 'web').state).toBe('critical');
      expect(check(doc, 'web', 'control_port').message).toContain(`no TCP listener on port ${sim.ports.control}`);
      for (const name of ['process', 'http_port', 'r_test', 'soap']) expect(check(doc, 'web', name).state).toBe('ok');
    } finally {
      await sim.setControl({ tomcatControlPort: 'open' });
    }
  });

  test.each([
    ['ko', /status='KO'/],
    ['http500', /500/],
    ['html', /not a <redir>/],
  ] as const)("/r/test answering %s is critical", async (mode, message) => {
    await sim.setControl({ rTest: mode });
    try {
      const { doc } = await checkJson('--module', 'web');
      expect(check(doc, 'web', 'r_test')).toMatchObject({ state: 'critical' });
      expect(check(doc, 'web', 'r_test').message).toMatch(message);
      expect(check(doc, 'web', 'soap').state).toBe('ok');
    } finally {
      await sim.setControl({ rTest: 'ok' });
    }
  });

  test.each(['ok-double-quotes', 'ok-minimal'] as const)('/r/test in the %s style is ok', async (mode) => {
    await sim.setControl({ rTest: mode });
    try {
      const { doc } = await checkJson('--module', 'web');
      expect(check(doc, 'web', 'r_test').state).toBe('ok');
    } finally {
      await sim.setControl({ rTest: 'ok' });
    }
  });

  test.each([
    ['html', 'critical'],
    ['garbage', 'critical'],
    ['envelope', 'ok'],
  ] as const)('SOAP router answering %s is %s', async (mode, state) => {
    await sim.setControl({ soap: mode });
    try {
      const { doc } = await checkJson('--module', 'web');
      expect(check(doc, 'web', 'soap').state).toBe(state);
    } finally {
      await sim.setControl({ soap: 'fault' });
    }
  });

  test('a check that hangs past its timeout is unknown, the others still report', async () => {
    // A timeout of its own: short, as the test waits for it; long enough for the checks that answer.
    const hangConfig = await sim.writeAgentConfig({ defaults: { timeout: '4s' }, modules: { system: { enabled: false } } }, 'hang.yaml');
    await sim.setControl({ rTest: 'hang' });
    try {
      const result = await runCli(['check', '--config', hangConfig, '--format', 'json', '--module', 'web']);
      const { doc, exitCode } = { doc: JSON.parse(result.stdout) as StatusDoc, exitCode: result.exitCode };
      expect(check(doc, 'web', 'r_test')).toMatchObject({ state: 'unknown', message: 'check did not finish within 4s (timeout)' });
      expect(check(doc, 'web', 'process').state).toBe('ok');
      expect(check(doc, 'web', 'soap').state).toBe('ok');
      expect(row(doc, 'web').state).toBe('unknown');
      expect(exitCode).toBe(3);
    } finally {
      await sim.setControl({ rTest: 'ok' });
    }
  });

  test('trackinglogd killed: critical', async () => {
    await sim.kill('trackinglogd');
    try {
      const { doc } = await checkJson('--module', 'trackinglogd');
      expect(check(doc, 'trackinglogd', 'process').state).toBe('critical');
    } finally {
      await sim.startModule('trackinglogd');
    }
  });
});

describe('the daemon over HTTP', () => {
  let daemon: Daemon;
  let fastConfig: string;

  beforeAll(async () => {
    fastConfig = await sim.writeAgentConfig({
      defaults: { schedule: '* * * * * *', timeout: '20s' },
      modules: { system: { enabled: false }, trackinglogd: { growthWarning: '2s', growthCritical: '4s' } },
    }, 'daemon.yaml');
    const { listen } = YAML.parse(await readFile(fastConfig, 'utf8')) as { listen: string };
    daemon = await Daemon.start(fastConfig, listen);
  });

  afterAll(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
  });

  test('/status, /metrics and /healthz describe a healthy host', async () => {
    const doc = await daemon.statusWhen((status) => status.state === 'ok');
    expect(doc.modules).toHaveLength(13);
    const metrics = await daemon.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    for (const module of ['watchdog', 'syslogd', 'web', 'trackinglogd']) {
      expect(metrics.body).toContain(`campaign_module_up{module="${module}",campaign_instance="default"} 1`);
    }
    expect(metrics.body).toMatch(/campaign_check_response_seconds\{module="web",campaign_instance="default",check="r_test"\} [0-9.e-]+/);
    expect(metrics.body).toContain('campaign_module_remediation_info{module="watchdog",scope="Startup and monitoring instance",hint="Check this module if no processes start."} 1');
    expect(metrics.body).toContain('campaign_module_up{module="mta",campaign_instance="prod"} 1');
    expect(metrics.body).toMatch(/^campaign_module_memory_bytes\{module="web",campaign_instance="default"\} [1-9]\d+$/m);
    expect(metrics.body).toContain('campaign_nlserver_up{command="pdump"} 1');
    expect(metrics.body).toContain('campaign_nlserver_up{command="monitor_missing"} 1');
    expect(metrics.body).toContain('campaign_mta_children{campaign_instance="prod"} 0');
    // Disabled rows have no up series, but their state says why they are absent.
    expect(metrics.body).not.toContain('campaign_module_up{module="export"');
    expect(metrics.body).toContain('campaign_module_state{module="export",campaign_instance="prod",state="disabled"} 1');
    expect((await daemon.get('/healthz')).status).toBe(200);
    // The simulated conf files carry database passwords (SIMSECRET...): nothing may expose them.
    for (const pathname of ['/metrics', '/status', '/status?format=text']) expect((await daemon.get(pathname)).body).not.toContain('SIMSECRET');
  });

  test('a killed module turns red within a cycle and back to green when restarted', async () => {
    await sim.kill('web');
    const down = await daemon.statusWhen((doc) => row(doc, 'web').state === 'critical');
    expect(row(down, 'web').remediation).toContain('xtk:session');
    expect((await daemon.get('/metrics')).body).toContain('campaign_module_up{module="web",campaign_instance="default"} 0');
    const text = await daemon.get('/status?format=text');
    expect(text.type).toContain('text/plain');
    expect(text.body).toMatch(/^web\s+default\s+CRITICAL\s/m);
    expect(text.body).toContain('hint: Check this module if the console and web connections');
    expect((await daemon.get('/status', { accept: 'text/plain' })).body).toMatch(/^web\s+default\s+CRITICAL\s/m);
    await sim.startModule('web');
    await daemon.statusWhen((doc) => row(doc, 'web').state === 'ok');
  });

  test('tracking logs that stop growing: warning, then critical; growth again: ok', async () => {
    await sim.setControl({ tracking: 'stall' });
    await daemon.statusWhen((doc) => check(doc, 'trackinglogd', 'redir_log', 'default', { redir_instance: 'prod' }).state === 'warning');
    const critical = await daemon.statusWhen((doc) => check(doc, 'trackinglogd', 'redir_log', 'default', { redir_instance: 'prod' }).state === 'critical');
    expect(check(critical, 'trackinglogd', 'redir_log', 'default', { redir_instance: 'prod' }).message).toContain('0x');
    await sim.setControl({ tracking: 'grow' });
    await daemon.statusWhen((doc) => row(doc, 'trackinglogd').state === 'ok');
  });

  test('rotation and purge of tracking logs are not failures', async () => {
    await daemon.statusWhen((doc) => row(doc, 'trackinglogd').state === 'ok');
    await sim.rotateTrackingLog('prod');
    await sim.purgeTrackingLogs('prod', 1);
    const seen = new Set<string>();
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      seen.add(row(await daemon.status(), 'trackinglogd').state);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect([...seen]).toEqual(['ok']);
  });

  test('SIGHUP reloads the config; an invalid one is refused and the old one keeps running', async () => {
    const original = await readFile(fastConfig, 'utf8');
    try {
      await writeFile(fastConfig, YAML.stringify({ ...YAML.parse(original), modules: { web: { enabled: false } } }));
      daemon.signal('SIGHUP');
      await daemon.statusWhen((doc) => row(doc, 'web').state === 'disabled');
      await writeFile(fastConfig, `${original}\nbogus: 1\n`);
      daemon.signal('SIGHUP');
      await waitFor(() => daemon.output().includes('config reload refused'), 5_000, () => daemon.output());
      expect(daemon.output()).toContain(`${fastConfig}: bogus: unknown key`);
      expect(row(await daemon.status(), 'web').state).toBe('disabled');
    } finally {
      await writeFile(fastConfig, original);
      daemon.signal('SIGHUP');
      await daemon.statusWhen((doc) => row(doc, 'web').state === 'ok');
    }
  });

  test('other methods and paths are refused', async () => {
    expect((await fetch(`${daemon.baseUrl}/status`, { method: 'POST' })).status).toBe(405);
    expect((await daemon.get('/nope')).status).toBe(404);
  });
});

describe('what discovery decides', () => {
  test('a module disabled by _autoStart is disabled, not failing, and the exit code stays 0', async () => {
    const other = await SimulatedHost.start({ instances: ['prod'], underscoreDisabled: ['trackinglogd'] });
    try {
      const file = await other.writeAgentConfig({ defaults: { timeout: '20s' }, modules: { system: { enabled: false } } });
      const result = await runCli(['check', '--config', file, '--format', 'json']);
      const doc = JSON.parse(result.stdout) as StatusDoc;
      expect(row(doc, 'trackinglogd')).toMatchObject({ state: 'disabled', checks: [] });
      expect(row(doc, 'trackinglogd').detail).toContain('not enabled on this host');
      expect(result.exitCode).toBe(0);
    } finally {
      await other.stop();
    }
  });

  test('no install dir at all: every module unknown with a clear message, exit 3, no crash', async () => {
    const file = await sim.writeAgentConfig({ campaign: { installDir: '/nonexistent/nl6' } }, 'missing-install.yaml');
    const result = await runCli(['check', '--config', file, '--format', 'json']);
    const doc = JSON.parse(result.stdout) as StatusDoc;
    // No instance is known either, so only the per-machine rows and the agent's own are there.
    expect(doc.modules.map((entry) => `${entry.module}=${entry.state}`)).toEqual([
      'watchdog=unknown',
      'syslogd=unknown',
      'web=unknown',
      'trackinglogd=unknown',
      'nlserver=unknown',
      'system=unknown',
    ]);
    expect(row(doc, 'web').detail).toContain('/nonexistent/nl6');
    expect(result.exitCode).toBe(3);
    await rm(file);
  });

  test('config check prints the resolved config and what was discovered', async () => {
    const result = await runCli(['config', 'check', '--config', config]);
    expect(result.exitCode).toBe(0);
    const report = YAML.parse(result.stdout.replace(/^#.*\n/, '')) as { discovered: { instances: string[]; found: boolean } };
    expect(report.discovered).toMatchObject({ found: true, instances: ['prod'] });
    expect(result.stdout).not.toContain('SIMSECRET');
  });

  test('config check of an invalid file exits non-zero naming file, key and problem', async () => {
    const file = await sim.writeAgentConfig({ modules: { web: { schedule: 'often' } } }, 'invalid.yaml');
    const result = await runCli(['config', 'check', '--config', file]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${file}: modules.web.schedule: expected a 6-field cron expression`);
  });

  test('probes lists every module with checks, schedule and hint', async () => {
    const result = await runCli(['probes', '--config', config]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('web (one per machine)');
    expect(result.stdout).toContain('checks:   process, monitor_missing, memory, log_errors, http_port, control_port, r_test, soap');
    expect(result.stdout).toContain('checks:   process, monitor_missing, memory, log_errors, redir_log{redir_instance="prod"}');
    expect(result.stdout).toContain('mta (one per instance)');
    expect(result.stdout).toContain('export (one per instance)');
    expect(result.stdout).toMatch(/export \(one per instance\)\n.*\n.*\n  checks:   \(no log\/export\.log in var\/prod and no job configured/);
    // Hints are served with their links pointed at Adobe's published pages.
    expect(result.stdout).toContain('Refer to [List of open ports](https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/introduction/general-architecture#list-of-open-ports).');
    expect(result.stdout).toContain('hint:     Check this module if no processes start.');
  });
});
