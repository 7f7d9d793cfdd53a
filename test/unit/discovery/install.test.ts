import { afterEach, describe, expect, test } from '@jest/globals';
import { constants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { confParses, discoverInstall, listRedirLogDirs } from '../../../src/discovery/install.js';
import { KNOWN_MODULES } from '../../../src/util/names.js';
import type { Install } from '../../../src/core/contracts.js';
import { projectRoot } from '../../../src/util/paths.js';
import { CONFIG_DEFAULT, configInstance } from '../../fixtures/campaign-conf.js';

const SERVER_CONF = `<?xml version='1.0'?>
<serverconf>
  <shared>
    <dataStore hosts="*" lang="eng">
      <dataSource name="default"/>
    </dataStore>
  </shared>
  <web controlPort="8005" httpPort="8080" MaxThreads="75" autoStart="false">
    <redirection startRedirection="true" trackingPassword="SECRET-TRACKING"/>
  </web>
  <syslogd maxFileSizeMb="10" maxNumberOfLoginsFiles="365"/>
  <trackinglogd maxLogsSizeOnDiskMb="500"/>
  <mta maxMemoryMb="1024" statServerAddress=""/>
  <wfserver dataBasePoolPeriodSec="20"/>
  <inMail popMailPeriodSec="300"/>
  <stat port="7777"/>
</serverconf>
`;



const CONFIG_PROD = configInstance(
  '<mta autoStart="true" statServerAddress="localhost"/><wfserver autoStart="true"/><inMail autoStart="true"/><stat autoStart="true"/>',
);

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    await chmod(dir, 0o755).catch(() => undefined);
    await chmod(path.join(dir, 'conf'), 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

/** A real install tree under a fresh temp dir; `null` makes a directory instead of a file. */
async function makeInstall(files: Record<string, string | null>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cha-discovery-'));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    if (content === null) {
      await mkdir(file, { recursive: true });
    } else {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    }
  }
  return dir;
}

const standard = (extra: Record<string, string | null> = {}): Record<string, string | null> => ({
  'conf/serverConf.xml': SERVER_CONF,
  'conf/config-default.xml': CONFIG_DEFAULT,
  'conf/config-prod.xml': CONFIG_PROD,
  ...extra,
});

/** Everything an Install lets a caller see, as JSON. */
function visible(install: Install): string {
  const modules = [...KNOWN_MODULES, 'xtk', 'shared', 'dataStore', 'dataSource', 'dbcnx', 'redirection'];
  const attrs: Record<string, unknown> = {};
  for (const inst of [undefined, 'default', ...install.instances]) {
    for (const m of modules) attrs[`${m}@${inst ?? ''}`] = install.moduleAttributes(m, inst);
  }
  return JSON.stringify({ ...install, attrs });
}

