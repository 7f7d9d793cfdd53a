'use strict';
// Behaviour of one simulated Campaign module process. Loaded by the stubs <sim root>/procs/<module>.js,
// which the sim runs as `<root>/procs/nlserver <module> -tracefile:<module>@<inst> -instance:<inst> -detach`
// (procs/nlserver is a symlink to node), so /proc/<pid>/cmdline looks exactly like Campaign's.
//
// Every module: writes run/<task>.pid once its sockets are bound, appends a Campaign-format line to
// its log every logIntervalMs, re-reads control.json on every tick and request, exits on SIGTERM, and
// exits by itself when its parent (or the process that owns the sim) dies or the sim root is removed.

const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const net = require('node:net');
const dgram = require('node:dgram');
const crypto = require('node:crypto');
const lib = require('./sim-lib.cjs');

const TICK_MS = 200;
const WATCH_MS = 500;
const SYSLOG_TAG = 'CAMPAIGN-SIM-LOG';

const HEARTBEATS = {
  watchdog: (n) => `Watchdog: checking the state of the ${n} supervised tasks`,
  syslogd: (n) => `Log server: ${n} datagrams received`,
  web: () => 'Web server: 0 active sessions, 0 pending requests',
  trackinglogd: (n) => `Tracking log server: ${n} lines written`,
  mta: () => 'No delivery to process (dataBasePoolPeriodSec=30)',
  mtachild: () => 'Child process waiting for messages to send',
  wfserver: () => 'Checking the workflows to be executed',
  inMail: () => 'Reading the bounce mailbox: 0 messages processed',
  stat: () => 'Statistics server: 0 MX domains, 0 open connections',
};

