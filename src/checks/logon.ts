// The logon check: a real xtk:session#Logon as the configured operator, then xtk:session#Logoff of
// that session. Where the `soap` check only proves the router answers, this proves what the table's
// hint for web is about ("console and web connections don't work and trigger an xtk:session type
// error"): the web module, the operator's credentials and the database behind the logon.

import { startsWithCampaignCode, faultCause } from '../clients/soapEnvelope.js';
import { CampaignSoapError, redactSecrets, type LogonProbe, type ServerInfo } from '../clients/soapSession.js';
import type { CampaignLogon, Check, CheckContext, CheckResult } from '../core/contracts.js';
import { assertCheckName, formatDuration, snippet } from '../util/format.js';
import { applySlowness, assertPositive } from './http.js';

const CAUSE_MAX_CHARS = 200;

/** What the check needs of a SOAP client (the contract's CampaignLogon); CampaignSoapClient is one. */
export type LogonClient = CampaignLogon;

export interface LogonCheckOptions {
  /** Default `logon`. */
  name?: string;
  client: LogonClient;
  /** A Logon slower than this is a warning. */
  slowMs?: number;
}

/**
 * ok: logged on and off, naming the operator and the server's build and release when the answer's
 * serverInfo gives them; critical: the Logon refused or failing (`xtk:session error: <code> <text>`
 * for a Fault, the transport's reason otherwise); warning: logged on but the Logoff failed; unknown:
 * the agent's own password file cannot be read.
 */
export function logonCheck(opts: LogonCheckOptions): Check {
  const name = assertCheckName(opts.name ?? 'logon');
  assertPositive(opts.slowMs, 'slowMs', name);
  const { client } = opts;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      let probe: LogonProbe;
      try {
        probe = await client.logonAndLogoff(ctx.signal);
      } catch (error) {
        if (error instanceof CampaignSoapError) return failedLogon(error);
        throw error;
      }
      const values = { response_seconds: probe.logonMs / 1000 };
      const who = `${client.login}${describeServer(probe.server)}`;
      if (!probe.logoff.ok) {
        return { state: 'warning', message: `logged on as ${who}, but the Logoff failed: ${probe.logoff.reason}`, values };
      }
      const result: CheckResult = { state: 'ok', message: `logged on and off as ${who}; Logon in ${formatDuration(probe.logonMs)}`, values };
      return applySlowness(result, probe.logonMs, opts.slowMs);
    },
  };
}

function failedLogon(error: CampaignSoapError): CheckResult {
  if (error.kind === 'credentials-file') return { state: 'unknown', message: error.message };
  if (error.fault !== undefined) return { state: 'critical', message: `xtk:session error: ${describeFault(error.fault)}` };
  return { state: 'critical', message: error.message };
}

/** `<code> <text>`: the cause line when it starts with Campaign's code, else the faultcode before it. */
function describeFault(fault: NonNullable<CampaignSoapError['fault']>): string {
  // The client already replaced the password and tokens; session-shaped text is scrubbed once more.
  const cause = snippet(redactSecrets(faultCause(fault), []), CAUSE_MAX_CHARS);
  if (startsWithCampaignCode(cause) || fault.code === '') return cause;
  return `${snippet(fault.code, 40)} ${cause}`;
}

/** ` (build 9364, release 7.3.4)`, or nothing when serverInfo gives neither. */
function describeServer(server: ServerInfo): string {
  const parts = [server.build === undefined ? '' : `build ${server.build}`, server.release === undefined ? '' : `release ${server.release}`].filter(
    (part) => part !== '',
  );
  return parts.length === 0 ? '' : ` (server ${parts.join(', ')})`;
}
