import { describe, expect, test } from '@jest/globals';
import YAML from 'yaml';
import { plugins } from '../../../probes/index.js';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { remediationSettings } from '../../../src/config/restarts.js';

const FILE = '/etc/campaign-health/agent.yaml';

function problemsOf(modules: Record<string, unknown>): string[] {
  try {
    parseConfig(plugins, YAML.stringify({ modules }), FILE);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('config was accepted');
}

describe('modules.<name>.restarts', () => {
  test('absent by default; {} gets every default, off', () => {
    const config = parseConfig(plugins, YAML.stringify({ modules: { mta: { restarts: {} } } }), FILE);
    expect(config.modules.web!.restarts).toBeUndefined();
    // Durations are read as milliseconds: window 1h, grace 5m.
    expect(config.modules.mta!.restarts).toEqual({ restart: false, afterFailures: 3, maxActions: 3, window: 3_600_000, grace: 300_000, dryRun: false });
    expect(remediationSettings('mta', config.modules.mta!.restarts)).toBeUndefined();
  });

  test('settings in milliseconds; skipWhenBusy true by default on mta and web only', () => {
    const config = parseConfig(
      plugins,
      YAML.stringify({ modules: { mta: { restarts: { restart: true, window: '2h', grace: '90s' } }, wfserver: { restarts: { restart: true, dryRun: true } }, web: { restarts: { restart: true, skipWhenBusy: false } } } }),
      FILE,
    );
    expect(remediationSettings('mta', config.modules.mta!.restarts)).toEqual({ afterFailures: 3, maxActions: 3, windowMs: 7_200_000, graceMs: 90_000, dryRun: false, busyCheck: true });
    expect(remediationSettings('wfserver', config.modules.wfserver!.restarts)).toMatchObject({ dryRun: true, busyCheck: false });
    expect(remediationSettings('web', config.modules.web!.restarts)).toMatchObject({ busyCheck: false });
  });

  test.each(['export', 'import', 'tracking'])('refused for %s, an on-demand job: nothing to restart', (module) => {
    expect(problemsOf({ [module]: { restarts: { restart: true } } })).toEqual([
      expect.stringMatching(new RegExp(`^${FILE}: modules\\.${module}\\.restarts: automatic restarts are not available here: ${module} is an on-demand .*nothing to restart`)),
    ]);
    // Even switched off: the key has no meaning there.
    expect(problemsOf({ [module]: { restarts: { restart: false } } })).toHaveLength(1);
  });

  test('refused for watchdog (the supervisor) and the agent’s own rows', () => {
    expect(problemsOf({ watchdog: { restarts: { restart: true } } })).toEqual([
      `${FILE}: modules.watchdog.restarts: automatic restarts are not available here: watchdog is the supervisor that starts every other module: the agent never restarts it (restart the stack with systemctl restart nlserver)`,
    ]);
    expect(problemsOf({ nlserver: { restarts: { restart: true } } })[0]).toContain("nlserver is the agent's own row");
    expect(problemsOf({ system: { restarts: {} } })[0]).toContain("system is the agent's own row");
  });

  test('skipWhenBusy only on mta and web', () => {
    expect(problemsOf({ wfserver: { restarts: { restart: true, skipWhenBusy: true } } })).toEqual([
      `${FILE}: modules.wfserver.restarts.skipWhenBusy: only mta and web check nlserver pdump -who before acting; remove the key for wfserver`,
    ]);
    expect(() => parseConfig(plugins, YAML.stringify({ modules: { web: { restarts: { skipWhenBusy: true } } } }), FILE)).not.toThrow();
  });

  test.each([
    [{ afterFailures: 0 }, 'modules.mta.restarts.afterFailures: expected a number of consecutive critical runs (1 to 100), got 0'],
    [{ afterFailures: 2.5 }, 'modules.mta.restarts.afterFailures: expected a whole number of consecutive critical runs (1 to 100), got 2.5'],
    [{ maxActions: 101 }, 'modules.mta.restarts.maxActions: expected a number of actions (1 to 100), got 101'],
    [{ window: 'hourly' }, 'modules.mta.restarts.window: expected a duration such as 30s, 5m or 1h (longer than 0), got "hourly"'],
    [{ grace: '0s' }, 'modules.mta.restarts.grace: expected a duration such as 30s, 5m or 1h (longer than 0), got "0s"'],
    [{ restart: 'yes' }, 'modules.mta.restarts.restart: expected true or false, got "yes"'],
    [{ dryrun: true }, 'modules.mta.restarts.dryrun: unknown key'],
  ])('strict values: %j', (restarts, message) => {
    expect(problemsOf({ mta: { restarts } })).toEqual([`${FILE}: ${message}`]);
  });

  test('a mapping is required', () => {
    expect(problemsOf({ mta: { restarts: true } })).toEqual([`${FILE}: modules.mta.restarts: expected object, got boolean true`]);
  });

  test('the old key, remediation, is refused naming the new one (one line per module)', () => {
    expect(problemsOf({ mta: { remediation: { restart: true } } })).toEqual([`${FILE}: modules.mta.remediation: renamed to modules.mta.restarts`]);
    expect(problemsOf({ web: { remediation: {} }, wfserver: { remediation: { restart: true }, restarts: { restart: true } } })).toEqual([
      `${FILE}: modules.web.remediation: renamed to modules.web.restarts`,
      `${FILE}: modules.wfserver.remediation: renamed to modules.wfserver.restarts`,
    ]);
    // Only as a module key: elsewhere it is just unknown.
    expect(problemsOf({ mta: { restarts: { remediation: true } } })).toEqual([`${FILE}: modules.mta.restarts.remediation: unknown key`]);
    expect(() => parseConfig(plugins, YAML.stringify({ remediation: {} }), FILE)).toThrow(/^\/etc\/campaign-health\/agent\.yaml: remediation: unknown key$/);
  });
});
