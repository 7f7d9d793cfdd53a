import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { plugins } from '../../probes/index.js';
import { projectRoot } from '../../src/util/paths.js';
import { freePort, SimulatedHost } from '../sim/host.js';
import { waitFor, type StatusDoc } from './helpers.js';

// The production install path, for real: the single-file bundle built by scripts/bundle.mjs, run
// alone; systemd/install.sh staged into temporary roots (DESTDIR, never the live system); the unit
// it writes checked by systemd-analyze like CI and an operator would.

const ROOT = projectRoot();
const BUNDLE = path.join(ROOT, 'dist', 'bundle', 'campaign-health.mjs');
const INSTALL_SH = path.join(ROOT, 'systemd', 'install.sh');
const TEMPLATE_UNIT = path.join(ROOT, 'systemd', 'campaign-health-agent.service');
const TEMPLATE_CONFIG = path.join(ROOT, 'config', 'agent.yaml');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const UNIT = 'etc/systemd/system/campaign-health-agent.service';
const CONF = 'etc/campaign-health/agent.yaml';
/** The pages the README links to, installed beside it. */
const DOCS = readdirSync(path.join(ROOT, 'docs')).filter((file) => file.endsWith('.md'));

let work: string;
/** The node install.sh finds by default, as an operator's shell would. */
let nodeOnPath: string;

