import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { assertCheckName, formatBytes, formatDuration, snippet } from '../util/format.js';
import { httpRequest, parseHttpUrl } from '../clients/http.js';
import { applySlowness, assertPositive } from './http.js';
import { parseSoapEnvelope } from '../clients/soapEnvelope.js';

const MAX_BODY_BYTES = 1024 * 1024;
const FAULT_STRING_MAX_CHARS = 120;

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
 * POSTs a SOAP request and checks that a SOAP stack answers. A Fault counts as an answer: a request
 * without valid credentials is expected to fault, and the fault still proves the router is up.
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
      const message = envelope.fault
        ? `SOAP router answers (Fault: ${snippet(envelope.fault.string || envelope.fault.code, FAULT_STRING_MAX_CHARS)})`
        : `SOAP router answers (HTTP ${outcome.status} in ${formatDuration(outcome.elapsedMs)})`;
      return applySlowness({ state: 'ok', message, values }, outcome.elapsedMs, opts.slowMs);
    },
  };
}
