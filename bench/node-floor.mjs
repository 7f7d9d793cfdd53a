#!/usr/bin/env node
// The node floor (issue 14): the least any Node.js agent must do on this host at the shipped
// schedules, and nothing else, so that the bench can say what part of the daemon's cost no Node
// program could avoid. Every 30 s it reads every process's /proc/<pid>/stat and cmdline (module
// presence is judged from /proc every cycle); every minute, the nlserver view's two commands
// (`nlserver pdump` and `nlserver monitor -missing`: a fork and exec each, waited for); it answers
// GET on 127.0.0.1:PORT with as many series lines as the daemon's /metrics had. No HTTP, SOAP, POP3 or SMTP probes, no logs, no system indicators,
// no schema, no logging: the agent does all of these on top.
//
//   node bench/node-floor.mjs --port PORT --series N --standin PATH [--proc /proc] [--every-ms 30000]
//                             [--view-every-ms 60000]
//
// Prints one JSON line {"port":...} once it listens. Run by bench/daemon-cost.mjs with the unit's
// environment and node flags, measured over the same window as the daemon.

import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    series: { type: 'string', default: '500' },
    standin: { type: 'string' },
    proc: { type: 'string', default: '/proc' },
    'every-ms': { type: 'string', default: '30000' },
    'view-every-ms': { type: 'string', default: '60000' },
  },
});
const series = Number(values.series);
let body = '';

function scan() {
  const lines = [];
  for (const name of readdirSync(values.proc)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`${values.proc}/${name}/stat`, 'latin1');
      const command = readFileSync(`${values.proc}/${name}/cmdline`, 'latin1');
      lines.push(`floor_process{pid="${name}",command="${command.slice(0, 24).replace(/\W/g, '_')}"} ${stat.length}`);
    } catch {
      // exited meanwhile
    }
  }
  for (let k = lines.length; k < series; k++) lines.push(`floor_series{k="${k}"} 1`);
  body = `${lines.slice(0, series).join('\n')}\n`;
}

function view() {
  execFile(values.standin, ['pdump'], () => {});
  execFile(values.standin, ['monitor', '-missing'], () => {});
}

scan();
setInterval(scan, Number(values['every-ms']));
// The view has a schedule of its own, as the agent's (campaign.nlserverSchedule, a minute).
if (values.standin) {
  view();
  setInterval(view, Number(values['view-every-ms']));
}
const server = http.createServer((request, response) => {
  response.setHeader('content-type', 'text/plain; version=0.0.4');
  response.end(body);
});
server.listen(Number(values.port), '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
