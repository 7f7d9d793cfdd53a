import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { INSTANCE_NAME, MODULE_NAME } from '../../src/util/names.js';
import { freePort } from '../sim/host.js';
import { FaultDaemon, findRow } from './faultDaemon.js';
import { CLI, runCli, waitFor } from './helpers.js';

// Every value that reaches a command line (instance and module names, paths) is held to a strict
// pattern, and commands run with an argument array, never a shell. Hostile values come in through the
// config and through what discovery reads (conf file names, conf and customer.sh contents); a
// stand-in nlserver records the argv it is given. Marker commands (`touch pwned...`) would create
// files in the daemon's working directory if anything ever reached a shell.
const HOSTILE = ['-x', '--help', 'a;rm -rf /', '$(id)', '`id`', 'a b', 'a|b', '../etc', 'a\nb'];
const MARKERS = ['pwned1', 'pwned2', 'pwned3', 'pwned4', 'pwned5', 'pwned6'];

let root: string;
let installDir: string;
let record: string;

/** A shell script standing in for nlserver: one line per run, argc then each argument after a tab. */
function recorder(file: string): string {
  return [
    '#!/bin/sh',
    `{ printf '%s' "$#"; for arg in "$@"; do printf '\\t%s' "$arg"; done; printf '\\n'; } >> '${file}'`,
    'case "$1" in',
    "  pdump) echo 'Application server for Adobe Campaign Classic (7.3 24.1 build 9356@abc1234) of 01/03/2024'; echo 'No tasks' ;;",
    "  monitor) echo 'No tasks' ;;",
    "  *) echo 'done' ;;",
    'esac',
    '',
  ].join('\n');
}

async function recorded(file = record): Promise<string[][]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => {
    const [count, ...args] = line.split('\t');
    expect(args).toHaveLength(Number(count));
    return args;
  });
}

