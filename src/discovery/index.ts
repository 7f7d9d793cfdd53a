export { discoverInstall, listRedirLogDirs, INSTANCE_NAME, type DiscoverOptions } from './install.js';
export { parseConfXml, isSecretAttribute, KNOWN_MODULES, type ConfXml } from './serverConfXml.js';
export { parseCustomerSh, parseTraceAddr, DEFAULT_TRACE_PORT, type CustomerSh, type ShellSkip } from './customerSh.js';