function main({ module, root }) {
  const argv = process.argv.slice(2);
  const instanceArg = argv.find((arg) => arg.startsWith('-instance:'));
  const instance = module === 'watchdog' ? 'default' : instanceArg ? instanceArg.slice('-instance:'.length) : 'default';
  const task = lib.taskName(module, instance);
  const p = lib.paths(root);
  const sim = lib.readSim(root);
  const detached = process.env.CAMPAIGN_SIM_DETACHED === '1';
  const initialPpid = process.ppid;
  const logPath = lib.logFile(root, module, instance);
  const cleanups = [];
  let stopping = false;
  let counter = 0;
  let logSocket;

  function log(level, message) {
    try {
      const control = lib.readControl(root);
      if (control.silentModules.includes(task)) return;
      if (level === 'info' && control.errorModules.includes(task)) level = 'error';
      const line = lib.formatLogLine(level, message);
      if (control.logVia === 'syslogd' && module !== 'syslogd') {
        // As in Campaign: the line goes to syslogd over UDP (TRACE_ADDR); lost if nobody listens there.
        if (!logSocket) {
          logSocket = dgram.createSocket('udp4');
          logSocket.on('error', () => {});
          logSocket.unref();
        }
        const rel = path.relative(p.varDir, logPath);
        logSocket.send(`${SYSLOG_TAG}\t${rel}\t${line}`, sim.ports.syslog, '127.0.0.1', () => {});
      } else {
        appendLine(logPath, line);
      }
    } catch {
      // the sim root may be going away
    }
  }

  function writePidFile() {
    fs.mkdirSync(p.runDir, { recursive: true });
    const file = lib.pidFile(root, module, instance);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${process.pid}\n`);
    fs.renameSync(tmp, file);
  }

  function removePidFile() {
    const file = lib.pidFile(root, module, instance);
    try {
      if (Number.parseInt(fs.readFileSync(file, 'utf8'), 10) === process.pid) fs.unlinkSync(file);
    } catch {
      // already gone
    }
  }

  function shutdown(reason, code = 0) {
    if (stopping) return;
    stopping = true;
    for (const cleanup of cleanups) {
      try {
        cleanup();
      } catch {
        // best effort
      }
    }
    if (module !== 'mtachild') removePidFile();
    if (fs.existsSync(p.simFile)) log('info', `Stopping '${task}' (${reason})`);
    process.exit(code);
  }

  function ownerAlive() {
    try {
      process.kill(sim.ownerPid, 0);
      return true;
    } catch (error) {
      return error.code === 'EPERM';
    }
  }

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => shutdown(signal));
  setInterval(() => {
    if (!detached && process.ppid !== initialPpid) shutdown('parent process died');
    else if (!ownerAlive()) shutdown('the process owning the simulation died');
    else if (!fs.existsSync(p.simFile)) shutdown('simulation removed');
  }, WATCH_MS);

  const setups = {
    web: () => startWeb(root, sim, log, cleanups),
    syslogd: () => startSyslogd(root, sim, log, cleanups, () => counter++),
    stat: () => startStat(sim, instance, cleanups),
    trackinglogd: () => startTrackinglogd(root, sim, log, () => counter++),
    mta: () => startMta(root, instance, cleanups),
  };
  Promise.resolve()
    .then(() => (setups[module] ? setups[module]() : undefined))
    .then(() => {
      if (module !== 'mtachild') writePidFile();
      log('info', `Start of '${task}' (pid=${process.pid})`);
      const heartbeat = HEARTBEATS[module] ?? (() => 'Running');
      setInterval(() => {
        if (module === 'watchdog') counter = lib.liveTasks(root).length;
        log('info', heartbeat(counter));
      }, sim.logIntervalMs);
    })
    .catch((error) => {
      process.stderr.write(`${task}: start failed: ${error && error.stack ? error.stack : error}\n`);
      log('error', `Unable to start '${task}': ${error && error.message ? error.message : error} (iRc=-1)`);
      shutdown('start failed', 1);
    });
}

function appendLine(file, line) {
  try {
    fs.appendFileSync(file, `${line}\n`);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, `${line}\n`);
  }
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function bindUdp(port) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind(port, '127.0.0.1', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------- web

async function startWeb(root, sim, log, cleanups) {
  const server = http.createServer((req, res) => {
    handleHttp(root, req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  // Every connection to the web's ports is counted (run/web-connections.log), so a test can prove the
  // agent did not probe them.
  const countConnection = (port) => () => {
    try {
      fs.appendFileSync(path.join(lib.paths(root).runDir, 'web-connections.log'), `${port}\n`);
    } catch {
      // the sim root may be going away
    }
  };
  server.on('connection', countConnection(sim.ports.http));
  await listen(server, sim.ports.http);
  // Tomcat's shutdown port: accepts and closes, never answers anything. Control can close it while
  // the process lives on ("port closed").
  let shutdownPort;
  let busy = false;
  const syncShutdownPort = async () => {
    if (busy) return;
    busy = true;
    try {
      const wanted = lib.readControl(root).tomcatControlPort !== 'closed';
      if (wanted && !shutdownPort) {
        shutdownPort = net.createServer((socket) => {
          countConnection(sim.ports.control)();
          socket.destroy();
        });
        await listen(shutdownPort, sim.ports.control);
      } else if (!wanted && shutdownPort) {
        await new Promise((resolve) => shutdownPort.close(resolve));
        shutdownPort = undefined;
      }
    } finally {
      busy = false;
    }
  };
  await syncShutdownPort();
  const timer = setInterval(() => void syncShutdownPort().catch(() => {}), 100);
  cleanups.push(() => {
    clearInterval(timer);
    server.closeAllConnections();
    server.close();
    shutdownPort?.close();
  });
  log('info', 'Tomcat started');
  log('info', 'Server started');
}

async function handleHttp(root, req, res) {
  const control = lib.readControl(root);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const body = await readBody(req);
  if (control.httpDelayMs > 0) await sleep(control.httpDelayMs);
  if (url.pathname === '/r/test' && (req.method === 'GET' || req.method === 'HEAD')) return rTest(control.rTest, req, res);
  if (url.pathname === '/nl/jsp/soaprouter.jsp') {
    if (req.method !== 'POST') return send(res, 405, 'text/html;charset=utf-8', tomcatError(405, 'Method Not Allowed'));
    return soap(control, req, body, res);
  }
  if (url.pathname === '/nl/jsp/logon.jsp' && req.method === 'GET') return send(res, 200, 'text/html;charset=utf-8', LOGON_PAGE);
  if (url.pathname === '/nl/jsp/ping.jsp' && req.method === 'GET') return ping(control.ping, res);
  return send(res, 404, 'text/html;charset=utf-8', tomcatError(404, 'Not Found'));
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= 1024 * 1024) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function send(res, status, contentType, text) {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const xmlAttr = (value) => String(value).replace(/[^A-Za-z0-9.:_-]/g, '');
const two = (n) => String(n).padStart(2, '0');

function rTest(variant, req, res) {
  if (variant === 'hang') return; // never answers
  const now = new Date();
  const iso = now.toISOString(); // 2024-03-01T10:00:00.112Z
  const date = `${iso.slice(0, 10)} ${iso.slice(11)}`; // YYYY-MM-DD HH:MM:SS.112Z
  const host = xmlAttr(req.headers.host ?? 'localhost');
  const source = xmlAttr(req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const xml = 'text/xml;charset=utf-8';
  switch (variant) {
    case 'ok-double-quotes': {
      const slashed = `${now.getFullYear()}/${two(now.getMonth() + 1)}/${two(now.getDate())} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
      return send(res, 200, xml, `<redir status="OK" date="${slashed}" build="9356" host="${host}" localHost="sim-host"/>\n`);
    }
    case 'ok-minimal':
      return send(res, 200, xml, `<redir status='OK' date='${date}' sourceIP='${source}'/>\n`);
    case 'ko':
      return send(res, 200, xml, `<redir status='KO' date='${date}' build='9356' host='${host}' localHost='sim-host'/>\n`);
    case 'http500':
      return send(res, 500, 'text/html;charset=utf-8', tomcatError(500, 'Internal Server Error'));
    case 'html':
      return send(res, 200, 'text/html;charset=utf-8', '<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n');
    case 'ok':
    default:
      return send(res, 200, xml, `<redir status='OK' date='${date}' build='9356' host='${host}' localHost='sim-host'/>\n`);
  }
}

