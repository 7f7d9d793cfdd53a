// The check primitives: each knows *how* to check one kind of thing and returns a Check.
export { processCheck, isModuleProcess, type ProcessCheckOptions } from './process.js';
export { socketCheck, type SocketCheckOptions } from './socket.js';
export {
  httpGetCheck,
  httpRequest,
  type HttpGetCheckOptions,
  type HttpRequest,
  type HttpAnswer,
  type HttpFailure,
} from './http.js';
export { parseRedirTest, redirTestExpectation, type RedirTest } from './redirTest.js';
export {
  soapCheck,
  parseSoapEnvelope,
  SOAP_ENVELOPE_NAMESPACES,
  type SoapCheckOptions,
  type SoapEnvelope,
  type SoapFault,
} from './soap.js';
export { fileGrowthCheck, type FileGrowthCheckOptions } from './fileGrowth.js';
export { runCommand, commandCheck, type RunCommandOptions, type CommandResult, type CommandCheckOptions } from '../clients/command.js';
export { smtpCheck, parseSmtpReply, type SmtpCheckOptions, type SmtpReply } from './smtp.js';
export { pop3Check, parsePop3Status, parseStatReply, type Pop3CheckOptions } from './pop3.js';
export { formatDuration, formatBytes } from '../util/format.js';
