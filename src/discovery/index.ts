export { discoverInstall, listRedirLogDirs, type DiscoverOptions } from './install.js';
export { parseConfXml, isSecretAttribute, type ConfXml } from './serverConfXml.js';
export { parseCustomerSh, parseTraceAddr, DEFAULT_TRACE_PORT, type CustomerSh, type ShellSkip } from './customerSh.js';