describe('discoverInstall: a standard install', () => {
  test('instances, varDir, enabled modules and merged attributes', async () => {
    const dir = await makeInstall(standard());
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(true);
    expect(install.problems).toEqual([]);
    expect(install.installDir).toBe(dir);
    expect(install.instances).toEqual(['prod']);
    expect(install.varDir).toBe(path.join(dir, 'var'));
    expect(install.traceAddr).toBeUndefined();

    // Per-machine modules come from config-default.xml, and apply to instances as well.
    expect(install.autoStart('web')).toBe(true);
    expect(install.autoStart('web', 'default')).toBe(true);
    expect(install.autoStart('web', 'prod')).toBe(true);
    expect(install.autoStart('trackinglogd')).toBe(true);
    expect(install.autoStart('syslogd')).toBe(false);
    // Per-instance modules only with their instance.
    for (const m of ['mta', 'wfserver', 'inMail', 'stat']) {
      expect(install.autoStart(m, 'prod')).toBe(true);
      expect(install.autoStart(m)).toBe(false);
      expect(install.autoStart(m, 'default')).toBe(false);
    }
    expect(install.autoStart('inmail', 'prod')).toBe(false);
    expect(install.autoStart('sms', 'prod')).toBe(false);
    expect(install.autoStart('mta', 'nosuchinstance')).toBe(false);

    expect(install.moduleAttributes('web')).toEqual({
      controlPort: '8005',
      httpPort: '8080',
      MaxThreads: '75',
      autoStart: 'true',
      args: '-tomcat',
    });
    expect(install.moduleAttributes('mta', 'prod')).toEqual({
      maxMemoryMb: '1024',
      statServerAddress: 'localhost',
      autoStart: 'true',
    });
    // statServerAddress="" in serverConf.xml sets nothing: an empty attribute means the default.
    expect(install.moduleAttributes('mta')).toEqual({ maxMemoryMb: '1024' });
    expect(install.moduleAttributes('stat', 'prod')).toEqual({ port: '7777', autoStart: 'true' });
    expect(install.moduleAttributes('nothing', 'prod')).toEqual({});
  });

  test('an unchanged conf file is not parsed again; a changed one is, and the change shows', async () => {
    const dir = await makeInstall(standard());
    const first = await discoverInstall({ installDir: dir });
    const parsesAfterFirst = confParses.count;
    const again = await discoverInstall({ installDir: dir });
    expect(confParses.count).toBe(parsesAfterFirst);
    expect(again.moduleAttributes('stat', 'prod')).toEqual(first.moduleAttributes('stat', 'prod'));
    expect(again.problems).toEqual(first.problems);
    await writeFile(path.join(dir, 'conf', 'config-prod.xml'), configInstance('<stat autoStart="true" port="4321"/>'));
    const changed = await discoverInstall({ installDir: dir });
    expect(confParses.count).toBe(parsesAfterFirst + 1);
    expect(changed.moduleAttributes('stat', 'prod')).toEqual({ port: '4321', autoStart: 'true' });
    // A conf file that turns invalid is reported, not answered from the cache.
    await writeFile(path.join(dir, 'conf', 'config-prod.xml'), '<serverconf><stat');
    const broken = await discoverInstall({ installDir: dir });
    expect(broken.problems.join('\n')).toMatch(/config-prod\.xml/);
    expect(broken.moduleAttributes('stat', 'prod').port).not.toBe('4321');
  });

  test('moduleAttributes returns a copy each time', async () => {
    const install = await discoverInstall({ installDir: await makeInstall(standard()) });
    const attrs = install.moduleAttributes('web');
    attrs.autoStart = 'false';
    expect(install.autoStart('web')).toBe(true);
  });

  test('instance overrides of serverConf.xml defaults (stat port) and of config-default.xml', async () => {
    const dir = await makeInstall(
      standard({
        'conf/config-prod.xml': configInstance('<stat autoStart="true" port="1234"/><web autoStart="false"/>'),
        'conf/config-dev.xml': configInstance('<stat autoStart="true"/>'),
      }),
    );
    const install = await discoverInstall({ installDir: dir });
    expect(install.problems).toEqual([]);
    expect(install.instances).toEqual(['dev', 'prod']);
    expect(install.moduleAttributes('stat', 'prod')).toEqual({ port: '1234', autoStart: 'true' });
    expect(install.moduleAttributes('stat', 'dev')).toEqual({ port: '7777', autoStart: 'true' });
    expect(install.moduleAttributes('stat')).toEqual({ port: '7777' });
    expect(install.autoStart('web')).toBe(true);
    expect(install.autoStart('web', 'prod')).toBe(false);
    expect(install.autoStart('web', 'dev')).toBe(true);
  });

  test('_autoStart (how migrations disable a module) is never read as autoStart', async () => {
    const dir = await makeInstall(
      standard({
        'conf/config-default.xml': '<serverconf><web args="-tomcat" _autoStart="true"/><trackinglogd autoStart="true"/></serverconf>',
        'conf/config-prod.xml': configInstance(
          '<mta _autoStart="true" statServerAddress="localhost"/><wfserver autoStart=" TRUE "/><inMail autoStart="yes"/><stat autoStart="1"/><sms autoStart="false"/>',
        ),
      }),
    );
    const install = await discoverInstall({ installDir: dir });
    expect(install.problems).toEqual([]);
    expect(install.autoStart('web')).toBe(false);
    expect(install.moduleAttributes('web')).toEqual({ controlPort: '8005', httpPort: '8080', MaxThreads: '75', autoStart: 'false', args: '-tomcat' });
    expect(install.autoStart('mta', 'prod')).toBe(false);
    expect(install.moduleAttributes('mta', 'prod')).toEqual({ maxMemoryMb: '1024', statServerAddress: 'localhost' });
    expect(install.autoStart('wfserver', 'prod')).toBe(true);
    expect(install.autoStart('inMail', 'prod')).toBe(false);
    expect(install.autoStart('stat', 'prod')).toBe(false);
    expect(install.autoStart('sms', 'prod')).toBe(false);
    expect(install.autoStart('trackinglogd')).toBe(true);
  });

  test('three instances, sorted; look-alike files ignored', async () => {
    const dir = await makeInstall({
      'conf/serverConf.xml': SERVER_CONF,
      'conf/config-default.xml': CONFIG_DEFAULT,
      'conf/config-zeta.xml': configInstance('<mta autoStart="true"/>'),
      'conf/config-alpha.xml': configInstance('<wfserver autoStart="true"/>'),
      'conf/config-Beta_2.xml': configInstance('<stat autoStart="true"/>'),
      'conf/config-prod.xml.bak': CONFIG_PROD,
      'conf/config-prod.xml~': CONFIG_PROD,
      'conf/serverConf.xml.sample': SERVER_CONF,
    });
    const install = await discoverInstall({ installDir: dir });
    expect(install.problems).toEqual([]);
    expect(install.instances).toEqual(['Beta_2', 'alpha', 'zeta']);
    expect(install.autoStart('mta', 'zeta')).toBe(true);
    expect(install.autoStart('mta', 'alpha')).toBe(false);
    expect(install.autoStart('wfserver', 'alpha')).toBe(true);
    expect(install.autoStart('stat', 'Beta_2')).toBe(true);
    expect(install.autoStart('stat', 'zeta')).toBe(false);
  });

  test('a relative installDir is resolved', async () => {
    const dir = await makeInstall(standard());
    const install = await discoverInstall({ installDir: path.relative(process.cwd(), dir) });
    expect(install.installDir).toBe(dir);
    expect(install.found).toBe(true);
  });
});

