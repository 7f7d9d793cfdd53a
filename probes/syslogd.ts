import { socketCheck } from '../src/checks/index.js';
import { portSchema, restartGraceShape } from '../src/config/schema.js';
import { daemonChecks } from '../src/checks/daemon.js';
import { definePlugin } from '../src/core/plugin.js';
import { isLoopback } from '../src/snapshot/sockets.js';

const DEFAULT_PORT = 6666;

// Every module sends its log lines to syslogd as UDP datagrams; if nothing holds the port they are lost.
export const syslogd = definePlugin({
  module: 'syslogd',
  scope: 'Log writing',
  hint:
    'If some logs are missing in the log files, check to make sure that the module is using port 6666. ' +
    'Refer to [List of open ports](../../production/using/general-architecture.md#list-of-open-ports).',
  runsOn: 'machine',
  defaultSchedule: '*/30 * * * * *',
  // Where syslogd gets enabled is undocumented, yet it always runs.
  expected: () => true,
  configShape: {
    ...restartGraceShape,
    port: portSchema.optional(),
  },
  checks(target) {
    const { install, config } = target;
    const trace = install.traceAddr;
    const port = config.port ?? trace?.port ?? DEFAULT_PORT;
    // Modules send to TRACE_ADDR; a non-local TRACE_ADDR host means syslogd listens on a routable address.
    const addresses = trace && !isLoopback(trace.host) && trace.host !== 'localhost' ? 'any' : 'loopback-or-any';
    return daemonChecks(target, [socketCheck({ proto: 'udp', port, name: 'udp_port', addresses })]);
  },
});