function ping(variant, res) {
  if (variant === 'hang') return;
  const stamp = new Date().toISOString().replace('T', ' ');
  if (variant === 'error') return send(res, 200, 'text/plain;charset=utf-8', `Error\nPGS-220000 PostgreSQL error: could not connect to server (simulated)\n`);
  if (variant === 'http500') return send(res, 500, 'text/html;charset=utf-8', tomcatError(500, 'Internal Server Error'));
  return send(res, 200, 'text/plain;charset=utf-8', `Ok\n${stamp}\n`);
}

const ENVELOPE_OPEN =
  "<?xml version='1.0'?>\n" +
  "<SOAP-ENV:Envelope xmlns:xsd='http://www.w3.org/2001/XMLSchema' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'" +
  " xmlns:ns='urn:xtk:queryDef' xmlns:SOAP-ENV='http://schemas.xmlsoap.org/soap/envelope/'>\n<SOAP-ENV:Body>\n";
const ENVELOPE_CLOSE = '</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n';

/** `xtk:queryDef#ExecuteQuery` from the SOAPAction header, else from the first element of the Body. */
function soapAction(req, body) {
  const header = String(req.headers.soapaction ?? '').replace(/"/g, '').trim();
  const match = /^([A-Za-z]+:[A-Za-z]+)#([A-Za-z]+)$/.exec(header);
  if (match) return { service: match[1], method: match[2] };
  const element = /<(?:[A-Za-z0-9_-]+:)?Body[^>]*>\s*<(?:([A-Za-z0-9_-]+):)?([A-Za-z]+)[\s>]/.exec(body);
  const urn = element && element[1] ? new RegExp(`xmlns:${element[1]}=["']urn:([^"']+)["']`).exec(body) : null;
  return { service: urn ? urn[1] : 'xtk:session', method: element ? element[2] : 'Unknown' };
}

function soap(control, req, body, res) {
  const variant = control.soap;
  if (variant === 'hang') return;
  const { service, method } = soapAction(req, body);
  const xml = 'text/xml;charset=utf-8';
  if (variant === 'html') return send(res, 500, 'text/html;charset=utf-8', tomcatError(500, 'Internal Server Error'));
  if (variant === 'garbage') return send(res, 200, 'text/plain', `${crypto.randomBytes(24).toString('base64')} <<< not xml >>> ${Date.now()}\n`);
  // A recorded answer for this method (a database Fault, a refused Logon...), sent as is with HTTP 500.
  const canned = control.soapFaults && control.soapFaults[method];
  if (typeof canned === 'string') return send(res, 500, xml, canned);
  if (variant !== 'envelope') return send(res, 500, xml, soapFault('SOAP-ENV:Client', SESSION_INVALID, service, method));
  if (control.soapOperator) {
    const refusal = method === 'Logon' ? checkLogon(control.soapOperator, body) : checkSession(control, req, body);
    if (refusal) return send(res, 500, xml, soapFault(refusal.code, refusal.text, service, method));
  }
  let answer;
  try {
    answer = soapResponse(control, service, method, body);
  } catch (error) {
    if (!(error instanceof UnsupportedQuery)) throw error;
    return send(res, 500, xml, soapFault('SOAP-ENV:Server', error.message, service, method));
  }
  return send(res, 200, xml, ENVELOPE_OPEN + answer + ENVELOPE_CLOSE);
}

const SESSION_INVALID = 'XSV-350008 Session has expired or is invalid. Please reconnect.';

function soapFault(code, text, service, method) {
  return (
    ENVELOPE_OPEN +
    `<SOAP-ENV:Fault>\n<faultcode>${code}</faultcode>\n` +
    `<faultstring xsi:type="xsd:string">${xmlEscape(text)}</faultstring>\n` +
    `<detail xsi:type="xsd:string">Error while executing the method '${method}' of service '${service}'.</detail>\n` +
    '</SOAP-ENV:Fault>\n' +
    ENVELOPE_CLOSE
  );
}

// Sessions issued by Logon when control.soapOperator is set. One web process serves every request,
// so its memory is the session store, as Tomcat's would be: restarting web forgets them.
const sessions = new Map(); // session token -> { security, issuedAt, epoch }
const MAX_SESSIONS = 1000;

/** Text of the first element with this local name, entities decoded; undefined when absent. */
function elementText(body, local) {
  const match = new RegExp(`<(?:[A-Za-z0-9_-]+:)?${local}(?:\\s[^>]*)?(?:/>|>([^<]*)</(?:[A-Za-z0-9_-]+:)?${local}>)`).exec(body);
  return match ? xmlUnescape(match[1] ?? '') : undefined;
}

const xmlUnescape = (text) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_m, code) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/g, '&');