describe('discoverInstall: explicit instance list', () => {
  test('overrides file discovery, sorted and deduplicated; other config files are not read', async () => {
    const dir = await makeInstall(
      standard({
        'conf/config-zeta.xml': configInstance('<mta autoStart="true"/>'),
        'conf/config-broken.xml': '<serverconf><mta>',
      }),
    );
    const install = await discoverInstall({ installDir: dir, instances: ['zeta', 'prod', 'zeta'] });
    expect(install.problems).toEqual([]);
    expect(install.instances).toEqual(['prod', 'zeta']);
    expect(install.autoStart('mta', 'zeta')).toBe(true);
    expect(install.autoStart('mta', 'prod')).toBe(true);
  });

  test('invalid names are dropped with a problem; a listed instance without its file is a problem', async () => {
    const dir = await makeInstall(standard());
    const install = await discoverInstall({ installDir: dir, instances: ['prod', 'a;b', '-help', 'default', 'ghost'] });
    expect(install.instances).toEqual(['ghost', 'prod']);
    expect(install.found).toBe(true);
    expect(install.problems).toEqual([
      'instance name "a;b" in campaign.instances ignored: expected letters, digits, _ and -, starting with a letter or digit, at most 64 characters',
      'instance name "-help" in campaign.instances ignored: expected letters, digits, _ and -, starting with a letter or digit, at most 64 characters',
      'instance "default" in campaign.instances ignored: it is the per-machine pseudo-instance, not an instance',
      `${dir}/conf/config-ghost.xml does not exist`,
    ]);
    expect(install.autoStart('mta', 'ghost')).toBe(false);
    expect(install.autoStart('web', 'ghost')).toBe(true);
  });
});

