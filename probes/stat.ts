import { socketCheck } from '../src/checks/index.js';
import { restartGraceShape } from '../src/config/schema.js';
import { daemonChecks } from '../src/checks/daemon.js';
import { definePlugin } from '../src/core/plugin.js';
import { portAttribute } from '../src/discovery/attributes.js';

const DEFAULT_PORT = 7777;

// Instances sharing public IPs share one stat server and switch theirs off: an absent stat is only
// wrong where autoStart asks for it, which `expected` encodes.
export const stat = definePlugin({
  module: 'stat',
  scope: 'Maintains MTA connection statistics',
  hint: 'Check this module if mails are no longer being sent.',
  runsOn: 'instance',
  defaultSchedule: '*/30 * * * * *',
  expected: (install, instance) => install.autoStart('stat', instance),
  configShape: { ...restartGraceShape },
  checks(target) {
    // A placeholder or junk throws: the row is unknown naming the attribute, no default port is probed.
    const port = portAttribute(target.install.moduleAttributes('stat', target.instance), 'stat', 'port', DEFAULT_PORT);
    // mtas reach stat over UDP, possibly from other machines: bound on any address is fine.
    return daemonChecks(target, [socketCheck({ proto: 'udp', port, name: 'udp_port', addresses: 'loopback-or-any' })]);
  },
});
