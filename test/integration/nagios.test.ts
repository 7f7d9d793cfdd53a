import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SimulatedHost } from '../sim/host.js';
import { runCli } from './helpers.js';

// `campaign-health check --format nagios` as Nagios, Icinga or cron run it: the built CLI against the
// simulated host, judged by its exit code and its stdout only (that is all a plugin runner reads).
let sim: SimulatedHost;
let config: string;

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: ['prod'] });
  // The system row reads the machine running the tests: it has its own tests.
  config = await sim.writeAgentConfig({ defaults: { timeout: '20s' }, modules: { system: { enabled: false } } }, 'nagios.yaml');
});

afterAll(async () => {
  await sim?.stop();
});

const nagios = (...extra: string[]) => runCli(['check', '--config', config, '--format', 'nagios', ...extra]);

describe('check --format nagios', () => {
  test('a healthy host: exit 0, one OK line with counts and perfdata', async () => {
    const result = await nagios();
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^CAMPAIGN OK - \d+ modules ok, \d+ disabled \| ok=\d+;;;0;\d+ warning=0;;;0;\d+ critical=0;;;0;\d+ unknown=0;;;0;\d+ disabled=\d+;;;0;\d+ /);
    expect(lines[0]).toContain("'web@default'=0;0;1;0;3");
    expect(lines[0]).toContain("'mta@prod'=0;0;1;0;3");
    expect(result.stdout).not.toContain('SIMSECRET');
  });

  test('web killed: exit 2, CRITICAL naming web@default, its hint in the long output', async () => {
    await sim.kill('web');
    try {
      const result = await nagios();
      expect(result.exitCode).toBe(2);
      const [first, ...long] = result.stdout.trimEnd().split('\n');
      expect(first).toMatch(/^CAMPAIGN CRITICAL - web@default critical: /);
      expect(first).toContain("'web@default'=2;0;1;0;3");
      expect(long).toContain("  hint: Check this module if the console and web connections don't work and trigger an xtk:session type error");
      // Its own port, not the process table: the process check sees the whole machine.
      expect(long.find((line) => line.startsWith('web@default CRITICAL: '))).toContain(`http_port: no TCP listener on port ${sim.ports.http}`);
    } finally {
      await sim.startModule('web');
    }
  });

  test('an invalid config: exit 3 and the reason as the UNKNOWN line on stdout', async () => {
    const file = await sim.writeAgentConfig({ bogus: 1 }, 'nagios-invalid.yaml');
    const result = await runCli(['check', '--config', file, '--format', 'nagios']);
    expect(result.exitCode).toBe(3);
    // (execa drops the final newline.)
    expect(result.stdout).toBe(`CAMPAIGN UNKNOWN - invalid config: ${file}: bogus: unknown key`);
    expect(result.stderr).toBe('');
  });

  test('an unknown --module: exit 3, UNKNOWN on stdout', async () => {
    const result = await nagios('--module', 'webb');
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toMatch(/^CAMPAIGN UNKNOWN - --module: unknown module "webb"; known modules: watchdog, /);
  });

  test('a usage error of check exits 3 (UNKNOWN), not 1 (WARNING)', async () => {
    const result = await runCli(['check', '--config', config, '--format', 'nagioss']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("argument 'nagioss' is invalid");
    expect((await runCli(['check', '--help'])).exitCode).toBe(0);
  });
});
