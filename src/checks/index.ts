// The check primitives: each knows *how* to check one kind of thing and returns a Check. Probes
// import from here; protocol code the primitives share lives in src/clients/.
export { processCheck, isModuleProcess, type ProcessCheckOptions } from './process.js';
export { processAgeCheck, type ProcessAgeOptions } from './processAge.js';
export { processCountCheck, type ProcessCountOptions } from './processCount.js';
export { socketCheck, type SocketCheckOptions } from './socket.js';
export { httpGetCheck, type HttpGetCheckOptions } from './http.js';
export { redirTestExpectation } from './redirTest.js';
export { soapCheck, type SoapCheckOptions } from './soap.js';
export { fileGrowthCheck, type FileGrowthCheckOptions } from './fileGrowth.js';
export { freshnessCheck, type FreshnessCheckOptions } from './freshness.js';
export { smtpCheck, type SmtpCheckOptions } from './smtp.js';
export { pop3Check, type Pop3CheckOptions } from './pop3.js';
export { nlserverCommandCheck } from './nlserverCommand.js';
export { workflowsInErrorCheck, trackingWorkflowCheck } from './workflows.js';
export { daemonChecks, moduleLogCheck } from './daemon.js';
export { jobChecks, jobsFor, jobsSchema, JOB_METRIC } from './jobs.js';
