import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { assertCheckName, formatBytes, formatDuration, snippet } from '../util/format.js';
import { httpRequest, parseHttpUrl } from '../clients/http.js';
import { applySlowness, assertPositive } from './http.js';
import { databaseErrorLine, faultCause, isAuthenticationFault, parseSoapEnvelope, type SoapFault } from '../clients/soapEnvelope.js';
import { redactSecrets } from '../clients/soapSession.js';

const MAX_BODY_BYTES = 1024 * 1024;
const FAULT_STRING_MAX_CHARS = 120;
/** A database error or another fault is quoted up to this many characters. */
const FAULT_CAUSE_MAX_CHARS = 200;

/** What a SOAP answer says of the web module, for the `soap` check. */
export type SoapVerdict =
  /** A successful answer, or the session/authentication refusal a call without a session expects. */
  | { state: 'ok'; message: string }
  /** The router answered, but the database behind it failed. */
  | { state: 'critical'; message: string }
  /** Any other Fault: the router works, the call did not. */
  | { state: 'warning'; message: string };

/**
 * Judges the Fault of an answer (undefined: no Fault). Only the Fault is read, never a successful
 * payload, whose data may well hold an error code. Texts are one line, cut, and scrubbed of session
 * tokens and of the given secrets.
 *
 * - no Fault → ok;
 * - a database error in faultstring or detail (`ODB-`, `PGS-`, `WDB-`, `ORA-`, `SQLState`, or the
 *   uncoded `ODBC error` / `PostgreSQL error` of older builds) → critical, quoting that error's line;
 * - a session or authentication refusal (`XSV-350008`, `XSV-350012`, also wrapped in `SOP-330011`) → ok;
 * - any other Fault → warning, quoting the line that names its cause (innermost first).
 */
export function classifySoapFault(fault: SoapFault | undefined, secrets: ReadonlyArray<string | undefined> = []): SoapVerdict {
  if (fault === undefined) return { state: 'ok', message: 'SOAP router answers' };
  const quote = (text: string, max: number): string => snippet(redactSecrets(text, secrets), max);
  const database = databaseErrorLine(fault);
  if (database !== undefined) return { state: 'critical', message: `SOAP answered a database error: ${quote(database, FAULT_CAUSE_MAX_CHARS)}` };
  if (isAuthenticationFault(fault)) return { state: 'ok', message: `SOAP router answers (Fault: ${quote(faultCause(fault), FAULT_STRING_MAX_CHARS)})` };
  return { state: 'warning', message: `SOAP answered a fault: ${quote(faultCause(fault), FAULT_CAUSE_MAX_CHARS)}` };
}

export interface SoapCheckOptions {
  name: string;
  url: string;
  /** Sent as the SOAPAction header, verbatim (e.g. `xtk:session#Logon`). */
  action: string;
  /** The request document. */
  envelope: string;
  slowMs?: number;
}

/**
 * POSTs a SOAP request and reads the answer: a successful answer, or the session/authentication Fault
 * a request without valid credentials is expected to get, proves the router is up (ok); a Fault
 * carrying a database error is critical; any other Fault a warning (classifySoapFault).
 */
export function soapCheck(opts: SoapCheckOptions): Check {
  const name = assertCheckName(opts.name);
  const url = parseHttpUrl(opts.url, `soapCheck ${name}`);
  if (/[\r\n]/.test(opts.action)) {
    throw new Error(`soapCheck ${name}: action must be one line (it is sent as the SOAPAction header), got ${JSON.stringify(opts.action)}`);
  }
  if (opts.envelope.trim() === '') throw new Error(`soapCheck ${name}: envelope must not be empty`);
  assertPositive(opts.slowMs, 'slowMs', name);
  const label = `POST ${url.href}`;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const outcome = await httpRequest({
        method: 'POST',
        url,
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: opts.action },
        body: opts.envelope,
        maxBodyBytes: MAX_BODY_BYTES,
        signal: ctx.signal,
      });
      if (!outcome.ok) return { state: 'critical', message: `${label}: ${outcome.reason}` };
      const values = { response_seconds: outcome.elapsedMs / 1000 };
      const envelope = parseSoapEnvelope(outcome.body);
      if (!envelope.ok) {
        const cut = outcome.truncated ? ` (body cut at ${formatBytes(MAX_BODY_BYTES)})` : '';
        return { state: 'critical', message: `${label}: HTTP ${outcome.status} is not a SOAP answer: ${envelope.reason}${cut}`, values };
      }
      const verdict = classifySoapFault(envelope.fault);
      if (verdict.state !== 'ok') return { ...verdict, values };
      const message = envelope.fault ? verdict.message : `SOAP router answers (HTTP ${outcome.status} in ${formatDuration(outcome.elapsedMs)})`;
      return applySlowness({ state: 'ok', message, values }, outcome.elapsedMs, opts.slowMs);
    },
  };
}
