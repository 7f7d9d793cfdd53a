import { runCommand, type CommandResult } from '../clients/command.js';
import type { AgentConfig } from '../config/schema.js';
import { nlserverEnv } from '../clients/nlserver/view.js';

/** `nlserver start|restart` waits for the module to come up; beyond this it is called a timeout. */
export const RESTART_TIMEOUT_MS = 60_000;
// Console lines of start/restart and pdump -who: a few kB at most.
const MAX_OUTPUT_BYTES = 256 * 1024;

/** Runs `nlserver <args>` and reports how it went; never rejects for what nlserver does. */
export type NlserverRun = (args: string[], timeoutMs: number) => Promise<CommandResult>;

/** The configured nlserver, as the nlserver view runs it: argument array, no shell, same environment. */
export function nlserverRunner(campaign: AgentConfig['campaign']): NlserverRun {
  return (args, timeoutMs) =>
    runCommand({ file: campaign.nlserver, args, timeoutMs, maxOutputBytes: MAX_OUTPUT_BYTES, env: nlserverEnv(campaign.installDir) });
}
