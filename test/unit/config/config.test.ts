import { describe, expect, test } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { plugins } from '../../../probes/index.js';
import { ConfigError, configText, EMBEDDED_CONFIG, loadConfig, parseConfig } from '../../../src/config/load.js';
import { durationText, parseDuration } from '../../../src/config/duration.js';

import { FILE, problemsOf } from './problems.js';

describe('config', () => {
  test('the embedded default loads and resolves nlserver from installDir', async () => {
    const { config, file } = await loadConfig(plugins);
    expect(file).toBe(EMBEDDED_CONFIG);
    expect(config.listen).toBe('127.0.0.1:10466');
    expect(config.campaign.installDir).toBe('/usr/local/neolane/nl6');
    expect(config.campaign.nlserver).toBe('/usr/local/neolane/nl6/bin/nlserver');
    // Durations are parsed to milliseconds: 10s, 2s, 1h, 6h.
    expect(config.defaults.timeout).toBe(10_000);
    expect(config.modules.web).toMatchObject({ enabled: 'auto', rTest: true, soap: true, slowResponse: 2_000 });
    expect(config.modules.trackinglogd).toMatchObject({ growthWarning: 3_600_000, growthCritical: 21_600_000, glob: '0x*.log' });
    // ...and written back as durations for people (config check).
    const shown = configText(plugins, config) as { defaults: object; modules: Record<string, object>; campaign: object };
    expect(shown.defaults).toEqual({ timeout: '10s', confirmAfter: '5s' });
    expect(shown.campaign).toMatchObject({ nlserverTimeout: '5s', nlserver: '/usr/local/neolane/nl6/bin/nlserver' });
    expect(shown.modules.web).toMatchObject({ enabled: 'auto', rTest: true, soap: true, slowResponse: '2s', restartGrace: '5m' });
    expect(shown.modules.trackinglogd).toMatchObject({ growthWarning: '1h', growthCritical: '6h', glob: '0x*.log' });
  });

  test('durations read as milliseconds are written back exactly, in the largest units', () => {
    const config = parseConfig(plugins, 'defaults: {timeout: 90s}\ncampaign: {nlserverTimeout: 1500ms}\nmodules: {mta: {logMaxAge: 1d2h, restarts: {window: 120m}}}\n', FILE);
    expect([config.defaults.timeout, config.campaign.nlserverTimeout, config.modules.mta!.restarts!.window]).toEqual([90_000, 1_500, 7_200_000]);
    const shown = configText(plugins, config) as { defaults: object; campaign: object; modules: { mta: object } };
    expect(shown.defaults).toEqual({ timeout: '1m30s', confirmAfter: '5s' });
    expect(shown.campaign).toMatchObject({ nlserverTimeout: '1s500ms' });
    expect(shown.modules.mta).toMatchObject({ logMaxAge: '1d2h', restarts: { window: '2h', grace: '5m' } });
    for (const ms of [1, 999, 1000, 61_000, 86_400_001, 3 * 86_400_000]) expect(parseDuration(durationText(ms))).toBe(ms);
  });

  test('an empty file means every default', () => {
    const config = parseConfig(plugins, '', FILE);
    expect(config.modules.watchdog).toEqual({ enabled: 'auto', failuresBeforeCritical: 2, successesBeforeOk: 1, logErrors: { window: 900_000, critical: [], ignore: [] } });
    expect(config.campaign.nlserver).toBe('/usr/local/neolane/nl6/bin/nlserver');
  });

  test('values given override defaults', () => {
    const config = parseConfig(plugins, 'campaign: {installDir: /opt/nl6}\nmodules: {web: {enabled: false, schedule: "0 * * * * *"}}\n', FILE);
    expect(config.campaign.nlserver).toBe('/opt/nl6/bin/nlserver');
    expect(config.modules.web).toMatchObject({ enabled: false, schedule: '0 * * * * *' });
  });

  test.each([
    ['an unknown top-level key', 'listn: 127.0.0.1:1\n', [`${FILE}: listn: unknown key`]],
    ['an unknown module', 'modules:\n  webb: {enabled: true}\n', [`${FILE}: modules.webb: unknown key`]],
    ['an unknown module key', 'modules:\n  web: {baseURL: http://x}\n', [`${FILE}: modules.web.baseURL: unknown key`]],
    ['a duration without unit', 'defaults: {timeout: 10}\n', [`${FILE}: defaults.timeout: expected a duration such as 500ms, 10s, 5m or 1h, got 10`]],
    ['a bad duration', 'defaults: {timeout: 10 seconds}\n', [`${FILE}: defaults.timeout: expected a duration such as 500ms, 10s, 5m or 1h (longer than 0), got "10 seconds"`]],
    ['a 5-field cron', 'modules: {web: {schedule: "* * * * *"}}\n', [`${FILE}: modules.web.schedule: expected a 6-field cron expression (second minute hour day-of-month month day-of-week) such as "*/30 * * * * *", got "* * * * *"`]],
    ['an invalid cron field', 'defaults: {schedule: "*/30 * * * * mon-xyz"}\n', [`${FILE}: defaults.schedule: expected a 6-field cron expression (second minute hour day-of-month month day-of-week) such as "*/30 * * * * *", got "*/30 * * * * mon-xyz"`]],
    ['enabled as a string', 'modules: {syslogd: {enabled: "yes"}}\n', [`${FILE}: modules.syslogd.enabled: expected auto, true or false, got "yes"`]],
    ['a relative installDir', 'campaign: {installDir: nl6}\n', [`${FILE}: campaign.installDir: expected an absolute path, got "nl6"`]],
    ['a listen without port', 'listen: localhost\n', [`${FILE}: listen: expected host:port such as 127.0.0.1:10466 or [::1]:10466 (port 0-65535), got "localhost"`]],
    ['a port out of range', 'listen: 127.0.0.1:70000\n', [`${FILE}: listen: expected host:port such as 127.0.0.1:10466 or [::1]:10466 (port 0-65535), got "127.0.0.1:70000"`]],
    ['campaign as a list', 'campaign: [a]\n', [`${FILE}: campaign: expected object, got a list`]],
    ['an instance name with a shell character', 'campaign: {instances: ["prod;reboot"]}\n', [`${FILE}: campaign.instances.0: expected an instance name (letters, digits, _ or -, not starting with -), got "prod;reboot"`]],
    ['an instance name like an option', 'campaign: {instances: ["--help"]}\n', [`${FILE}: campaign.instances.0: expected an instance name (letters, digits, _ or -, not starting with -), got "--help"`]],
    ['a non-http baseUrl', 'modules: {web: {baseUrl: "file:///etc/passwd"}}\n', [`${FILE}: modules.web.baseUrl: expected an http:// or https:// URL, got "file:///etc/passwd"`]],
  ])('rejects %s with a message naming file, key and expectation', (_label, yaml, expected) => {
    expect(problemsOf(yaml)).toEqual(expected);
  });

  test('a zero duration is refused', () => {
    expect(problemsOf('modules: {web: {timeout: 0s}}\n')).toEqual([`${FILE}: modules.web.timeout: expected a duration such as 500ms, 10s, 5m or 1h (longer than 0), got "0s"`]);
  });

  test('confirmAfter: a duration up to 1h, or 0 (written 0 or 0s) for off; a module may set its own', () => {
    const read = (yaml: string) => {
      const config = parseConfig(plugins, yaml, FILE);
      return [config.defaults.confirmAfter, config.modules.mta!.confirmAfter];
    };
    expect(read('')).toEqual([5_000, undefined]);
    expect(read('defaults: {confirmAfter: 0}\nmodules: {mta: {confirmAfter: 2s}}')).toEqual([0, 2_000]);
    expect(read('defaults: {confirmAfter: 0s}\nmodules: {mta: {confirmAfter: 0ms}}')).toEqual([0, 0]);
    expect(read('defaults: {confirmAfter: 1h}')).toEqual([3_600_000, undefined]);
    expect((configText(plugins, parseConfig(plugins, 'defaults: {confirmAfter: 0}', FILE)) as { defaults: object }).defaults).toEqual({ timeout: '10s', confirmAfter: '0ms' });
    const expected = (got: string) => `expected a duration such as 2s, 5s or 10s (at most 1h), or 0 for off, got ${got}`;
    expect(problemsOf('defaults: {confirmAfter: 5}\n')).toEqual([`${FILE}: defaults.confirmAfter: ${expected('5')}`]);
    expect(problemsOf('defaults: {confirmAfter: 61m}\n')).toEqual([`${FILE}: defaults.confirmAfter: ${expected('"61m"')}`]);
    expect(problemsOf('modules: {mta: {confirmAfter: soon}}\n')).toEqual([`${FILE}: modules.mta.confirmAfter: ${expected('"soon"')}`]);
    expect(problemsOf('modules: {mta: {confirmAfter: false}}\n')).toEqual([`${FILE}: modules.mta.confirmAfter: ${expected('false')}`]);
  });

  test('reports every problem at once', () => {
    expect(problemsOf('listen: x\ndefaults: {timeout: soon}\nfoo: 1\n')).toHaveLength(3);
  });

  test('invalid YAML names the file and the line', () => {
    const [problem] = problemsOf('modules:\n  web: {enabled: true\n');
    expect(problem).toMatch(new RegExp(`^${FILE}: invalid YAML: .* at line 3, column 1$`));
  });

  test('duplicate keys are refused rather than silently overwritten', () => {
    const [problem] = problemsOf('listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n');
    expect(problem).toContain('invalid YAML');
    expect(problem).toContain('unique');
  });

  test('a missing file is named with the error code', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cfg-'));
    const missing = path.join(dir, 'nope.yaml');
    await expect(loadConfig(plugins, missing)).rejects.toMatchObject({ problems: [`${missing}: cannot read the config file (ENOENT)`] });
    const file = path.join(dir, 'ok.yaml');
    await writeFile(file, 'logLevel: debug\n');
    expect((await loadConfig(plugins, file)).config.logLevel).toBe('debug');
  });
});

describe('durations', () => {
  test.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each(['', '10', 's', '1.5s', '-1s', '10 s', '1w'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
});