describe('discoverInstall: broken installs', () => {
  test('missing install dir: found false, one clear problem', async () => {
    const base = await makeInstall({});
    const dir = path.join(base, 'usr/local/neolane/nl6');
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(false);
    expect(install.problems).toEqual([`Campaign install not found: ${dir} does not exist (set campaign.installDir)`]);
    expect(install.instances).toEqual([]);
    expect(install.varDir).toBe(path.join(dir, 'var'));
    expect(install.moduleAttributes('web')).toEqual({});
    expect(install.autoStart('web')).toBe(false);
  });

  test('install dir is a file', async () => {
    const base = await makeInstall({ nl6: 'not a dir' });
    const dir = path.join(base, 'nl6');
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(false);
    expect(install.problems).toEqual([`Campaign install not found: ${dir} is not a directory (set campaign.installDir)`]);
  });

  test('missing conf/: found false', async () => {
    const dir = await makeInstall({ 'bin/nlserver': '' });
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(false);
    expect(install.problems).toEqual([`Campaign install not found: ${dir}/conf does not exist (set campaign.installDir)`]);
  });

  test('malformed XML in one file: the others are still read, the problem is exact', async () => {
    const dir = await makeInstall(
      standard({
        'conf/config-prod.xml': '<?xml version="1.0"?>\n<serverconf>\n  <mta autoStart="true">\n  <wfserver autoStart="true"/>\n</serverconf>\n',
        'conf/config-dev.xml': configInstance('<mta autoStart="true"/>'),
      }),
    );
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(true);
    expect(install.problems).toEqual([
      `${dir}/conf/config-prod.xml: not well-formed XML at line 5, column 1: Expected closing tag 'mta' (opened in line 3, col 3) instead of closing tag 'serverconf'.`,
    ]);
    expect(install.instances).toEqual(['dev', 'prod']);
    expect(install.autoStart('mta', 'prod')).toBe(false);
    expect(install.autoStart('mta', 'dev')).toBe(true);
    expect(install.autoStart('web', 'prod')).toBe(true);
    expect(install.moduleAttributes('stat', 'prod')).toEqual({ port: '7777' });
  });

  test('wrong root element in serverConf.xml: named, the rest still read', async () => {
    const dir = await makeInstall(standard({ 'conf/serverConf.xml': '<config><stat port="7777"/></config>' }));
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(true);
    expect(install.problems).toEqual([`${dir}/conf/serverConf.xml: root element is <config>, expected <serverconf>`]);
    expect(install.moduleAttributes('stat', 'prod')).toEqual({ autoStart: 'true' });
    expect(install.autoStart('web')).toBe(true);
  });

  test('missing serverConf.xml and config-default.xml are problems, instances still read', async () => {
    const dir = await makeInstall({ 'conf/config-prod.xml': CONFIG_PROD });
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(true);
    expect(install.problems).toEqual([
      `${dir}/conf/serverConf.xml does not exist`,
      `${dir}/conf/config-default.xml does not exist`,
    ]);
    expect(install.autoStart('mta', 'prod')).toBe(true);
  });

  test('a directory in place of a conf file: EISDIR, the others still read', async () => {
    const dir = await makeInstall(standard({ 'conf/serverConf.xml': null }));
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(true);
    expect(install.problems).toEqual([`cannot read ${dir}/conf/serverConf.xml: EISDIR`]);
    expect(install.autoStart('web')).toBe(true);
    expect(install.autoStart('mta', 'prod')).toBe(true);
  });

  test('unreadable conf file (chmod 000), or EISDIR where permissions do not deny reads (root)', async () => {
    const dir = await makeInstall(standard());
    const file = path.join(dir, 'conf/config-default.xml');
    await chmod(file, 0o000);
    const denied = await access(file, constants.R_OK).then(
      () => false,
      () => true,
    );
    if (!denied) {
      // Running as root (or with CAP_DAC_OVERRIDE): mode 000 does not stop reads, use a directory instead.
      await rm(file);
      await mkdir(file);
    }
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(true);
    expect(install.problems).toEqual([`cannot read ${file}: ${denied ? 'EACCES' : 'EISDIR'}`]);
    expect(install.autoStart('web')).toBe(false);
    expect(install.autoStart('mta', 'prod')).toBe(true);
  });

  test('unreadable conf/ directory (chmod 000): found false, or a conf/ that is a file where reads are not denied', async () => {
    const dir = await makeInstall(standard());
    const conf = path.join(dir, 'conf');
    await chmod(conf, 0o000);
    const denied = await access(conf, constants.R_OK).then(
      () => false,
      () => true,
    );
    if (!denied) {
      await chmod(conf, 0o755);
      await rm(conf, { recursive: true });
      await writeFile(conf, 'not a directory');
    }
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(false);
    expect(install.problems).toEqual([
      denied
        ? `cannot read ${conf}: EACCES`
        : `Campaign install not found: ${conf} is not a directory (set campaign.installDir)`,
    ]);
  });

  test('config files with unsafe instance names are skipped with a problem', async () => {
    const dir = await makeInstall(
      standard({
        'conf/config-a;b.xml': configInstance('<mta autoStart="true"/>'),
        'conf/config--help.xml': configInstance('<mta autoStart="true"/>'),
        'conf/config-.xml': configInstance('<mta autoStart="true"/>'),
        'conf/config-a\nb.xml': configInstance('<mta autoStart="true"/>'),
        [`conf/config-${'x'.repeat(65)}.xml`]: configInstance('<mta autoStart="true"/>'),
      }),
    );
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(true);
    expect(install.instances).toEqual(['prod']);
    const rule = 'expected letters, digits, _ and -, starting with a letter or digit, at most 64 characters';
    expect(install.problems).toEqual([
      `skipped ${dir}/conf/config--help.xml: instance name "-help" is not valid (${rule})`,
      `skipped ${dir}/conf/config-.xml: instance name "" is not valid (${rule})`,
      `skipped ${dir}/conf/config-a\\x0ab.xml: instance name "a\\nb" is not valid (${rule})`,
      `skipped ${dir}/conf/config-a;b.xml: instance name "a;b" is not valid (${rule})`,
      `skipped ${dir}/conf/config-${'x'.repeat(65)}.xml: instance name "${'x'.repeat(65)}" is not valid (${rule})`,
    ]);
    for (const p of install.problems) expect(p).not.toContain('\n');
  });
});

