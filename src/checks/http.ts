import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { httpRequest, parseHttpUrl, type HttpAnswer } from '../clients/http.js';
import { assertCheckName, formatDuration } from '../util/format.js';

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface HttpGetCheckOptions {
  name: string;
  url: string;
  /** Statuses that count as an answer; default [200]. */
  expectStatus?: number[];
  /** Judges the body of an answer with an expected status; null means "fine". */
  expect?: (body: string, status: number) => CheckResult | null;
  /** Answers slower than this are a warning. */
  slowMs?: number;
  /** Bytes of body read at most (default 1 MiB); the rest is not downloaded. */
  maxBodyBytes?: number;
}

/** GET a URL and judge the status, optionally the body, and the response time. */
export function httpGetCheck(opts: HttpGetCheckOptions): Check {
  const name = assertCheckName(opts.name);
  const url = parseHttpUrl(opts.url, `httpGetCheck ${name}`);
  const expectStatus = opts.expectStatus ?? [200];
  assertStatuses(expectStatus, name);
  assertPositive(opts.slowMs, 'slowMs', name);
  assertPositive(opts.maxBodyBytes, 'maxBodyBytes', name);
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const label = `GET ${url.href}`;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const outcome = await httpRequest({ method: 'GET', url, maxBodyBytes, signal: ctx.signal });
      if (!outcome.ok) return { state: 'critical', message: `${label}: ${outcome.reason}` };
      const values = { response_seconds: outcome.elapsedMs / 1000 };
      if (!expectStatus.includes(outcome.status)) {
        return { state: 'critical', message: `${label}: ${unexpectedStatus(expectStatus, outcome)}`, values };
      }
      const judged = opts.expect?.(outcome.body, outcome.status) ?? {
        state: 'ok' as const,
        message: `${label}: HTTP ${outcome.status} in ${formatDuration(outcome.elapsedMs)}`,
      };
      return applySlowness({ ...judged, values: { ...judged.values, ...values } }, outcome.elapsedMs, opts.slowMs);
    },
  };
}

/** An ok answer that took longer than `slowMs` becomes a warning; worse states stay as they are. */
export function applySlowness(result: CheckResult, elapsedMs: number, slowMs: number | undefined): CheckResult {
  if (slowMs === undefined || result.state !== 'ok' || elapsedMs <= slowMs) return result;
  return {
    ...result,
    state: 'warning',
    message: `${result.message}; slow: answered in ${formatDuration(elapsedMs)} (warning above ${formatDuration(slowMs)})`,
  };
}

function unexpectedStatus(expected: number[], answer: HttpAnswer): string {
  const location = answer.headers.get('location');
  const redirect = location === null ? '' : ` (Location: ${location})`;
  return `expected HTTP ${expected.join(' or ')}, got ${answer.status}${redirect}`;
}

export function assertPositive(value: number | undefined, what: string, name: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new Error(`check ${name}: ${what} must be a positive number, got ${String(value)}`);
  }
}

function assertStatuses(statuses: number[], name: string): void {
  const bad = statuses.find((s) => !Number.isInteger(s) || s < 100 || s > 599);
  if (statuses.length === 0 || bad !== undefined) {
    throw new Error(`httpGetCheck ${name}: expectStatus must list HTTP statuses (100-599), got ${JSON.stringify(statuses)}`);
  }
}
