import type { ProbePlugin } from '../src/core/plugin.js';
import { exportModule } from './export.js';
import { importModule } from './import.js';
import { inMail } from './inMail.js';
import { mta } from './mta.js';
import { nlserver } from './nlserver.js';
import { stat } from './stat.js';
import { syslogd } from './syslogd.js';
import { system } from './system.js';
import { tracking } from './tracking.js';
import { trackinglogd } from './trackinglogd.js';
import { watchdog } from './watchdog.js';
import { web } from './web.js';
import { wfserver } from './wfserver.js';

/** Every probe plugin the agent knows; adding a module is one file plus one line here. */
export const plugins: readonly ProbePlugin[] = [
  // Adobe's modules table: resident per machine, resident per instance, then the on-demand utilities.
  watchdog,
  syslogd,
  web,
  trackinglogd,
  mta,
  stat,
  inMail,
  wfserver,
  exportModule,
  importModule,
  tracking,
  // The agent's own rows.
  nlserver,
  system,
];