describe('discoverInstall: customer.sh', () => {
  test('TRACE_ADDR and XTK_VAR_DIR, with quotes, comments and a later export', async () => {
    const dir = await makeInstall(
      standard({
        'customer.sh': [
          '#!/bin/sh',
          '# site overrides',
          'TRACE_ADDR="127.0.0.1:6667"  # syslogd moved',
          "export XTK_VAR_DIR='/var/nl6/'",
          'export JDK_HOME=$(ls -d /usr/lib/jvm/java-17*)',
          'export TRACE_ADDR',
          '',
        ].join('\n'),
      }),
    );
    const install = await discoverInstall({ installDir: dir });
    expect(install.problems).toEqual([]);
    expect(install.traceAddr).toEqual({ host: '127.0.0.1', port: 6667 });
    expect(install.varDir).toBe('/var/nl6');
  });

  test('TRACE_ADDR host only: syslogd default port 6666', async () => {
    const dir = await makeInstall(standard({ 'customer.sh': 'export TRACE_ADDR=localhost\n' }));
    expect((await discoverInstall({ installDir: dir })).traceAddr).toEqual({ host: 'localhost', port: 6666 });
  });

  test('invalid TRACE_ADDR port: a problem naming the file, traceAddr undefined', async () => {
    const dir = await makeInstall(standard({ 'customer.sh': 'export TRACE_ADDR=localhost:99999\n' }));
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(true);
    expect(install.traceAddr).toBeUndefined();
    expect(install.problems).toEqual([
      `${dir}/customer.sh: TRACE_ADDR "localhost:99999" is invalid: expected host:port with port 1-65535`,
    ]);
  });

  test('relative XTK_VAR_DIR: a problem, the default kept', async () => {
    const dir = await makeInstall(standard({ 'customer.sh': 'export XTK_VAR_DIR=var2\n' }));
    const install = await discoverInstall({ installDir: dir });
    expect(install.varDir).toBe(path.join(dir, 'var'));
    expect(install.problems).toEqual([
      `${dir}/customer.sh: XTK_VAR_DIR "var2" is not an absolute path; using ${dir}/var`,
    ]);
  });

  test('command substitution in TRACE_ADDR is reported as not evaluated; in other variables it is no problem', async () => {
    const dir = await makeInstall(
      standard({
        'customer.sh': 'export JAVA_HOME=$(dirname $(readlink -f /usr/bin/java))\nexport TRACE_ADDR=`hostname`:6667\nexport XTK_VAR_DIR=$HOME/var\n',
      }),
    );
    const install = await discoverInstall({ installDir: dir });
    expect(install.traceAddr).toBeUndefined();
    expect(install.varDir).toBe(path.join(dir, 'var'));
    expect(install.problems).toEqual([
      `${dir}/customer.sh line 2: TRACE_ADDR not evaluated (uses command substitution)`,
      `${dir}/customer.sh line 3: XTK_VAR_DIR not evaluated (uses variable expansion)`,
    ]);
  });

  test('TRACE_ADDR assigned but not exported is reported and not used', async () => {
    const dir = await makeInstall(standard({ 'customer.sh': 'TRACE_ADDR=localhost:6667\n' }));
    const install = await discoverInstall({ installDir: dir });
    expect(install.traceAddr).toBeUndefined();
    expect(install.problems).toEqual([
      `${dir}/customer.sh line 1: TRACE_ADDR is assigned but never exported, so nlserver does not see it; ignored`,
    ]);
  });

  test('customer.sh is optional; a directory in its place is a problem', async () => {
    const dir = await makeInstall(standard({ 'customer.sh': null }));
    const install = await discoverInstall({ installDir: dir });
    expect(install.found).toBe(true);
    expect(install.problems).toEqual([`cannot read ${dir}/customer.sh: EISDIR`]);
  });
});

