import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatEventLine, parseEventText } from '../../src/history/eventFile.js';
import { SimulatedHost } from '../sim/host.js';
import { FaultDaemon, findRow, type FullStatusDoc } from './faultDaemon.js';
import { Daemon, runCli, waitFor } from './helpers.js';
import { makeTestCertificates } from '../sim/test-certs.js';
import https from 'node:https';
import bcrypt from 'bcryptjs';
import YAML from 'yaml';

// The event log through the real daemon on the simulated host: a module killed and restored gives two
// events in /events and in stateDir/events.jsonl; a SIGKILL loses nothing that was served and leaves a
// readable file; a restart keeps the events and says since when the agent was down; a corrupt file is
// set aside; a read-only or full state directory keeps the agent probing and serving, says so once.
// One simulated host; one daemon at a time, each with its own state directory.
const INSTANCE = 'hist';
const ROOT = process.getuid?.() === 0;

let sim: SimulatedHost;
let daemon: FaultDaemon | undefined;
const mounts: string[] = [];

interface EventJson {
  time: string;
  module: string;
  instance: string;
  from: string | null;
  to: string;
  detail: string;
  downSince?: string;
}
type HistoryStatusDoc = Omit<FullStatusDoc, 'modules'> & {
  history: { file: string; writable: boolean; problem: string | null; setAside: string | null };
  modules: (FullStatusDoc['modules'][number] & { changes24h: number })[];
};

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: [INSTANCE] });
}, 120_000);

afterAll(async () => {
  if (daemon) await daemon.stop();
  for (const dir of mounts) await execa('umount', ['-l', dir], { reject: false });
  await sim?.stop();
});

/** A daemon config on the sim: every second, `stat` judged on one run, the given state directory. */
function writeConfig(name: string, stateDir: string): Promise<string> {
  return sim.writeAgentConfig({ stateDir, defaults: { schedule: '* * * * * *', timeout: '10s' }, modules: { system: { enabled: false }, stat: { failuresBeforeCritical: 1 } } }, `${name}.yaml`);
}

async function start(config: string): Promise<FaultDaemon> {
  daemon = await FaultDaemon.start(config);
  return daemon;
}

async function stop(): Promise<void> {
  expect(await daemon!.stop()).toBe(0);
  daemon = undefined;
}

const statusOf = async (): Promise<HistoryStatusDoc> => (await daemon!.status()) as HistoryStatusDoc;
const statState = (doc: FullStatusDoc) => findRow(doc, 'stat', INSTANCE).state;

async function events(query = ''): Promise<EventJson[]> {
  const answer = await daemon!.get(`/events${query}`);
  expect(answer.status).toBe(200);
  return (JSON.parse(answer.body) as { events: EventJson[] }).events;
}

/** stat@hist killed, seen critical, started again, seen ok. */
async function flapStat(): Promise<void> {
  await sim.kill('stat', INSTANCE);
  await daemon!.statusWhen((doc) => statState(doc) === 'critical');
  await sim.startModule('stat', INSTANCE);
  await daemon!.statusWhen((doc) => statState(doc) === 'ok');
}

const fileOf = (dir: string) => parseEventText(readFileSync(path.join(dir, 'events.jsonl'), 'utf8'));
const changes = (list: readonly { module: string; instance: string; from: unknown; to: unknown }[]) =>
  list.filter((event) => event.module === 'stat' && event.instance === INSTANCE).map((event) => `${String(event.from)}>${String(event.to)}`);
const logLines = (pattern: string) => daemon!.output().split('\n').filter((line) => line.includes(pattern));
const metric = async (name: string) => new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec((await daemon!.get('/metrics')).body)?.[1];

/** A small tmpfs at `dir` (root, in the test lane's own mount namespace). */
async function mountTmpfs(dir: string, options: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
}

