// Deep checks of Campaign workflows through the SOAP API (xtk:workflow). They need an operator
// login, so they are optional; without them the agent still checks the web module from outside.

import { CampaignSoapError } from '../clients/soapSession.js';
import type { CampaignSession } from '../core/contracts.js';
import type { QueryResult } from '../clients/soapTypes.js';
import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { assertCheckName, formatDuration, snippet } from '../util/format.js';

/** Workflow states from Adobe's supervising example; the other codes are not documented. */
const STATE_PAUSED = 13;
const STATE_STOPPED = 20;
const NAMES_SHOWN = 5;
const NAME_MAX_CHARS = 60;
/** The Tracking workflow runs hourly by default: two hours leaves room for one missed run. */
const DEFAULT_TRACKING_MAX_AGE_MS = 2 * 3_600_000;
const INTERNAL_NAME = /^[A-Za-z0-9_-]+$/;
const FIELD_EXPR = /^@[A-Za-z][A-Za-z0-9_]*$/;

export interface WorkflowsInErrorCheckOptions {
  name?: string;
  client: CampaignSession;
}

/** Counts workflows with @failed = 1: ok at 0, a warning naming the first few otherwise. */
export function workflowsInErrorCheck(opts: WorkflowsInErrorCheckOptions): Check {
  const name = assertCheckName(opts.name ?? 'workflows_in_error');
  const query = workflowQuery(['@internalName', '@label', '@state'], '@failed = 1');
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const answer = await queryOrUnknown(opts.client, query, ctx.signal);
      if ('state' in answer) return answer;
      const count = answer.rows.length;
      const values = { workflows_in_error: count };
      if (count === 0) return { state: 'ok', message: 'no workflows in error', values };
      return { state: 'warning', message: `${count} ${count === 1 ? 'workflow' : 'workflows'} in error: ${listNames(answer.rows)}`, values };
    },
  };
}

export interface TrackingWorkflowCheckOptions {
  name?: string;
  client: CampaignSession;
  /** Default `tracking`, the internal name of Campaign's Tracking technical workflow. */
  internalName?: string;
  /**
   * The xtk:workflow field holding the last run time, e.g. `@lastStart`. Campaign's documentation does
   * not name it, so it is configurable, and without it the age of the last run is not checked.
   */
  lastRunExpr?: string;
  /** A last run older than this is critical; default 2h. Only with lastRunExpr. */
  maxAgeMs?: number;
}