// Not quoted from Adobe: the text of Campaign's wrong-credentials fault is not documented in the facts.
function checkLogon(operator, body) {
  const login = elementText(body, 'strLogin') ?? '';
  const password = elementText(body, 'strPassword') ?? '';
  if (login === operator.login && password === operator.password) return undefined;
  return { code: 'SOAP-ENV:Client', text: `XSV-350022 Unable to log on as '${login}': incorrect login or password.` };
}

/** The session comes from the __sessiontoken cookie (then X-Security-Token must match) or the first parameter. */
function checkSession(control, req, body) {
  const cookie = /(?:^|;\s*)__sessiontoken=([^;]+)/.exec(String(req.headers.cookie ?? ''));
  const parameter = elementText(body, '(?:__)?sessiontoken');
  const token = cookie ? cookie[1].trim() : (parameter ?? '').trim();
  const session = sessions.get(token);
  const expired =
    !session ||
    session.epoch !== Number(control.soapExpireSessions ?? 0) ||
    (control.soapSessionTtlMs !== undefined && Date.now() - session.issuedAt >= control.soapSessionTtlMs) ||
    (cookie && req.headers['x-security-token'] !== session.security);
  if (!expired) return undefined;
  if (session) sessions.delete(token);
  return { code: 'SOAP-ENV:Client', text: SESSION_INVALID };
}

function issueSession(control) {
  const session = `___${crypto.randomUUID()}`;
  const security = `@${crypto.randomBytes(32).toString('base64url')}==`;
  if (control.soapOperator) {
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value);
    sessions.set(session, { security, issuedAt: Date.now(), epoch: Number(control.soapExpireSessions ?? 0) });
  }
  return { session, security };
}

class UnsupportedQuery extends Error {}

/**
 * The `<condition expr>` of the queryDef, AND-ed: only `@field = 'text'` and `@field = number` are
 * understood; anything else is a Fault, so a test never passes on a condition the sim ignored.
 */
function whereFilter(body) {
  const tests = [];
  const conditions = /<(?:[A-Za-z0-9_-]+:)?condition\b[^>]*?\bexpr=(?:"([^"]*)"|'([^']*)')/g;
  for (let match; (match = conditions.exec(body)); ) {
    const expr = xmlUnescape(match[1] ?? match[2] ?? '');
    const parsed = /^\s*@([A-Za-z][A-Za-z0-9_]*)\s*=\s*(?:'([^']*)'|(-?\d+(?:\.\d+)?))\s*$/.exec(expr);
    if (!parsed) throw new UnsupportedQuery(`Simulated host: unsupported where condition "${expr}" (only @field = 'text' or @field = number).`);
    const [, field, text, number] = parsed;
    tests.push((row) => (text !== undefined ? String(row[field] ?? '') === text : Number(row[field]) === Number(number)));
  }
  return (row) => tests.every((test) => test(row));
}

