import { describe, expect, test } from '@jest/globals';
import { parseMonitorMissing } from '../../../src/clients/nlserver/monitorMissing.js';
import { parsePdump } from '../../../src/clients/nlserver/pdump.js';

const MIB = 1024 * 1024;

// The documented outputs (campaign-facts §3), banners in their three spellings.
const PDUMP = `12:17:21 > Application server for Adobe Campaign Classic (7.3 24.1 build 9356@abc1234) of 01/03/2024
syslogd@default (7611) - 9.2 MB
stat@demo (5988) - 1.5 MB
inMail@demo (7830) - 11.9 MB
watchdog (27369) - 3.1 MB
mta@demo (7831) - 15.6 MB
wfserver@demo (7832) - 11.5 MB
web@default (28671) - 40.5 MB
`;

describe('nlserver pdump', () => {
  test('the documented listing: every task, instance, pid and memory', () => {
    const parsed = parsePdump(PDUMP);
    expect(parsed.banner).toMatch(/^Application server for Adobe Campaign Classic/);
    expect(parsed.unexpected).toEqual([]);
    expect(parsed.noTasks).toBe(false);
    expect(parsed.entries).toHaveLength(7);
    expect(parsed.entries).toContainEqual({ module: 'watchdog', pid: 27369, memoryBytes: Math.round(3.1 * MIB) });
    expect(parsed.entries).toContainEqual({ module: 'mta', instance: 'demo', pid: 7831, memoryBytes: Math.round(15.6 * MIB) });
  });

  test.each([
    ['MB', 'syslogd@default (9931) - 7.0 MB'],
    ['Mb', 'wfserver@test (9340) - 7.0 Mb'],
    ['Mo (French)', 'trackinglogd@default (9985) - 7.0 Mo'],
    ['Mo with a decimal comma', 'web@default (9984) - 7,0 Mo'],
  ])('memory in %s', (_unit, line) => {
    const [task] = parsePdump(line).entries;
    expect(task?.memoryBytes).toBe(7 * MIB);
  });

  test.each(['No tasks', 'No task', 'no task', '12:00:01 > No tasks'])('%s means nothing runs', (text) => {
    const parsed = parsePdump(`Application Server for Adobe Campaign version 6.1 (build 8795) dated 05/05/2017\n${text}\n`);
    expect(parsed).toMatchObject({ noTasks: true, entries: [], unexpected: [] });
    expect(parsed.banner).toBe('Application Server for Adobe Campaign version 6.1 (build 8795) dated 05/05/2017');
  });

  test('-who sections end the task list without being unexpected', () => {
    const who = `${PDUMP}
Connections ------------------------------------------------------
Last Access IP Instance Login
25/11/2026 10:00:00 127.0.0.1 default internal|monitoring

Connection pool --------------------------------------------------
Datasource Server Provider Login
default xxxxx myserver myprovider test400
`;
    const parsed = parsePdump(who);
    expect(parsed.entries).toHaveLength(7);
    expect(parsed.unexpected).toEqual([]);
  });

  test('unexpected lines are kept (bounded, printable) and never stop the parse', () => {
    const junk = Array.from({ length: 30 }, (_, i) => `#~ junk \u0007line ${i} ${'x'.repeat(200)}`).join('\n');
    const parsed = parsePdump(`${junk}\nmta@prod (42) - 1.0 MB\n`);
    expect(parsed.entries).toEqual([{ module: 'mta', instance: 'prod', pid: 42, memoryBytes: MIB }]);
    expect(parsed.unexpected).toHaveLength(10);
    expect(parsed.unexpected[0]).toMatch(/^#~ junk \?line 0 x+\.\.\.$/);
    expect(parsed.unexpected[0]!.length).toBeLessThanOrEqual(120);
  });

  test('a line close to the grammar but wrong is unexpected, not a task', () => {
    const parsed = parsePdump('mta@prod (0) - 1.0 MB\nmta@-x (12) - 1 MB\nmta@prod (12) - 1.0 TB\nmta@prod 12 - 1.0 MB\n');
    expect(parsed.entries).toEqual([]);
    expect(parsed.unexpected).toHaveLength(4);
  });
});

describe('nlserver monitor -missing', () => {
  test('one module@instance per line after the banner', () => {
    const parsed = parseMonitorMissing(
      '12:17:21 > Application server for Adobe Campaign Classic (7.X YY.R build XXX@SHA1) of DD/MM/YYYY\ninMail@test\nmta@test\nwfserver@test\n',
    );
    expect(parsed.entries).toEqual([
      { module: 'inMail', instance: 'test' },
      { module: 'mta', instance: 'test' },
      { module: 'wfserver', instance: 'test' },
    ]);
    expect(parsed.unexpected).toEqual([]);
  });

  test('banner only: nothing missing', () => {
    const parsed = parseMonitorMissing('Application server for Adobe Campaign Classic (7.3) of 01/03/2024\n');
    expect(parsed.entries).toEqual([]);
    expect(parsed.banner).toBeDefined();
  });

  test('a bare word is a module only when it names one', () => {
    const parsed = parseMonitorMissing('watchdog\nzz\nweb@default\n!!\n');
    expect(parsed.entries).toEqual([{ module: 'watchdog' }, { module: 'web', instance: 'default' }]);
    expect(parsed.unexpected).toEqual(['zz', '!!']);
  });
});
