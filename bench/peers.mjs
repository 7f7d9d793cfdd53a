// The tools an operator would otherwise run, doing the agent's work on the same simulated host:
// Debian's prometheus-blackbox-exporter (the TCP and HTTP checks, one /probe request each, as
// Prometheus would send them) and prometheus-process-exporter (one /metrics scrape per cycle, which
// makes it scan the process table). Used by bench/bench.mjs.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { httpStatus, sleep } from './lib.mjs';

export const PEERS = [
  { name: 'blackbox_exporter', binary: '/usr/bin/prometheus-blackbox-exporter', debian: 'prometheus-blackbox-exporter' },
  { name: 'process-exporter', binary: '/usr/bin/prometheus-process-exporter', debian: 'prometheus-process-exporter' },
];

// What web's soap check sends (probes/web.ts): an anonymous query that Campaign answers with a fault.
const SOAP_BODY =
  '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:xtk:queryDef"><soapenv:Header/><soapenv:Body><urn:ExecuteQuery><urn:sessiontoken></urn:sessiontoken><urn:entity><queryDef schema="xtk:workflow" operation="count"/></urn:entity></urn:ExecuteQuery></soapenv:Body></soapenv:Envelope>';

const BLACKBOX_CONFIG = `modules:
  tcp_connect:
    prober: tcp
    timeout: 5s
  r_test:
    prober: http
    timeout: 5s
    http:
      method: GET
      valid_status_codes: [200]
      no_follow_redirects: true
      fail_if_body_not_matches_regexp: ['<redir status=.OK.']
      preferred_ip_protocol: ip4
  soap:
    prober: http
    timeout: 5s
    http:
      method: POST
      valid_status_codes: [200, 500]
      headers:
        Content-Type: text/xml; charset=utf-8
        SOAPAction: xtk:queryDef#ExecuteQuery
      body: '${SOAP_BODY}'
      fail_if_body_not_matches_regexp: ['Envelope']
      preferred_ip_protocol: ip4
`;

// One group per nlserver module and instance, named as the agent names its rows.
const PROCESS_EXPORTER_CONFIG = `process_names:
  - name: "{{.Matches.module}}@{{.Matches.instance}}"
    cmdline:
      - 'nlserver (?P<module>[A-Za-z]+) .*-instance:(?P<instance>[A-Za-z0-9_-]+)'
  - name: "{{.Matches.module}}"
    cmdline:
      - 'nlserver (?P<module>[A-Za-z]+)'
`;

/** The agent's TCP and HTTP checks of this plan, as blackbox_exporter probes. */
export function blackboxTargets(info, plan) {
  const base = `http://127.0.0.1:${info.ports.http}`;
  const targets = [];
  for (const row of plan) {
    for (const check of row.checks) {
      if (check === 'http_port') targets.push({ module: 'tcp_connect', target: `127.0.0.1:${info.ports.http}` });
      else if (check === 'control_port') targets.push({ module: 'tcp_connect', target: `127.0.0.1:${info.ports.control}` });
      else if (check === 'r_test') targets.push({ module: 'r_test', target: `${base}/r/test` });
      else if (check === 'soap') targets.push({ module: 'soap', target: `${base}/nl/jsp/soaprouter.jsp` });
    }
  }
  return targets;
}

/** Starts one peer on a free loopback port; `{ unavailable }` says why it cannot run here. */
export async function startPeer(peer, dir, info, plan, track) {
  if (!existsSync(peer.binary)) return { unavailable: `${peer.binary} not found: apt-get install ${peer.debian}` };
  const port = await freeTcpPort();
  let args;
  let requests;
  let does;
  if (peer.name === 'blackbox_exporter') {
    const config = path.join(dir, 'blackbox.yml');
    writeFileSync(config, BLACKBOX_CONFIG);
    args = [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
    const targets = blackboxTargets(info, plan);
    requests = targets.map(({ module, target }) => `http://127.0.0.1:${port}/probe?module=${module}&target=${encodeURIComponent(target)}`);
    does = `${targets.length} probes per cycle (${targets.map((target) => target.module).join(', ')})`;
  } else {
    const config = path.join(dir, 'process-exporter.yml');
    writeFileSync(config, PROCESS_EXPORTER_CONFIG);
    args = [`-config.path=${config}`, `-web.listen-address=127.0.0.1:${port}`];
    requests = [`http://127.0.0.1:${port}/metrics`];
    does = 'one /metrics scrape per cycle: a scan of the whole process table, grouped by nlserver module@instance';
  }
  const child = track(spawn(peer.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
  const up = await waitUntil(async () => (await httpStatus(`http://127.0.0.1:${port}/metrics`)) === 200, 15_000);
  if (!up) {
    child.kill('SIGKILL');
    return { unavailable: `${peer.binary} did not answer on 127.0.0.1:${port} within 15 s: ${stderr.trim().slice(-300) || 'no output'}` };
  }
  return {
    pid: child.pid,
    port,
    does,
    requestsPerCycle: requests.length,
    version: versionOf(peer.binary),
    /** One cycle: every request at once, as Prometheus scrapes; resolves with the count of failures. */
    async cycle() {
      const answers = await Promise.all(requests.map((url) => body(url)));
      // A probe that ran but failed still answers 200, with probe_success 0.
      return answers.filter((text) => text === undefined || (peer.name === 'blackbox_exporter' && !/^probe_success 1$/m.test(text))).length;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
    },
  };
}

function versionOf(binary) {
  try {
    const text = execFileSync(binary, [binary.includes('process') ? '-version' : '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return text.split('\n')[0].trim();
  } catch (error) {
    return String(error.stdout ?? error.stderr ?? '').split('\n')[0].trim();
  }
}

async function body(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    return response.status === 200 ? text : undefined;
  } catch {
    return undefined;
  }
}

async function waitUntil(condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(50);
  }
  return false;
}

function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