describe('events through the real daemon', () => {
  let mainDir: string;
  let mainConfig: string;
  let servedBeforeKill: EventJson[] = [];
  let killedAt = 0;

  test('a module killed and restored: two events in /events and in the file, counted, in changes24h, by the CLI', async () => {
    mainDir = path.join(sim.root, 'state-main');
    mainConfig = await writeConfig('main', mainDir);
    await start(mainConfig);
    await daemon!.statusWhen((doc) => statState(doc) === 'ok');
    await flapStat();
    const served = await events(`?module=stat&instance=${INSTANCE}`);
    expect(changes(served)).toEqual(['critical>ok', 'ok>critical', 'null>ok']);
    expect(served[1]!.detail).toMatch(/process/);
    expect(Date.parse(served[0]!.time)).toBeGreaterThanOrEqual(Date.parse(served[1]!.time));
    // Written before served: the file holds them all.
    expect(changes(fileOf(mainDir).events).slice(-3)).toEqual(['null>ok', 'ok>critical', 'critical>ok']);
    expect((await events()).at(-1)).toMatchObject({ module: 'agent', instance: '', from: null, to: 'started' });
    const doc = await statusOf();
    expect(doc.history).toEqual({ file: path.join(mainDir, 'events.jsonl'), writable: true, problem: null, setAside: null });
    expect(doc.modules.find((row) => row.module === 'stat' && row.instance === INSTANCE)!.changes24h).toBe(2);
    expect(await metric(`campaign_module_state_changes_total{module="stat",campaign_instance="${INSTANCE}",to="critical"}`)).toBe('1');
    expect(await metric(`campaign_module_state_changes_total{module="stat",campaign_instance="${INSTANCE}",to="ok"}`)).toBe('1');
    expect(await metric('campaign_agent_state_writable')).toBe('1');
    // Bad queries: 400 naming the parameter.
    for (const [query, name] of [['?limit=0', 'limit'], ['?since=yesterday', 'since'], ['?modul=stat', 'modul']] as const) {
      const answer = await daemon!.get(`/events${query}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain(name);
    }
    expect(await events('?since=1h&limit=1')).toHaveLength(1);

    const text = await runCli(['events', '--config', mainConfig, '--module', 'stat', '--instance', INSTANCE, '--since', '1h']);
    expect(text.exitCode).toBe(0);
    expect(text.stderr).toContain(`events from the running daemon at ${daemon!.baseUrl}`);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ  stat@${INSTANCE}  critical → ok\\s+\\S`));
    expect(lines[1]).toMatch(/ ok → critical /);
    const json = await runCli(['events', '--config', mainConfig, '--module', 'stat', '--format', 'json']);
    expect(changes((JSON.parse(json.stdout) as { events: EventJson[] }).events)).toEqual(['critical>ok', 'ok>critical', 'null>ok']);
    const bad = await runCli(['events', '--config', mainConfig, '--since', 'soon']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^--since: expected/);
  }, 90_000);

  test('SIGKILL: the file stays readable, nothing served is lost; the CLI reads the file while the daemon is down', async () => {
    servedBeforeKill = await events('?limit=50000');
    killedAt = Date.now();
    process.kill(daemon!.pid, 'SIGKILL');
    await waitFor(() => !daemon!.alive(), 10_000, () => 'the daemon survived SIGKILL');
    daemon = undefined;
    // What a kill in the middle of an append leaves: the start of a line, no newline.
    appendFileSync(path.join(mainDir, 'events.jsonl'), formatEventLine({ time: Date.now(), module: 'stat', instance: INSTANCE, from: 'ok', to: 'critical', detail: 'torn' }).slice(0, 50));
    const cli = await runCli(['events', '--config', mainConfig, '--module', 'stat', '--instance', INSTANCE, '--since', '1h']);
    expect(cli.exitCode).toBe(0);
    expect(cli.stderr).toMatch(/the daemon did not answer \(.*ECONNREFUSED\)\): read from its event file .*state-main\/events\.jsonl\n/);
    expect(cli.stderr).toContain('was cut short (a write interrupted) and was skipped');
    expect(cli.stdout.trimEnd().split('\n')).toHaveLength(3);
  }, 60_000);

  test('a restart keeps the events and says since when the agent was down; the torn line is dropped', async () => {
    await start(mainConfig);
    const all = await events('?limit=50000');
    const key = (event: EventJson) => `${event.time} ${event.module}@${event.instance} ${String(event.from)}>${event.to}`;
    expect(all.map(key)).toEqual(expect.arrayContaining(servedBeforeKill.map(key)));
    const started = all.filter((event) => event.to === 'started');
    expect(started).toHaveLength(2);
    const downSince = Date.parse(started[0]!.downSince!);
    expect(downSince).toBeLessThanOrEqual(killedAt);
    expect(downSince).toBeGreaterThanOrEqual(Date.parse(started[1]!.time));
    expect(started[0]!.detail).toMatch(/ended without stopping/);
    // The time the agent was down is a gap, never ok: a hatched, titled segment on the row's strip, agentDown in /report.
    const page = (await daemon!.get('/')).body;
    expect(page).toContain('<pattern id="strip-down"');
    expect(page.match(new RegExp(`<tr id="row-stat@${INSTANCE}"[\\s\\S]*?</tr>`))![0]).toMatch(/<rect class="seg seg-down"[^>]*><title>AGENT DOWN \(nothing checked\) /);
    const report = JSON.parse((await daemon!.get('/report?since=1h')).body) as { agentDownMs: number; rows: { module: string; instance: string; shares: { agentDown: number; ok: number } }[] };
    expect(report.agentDownMs).toBeGreaterThanOrEqual(Date.parse(started[0]!.time) - downSince);
    expect(report.rows.find((row) => row.module === 'stat' && row.instance === INSTANCE)!.shares.agentDown).toBeGreaterThan(0);
    expect(all.some((event) => event.detail === 'torn')).toBe(false);
    const file = fileOf(mainDir);
    expect(file.invalid).toBe(0);
    expect((await statusOf()).history.setAside).toBeNull();
    // A second agent on the same config cannot listen: it exits and leaves the running one's file alone.
    const agentEvents = () => fileOf(mainDir).events.filter((event) => event.module === 'agent');
    const before = agentEvents();
    const second = await runCli(['run', '--config', mainConfig], 30_000);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain('cannot listen');
    expect(agentEvents()).toEqual(before);
    expect(readdirSync(mainDir).sort()).toEqual(['events.jsonl', 'heartbeat']);
    // Reloads, accepted and refused, are events; a refused one lists the problems, secrets scrubbed.
    const good = readFileSync(mainConfig, 'utf8');
    process.kill(daemon!.pid, 'SIGHUP');
    await waitFor(async () => (await events('?module=agent')).some((event) => event.to === 'reloaded'), 10_000, () => daemon!.output());
    writeFileSync(mainConfig, `${good}webConfigFile: relative/password=hunter2\n`);
    process.kill(daemon!.pid, 'SIGHUP');
    await waitFor(async () => (await events('?module=agent')).some((event) => event.to === 'reload_refused'), 10_000, () => daemon!.output());
    writeFileSync(mainConfig, good);
    const refused = (await events('?module=agent&limit=1'))[0]!;
    expect(refused).toMatchObject({ to: 'reload_refused', from: null, instance: '' });
    expect(refused.detail).toMatch(/webConfigFile: expected an absolute path, got "relative\/password=\[redacted\]/);
    expect(refused.detail).not.toContain('hunter2');
    await stop();
    const stopped = fileOf(mainDir).events.at(-1)!;
    expect(stopped).toMatchObject({ module: 'agent', to: 'stopped', detail: 'stopped by SIGTERM' });
  }, 60_000);

  test('the one-shot check writes no event, and no state directory', async () => {
    const dir = path.join(sim.root, 'state-check');
    const result = await runCli(['check', '--config', await writeConfig('check', dir), '--module', 'stat']);
    expect(result.stdout).toMatch(/^stat\s+hist\s+OK\s/m);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  test('the CLI reaches a TLS daemon trusting its own certificate; behind basic auth with --user and --password-file', async () => {
    const certs = await makeTestCertificates();
    const dir = path.join(sim.root, 'state-tls');
    const webFile = path.join(sim.root, 'tls-web.yml');
    await writeFile(webFile, YAML.stringify({ tls_server_config: { cert_file: certs.selfSignedCert, key_file: certs.selfSignedKey } }));
    const config = await sim.writeAgentConfig({ stateDir: dir, webConfigFile: webFile, defaults: { schedule: '* * * * * *' }, modules: { system: { enabled: false } } }, 'tls.yaml');
    const { listen } = YAML.parse(readFileSync(config, 'utf8')) as { listen: string };
    const healthy = () =>
      new Promise<boolean>((resolve) => https.get(`https://${listen}/healthz`, { rejectUnauthorized: false }, (response) => resolve(response.statusCode === 200)).on('error', () => resolve(false)));
    const tls = await Daemon.start(config, listen, healthy);
    try {
      await waitFor(() => existsSync(path.join(dir, 'events.jsonl')), 10_000, () => tls.output());
      const over = await runCli(['events', '--config', config, '--module', 'agent']);
      expect(over.stderr).toContain(`events from the running daemon at https://${listen}`);
      expect(over.stdout).toMatch(/ agent {2}started {2}campaign-health-agent .* started; no earlier run recorded$/m);
      // Basic auth added (applies at once on SIGHUP): without credentials the CLI says how to give
      // them (a daemon that answers is never replaced by the file); with them it reads the daemon.
      await writeFile(webFile, YAML.stringify({ tls_server_config: { cert_file: certs.selfSignedCert, key_file: certs.selfSignedKey }, basic_auth_users: { prometheus: await bcrypt.hash('secret', 4) } }));
      tls.signal('SIGHUP');
      await waitFor(() => tls.output().includes('config reloaded'), 10_000, () => tls.output());
      const refused = await runCli(['events', '--config', config, '--module', 'agent']);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(`the daemon at https://${listen} needs basic auth (webConfigFile ${webFile}): pass --user NAME --password-file FILE`);
      const passwordFile = path.join(sim.root, 'tls-password');
      await writeFile(passwordFile, 'secret\n');
      const behind = await runCli(['events', '--config', config, '--module', 'agent', '--user', 'prometheus', '--password-file', passwordFile]);
      expect(behind.exitCode).toBe(0);
      expect(behind.stderr).toContain(`events from the running daemon at https://${listen}`);
      expect(behind.stdout).toMatch(/ agent {2}reloaded {2}config reloaded from /m);
    } finally {
      expect(await tls.stop()).toBe(0);
      await certs.remove();
    }
  }, 60_000);

  test('a corrupt file is set aside, its valid events kept', async () => {
    const dir = path.join(sim.root, 'state-corrupt');
    await mkdir(dir);
    const valid = formatEventLine({ time: Date.now() - 60_000, module: 'mta', instance: INSTANCE, from: 'ok', to: 'critical', detail: 'kept from before' });
    await writeFile(path.join(dir, 'events.jsonl'), `${valid}<html>not ours</html>\n${valid}`);
    await start(await writeConfig('corrupt', dir));
    const doc = await statusOf();
    expect(doc.history.setAside).toMatch(/state-corrupt\/events\.jsonl\.corrupt-\d{4}-\d\d-\d\dT/);
    expect(doc.history.writable).toBe(true);
    expect(readFileSync(doc.history.setAside!, 'utf8')).toContain('not ours');
    expect((await events('?module=mta')).filter((event) => event.detail === 'kept from before')).toHaveLength(2);
    await waitFor(() => fileOf(dir).events.filter((event) => event.detail === 'kept from before').length === 2, 10_000, () => 'the valid events never reached the new file');
    expect(fileOf(dir).invalid).toBe(0);
    expect(logLines('event file corrupt or foreign')).toHaveLength(1);
    await stop();
  }, 60_000);

  test('a read-only state directory: probing and serving go on, /status and the gauge say so, one log line', async () => {
    let dir = path.join(sim.root, 'state-ro');
    if (ROOT) await mountTmpfs(dir, 'ro,size=1m');
    else {
      // Without root, no mount: a directory that cannot be made (a path under a file).
      await writeFile(dir, '');
      dir = path.join(dir, 'state');
    }
    await start(await writeConfig('ro', dir));
    // Probing goes on: the first verdict comes, and is served.
    await daemon!.statusWhen((doc) => statState(doc) === 'ok');
    const doc = await statusOf();
    expect(doc.history.writable).toBe(false);
    expect(doc.history.problem).toContain(ROOT ? 'EROFS' : 'ENOTDIR');
    expect((await daemon!.get('/status?format=text')).body).toMatch(/^overall: \w+\nhistory: cannot write to the state directory .*: events are kept in memory only/);
    expect(await metric('campaign_agent_state_writable')).toBe('0');
    expect(changes(await events(`?module=stat`))).toEqual(['null>ok']);
    expect((await daemon!.get('/healthz')).status).toBe(200);
    expect(logLines('state directory not writable')).toHaveLength(1);
    if (ROOT) expect(readdirSync(dir)).toEqual([]);
    await stop();
  }, 60_000);

  test('a full disk: events kept in memory, said once; written out whole when space comes back', async () => {
    const dir = path.join(sim.root, 'state-full');
    const filler = ROOT ? path.join(dir, 'filler') : '';
    if (ROOT) {
      await mountTmpfs(dir, 'size=64k');
      // Every block taken: the first append of the agent gets ENOSPC.
      try {
        writeFileSync(filler, Buffer.alloc(128 * 1024));
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
    } else {
      // Without root, no tmpfs: a directory the agent's user cannot write stands in (EACCES).
      await mkdir(dir);
      await chmod(dir, 0o555);
    }
    await start(await writeConfig('full', dir));
    await daemon!.statusWhen((doc) => statState(doc) === 'ok');
    await sim.kill('stat', INSTANCE);
    await daemon!.statusWhen((doc) => statState(doc) === 'critical');
    const full = await statusOf();
    expect(full.history.problem).toContain(ROOT ? 'ENOSPC' : 'EACCES');
    expect(await metric('campaign_agent_state_writable')).toBe('0');
    expect(changes(await events('?module=stat'))).toEqual(['ok>critical', 'null>ok']);
    expect(daemon!.alive()).toBe(true);
    if (ROOT) await rm(filler);
    else await chmod(dir, 0o755);
    await sim.startModule('stat', INSTANCE);
    await daemon!.statusWhen((doc) => statState(doc) === 'ok');
    await waitFor(async () => (await metric('campaign_agent_state_writable')) === '1', 10_000, () => 'never writable again');
    // Rewritten from memory: what happened while the disk was full is on disk now.
    await waitFor(() => changes(fileOf(dir).events).join() === 'null>ok,ok>critical,critical>ok', 10_000, () => `file: ${readFileSync(path.join(dir, 'events.jsonl'), 'utf8')}`);
    expect(fileOf(dir).events[0]).toMatchObject({ module: 'agent', to: 'started' });
    expect(logLines('state directory not writable')).toHaveLength(1);
    expect(logLines('state directory writable again')).toHaveLength(1);
    await stop();
  }, 60_000);
});
