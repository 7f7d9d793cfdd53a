import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { startDovecot } from '../sim/dovecot.js';
import { SimulatedHost } from '../sim/host.js';
import { FaultDaemon, findCheck, findRow, type FullStatusDoc } from './faultDaemon.js';
import { runCli } from './helpers.js';

// Secrets (the SOAP operator password, Campaign's session and security tokens, the POP3 password,
// the database passwords in Campaign's conf files) come from files only and must never show in
// /status, /, /metrics, the CLI outputs or the daemon's log, whatever fails: wrong passwords, expired
// sessions, and answers that quote them back (a misbehaving proxy in front of Campaign, a chatty
// POP3 server). A recording proxy sits between the agent and the simulated SOAP router: it knows
// every token the agent was given, and can answer with Faults or documents quoting the request.
const INSTANCE = 'faultsecrets';
const SOAP_PASSWORD = 'Soap-Faults-Secret-4417';
const WRONG_SOAP = 'Wrong-Soap-Secret-1180';
const POP3_PASSWORD = 'Pop3-Faults-Secret-9023';
const WRONG_POP3 = 'Wrong-Pop3-Secret-3371';
const DB_SECRET = 'SIMSECRET';
/** Any Campaign session token, ours or not. */
const SESSION_TOKEN = /___[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const TRACKING = { internalName: 'tracking', label: 'Tracking', state: 0, failed: 0, lastStart: new Date().toISOString() };

type LogonMode = 'pass' | 'echo-fault' | 'echo-root';
type QueryMode = 'pass' | 'echo-fault';

/** Forwards SOAP calls to the simulated web module, keeping every token it hands out. */
class RecordingProxy {
  readonly tokens = new Set<string>();
  logonMode: LogonMode = 'pass';
  queryMode: QueryMode = 'pass';
  logons = 0;
  private server?: http.Server;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}/nl/jsp/soaprouter.jsp`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const action = String(request.headers.soapaction ?? '');
    const password = /<urn:strPassword>([^<]*)</.exec(body)?.[1] ?? '';
    const session = /__sessiontoken=([^;]+)/.exec(String(request.headers.cookie ?? ''))?.[1] ?? '';
    const security = String(request.headers['x-security-token'] ?? '');
    const send = (status: number, type: string, text: string) => {
      response.writeHead(status, { 'content-type': type });
      response.end(text);
    };
    if (action.endsWith('#Logon')) {
      this.logons += 1;
      if (this.logonMode === 'echo-fault') return send(500, 'text/xml', fault(`XSV-350022 Unable to log on as 'monitoring' with password '${password}' (session ___0d5f6a3e-1c2b-4a5d-9e8f-7a6b5c4d3e2f)`));
      // Not SOAP, and the root element is the password it was sent: quoted as "root element is <...>".
      if (this.logonMode === 'echo-root') return send(200, 'text/xml', `<?xml version="1.0"?><${password} request="${password}"/>`);
    } else if (this.queryMode === 'echo-fault') {
      return send(500, 'text/xml', fault(`XSV-350001 query refused for ${session} with ${security}`));
    }
    const answer = await fetch(this.target, {
      method: 'POST',
      headers: {
        'content-type': String(request.headers['content-type'] ?? 'text/xml'),
        soapaction: action,
        ...(request.headers.cookie ? { cookie: String(request.headers.cookie) } : {}),
        ...(security ? { 'x-security-token': security } : {}),
      },
      body,
    });
    const text = await answer.text();
    for (const name of ['pstrSessionToken', 'pstrSecurityToken']) {
      const token = new RegExp(`<${name}[^>]*>([^<]+)</${name}>`).exec(text)?.[1];
      if (token) this.tokens.add(token);
    }
    send(answer.status, answer.headers.get('content-type') ?? 'text/xml', text);
  }
}

function fault(text: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>' +
    `<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>${text}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`
  );
}

/** A POP3 server that quotes whatever it is sent back in its -ERR answers. */
async function startEchoPop3(): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.write('+OK echo POP3 ready\r\n');
    let buffer = '';
    socket.on('data', (data) => {
      buffer += data.toString();
      for (let index = buffer.indexOf('\r\n'); index >= 0; index = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        if (line.startsWith('USER ')) socket.write('+OK\r\n');
        else if (line.startsWith('PASS ')) socket.write(`-ERR [AUTH] no such password: ${line.slice(5)} (you sent "${line}")\r\n`);
        else socket.end('+OK bye\r\n');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let sim: SimulatedHost;
let dovecot: Awaited<ReturnType<typeof startDovecot>>;
let echoPop3: Awaited<ReturnType<typeof startEchoPop3>>;
let proxy: RecordingProxy;
let daemon: FaultDaemon;
let configFile: string;
let soapPasswordFile: string;
let pop3PasswordFile: string;
/** Everything the agent said, to be searched at the end. */
const outputs: { where: string; text: string }[] = [];

async function collect(label: string): Promise<void> {
  for (const pathname of ['/status', '/status?format=text', '/', '/metrics']) {
    outputs.push({ where: `${label} GET ${pathname}`, text: (await daemon.get(pathname)).body });
  }
}

async function collectCli(label: string, file = configFile): Promise<void> {
  // The four runs side by side (each only reads the state the step set up); outputs in a fixed order.
  const runs = await Promise.all([
    ...['json', 'text', 'nagios'].map(async (format) => {
      const result = await runCli(['check', '--config', file, '--format', format]);
      return { where: `${label} check --format ${format}`, text: `${result.stdout}\n${result.stderr}` };
    }),
    runCli(['config', 'check', '--config', file]).then((config) => ({ where: `${label} config check`, text: `${config.stdout}\n${config.stderr}` })),
  ]);
  outputs.push(...runs);
}

const deep = (doc: FullStatusDoc) => findCheck(doc, 'wfserver', 'workflows_in_error', INSTANCE);

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: [INSTANCE], trackingIntervalMs: 200 });
  await sim.setControl({ soap: 'envelope', soapOperator: { login: 'monitoring', password: SOAP_PASSWORD }, soapWorkflows: [TRACKING] });
  dovecot = await startDovecot({ users: [{ user: 'bounces', password: POP3_PASSWORD }], messages: { bounces: 1 } });
  echoPop3 = await startEchoPop3();
  proxy = new RecordingProxy(`http://127.0.0.1:${sim.ports.http}/nl/jsp/soaprouter.jsp`);
  await proxy.start();
  soapPasswordFile = path.join(sim.root, 'soap-password');
  pop3PasswordFile = path.join(sim.root, 'pop3-password');
  await writeFile(soapPasswordFile, `${SOAP_PASSWORD}\n`, { mode: 0o600 });
  await writeFile(pop3PasswordFile, `${POP3_PASSWORD}\n`, { mode: 0o600 });
  configFile = await sim.writeAgentConfig(
    {
      logLevel: 'debug',
      defaults: { schedule: '* * * * * *', timeout: '20s' },
      campaign: { soap: { login: 'monitoring', passwordFile: soapPasswordFile, url: proxy.url } },
      modules: {
        system: { enabled: false },
        inMail: { pop3: { host: dovecot.host, port: dovecot.port, user: 'bounces', passwordFile: pop3PasswordFile, backlogMaxAge: '1h' } },
      },
    },
    'secrets.yaml',
  );
  daemon = await FaultDaemon.start(configFile);
}, 120_000);

