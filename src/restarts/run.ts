import { runCommand, type CommandResult } from '../clients/command.js';
import type { AgentConfig } from '../config/schema.js';
import { NLSERVER_OUTPUT_CAP, nlserverEnv } from '../clients/nlserver/view.js';

/** `nlserver start|restart` waits for the module to come up; beyond this it is called a timeout. */
export const RESTART_TIMEOUT_MS = 60_000;

/** Runs `nlserver <args>` and reports how it went; never rejects for what nlserver does. */
export type NlserverRun = (args: string[], timeoutMs: number) => Promise<CommandResult>;

/** The configured nlserver, as the nlserver view runs it: argument array, no shell, same environment. */
export function nlserverRunner(campaign: AgentConfig['campaign']): NlserverRun {
  return (args, timeoutMs) =>
    runCommand({ file: campaign.nlserver, args, timeoutMs, maxOutputBytes: NLSERVER_OUTPUT_CAP, env: nlserverEnv(campaign.installDir) });
}