describe('secrets', () => {
  test('no password from any file appears in anything an Install exposes', async () => {
    const dir = await makeInstall({
      'conf/serverConf.xml': SERVER_CONF.replace('<stat port="7777"/>', '<stat port="7777" password="SECRET-1"/><xtk internalPassword="SECRET-2"/>'),
      'conf/config-default.xml': CONFIG_DEFAULT.replace(
        '<dataSource name="default"/>',
        '<dataSource name="default"><dbcnx login="x" password="SECRET-3" server="db"/></dataSource>',
      ).replace('<trackinglogd', '<xtk internalPassword="SECRET-4"/><trackinglogd'),
      'conf/config-prod.xml': configInstance('<mta autoStart="true" password="SECRET-5"/>', 'SECRET-6'),
      'conf/config-dev.xml': configInstance('<mta autoStart="true">', 'SECRET-7'),
      'customer.sh': 'export DB_PASSWORD=SECRET-8\nexport ORA_PWD=$(cat /SECRET-9)\nexport TRACE_ADDR=SECRET-10:x\n',
    });
    const install = await discoverInstall({ installDir: dir });
    const json = visible(install);
    expect(install.autoStart('mta', 'prod')).toBe(true);
    expect(install.moduleAttributes('xtk')).toEqual({});
    expect(json).toContain('maxMemoryMb');
    expect(json).toContain('config-dev.xml: not well-formed XML');
    expect(json).not.toMatch(/SECRET-[1-9]\b/);
    // The invalid TRACE_ADDR value is echoed on purpose (it is not a secret): only -10 may appear.
    expect(json).toContain('SECRET-10:x');
    // Nothing from <shared>/<dbcnx> at all: not even the login or the database server.
    expect(json).not.toContain('neolane:prod');
    expect(json).not.toContain('PostgreSQL');
    expect(install.moduleAttributes('dbcnx', 'prod')).toEqual({});
  });
});

