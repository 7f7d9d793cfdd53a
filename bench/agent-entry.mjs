// What bench/cycle-runner.mjs needs of the agent, bundled by `npm run bundle` into dist/bench/agent.mjs
// with the service bundle's options: measured cycles run the code the service runs (minified, one
// module), not the many files of dist/src.
export { Agent } from '../src/agent/agent.js';
export { loadConfig } from '../src/config/load.js';
export { Scheduler } from '../src/core/scheduler.js';
export { startServer } from '../src/http/server.js';
export { createLogger } from '../src/util/logger.js';
export { plugins } from '../probes/index.js';