/** The Tracking workflow exists, is not in error, paused or stopped, and (optionally) ran recently. */
export function trackingWorkflowCheck(opts: TrackingWorkflowCheckOptions): Check {
  const name = assertCheckName(opts.name ?? 'tracking_workflow');
  const internalName = opts.internalName ?? 'tracking';
  if (!INTERNAL_NAME.test(internalName)) {
    throw new Error(`trackingWorkflowCheck ${name}: internalName must match ${INTERNAL_NAME.source}, got ${JSON.stringify(internalName)}`);
  }
  const { lastRunExpr } = opts;
  if (lastRunExpr !== undefined && !FIELD_EXPR.test(lastRunExpr)) {
    throw new Error(`trackingWorkflowCheck ${name}: lastRunExpr must be an attribute such as "@lastStart" (${FIELD_EXPR.source}), got ${JSON.stringify(lastRunExpr)}`);
  }
  if (opts.maxAgeMs !== undefined) {
    if (lastRunExpr === undefined) throw new Error(`trackingWorkflowCheck ${name}: maxAgeMs needs lastRunExpr (the field holding the last run time)`);
    if (!(Number.isFinite(opts.maxAgeMs) && opts.maxAgeMs > 0)) {
      throw new Error(`trackingWorkflowCheck ${name}: maxAgeMs must be a positive number, got ${String(opts.maxAgeMs)}`);
    }
  }
  const maxAgeMs = opts.maxAgeMs ?? DEFAULT_TRACKING_MAX_AGE_MS;
  const fields = ['@internalName', '@label', '@state', '@failed', ...(lastRunExpr === undefined ? [] : [lastRunExpr])];
  const query = workflowQuery(fields, `@internalName = '${internalName}'`);
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const answer = await queryOrUnknown(opts.client, query, ctx.signal);
      if ('state' in answer) return answer;
      const row = answer.rows[0];
      if (row === undefined) return { state: 'critical', message: `no workflow with internal name ${internalName}` };
      const workflow = describeWorkflow(internalName, row);
      const state = Number(row.state);
      const stateText = snippet(row.state ?? '?', 20);
      const lastRun = lastRunExpr === undefined ? undefined : readLastRun(row, lastRunExpr);
      const values = lastRun?.ms === undefined ? undefined : { tracking_workflow_last_run_timestamp_seconds: Math.floor(lastRun.ms / 1000) };
      const result = (verdict: CheckResult['state'], message: string): CheckResult =>
        values ? { state: verdict, message, values } : { state: verdict, message };

      if (row.failed === '1') return result('critical', `${workflow} is in error (failed = 1, state ${stateText})`);
      if (state === STATE_PAUSED) return result('critical', `${workflow} is paused (state ${STATE_PAUSED})`);
      if (state === STATE_STOPPED) return result('critical', `${workflow} is stopped (state ${STATE_STOPPED})`);
      if (lastRun === undefined) return result('ok', `${workflow} is not in error (state ${stateText})`);
      if (lastRun.ms === undefined) return result('unknown', `${workflow}: ${lastRun.problem}`);
      const ageMs = Math.max(0, ctx.now() - lastRun.ms);
      if (ageMs > maxAgeMs) return result('critical', `${workflow} last ran ${formatDuration(ageMs)} ago (critical above ${formatDuration(maxAgeMs)})`);
      return result('ok', `${workflow} is not in error (state ${stateText}), last ran ${formatDuration(ageMs)} ago`);
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Client failures are not a verdict on the workflows: the check does not know, and says why. */
async function queryOrUnknown(client: CampaignSession, query: string, signal: AbortSignal): Promise<QueryResult | CheckResult> {
  try {
    return await client.query(query, signal);
  } catch (error) {
    if (error instanceof CampaignSoapError) return { state: 'unknown', message: error.message };
    throw error;
  }
}

/** A select on xtk:workflow; `where` is built from validated pieces only, never from free configuration text. */
function workflowQuery(fields: string[], where: string): string {
  const select = fields.map((expr) => `<node expr="${expr}"/>`).join('');
  return `<queryDef schema="xtk:workflow" operation="select"><select>${select}</select><where><condition expr="${where}"/></where></queryDef>`;
}

/** Sorted here rather than by the query, so the message stays the same from one run to the next whatever the server's order. */
function listNames(rows: Array<Record<string, string>>): string {
  const all = rows.map((row) => snippet(row.internalName || row.label || '(no name)', NAME_MAX_CHARS)).sort();
  const names = all.slice(0, NAMES_SHOWN);
  const more = rows.length > NAMES_SHOWN ? ` and ${rows.length - NAMES_SHOWN} more` : '';
  return `${names.join(', ')}${more}`;
}

function describeWorkflow(internalName: string, row: Record<string, string>): string {
  const label = row.label === undefined || row.label === '' || row.label === internalName ? '' : ` (${snippet(row.label, NAME_MAX_CHARS)})`;
  return `workflow ${internalName}${label}`;
}

function readLastRun(row: Record<string, string>, expr: string): { ms: number; problem?: never } | { ms?: never; problem: string } {
  const text = row[expr.slice(1)];
  if (text === undefined || text.trim() === '') {
    return { problem: `no ${expr} value (the workflow never ran, or ${expr} is not the field holding its last run: check lastRunExpr)` };
  }
  const ms = parseCampaignDate(text);
  return ms === undefined ? { problem: `${expr} is not a date: ${JSON.stringify(snippet(text, 40))}` } : { ms };
}

const CAMPAIGN_DATE = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?)(Z|[+-]\d\d:?\d\d)?$/;

/**
 * Campaign writes dates as `2026-11-25 10:00:00.000Z`; ISO 8601 with a `T` is accepted too. A date
 * without a zone is read as UTC, the zone Campaign's SOAP answers use.
 */
export function parseCampaignDate(text: string): number | undefined {
  const match = CAMPAIGN_DATE.exec(text.trim());
  if (match === null) return undefined;
  const [, day, time, zone] = match;
  // Date.parse only knows `+hh:mm` offsets.
  const offset = zone === undefined ? 'Z' : zone.replace(/^([+-]\d\d)(\d\d)$/, '$1:$2');
  const ms = Date.parse(`${day}T${time}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}