describe('listRedirLogDirs', () => {
  test('existing <varDir>/<inst>/redir/log directories, sorted, valid names only', async () => {
    const dir = await makeInstall({
      'var/prod/redir/log/0x0000000000000000.log': 'x',
      'var/default/redir/log': null,
      'var/Alpha/redir/log': null,
      'var/dev/redir/url': null,
      'var/bad;name/redir/log': null,
      'var/res/img': null,
      'var/filelog/redir/log': 'a file, not a directory',
      'var/notes.txt': 'x',
    });
    const varDir = path.join(dir, 'var');
    expect(await listRedirLogDirs(varDir)).toEqual([
      { instance: 'Alpha', dir: path.join(varDir, 'Alpha/redir/log') },
      { instance: 'default', dir: path.join(varDir, 'default/redir/log') },
      { instance: 'prod', dir: path.join(varDir, 'prod/redir/log') },
    ]);
  });

  test('a missing varDir gives an empty list', async () => {
    const dir = await makeInstall({});
    expect(await listRedirLogDirs(path.join(dir, 'var'))).toEqual([]);
  });

  test('follows XTK_VAR_DIR from customer.sh', async () => {
    const other = await makeInstall({ 'prod/redir/log': null });
    const dir = await makeInstall(standard({ 'customer.sh': `export XTK_VAR_DIR="${other}"\n` }));
    const install = await discoverInstall({ installDir: dir });
    expect(install.varDir).toBe(other);
    expect(await listRedirLogDirs(install.varDir)).toEqual([{ instance: 'prod', dir: path.join(other, 'prod/redir/log') }]);
  });
});

describe('real files read as they are', () => {
  const SAMPLE = path.join(projectRoot(), 'test', 'fixtures', 'conf', 'serverConf.xml.sample');

  test("Adobe's sample as serverConf.xml: <serverConf> root read, empty attributes mean the default, instance configs switch modules on", async () => {
    const dir = await makeInstall(standard({ 'conf/serverConf.xml': await readFile(SAMPLE, 'utf8') }));
    const install = await discoverInstall({ installDir: dir });
    expect(install.problems).toEqual([]);
    expect(install.confProblem('prod')).toBeUndefined();
    expect(install.autoStart('mta', 'prod')).toBe(true);
    expect(install.autoStart('mta')).toBe(false);
    // statServerAddress="" in the sample does not hide the instance's value; port="" sets nothing.
    expect(install.moduleAttributes('mta', 'prod').statServerAddress).toBe('localhost');
    expect(install.moduleAttributes('stat', 'prod')).not.toHaveProperty('port');
    expect(install.moduleAttributes('mta').workingPath).toBe('$(XTK_INSTALL_DIR)/var/$(INSTANCE_NAME)/mta/');
    expect(JSON.stringify(visible(install))).not.toContain('trackingPassword');
  });

  test.each([
    ['conf/serverConf.xml', '<serverconf><web></serverconf>', undefined, /serverConf\.xml: not well-formed XML/],
    ['conf/serverConf.xml', null, undefined, /cannot read .*serverConf\.xml: EISDIR/],
    ['conf/config-default.xml', '<notserverconf/>', undefined, /config-default\.xml: root element is <notserverconf>, expected <serverconf>/],
    ['conf/config-prod.xml', '<serverconf><mta autoStart="true"></serverconf>', 'prod', /config-prod\.xml: not well-formed XML/],
  ])('%s unusable (%j): confProblem names the file and the problem', async (file, content, instance, problem) => {
    const install = await discoverInstall({ installDir: await makeInstall(standard({ [file]: content })) });
    expect(install.confProblem(instance ?? 'prod')).toMatch(problem);
    // A broken instance config spoils only that instance; a machine-wide file spoils every row.
    if (instance === 'prod') expect(install.confProblem()).toBeUndefined();
    else expect(install.confProblem()).toMatch(problem);
  });
});
