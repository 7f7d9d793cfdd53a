import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectDir, SimulatedHost } from '../sim/host.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
}

/** pids of every process (except this one) with an argv element under `root`. */
function processesMentioning(root: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`${root}/`)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** Ports bound on 127.0.0.1 from /proc/net/{tcp,udp}: TCP in LISTEN, UDP any state. */
function boundPorts(proto: 'tcp' | 'udp'): Set<number> {
  const ports = new Set<number>();
  for (const line of readFileSync(`/proc/net/${proto}`, 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const [address, port] = (fields[1] as string).split(':') as [string, string];
    if (address === '0100007F' && (proto === 'udp' || fields[3] === '0A')) ports.add(Number.parseInt(port, 16));
  }
  return ports;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

const PDUMP_LINE = /^(?<module>[A-Za-z]+)(?:@(?<instance>[A-Za-z0-9_-]+))? \((?<pid>\d+)\) - (?<mem>\d+\.\d) (?<unit>MB|Mb|Mo)$/;

describe('SimulatedHost', () => {
  let sim: SimulatedHost;
  let base: string;

  beforeAll(async () => {
    sim = await SimulatedHost.start({ instances: ['prod'], logIntervalMs: 200, trackingIntervalMs: 100 });
    base = `http://127.0.0.1:${sim.ports.http}`;
  });

  afterAll(async () => {
    await sim?.stop();
  });

  test('module processes have Campaign command lines', () => {
    const binary = path.join(sim.root, 'procs', 'nlserver');
    const web = sim.pid('web');
    const mta = sim.pid('mta', 'prod');
    const watchdog = sim.pid('watchdog');
    expect(web && mta && watchdog).toBeTruthy();
    expect(cmdline(web!)).toEqual([binary, 'web', '-tracefile:web@default', '-instance:default', '-detach', '-tomcat']);
    expect(cmdline(mta!)).toEqual([binary, 'mta', '-tracefile:mta@prod', '-instance:prod', '-detach']);
    expect(cmdline(watchdog!)).toEqual([binary, 'watchdog', '-svc', '-noconsole']);
    expect(readFileSync(`/proc/${web}/comm`, 'utf8').trim()).toBe('nlserver');
    expect(sim.tasks().map((t) => t.task).sort()).toEqual(
      ['inMail@prod', 'mta@prod', 'stat@prod', 'syslogd@default', 'trackinglogd@default', 'watchdog', 'web@default', 'wfserver@prod'],
    );
  });

  test('ports are bound and written to the config', () => {
    const tcp = boundPorts('tcp');
    const udp = boundPorts('udp');
    expect(tcp.has(sim.ports.http)).toBe(true);
    expect(tcp.has(sim.ports.control)).toBe(true);
    expect(udp.has(sim.ports.syslog)).toBe(true);
    expect(udp.has(sim.ports.stat)).toBe(true);
    const serverConf = readFileSync(path.join(sim.installDir, 'conf', 'serverConf.xml'), 'utf8');
    expect(serverConf).toContain(`<web controlPort="${sim.ports.control}" httpPort="${sim.ports.http}"`);
    expect(serverConf).toContain(`<stat port="${sim.ports.stat}"`);
    expect(readFileSync(path.join(sim.installDir, 'customer.sh'), 'utf8')).toContain(`export TRACE_ADDR=localhost:${sim.ports.syslog}\n`);
    expect(readFileSync(path.join(sim.installDir, 'conf', 'config-prod.xml'), 'utf8')).toMatch(/<mta autoStart="true" statServerAddress="localhost(:\d+)?"\/>/);
  });

  test('/r/test answers OK, then KO after setControl', async () => {
    const ok = await fetch(`${base}/r/test`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/xml');
    expect(await ok.text()).toMatch(/^<redir status='OK' date='\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z' build='9356' host='[^']*' localHost='sim-host'\/>/);
    await sim.setControl({ rTest: 'ko' });
    expect(await (await fetch(`${base}/r/test`)).text()).toContain("status='KO'");
    await sim.setControl({ rTest: 'ok' });
  });

  test('SOAP router answers a SOAP Fault by default', async () => {
    const response = await fetch(`${base}/nl/jsp/soaprouter.jsp`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', SOAPAction: 'xtk:session#Logon' },
      body: '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>',
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).toContain('<SOAP-ENV:Fault>');
    expect(text).toContain('<faultcode>SOAP-ENV:Client</faultcode>');
    expect(text).toContain('XSV-350008 Session has expired or is invalid. Please reconnect.');
  });

  test('logs are written in Campaign format and tracking logs grow', async () => {
    await sleep(450);
    const lines = readFileSync(path.join(sim.varDir, 'prod', 'log', 'mta.log'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t\d+\t\d+\t1\t(info|warning|error)\tlog\t.+$/);
    expect(existsSync(path.join(sim.varDir, 'default', 'log', 'web.log'))).toBe(true);
    const file = path.join(sim.trackingDir('prod'), '0x0000000000001000.log');
    const first = statSync(file).size;
    expect(first).toBeGreaterThan(0);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toMatch(/^50x0000000000001000\t[0-9T:.-]+\t[0-9a-f]{8}\t[0-9a-f]{8}\t[0-9a-f]{8}\t0\t[0-9a-f-]+\th\t[^\t]+\t[^\t]+\t127\.0\.0\.1$/);
    const next = await sim.rotateTrackingLog('prod');
    expect(next).toBe('0x0000000000002000.log');
    expect(await waitFor(() => statSync(path.join(sim.trackingDir('prod'), next)).size > 0, 10_000)).toBe(true);
    await sim.setControl({ tracking: 'stall' });
    await sleep(150);
    const stalled = statSync(path.join(sim.trackingDir('prod'), next)).size;
    await sleep(300);
    expect(statSync(path.join(sim.trackingDir('prod'), next)).size).toBe(stalled);
    await sim.setControl({ tracking: 'grow' });
  });

  test('nlserver pdump lines parse and match the live pids', async () => {
    const { stdout, code } = await sim.runCli(['pdump']);
    expect(code).toBe(0);
    const [banner, ...rows] = stdout.trimEnd().split('\n');
    expect(banner).toMatch(/^\d\d:\d\d:\d\d > Application server for Adobe Campaign Classic \(7\.3 24\.1 build 9356@abc1234\) of 01\/03\/2024$/);
    const parsed = rows.map((row) => PDUMP_LINE.exec(row)?.groups);
    expect(parsed.every(Boolean)).toBe(true);
    const byTask = new Map(parsed.map((g) => [g!.instance ? `${g!.module}@${g!.instance}` : g!.module, Number(g!.pid)]));
    expect(byTask.get('web@default')).toBe(sim.pid('web'));
    expect(byTask.get('watchdog')).toBe(sim.pid('watchdog'));
    expect(byTask.get('mta@prod')).toBe(sim.pid('mta'));
    const who = await sim.runCli(['pdump', '-who']);
    expect(who.stdout).toContain('Connection pool --------------------------------------------------');
  });

  test('monitor -missing lists a killed module; unknown masks fail', async () => {
    expect((await sim.runCli(['monitor', '-missing'])).stdout.trim().split('\n')).toHaveLength(1);
    const pid = sim.pid('wfserver', 'prod')!;
    await sim.kill('wfserver', 'prod', 'SIGKILL');
    expect(existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '').toBe(false);
    expect(sim.pid('wfserver')).toBeUndefined();
    const missing = await sim.runCli(['monitor', '-missing']);
    expect(missing.stdout.trim().split('\n').slice(1)).toEqual(['wfserver@prod']);
    const unknown = await sim.runCli(['start', 'foo']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('No task corresponds to the mask foo@default');
    await sim.startModule('wfserver', 'prod');
    expect(sim.pid('wfserver')).toBeDefined();
  });

  test('nlserver restart web gives a new pid that serves /r/test', async () => {
    const before = sim.pid('web');
    const result = await sim.runCli(['restart', 'web']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Stop requested for 'web@default'`);
    expect(result.stdout).toMatch(/\d\d:\d\d:\d\d > {3}Running task 'web@default' \('nlserver web -tracefile:web@default -instance:default -detach -tomcat'\) in a new process/);
    const after = sim.pid('web');
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect((await fetch(`${base}/r/test`)).status).toBe(200);
  });

  test('mta spawns mtachild processes on demand', async () => {
    await sim.setControl({ mtaChildren: 2 });
    const children = sim.mtaChildPids('prod');
    expect(children).toHaveLength(2);
    expect(cmdline(children[0]!).slice(1)).toEqual(['mtachild', '-tracefile:mtachild@prod', '-instance:prod', '-detach']);
    await sim.setControl({ mtaChildren: 0 });
    expect(sim.mtaChildPids('prod')).toHaveLength(0);
  });

  test('a module process exits by itself when its parent dies', async () => {
    // A throwaway parent spawns wfserver@prod, then gets SIGKILLed.
    await sim.kill('wfserver', 'prod');
    const lib = path.join(projectDir(), 'test', 'sim', 'sim-lib.cjs');
    const parent = spawn(
      process.execPath,
      ['-e', `require(${JSON.stringify(lib)}).spawnModule(${JSON.stringify(sim.root)}, 'wfserver', 'prod'); setInterval(() => {}, 1000);`],
      { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(await waitFor(() => sim.pid('wfserver') !== undefined, 15_000)).toBe(true);
    const orphan = sim.pid('wfserver')!;
    parent.kill('SIGKILL');
    expect(await waitFor(() => !existsSync(`/proc/${orphan}/cmdline`) || readFileSync(`/proc/${orphan}/cmdline`, 'utf8') === '', 15_000)).toBe(true);
    await sim.startModule('wfserver', 'prod');
  });

  test('stop() kills every process, CLI-started ones included, and removes the root', async () => {
    const root = sim.root;
    expect(processesMentioning(root).length).toBeGreaterThanOrEqual(8);
    await sim.stop();
    expect(processesMentioning(root)).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });
});

describe('SimulatedHost SOAP sessions', () => {
  const OPERATOR = { login: 'monitoring', password: 'sim-Secret-1' };
  const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
  let sim: SimulatedHost;
  let router: string;

  const post = async (action: string, body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(router, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', SOAPAction: action, ...headers },
      body: `<s:Envelope xmlns:s="${SOAP_ENV}"><s:Body>${body}</s:Body></s:Envelope>`,
    });
    return { status: response.status, text: await response.text() };
  };
  const logon = (login: string, password: string) =>
    post('xtk:session#Logon', `<Logon xmlns="urn:xtk:session"><sessiontoken/><strLogin>${login}</strLogin><strPassword>${password}</strPassword><elemParameters/></Logon>`);
  const tokens = (text: string) => ({
    session: /<pstrSessionToken[^>]*>([^<]+)</.exec(text)?.[1] ?? '',
    security: /<pstrSecurityToken[^>]*>([^<]+)</.exec(text)?.[1] ?? '',
  });
  const query = (where: string, headers: Record<string, string>, sessionParameter = '') =>
    post(
      'xtk:queryDef#ExecuteQuery',
      `<ExecuteQuery xmlns="urn:xtk:queryDef"><sessiontoken>${sessionParameter}</sessiontoken><entity><queryDef schema="xtk:workflow" operation="select">` +
        `<select><node expr="@internalName"/><node expr="@failed"/></select><where><condition expr="${where}"/></where></queryDef></entity></ExecuteQuery>`,
      headers,
    );
  const withSession = (t: { session: string; security: string }) => ({ cookie: `__sessiontoken=${t.session}`, 'x-security-token': t.security });
  const EXPIRED = 'XSV-350008 Session has expired or is invalid. Please reconnect.';

  beforeAll(async () => {
    sim = await SimulatedHost.start({
      machineModules: { watchdog: false, syslogd: false, trackinglogd: false },
      instanceModules: { mta: false, wfserver: false, inMail: false, stat: false },
    });
    router = `http://127.0.0.1:${sim.ports.http}/nl/jsp/soaprouter.jsp`;
    await sim.setControl({
      soap: 'envelope',
      soapOperator: OPERATOR,
      soapWorkflows: [
        { internalName: 'tracking', label: 'Tracking', state: 0, failed: 0 },
        { internalName: 'cleanup', label: 'Cleanup', state: 13, failed: 1 },
      ],
    });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  test('wrong credentials: HTTP 500 and an XSV-350022 Fault naming the login', async () => {
    const { status, text } = await logon('monitoring', 'wrong');
    expect(status).toBe(500);
    expect(text).toContain('<faultcode>SOAP-ENV:Client</faultcode>');
    expect(text).toContain("XSV-350022 Unable to log on as 'monitoring': incorrect login or password.");
  });

  test('a session from Logon opens ExecuteQuery, filtered by the condition, with the selected attributes only', async () => {
    const { status, text } = await logon(OPERATOR.login, OPERATOR.password);
    expect(status).toBe(200);
    const t = tokens(text);
    expect(t.session).toMatch(/^___[0-9a-f-]{36}$/);
    const failed = await query('@failed = 1', withSession(t));
    expect(failed.status).toBe(200);
    expect(failed.text).toContain('<workflow-collection><workflow internalName="cleanup" failed="1"/></workflow-collection>');
    expect((await query("@internalName = 'tracking'", withSession(t))).text).toContain('<workflow internalName="tracking" failed="0"/>');
    // The first parameter carries the session as well.
    expect((await query('@failed = 1', {}, t.session)).status).toBe(200);
  });

  test('no session, a cookie without its security token, or a made-up token: the XSV-350008 Fault', async () => {
    const t = tokens((await logon(OPERATOR.login, OPERATOR.password)).text);
    const attempts: Array<Record<string, string>> = [
      {},
      { cookie: `__sessiontoken=${t.session}` },
      withSession({ ...t, session: '___00000000-0000-0000-0000-000000000000' }),
    ];
    for (const headers of attempts) {
      const { status, text } = await query('@failed = 1', headers);
      expect(status).toBe(500);
      expect(text).toContain(EXPIRED);
    }
  });

  test('bumping soapExpireSessions or a lifetime of 0 ms expires sessions; a new Logon works again', async () => {
    const before = tokens((await logon(OPERATOR.login, OPERATOR.password)).text);
    await sim.setControl({ soapExpireSessions: sim.getControl().soapExpireSessions + 1 });
    expect((await query('@failed = 1', withSession(before))).text).toContain(EXPIRED);
    const after = tokens((await logon(OPERATOR.login, OPERATOR.password)).text);
    expect((await query('@failed = 1', withSession(after))).status).toBe(200);
    await sim.setControl({ soapSessionTtlMs: 0 });
    try {
      expect((await query('@failed = 1', withSession(after))).text).toContain(EXPIRED);
    } finally {
      await sim.setControl({ soapSessionTtlMs: undefined });
    }
  });

  test('an unsupported condition is a Fault, never silently ignored', async () => {
    const t = tokens((await logon(OPERATOR.login, OPERATOR.password)).text);
    const { status, text } = await query('@state &gt; 1', withSession(t));
    expect(status).toBe(500);
    expect(text).toContain('Simulated host: unsupported where condition');
  });

  test('without soapOperator any Logon succeeds and queries need no session', async () => {
    await sim.setControl({ soapOperator: undefined });
    try {
      expect((await logon('anyone', 'anything')).status).toBe(200);
      const { status, text } = await query('@failed = 1', {});
      expect(status).toBe(200);
      expect(text).toContain('internalName="cleanup"');
    } finally {
      await sim.setControl({ soapOperator: OPERATOR });
    }
  });
});

describe("the cost bench's compiled stand-in nlserver (SimOptions.nlserverStandin)", () => {
  let sim: SimulatedHost;
  let dir: string;
  const runs = (): number => statSync(`${sim.nlserverPath}-answers/count`).size;
  const withoutClock = (text: string): string[] => text.split('\n').filter((line) => !line.includes(' > '));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'standin-'));
    const binary = path.join(dir, 'nlserver-standin');
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', binary, path.join(projectDir(), 'bench', 'nlserver-standin.c')]);
    sim = await SimulatedHost.start({ instances: ['prod'], machineModules: { web: false, trackinglogd: false }, nlserverStandin: binary });
  });

  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('answers pdump and monitor -missing as the Node CLI does, counting every run', async () => {
    const pdump = await sim.runCli(['pdump']);
    expect(pdump.code).toBe(0);
    const listed = withoutClock(pdump.stdout).filter((line) => PDUMP_LINE.test(line)).map((line) => Number(PDUMP_LINE.exec(line)?.groups?.pid));
    expect(listed.sort()).toEqual(sim.tasks().map((task) => task.pid).sort());
    await sim.kill('mta', 'prod');
    const missing = await sim.runCli(['monitor', '-missing']);
    expect(missing.code).toBe(0);
    expect(withoutClock(missing.stdout)).toEqual(['mta@prod', '']);
    await sim.startModule('mta', 'prod');
    expect(withoutClock((await sim.runCli(['monitor', '-missing'])).stdout)).toEqual(['']);
    expect(runs()).toBe(3);
  });

  test('a mode of control.json, or any other command, is the Node CLI', async () => {
    const before = runs();
    await sim.setControl({ nlserverMode: 'fail' });
    try {
      const failed = await sim.runCli(['pdump']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('simulated failure');
    } finally {
      await sim.setControl({ nlserverMode: 'normal' });
    }
    const unknown = await sim.runCli(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect((await sim.runCli(['pdump', '-who'])).stdout).toContain('Connections ---');
    expect(runs()).toBe(before + 3);
  });
});