/** Fields selected with `<node expr="@field"/>`; undefined (all attributes) when the query selects none. */
function selectedFields(body) {
  const select = /<(?:[A-Za-z0-9_-]+:)?select\b[^>]*>([\s\S]*?)<\/(?:[A-Za-z0-9_-]+:)?select>/.exec(body);
  if (!select) return undefined;
  const fields = [];
  for (const match of select[1].matchAll(/\bexpr=(?:"@([A-Za-z0-9_]+)"|'@([A-Za-z0-9_]+)')/g)) fields.push(match[1] ?? match[2]);
  return fields;
}

function soapResponse(control, service, method, body) {
  const open = `<${method}Response xmlns='urn:${service}' SOAP-ENV:encodingStyle='http://schemas.xmlsoap.org/soap/encoding/'>`;
  const close = `</${method}Response>\n`;
  if (method === 'Logon') {
    const { session, security } = issueSession(control);
    const login = xmlEscape(elementText(body, 'strLogin') || 'monitoring');
    return (
      `${open}<pstrSessionToken xsi:type='xsd:string'>${session}</pstrSessionToken>` +
      "<pSessionInfo xsi:type='ns:Element'><sessionInfo><serverInfo buildNumber='9356' majNumber='7' minNumber='3'" +
      ` instanceName='sim'/><userInfo login="${login}" loginId='1234' timezone='UTC'/></sessionInfo></pSessionInfo>` +
      `<pstrSecurityToken xsi:type='xsd:string'>${security}</pstrSecurityToken>${close}`
    );
  }
  if (method === 'ExecuteQuery') {
    const schema = /schema=["']([A-Za-z]+):([A-Za-z]+)["']/.exec(body);
    const name = schema ? schema[2] : 'workflow';
    const rows = (name === 'workflow' ? control.soapWorkflows : []).filter(whereFilter(body));
    if (/operation=["']count["']/.test(body)) {
      return `${open}<pdomOutput xsi:type='ns:Element'><${name} count="${rows.length}"/></pdomOutput>${close}`;
    }
    const fields = selectedFields(body);
    const items = rows
      .map((row) => {
        const entries = Object.entries(row).filter(([k]) => !fields || fields.includes(k));
        return `<${name} ${entries.map(([k, v]) => `${xmlAttr(k)}="${xmlEscape(v)}"`).join(' ')}/>`;
      })
      .join('');
    return `${open}<pdomOutput xsi:type='ns:Element'><${name}-collection>${items}</${name}-collection></pdomOutput>${close}`;
  }
  return `${open}${close}`;
}

const xmlEscape = (value) =>
  String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function tomcatError(status, reason) {
  return (
    `<!doctype html><html lang="en"><head><title>HTTP Status ${status} – ${reason}</title></head>` +
    `<body><h1>HTTP Status ${status} – ${reason}</h1><hr class="line" /><p><b>Type</b> Status Report</p>` +
    `<p><b>Description</b> The server encountered an error.</p><hr class="line" /><h3>Apache Tomcat/10.1.24</h3></body></html>\n`
  );
}

const LOGON_PAGE =
  '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Adobe Campaign</title></head>\n' +
  '<body><form method="post" action="/nl/jsp/logon.jsp"><input name="login"/><input name="password" type="password"/>' +
  '<button type="submit">Log in</button></form></body></html>\n';

// ------------------------------------------------------------------------------------------ syslogd

async function startSyslogd(root, sim, log, cleanups, received) {
  const p = lib.paths(root);
  let socket;
  let boundPort;
  let busy = false;
  const desired = () => lib.readControl(root).syslogdBindPort ?? sim.ports.syslog;
  const onMessage = (message, rinfo) => {
    received();
    const text = message.toString('utf8');
    if (text.startsWith(`${SYSLOG_TAG}\t`)) {
      const [, rel, ...rest] = text.split('\t');
      const target = path.resolve(p.varDir, rel);
      if (target.startsWith(`${p.varDir}/`) && target.endsWith('.log')) {
        try {
          appendLine(target, rest.join('\t'));
        } catch {
          // ignore
        }
        return;
      }
    }
    log('info', `Received ${message.length} bytes from ${rinfo.address}:${rinfo.port}`);
  };
  const bind = async (port) => {
    socket = await bindUdp(port);
    socket.on('message', onMessage);
    boundPort = port;
  };
  await bind(desired());
  const timer = setInterval(async () => {
    const port = desired();
    if (busy || port === boundPort) return;
    busy = true;
    try {
      if (socket) socket.close();
      socket = undefined;
      boundPort = undefined;
      await bind(port);
      log('info', `Log server now listening on UDP port ${port}`);
    } catch (error) {
      log('error', `Unable to bind UDP port ${port}: ${error.message} (iRc=-53)`);
    } finally {
      busy = false;
    }
  }, TICK_MS);
  cleanups.push(() => {
    clearInterval(timer);
    if (socket) socket.close();
  });
}

// --------------------------------------------------------------------------------------------- stat

async function startStat(sim, instance, cleanups) {
  const port = sim.statPorts[instance];
  if (!port) throw new Error(`no stat port configured for instance ${instance}`);
  const socket = await bindUdp(port);
  socket.on('message', () => {});
  cleanups.push(() => socket.close());
}

// ------------------------------------------------------------------------------------- trackinglogd

function startTrackinglogd(root, sim, log, written) {
  const p = lib.paths(root);
  const state = new Map(); // dir -> {name, count}
  setInterval(() => {
    if (lib.readControl(root).tracking !== 'grow') return;
    for (const instance of sim.trackingInstances) {
      const dir = path.join(p.varDir, instance, 'redir', 'log');
      try {
        appendTrackingLine(dir, state);
        written();
      } catch (error) {
        if (error.code !== 'ENOENT') log('error', `Unable to write tracking logs in ${dir}: ${error.message}`);
      }
    }
  }, sim.trackingIntervalMs);
}

const IDS_PER_FILE = 0x1000n;

function appendTrackingLine(dir, state) {
  if (!fs.existsSync(dir)) return;
  const files = lib.trackingFiles(dir);
  let newest = files[files.length - 1];
  if (!newest) {
    newest = { name: lib.trackingFileName(IDS_PER_FILE), id: IDS_PER_FILE };
    fs.writeFileSync(path.join(dir, newest.name), '', { flag: 'a' });
  }
  let current = state.get(dir);
  if (!current || current.name !== newest.name) {
    const text = fs.readFileSync(path.join(dir, newest.name), 'utf8');
    current = { name: newest.name, id: newest.id, count: text.split('\n').length - 1 };
    state.set(dir, current);
  }
  if (BigInt(current.count) >= IDS_PER_FILE) {
    const id = current.id + IDS_PER_FILE;
    current = { name: lib.trackingFileName(id), id, count: 0 };
    state.set(dir, current);
  }
  const lineId = `0x${(current.id + BigInt(current.count)).toString(16).toUpperCase().padStart(16, '0')}`;
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 22); // 2017-06-24T21:00:50.96
  const hex = () => crypto.randomBytes(4).toString('hex');
  const fields = [
    `5${lineId}`,
    local,
    hex(),
    hex(),
    hex(),
    '0',
    crypto.randomUUID(),
    'h',
    'https://www.example.com/landing?utm_source=sim',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    '127.0.0.1',
  ];
  fs.appendFileSync(path.join(dir, current.name), `${fields.join('\t')}\n`);
  current.count += 1;
}

// ---------------------------------------------------------------------------------------------- mta

function startMta(root, instance, cleanups) {
  const children = new Set();
  const timer = setInterval(() => {
    const wanted = Math.max(0, Math.min(20, Math.floor(Number(lib.readControl(root).mtaChildren) || 0)));
    while (children.size < wanted) {
      const child = lib.spawnModule(root, 'mtachild', instance);
      children.add(child);
      child.on('exit', () => children.delete(child));
    }
    const extra = [...children].slice(wanted);
    for (const child of extra) {
      children.delete(child);
      child.kill('SIGTERM');
    }
  }, TICK_MS);
  cleanups.push(() => {
    clearInterval(timer);
    for (const child of children) child.kill('SIGTERM');
  });
}

module.exports = { main };
