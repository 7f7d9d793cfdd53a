// The one definition of the names the agent accepts. Names that can end up on an nlserver command
// line (`nlserver restart mta@<instance>`) or in a metric label are held to a strict pattern: no
// leading dash (option injection), no shell or path characters, bounded length. Parsers of Campaign
// output build their line patterns from the same pieces.

/** An instance name, unanchored: letters, digits, _ and -, starting with a letter or digit, at most 64. */
export const INSTANCE_PATTERN = '[A-Za-z0-9][A-Za-z0-9_-]{0,63}';
/** A module name, unanchored: a letter, then letters, digits and _, at most 32 (`inMail`, `mtachild`). */
export const MODULE_PATTERN = '[A-Za-z][A-Za-z0-9_]{0,31}';

export const INSTANCE_NAME = new RegExp(`^${INSTANCE_PATTERN}$`);
export const MODULE_NAME = new RegExp(`^${MODULE_PATTERN}$`);
/** The instance rule in words, for messages. */
export const INSTANCE_NAME_RULE = 'letters, digits, _ and -, starting with a letter or digit, at most 64 characters';

/**
 * Module nodes a conf file may hold besides the eleven of Adobe's table. Any direct child of the root
 * is taken as a module node; this list is only used to find a module node that is not a direct child
 * of the root (tolerance for hand-edited files), and to tell a bare module name in `monitor -missing`.
 */
export const KNOWN_MODULES: readonly string[] = [
  'web', 'syslogd', 'trackinglogd', 'watchdog', 'mta', 'wfserver', 'inMail', 'sms', 'stat', 'tracking',
  'interactiond', 'pipelined', 'nmac', 'repair', 'webmdl',
];