afterAll(async () => {
  if (daemon) expect(await daemon.stop()).toBe(0);
  await proxy?.stop();
  await echoPop3?.stop();
  await dovecot?.stop();
  await sim?.stop();
});

describe('secrets under failure', () => {
  test('wrong passwords, expired sessions and answers quoting them: no secret in any output', async () => {
    // Healthy: the agent logged on and holds a session.
    let doc = await daemon.statusWhen((status) => deep(status).state === 'ok' && findCheck(status, 'inMail', 'pop3_mailbox', INSTANCE).state === 'ok', 20_000);
    expect(proxy.tokens.size).toBeGreaterThanOrEqual(2);
    await collect('healthy');
    await collectCli('healthy');

    // Every session expires: renewed by a new logon.
    const logons = proxy.logons;
    await sim.setControl({ soapExpireSessions: 1 });
    doc = await daemon.statusWhen((status) => proxy.logons > logons && deep(status).state === 'ok', 20_000);
    await collect('session expired');

    // Our password file holds a wrong password: refused, naming the operator.
    await writeFile(soapPasswordFile, `${WRONG_SOAP}\n`);
    await sim.setControl({ soapExpireSessions: 2 });
    doc = await daemon.statusWhen((status) => deep(status).state === 'unknown', 20_000);
    expect(deep(doc).message).toMatch(/^SOAP logon refused for operator monitoring: XSV-350022 /);
    await collect('wrong SOAP password');
    await collectCli('wrong SOAP password');
    await writeFile(soapPasswordFile, `${SOAP_PASSWORD}\n`);

    // Logon refused with a Fault quoting the password and a token.
    proxy.logonMode = 'echo-fault';
    await sim.setControl({ soapExpireSessions: 3 });
    doc = await daemon.statusWhen((status) => deep(status).message.includes('with password'), 20_000);
    expect(deep(doc).message).toContain("with password '[redacted]' (session [redacted])");
    await collect('logon fault echoing the password');
    await collectCli('logon fault echoing the password');

    // Logon answered by a document that is not SOAP and whose root element is the password.
    proxy.logonMode = 'echo-root';
    doc = await daemon.statusWhen((status) => deep(status).message.includes('root element'), 20_000);
    expect(deep(doc).message).toContain('root element is <[redacted]>');
    await collect('logon answer echoing the password');
    await collectCli('logon answer echoing the password');

    // A valid session, then query Faults quoting the session and security tokens.
    proxy.logonMode = 'pass';
    await daemon.statusWhen((status) => deep(status).state === 'ok', 20_000);
    proxy.queryMode = 'echo-fault';
    doc = await daemon.statusWhen((status) => deep(status).message.includes('query refused'), 20_000);
    expect(deep(doc).message).toContain('query refused for [redacted] with [redacted]');
    await collect('query fault echoing the tokens');
    await collectCli('query fault echoing the tokens');
    proxy.queryMode = 'pass';

    // The POP3 password file holds a wrong password: the login is refused, unknown.
    await writeFile(pop3PasswordFile, `${WRONG_POP3}\n`);
    doc = await daemon.statusWhen((status) => findCheck(status, 'inMail', 'pop3_mailbox', INSTANCE).state === 'unknown', 20_000);
    expect(findCheck(doc, 'inMail', 'pop3_mailbox', INSTANCE).message).toMatch(/^POP3 login refused for user bounces at 127\.0\.0\.1:\d+: /);
    await collect('wrong POP3 password');
    await collectCli('wrong POP3 password');
    await writeFile(pop3PasswordFile, `${POP3_PASSWORD}\n`);

    // A POP3 server quoting the password back, in a one-shot check.
    const echoConfig = await sim.writeAgentConfig(
      {
        campaign: { soap: { login: 'monitoring', passwordFile: soapPasswordFile, url: proxy.url } },
        modules: { system: { enabled: false }, inMail: { pop3: { host: '127.0.0.1', port: echoPop3.port, user: 'bounces', passwordFile: pop3PasswordFile } } },
      },
      'echo-pop3.yaml',
    );
    const echoed = await runCli(['check', '--config', echoConfig, '--format', 'json', '--module', 'inMail']);
    expect(echoed.stdout).toContain('no such password: <password>');
    await collectCli('POP3 server echoing the password', echoConfig);

    await daemon.statusWhen((status) => findRow(status, 'inMail', INSTANCE).state === 'ok' && deep(status).state === 'ok', 20_000);
    await collect('recovered');
    outputs.push({ where: 'daemon stderr (logLevel debug)', text: daemon.output() });

    // The search: the secrets, every token the agent was given, anything shaped like a session token.
    const secrets = [SOAP_PASSWORD, WRONG_SOAP, POP3_PASSWORD, WRONG_POP3, DB_SECRET, ...proxy.tokens];
    expect(proxy.tokens.size).toBeGreaterThanOrEqual(6);
    const leaks: string[] = [];
    for (const { where, text } of outputs) {
      for (const secret of secrets) if (text.includes(secret)) leaks.push(`${where}: ${secret}`);
      const token = SESSION_TOKEN.exec(text);
      if (token) leaks.push(`${where}: session token ${token[0]}`);
    }
    expect(leaks).toEqual([]);
    // The search looked at real outputs: at debug level the daemon logged every failing row's detail.
    const log = outputs.find((output) => output.where.startsWith('daemon stderr'))!.text;
    for (const said of ['SOAP logon refused for operator monitoring', "with password '[redacted]'", 'root element is <[redacted]>', 'query refused for [redacted]', 'POP3 login refused for user bounces']) {
      expect(log).toContain(said);
    }
    expect(outputs.length).toBeGreaterThan(40);
  }, 300_000);
});
