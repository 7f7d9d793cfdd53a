import type { CheckResult } from '../core/contracts.js';
import { snippet } from '../util/format.js';
import { attributesOf, parseXmlRoot } from '../clients/xml.js';

export interface RedirTest {
  /** `OK` when the redirection module is healthy; '' when the attribute is missing. */
  status: string;
  /** Every attribute of `<redir>` (status, date, build, host, localHost, instance, sourceIP...). */
  attributes: Record<string, string>;
}

/**
 * Parses the answer of the tracking server's `/r/test` page, e.g.
 * `<redir status='OK' date='...' build='9032' host='tracking.example.com' localHost='front_srv1'/>`.
 * Attribute set and order vary by build and hosting; null when the body is not XML with a
 * `<redir>` root.
 */
export function parseRedirTest(body: string): RedirTest | null {
  const root = parseXmlRoot(body);
  if (!root.ok || root.name !== 'redir') return null;
  const attributes = attributesOf(root.node);
  return { status: attributes.status ?? '', attributes };
}

/** An `expect` for httpGetCheck on `/r/test`: ok only for `status='OK'`. */
export function redirTestExpectation(body: string): CheckResult {
  const answer = parseRedirTest(body);
  if (answer === null) {
    const seen = snippet(body, 80);
    return { state: 'critical', message: `not a <redir> answer: ${seen === '' ? '(empty body)' : seen}` };
  }
  const where = describeServer(answer.attributes);
  if (answer.status !== 'OK') {
    return { state: 'critical', message: `/r/test answered status='${snippet(answer.status, 40)}'${where}` };
  }
  return { state: 'ok', message: `/r/test answered status='OK'${where}` };
}

/** ` (build 9032, localHost front_srv1)`, or '' when neither is given. */
function describeServer(attributes: Record<string, string>): string {
  const parts: string[] = [];
  if (attributes.build) parts.push(`build ${snippet(attributes.build, 40)}`);
  if (attributes.localHost) parts.push(`localHost ${snippet(attributes.localHost, 80)}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
