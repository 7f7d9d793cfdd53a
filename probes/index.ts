import type { ProbePlugin } from '../src/plugin.js';
import { syslogd } from './syslogd.js';
import { trackinglogd } from './trackinglogd.js';
import { watchdog } from './watchdog.js';
import { web } from './web.js';

/** Every probe plugin the agent knows; adding a module is one file plus one line here. */
export const plugins: readonly ProbePlugin[] = [watchdog, syslogd, web, trackinglogd];