beforeAll(async () => {
  // Built here rather than assumed: npm test runs tsc only, and esbuild takes well under a second.
  await execa(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs')], { timeout: 60_000 });
  work = await mkdtemp(path.join(os.tmpdir(), 'campaign-health-install-'));
  nodeOnPath = (await execa('bash', ['-c', 'command -v node'])).stdout.trim();
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------- the bundle, alone

/** A directory holding nothing but a copy of the bundle, and an environment that points nowhere else. */
async function loneBundle(name: string): Promise<{ dir: string; bundle: string; env: Record<string, string> }> {
  const dir = path.join(work, name);
  await mkdir(dir);
  const bundle = path.join(dir, 'campaign-health.mjs');
  await copyFile(BUNDLE, bundle);
  return { dir, bundle, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NODE_PATH: '' } };
}

describe('the single-file bundle', () => {
  let alone: Awaited<ReturnType<typeof loneBundle>>;
  let sim: SimulatedHost | undefined;
  const run = (args: string[], timeout = 20_000) =>
    execa(process.execPath, [alone.bundle, ...args], { cwd: alone.dir, env: alone.env, extendEnv: false, reject: false, timeout, stdin: 'ignore' });

  beforeAll(async () => {
    alone = await loneBundle('alone');
  });
  afterAll(async () => {
    await sim?.stop();
  });

  test('nothing outside the bundle could supply a package: no node_modules from its directory up', () => {
    const dirs: string[] = [];
    for (let dir = alone.dir; ; dir = path.dirname(dir)) {
      dirs.push(path.join(dir, 'node_modules'));
      if (path.dirname(dir) === dir) break;
    }
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });

  test('--version is the package version, carried inside the bundle', async () => {
    const result = await run(['--version']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(VERSION);
    expect(result.exitCode).toBe(0);
  });

  test('probes lists every plugin', async () => {
    const result = await run(['probes']);
    expect(result.exitCode).toBe(0);
    for (const plugin of plugins) expect(result.stdout).toContain(`${plugin.module} (one per`);
  });

  test('config check validates the embedded default config, carried inside the bundle', async () => {
    const result = await run(['config', 'check']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe('# embedded:config/agent.yaml: valid');
    const report = YAML.parse(result.stdout) as { config: { listen: string; campaign: { installDir: string } } };
    expect(report.config.listen).toBe('127.0.0.1:10466');
    expect(report.config.campaign.installDir).toBe('/usr/local/neolane/nl6');
  });

  test('config check refuses an invalid file with exit 2, naming the file and the key', async () => {
    const bad = path.join(alone.dir, 'bad.yaml');
    await writeFile(bad, 'listen: 127.0.0.1:10466\nlogLevl: info\n');
    const result = await run(['config', 'check', '--config', bad]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${bad}: logLevl: unknown key`);
  });

  test('check probes a simulated Campaign host: every module ok, exit 0', async () => {
    sim = await SimulatedHost.start({ instances: ['prod'] });
    const config = await sim.writeAgentConfig({ defaults: { timeout: '20s' }, modules: { system: { enabled: false } } });
    const result = await run(['check', '--config', config, '--format', 'json']);
    const doc = JSON.parse(result.stdout) as StatusDoc;
    const states = doc.modules.filter((entry) => entry.state !== 'disabled').map((entry) => `${entry.module}@${entry.instance}=${entry.state}`);
    expect(states).toEqual(expect.arrayContaining(['watchdog@default=ok', 'web@default=ok', 'mta@prod=ok', 'nlserver@default=ok']));
    expect(states.every((state) => state.endsWith('=ok'))).toBe(true);
    expect(result.exitCode).toBe(0);
  }, 120_000);

  test('run serves /metrics with the version, reloads on SIGHUP, stops with 0 on SIGTERM', async () => {
    const config = path.join(alone.dir, 'run.yaml');
    const listen = `127.0.0.1:${await freePort('tcp')}`;
    await writeFile(config, YAML.stringify({ listen, stateDir: path.join(alone.dir, 'state'), campaign: { installDir: path.join(alone.dir, 'no-campaign') } }));
    const child = execa(process.execPath, [alone.bundle, 'run', '--config', config], {
      cwd: alone.dir,
      env: alone.env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      all: true,
      buffer: false,
      timeout: 40_000,
    });
    let output = '';
    child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor(async () => (await fetch(`http://${listen}/healthz`).catch(() => undefined))?.status === 200, 15_000, () => `never healthy:\n${output}`);
      const metrics = await (await fetch(`http://${listen}/metrics`)).text();
      expect(metrics).toContain(`campaign_agent_build_info{version="${VERSION}"} 1`);
      const status = (await (await fetch(`http://${listen}/status`)).json()) as StatusDoc;
      expect(status.modules.find((entry) => entry.module === 'watchdog')?.detail).toContain('Campaign install not found');
      await writeFile(config, YAML.stringify({ listen, logLevel: 'debug', campaign: { installDir: path.join(alone.dir, 'no-campaign') } }));
      child.kill('SIGHUP');
      await waitFor(() => output.includes('"msg":"config reloaded"'), 10_000, () => `no reload:\n${output}`);
    } finally {
      child.kill('SIGTERM');
    }
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(output).toContain('"msg":"stopped"');
  }, 120_000);
});

// ---------------------------------------------------------------- install.sh

/** A temporary root shaped like a server's before the install: the system directories exist. */
async function freshRoot(name: string): Promise<string> {
  const root = path.join(work, name);
  for (const dir of ['etc/systemd/system', 'usr/local/bin', 'opt']) await mkdir(path.join(root, dir), { recursive: true });
  return root;
}

/** install.sh, always staged: DESTDIR is set and never empty, so a test can never touch the live system. */
async function install(root: string, args: string[] = [], script = INSTALL_SH) {
  if (!path.isAbsolute(root) || !root.startsWith(work)) throw new Error(`refusing DESTDIR ${root}`);
  const result = await execa(script, args, { env: { DESTDIR: root }, reject: false, timeout: 60_000, stdin: 'ignore' });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

interface Entry {
  type: 'dir' | 'file' | 'link';
  mode: string;
  /** sha256 of a file, target of a link. */
  content?: string;
  mtimeMs?: number;
}

/** Every path under root with its type, permission bits, content hash and mtime. */
async function tree(root: string, dir = ''): Promise<Record<string, Entry>> {
  const entries: Record<string, Entry> = {};
  for (const name of (await readdir(path.join(root, dir))).sort()) {
    const relative = path.join(dir, name);
    const full = path.join(root, relative);
    const stat = await lstat(full);
    const mode = (stat.mode & 0o7777).toString(8).padStart(4, '0');
    if (stat.isSymbolicLink()) entries[relative] = { type: 'link', mode: 'link', content: await readlink(full) };
    else if (stat.isDirectory()) {
      entries[relative] = { type: 'dir', mode };
      Object.assign(entries, await tree(root, relative));
    } else entries[relative] = { type: 'file', mode, content: createHash('sha256').update(await readFile(full)).digest('hex'), mtimeMs: stat.mtimeMs };
  }
  return entries;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const actions = (stdout: string) => stdout.split('\n').map((line) => line.split(/\s+/)[0]).filter(Boolean);

async function groupOf(user: string): Promise<string | undefined> {
  const result = await execa('id', ['-gn', user], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/**
 * The template with what a default install substitutes: the node found on PATH, and the Campaign
 * user's primary group when neolane exists here (when it does not, the staged unit keeps neolane).
 */
async function expectedUnit(): Promise<string> {
  const template = await readFile(TEMPLATE_UNIT, 'utf8');
  return template
    .replace('\nExecStart=/usr/bin/node /opt/campaign-health/', `\nExecStart=${nodeOnPath} /opt/campaign-health/`)
    .replace(/^Group=neolane$/m, `Group=${(await groupOf('neolane')) ?? 'neolane'}`);
}

describe('install.sh into a temporary root', () => {
  let root: string;
  let before: Record<string, Entry>;
  let first: Awaited<ReturnType<typeof install>>;

  beforeAll(async () => {
    root = await freshRoot('root');
    before = await tree(root);
    first = await install(root);
  }, 120_000);

  test('installs the bundle, its command link, the template, the README and docs, the unit and the config', async () => {
    expect(first.exitCode).toBe(0);
    const after = await tree(root);
    const added = Object.fromEntries(Object.entries(after).filter(([file]) => !(file in before)).map(([file, entry]) => [file, entry.type === 'link' ? `link -> ${entry.content}` : `${entry.type} ${entry.mode}`]));
    expect(added).toEqual({
      'opt/campaign-health': 'dir 0755',
      'opt/campaign-health/campaign-health.mjs': 'file 0755',
      'opt/campaign-health/agent.yaml.default': 'file 0644',
      'opt/campaign-health/README.md': 'file 0644',
      'opt/campaign-health/docs': 'dir 0755',
      ...Object.fromEntries(DOCS.map((doc) => [`opt/campaign-health/docs/${doc}`, 'file 0644'])),
      'usr/local/bin/campaign-health': 'link -> /opt/campaign-health/campaign-health.mjs',
      [UNIT]: 'file 0644',
      'etc/campaign-health': 'dir 0750',
      [CONF]: 'file 0640',
    });
    expect(after['opt/campaign-health/campaign-health.mjs']?.content).toBe(sha256(BUNDLE));
    expect(after['opt/campaign-health/agent.yaml.default']?.content).toBe(sha256(TEMPLATE_CONFIG));
    expect(after[CONF]?.content).toBe(sha256(TEMPLATE_CONFIG));
  });

  test("the unit is the template with this machine's node written in", async () => {
    const unit = await readFile(path.join(root, UNIT), 'utf8');
    expect(unit).toBe(await expectedUnit());
    expect(unit).toContain(`\nExecStart=${nodeOnPath} /opt/campaign-health/campaign-health.mjs run --config /etc/campaign-health/agent.yaml\n`);
    expect(unit).toContain('\nUser=neolane\n');
  });

  test('says what it did, and what it left to systemd on the target', () => {
    expect(first.stdout).toContain(`installed  ${root}/${UNIT}`);
    expect(first.stdout).toContain(`created    ${root}/${CONF} (from config/agent.yaml)`);
    expect(first.stdout).toContain('would run  chgrp');
    expect(first.stdout).toContain(`checked    ${root}/${CONF} is valid`);
    expect(first.stdout).toContain('would run  systemctl enable --now campaign-health-agent.service');
  });

  test('the installed bundle runs from where the unit starts it', async () => {
    const result = await execa(nodeOnPath, [path.join(root, 'opt/campaign-health/campaign-health.mjs'), 'config', 'check', '--config', path.join(root, CONF)], { reject: false });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`# ${path.join(root, CONF)}: valid`);
  });

  test('systemd-analyze verify prints nothing about the installed unit', async () => {
    // Without --root: verify then checks that the unit's executables exist on this machine, and the
    // installed unit names this machine's node and /bin/kill, as it will on the server. (With
    // --root it wants a whole unit tree, sysinit.target and all, inside the root.)
    const result = await execa('systemd-analyze', ['verify', path.join(root, UNIT)], { reject: false, all: true });
    expect(result.all).toBe('');
    expect(result.exitCode).toBe(0);
  });

  test('systemd-analyze security scores the installed unit 3.0 or lower (OK)', async () => {
    const result = await execa('systemd-analyze', ['security', '--offline=yes', '--no-pager', path.join(root, UNIT)], { reject: false });
    const match = /Overall exposure level for campaign-health-agent\.service: (\d+\.\d+) (\S+)/.exec(result.stdout);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeLessThanOrEqual(3.0);
    expect(match![2]).toBe('OK');
  });

  test('the hardening that would break Node or Campaign stays off (a higher score is not worth it)', async () => {
    const directives = (await readFile(path.join(root, UNIT), 'utf8')).split('\n').filter((line) => /^[A-Za-z]+=/.test(line));
    const set = (key: string) => directives.filter((line) => line.startsWith(`${key}=`));
    // V8 needs W+X pages; RemoveIPC would wipe the Campaign user's shared memory at stop; PrivateIPC
    // would hide it; ProtectProc/ProcSubset hide host processes and /proc files the system row reads;
    // PrivateNetwork hides the host's socket tables.
    for (const key of ['MemoryDenyWriteExecute', 'RemoveIPC', 'PrivateIPC', 'ProtectProc', 'ProcSubset', 'PrivateNetwork', 'PrivateUsers']) expect(set(key)).toEqual([]);
    // Without it V8's pkey_alloc probe would get Node killed by the syscall filter.
    expect(set('SystemCallErrorNumber')).toEqual(['SystemCallErrorNumber=EPERM']);
    expect(set('ExecReload')).toEqual(['ExecReload=/bin/kill -HUP $MAINPID']);
    expect(set('Restart')).toEqual(['Restart=on-failure']);
    expect(set('CapabilityBoundingSet')).toEqual(['CapabilityBoundingSet=']);
    expect(set('ProtectSystem')).toEqual(['ProtectSystem=strict']);
    expect(set('ReadWritePaths')).toEqual([]);
  });

  test('a second run changes nothing', async () => {
    const snapshot = await tree(root);
    const again = await install(root);
    expect(again.exitCode).toBe(0);
    expect(await tree(root)).toEqual(snapshot);
    expect([...new Set(actions(again.stdout))].sort()).toEqual(['checked', 'kept', 'staging', 'unchanged', 'would']);
    expect(again.stdout).toContain(`kept       ${root}/${CONF} (existing configuration is never overwritten)`);
  });
});

describe('install.sh upgrades, refusals and options', () => {
  test('an edited config survives a reinstall and an upgrade; only the new bundle is written', async () => {
    const root = await freshRoot('upgrade');
    expect((await install(root)).exitCode).toBe(0);
    const conf = path.join(root, CONF);
    const edited = (await readFile(conf, 'utf8')).replace(/^logLevel: info$/m, 'logLevel: warn');
    expect(edited).toContain('logLevel: warn');
    await writeFile(conf, edited);
    const same = await install(root);
    expect(same.exitCode).toBe(0);
    expect(await readFile(conf, 'utf8')).toBe(edited);

    const newer = path.join(work, 'newer.mjs');
    await copyFile(BUNDLE, newer);
    await appendFile(newer, '// a newer build\n');
    const snapshot = await tree(root);
    const upgrade = await install(root, ['--bundle', newer]);
    expect(upgrade.exitCode).toBe(0);
    const after = await tree(root);
    const changed = Object.keys(after).filter((file) => JSON.stringify(after[file]) !== JSON.stringify(snapshot[file]));
    expect(changed).toEqual(['opt/campaign-health/campaign-health.mjs']);
    expect(after['opt/campaign-health/campaign-health.mjs']?.content).toBe(sha256(newer));
    expect(await readFile(conf, 'utf8')).toBe(edited);
  });

  test('a config that does not validate stops the install with the reason', async () => {
    const root = await freshRoot('invalid');
    await mkdir(path.join(root, 'etc/campaign-health'));
    await writeFile(path.join(root, CONF), 'listen: 127.0.0.1:10466\nmodules: {web: {enabled: maybe}}\n');
    const result = await install(root);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('modules.web.enabled');
    expect(result.stderr).toContain('does not pass `campaign-health config check`');
    expect(result.stdout).not.toContain('systemctl');
  });

  test('--user, --prefix and --node are written into the unit; verify stays silent', async () => {
    const root = await freshRoot('options');
    const nodeDir = path.join(work, 'node-bin');
    await mkdir(nodeDir);
    await symlink(process.execPath, path.join(nodeDir, 'node'));
    // daemon: a user every Debian and RHEL machine has, standing in for the Campaign user.
    const result = await install(root, ['--user', 'daemon', '--prefix', '/srv/campaign-health', '--node', path.join(nodeDir, 'node'), '--no-start']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    const unit = await readFile(path.join(root, UNIT), 'utf8');
    expect(unit).toContain(`\nExecStart=${nodeDir}/node /srv/campaign-health/campaign-health.mjs run --config /etc/campaign-health/agent.yaml\n`);
    expect(unit).toContain('\nUser=daemon\n');
    expect(unit).toContain(`\nGroup=${await groupOf('daemon')}\n`);
    expect(unit).toContain('Documentation=file:///srv/campaign-health/README.md');
    expect(unit).not.toContain('/opt/campaign-health');
    expect(existsSync(path.join(root, 'srv/campaign-health/campaign-health.mjs'))).toBe(true);
    expect(result.stdout).toContain('would run  systemctl enable campaign-health-agent.service');
    expect(result.stdout).not.toContain('--now');
    const verify = await execa('systemd-analyze', ['verify', path.join(root, UNIT)], { reject: false, all: true });
    expect(verify.all).toBe('');
    expect(verify.exitCode).toBe(0);
  });

  test('a Campaign user missing on this machine is named in a warning, not silently', async () => {
    const root = await freshRoot('ghost');
    const result = await install(root, ['--user', 'campaign-health-no-such-user']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('user campaign-health-no-such-user does not exist on this machine');
    expect(await readFile(path.join(root, UNIT), 'utf8')).toContain('\nUser=campaign-health-no-such-user\nGroup=campaign-health-no-such-user\n');
  });

  test.each([
    [['--purge'], '--purge only goes with --uninstall'],
    [['--prefix', 'opt/campaign-health'], '--prefix must be an absolute path'],
    [['--prefix', '/usr'], 'would mix the agent into the system'],
    [['--bundle', '/nonexistent/campaign-health.mjs'], 'bundle not found: /nonexistent/campaign-health.mjs'],
    [['--frobnicate'], 'unknown option: --frobnicate'],
    [['--user', 'root'], '--user root: the service runs as the Campaign user'],
  ])('%j is refused before anything is written', async (args, message) => {
    const root = await freshRoot(`refused-${args.join('').replace(/[^a-z]/g, '')}`);
    const before = await tree(root);
    const result = await install(root, args);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(message);
    expect(await tree(root)).toEqual(before);
  });
});

describe('install.sh --uninstall', () => {
  test('removes what it installed and keeps the config; --purge removes the config too', async () => {
    const root = await freshRoot('uninstall');
    const pristine = await tree(root);
    expect((await install(root)).exitCode).toBe(0);
    const conf = path.join(root, CONF);
    await writeFile(conf, (await readFile(conf, 'utf8')).replace(/^logLevel: info$/m, 'logLevel: warn'));
    const edited = await tree(root);

    const removed = await install(root, ['--uninstall']);
    expect(removed.exitCode).toBe(0);
    expect(removed.stdout).toContain(`kept       ${root}/etc/campaign-health/ (your configuration; --uninstall --purge removes it)`);
    const kept = await tree(root);
    expect(Object.keys(kept).filter((file) => !(file in pristine)).sort()).toEqual(['etc/campaign-health', CONF]);
    expect(kept[CONF]).toEqual(edited[CONF]);
    for (const file of Object.keys(pristine)) expect(kept[file]?.mode).toBe(pristine[file]?.mode);

    const twice = await install(root, ['--uninstall']);
    expect(twice.exitCode).toBe(0);
    expect(actions(twice.stdout).filter((action) => action === 'removed')).toEqual([]);

    const purged = await install(root, ['--uninstall', '--purge']);
    expect(purged.exitCode).toBe(0);
    expect(purged.stdout).toContain(`removed    ${root}/etc/campaign-health/ (--purge)`);
    expect(await tree(root)).toEqual(pristine);
  });

  test('files it did not install keep the prefix directory, and a foreign command link stays', async () => {
    const root = await freshRoot('foreign');
    expect((await install(root)).exitCode).toBe(0);
    await writeFile(path.join(root, 'opt/campaign-health/notes.txt'), 'mine\n');
    await rm(path.join(root, 'usr/local/bin/campaign-health'));
    await symlink('/usr/bin/true', path.join(root, 'usr/local/bin/campaign-health'));
    const result = await install(root, ['--uninstall']);
    expect(result.exitCode).toBe(0);
    expect(await readdir(path.join(root, 'opt/campaign-health'))).toEqual(['notes.txt']);
    expect(await readlink(path.join(root, 'usr/local/bin/campaign-health'))).toBe('/usr/bin/true');
    expect(result.stdout).toContain('(holds files this script did not install)');
  });
});

describe('the npm pack artefact', () => {
  test('holds the bundle and the installer, and installs from its own unpacked directory', async () => {
    const dest = path.join(work, 'pack');
    await mkdir(dest);
    // --ignore-scripts: prepack would rebuild; beforeAll built the bundle already.
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: ROOT, timeout: 60_000 });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string; mode: number }[] }[];
    const modes = Object.fromEntries(info!.files.map((file) => [file.path, file.mode.toString(8)]));
    expect(modes).toMatchObject({
      'dist/bundle/campaign-health.mjs': '755',
      'systemd/install.sh': '755',
      'systemd/campaign-health-agent.service': '644',
      'config/agent.yaml': '644',
      'README.md': '644',
      ...Object.fromEntries(DOCS.map((doc) => [`docs/${doc}`, '644'])),
    });
    await execa('tar', ['-xzf', path.join(dest, info!.filename), '-C', dest]);
    const root = await freshRoot('from-pack');
    const result = await install(root, [], path.join(dest, 'package', 'systemd', 'install.sh'));
    expect(result.exitCode).toBe(0);
    expect(sha256(path.join(root, 'opt/campaign-health/campaign-health.mjs'))).toBe(sha256(BUNDLE));
    expect(await readFile(path.join(root, UNIT), 'utf8')).toBe(await expectedUnit());
  }, 120_000);
});