/** What may ever reach nlserver: fixed subcommands, documented flags, `<module>[@<instance>]`. */
function expectSafeArgv(argv: string[]): void {
  expect(['pdump', 'monitor', 'start', 'restart']).toContain(argv[0]);
  for (const arg of argv) {
    expect(arg).toMatch(/^[A-Za-z0-9@_-]+$/);
    if (arg.startsWith('-')) expect(['-missing', '-who']).toContain(arg);
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cmdline-faults-'));
  record = path.join(root, 'argv.txt');
  // The install dir itself carries shell syntax and option-like words: it only ever reaches argv[0]
  // (through <installDir>/bin/nlserver) and the environment (XTK_INSTALL_DIR, LD_LIBRARY_PATH).
  installDir = path.join(root, 'nl6 $(touch pwned1); `touch pwned2` | -x --help');
  const conf = path.join(installDir, 'conf');
  await mkdir(conf, { recursive: true });
  await mkdir(path.join(installDir, 'bin'));
  await writeFile(
    path.join(conf, 'serverConf.xml'),
    "<serverconf>\n  <web httpPort=\"8080;$(touch pwned3)\" controlPort=\"--help\"/>\n  <mta processRestartTime=\"$(touch pwned4)\"/>\n</serverconf>\n",
  );
  await writeFile(path.join(conf, 'config-default.xml'), '<serverconf>\n  <web autoStart="true" args="-tomcat; touch pwned5"/>\n</serverconf>\n');
  await writeFile(path.join(conf, 'config-ok1.xml'), '<serverconf>\n  <mta autoStart="true"/>\n</serverconf>\n');
  for (const name of ['-x', '--help', '$(touch pwned6)', 'a;b', 'a b', '`id`', 'x|y', 'a\nb']) {
    await writeFile(path.join(conf, `config-${name}.xml`), '<serverconf>\n  <mta autoStart="true"/>\n</serverconf>\n');
  }
  // Tracking directories named like options: not instances, never watched.
  for (const name of ['-x', '--help', '$(id)']) await mkdir(path.join(installDir, 'var', name, 'redir', 'log'), { recursive: true });
  // customer.sh is parsed, never run.
  await writeFile(path.join(installDir, 'customer.sh'), 'export TRACE_ADDR=$(touch pwned1):6666\nexport XTK_VAR_DIR=`touch pwned2`\n');
  const nlserver = path.join(installDir, 'bin', 'nlserver');
  await writeFile(nlserver, recorder(record));
  await chmod(nlserver, 0o755);
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function expectNoMarker(dirs: string[]): void {
  for (const dir of dirs) for (const marker of MARKERS) expect(`${dir}/${marker}: ${existsSync(path.join(dir, marker))}`).toBe(`${dir}/${marker}: false`);
}

describe('the name patterns', () => {
  test('instance and module names refuse option-like words, shell syntax, paths and spaces', () => {
    for (const name of HOSTILE) {
      expect(`${JSON.stringify(name)} ${INSTANCE_NAME.test(name)}`).toBe(`${JSON.stringify(name)} false`);
      expect(`${JSON.stringify(name)} ${MODULE_NAME.test(name)}`).toBe(`${JSON.stringify(name)} false`);
    }
    for (const name of ['prod', 'mkt_01', 'eu-west-2']) expect(INSTANCE_NAME.test(name)).toBe(true);
    for (const name of ['web', 'inMail', 'wfserver']) expect(MODULE_NAME.test(name)).toBe(true);
  });
});

describe('hostile names in the config', () => {
  test('campaign.instances with option-like and shell words: refused by every command, one line per name', async () => {
    const file = path.join(root, 'hostile-instances.yaml');
    await writeFile(
      file,
      YAML.stringify({
        campaign: { installDir, instances: ['-x', '--help', 'a;rm -rf /', '$(id)', 'ok1'], soap: { login: 'monitoring', passwordFile: '/etc/x', instanceUrls: { '--help': 'http://127.0.0.1:1/' } } },
        modules: { '--help': { enabled: true } },
      }),
    );
    const expected = [
      `${file}: campaign.instances.0: expected an instance name (letters, digits, _ or -, not starting with -), got "-x"`,
      `${file}: campaign.instances.1: expected an instance name (letters, digits, _ or -, not starting with -), got "--help"`,
      `${file}: campaign.instances.2: expected an instance name (letters, digits, _ or -, not starting with -), got "a;rm -rf /"`,
      `${file}: campaign.instances.3: expected an instance name (letters, digits, _ or -, not starting with -), got "$(id)"`,
      `${file}: modules.--help: unknown key`,
    ];
    const configCheck = await runCli(['config', 'check', '--config', file]);
    expect(configCheck.exitCode).toBe(2);
    for (const line of expected) expect(configCheck.stderr).toContain(line);
    expect(configCheck.stderr).toMatch(/campaign\.soap\.instanceUrls.*--help/);
    const check = await runCli(['check', '--config', file]);
    expect(check.exitCode).toBe(3);
    for (const line of expected) expect(check.stderr).toContain(line);
    const nagios = await runCli(['check', '--config', file, '--format', 'nagios']);
    expect(nagios.exitCode).toBe(3);
    expect(nagios.stdout).toMatch(/^CAMPAIGN UNKNOWN - invalid config/);
    const run = await runCli(['run', '--config', file]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('invalid config, not starting:');
    expect(run.stderr).toContain('got "a;rm -rf /"');
    expect(await recorded()).toEqual([]);
  });

  test('--module with an option-like value is an unknown module, not an option', async () => {
    const file = path.join(root, 'plain.yaml');
    await writeFile(file, YAML.stringify({ campaign: { installDir } }));
    const result = await runCli(['check', '--config', file, '--module', '-x']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('--module: unknown module "-x"');
    expect(await recorded()).toEqual([]);
  });
});

describe('hostile names discovered in the install', () => {
  test('conf/config-<name>.xml with option-like or shell names are skipped with a warning and never reach nlserver', async () => {
    const port = await freePort('tcp');
    const file = path.join(root, 'daemon.yaml');
    await writeFile(
      file,
      YAML.stringify({
        listen: `127.0.0.1:${port}`,
        stateDir: path.join(root, 'state'),
        campaign: { installDir },
        defaults: { schedule: '* * * * * *', timeout: '20s' },
        modules: {
          system: { enabled: false },
          // mta@ok1 has no process: the agent will run `nlserver start mta@ok1`, with names it checked.
          // The restart time above is no time, so Campaign's 06:00:00 applies: a grace of 1 ms keeps the
          // row critical (and the restart coming) whatever the time of day the test runs.
          mta: { restartGrace: '1ms', restarts: { restart: true, afterFailures: 1, grace: '1h', skipWhenBusy: false } },
        },
      }),
    );
    // A shell started anywhere would run in the daemon's working directory.
    const daemon = await FaultDaemon.start(file, { cwd: root });
    try {
      await waitFor(async () => (await recorded()).some((argv) => argv[0] === 'start'), 20_000, () => `no restart ran:\n${daemon.output()}`);
      const doc = await daemon.status();
      expect(doc.modules.filter((row) => row.module === 'mta').map((row) => row.instance)).toEqual(['ok1']);
      expect(findRow(doc, 'mta', 'ok1').state).toBe('critical');
      // No tracking directory of a hostile name is watched.
      expect(findRow(doc, 'trackinglogd').checks.map((check) => check.name).filter((name) => name === 'redir_log')).toEqual([]);
      const warnings = daemon
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .filter((entry) => entry.level === 40)
        .map((entry) => entry.msg);
      for (const name of ['-x', '--help', '$(touch pwned6)', 'a;b', 'a b', '`id`', 'x|y', 'a\nb']) {
        const shown = name.replace('\n', '\\x0a');
        expect(warnings).toContain(`skipped ${path.join(installDir, 'conf', `config-${shown}.xml`)}: instance name ${JSON.stringify(name)} is not valid (expected letters, digits, _ and -, starting with a letter or digit, at most 64 characters)`);
      }
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
    const runs = await recorded();
    for (const argv of runs) expectSafeArgv(argv);
    const kinds = new Set(runs.map((argv) => argv.join(' ')));
    expect(kinds).toEqual(new Set(['pdump', 'monitor -missing', 'start mta@ok1']));
    expectNoMarker([root, installDir, process.cwd()]);
  }, 120_000);

  test('config check shows the skipped files as problems, quoting the names safely', async () => {
    const file = path.join(root, 'plain.yaml');
    const result = await runCli(['config', 'check', '--config', file]);
    expect(result.exitCode).toBe(0);
    const report = YAML.parse(result.stdout.replace(/^#.*\n/, '')) as { discovered: { instances: string[]; problems: string[] } };
    expect(report.discovered.instances).toEqual(['ok1']);
    expect(report.discovered.problems.filter((problem) => problem.startsWith('skipped '))).toHaveLength(8);
    expectNoMarker([root, installDir, process.cwd()]);
  });
});

describe('campaign.nlserver set to a shell', () => {
  test('/bin/sh is run as a program with the fixed arguments: no -c, no command string', async () => {
    // sh given `pdump` runs the script named pdump in its working directory: these record what sh got.
    const cwd = path.join(root, 'sh-cwd');
    const shRecord = path.join(root, 'sh-argv.txt');
    await mkdir(cwd);
    for (const script of ['pdump', 'monitor']) {
      await writeFile(path.join(cwd, script), `{ printf '%s' "$0"; for arg in "$@"; do printf '\\t%s' "$arg"; done; printf '\\n'; } >> '${shRecord}'\necho 'No tasks'\n`);
    }
    const file = path.join(root, 'sh.yaml');
    await writeFile(file, YAML.stringify({ campaign: { installDir, nlserver: '/bin/sh', nlserverView: true }, modules: { system: { enabled: false } } }));
    const result = await execa(process.execPath, [CLI, 'check', '--config', file, '--format', 'json', '--module', 'nlserver'], { cwd, reject: false, stdin: 'ignore' });
    const doc = JSON.parse(String(result.stdout)) as { modules: { module: string; state: string; detail: string }[] };
    expect(doc.modules).toMatchObject([{ module: 'nlserver', state: 'ok' }]);
    const lines = (await readFile(shRecord, 'utf8')).trim().split('\n').sort();
    expect(lines).toEqual(['monitor\t-missing', 'pdump']);
    expectNoMarker([root, cwd, installDir]);
  });
});
