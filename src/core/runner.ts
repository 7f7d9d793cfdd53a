import type { Check, CheckContext, CheckResult, CheckState, CycleSnapshot, Logger } from './contracts.js';
import { formatDuration } from '../util/format.js';

export interface CheckOutcome {
  name: string;
  /** The check's own labels (Check.labels), when it has any: with the name, its identity in the row. */
  checkLabels?: Readonly<Record<string, string>>;
  state: CheckState;
  message: string;
  durationMs: number;
  /** ms since the epoch, when the check started. */
  lastRun: number;
  values: Record<string, number>;
  /** Extra label values for the value metrics (CheckResult.labels). */
  labels: Record<string, string>;
  /** No verdict this run (CheckResult.noEvidence): `state` means nothing, `message` says why. */
  noEvidence?: true;
}

export interface RunOptions {
  snapshot: CycleSnapshot;
  now: () => number;
  log: Logger;
  timeoutMs: number;
  /** Per-check memory, kept by the caller between cycles. */
  memoryFor: (check: string) => Map<string, unknown>;
}

/**
 * How a check is keyed in its row and named to people: its name, followed by its own labels as a
 * Prometheus selector when it has any (`redir_log{redir_instance="prod"}`).
 */
export function checkId(name: string, labels?: Readonly<Record<string, string>>): string {
  // Most checks have no labels: no allocation for them (this runs for every check of every cycle).
  if (labels === undefined) return name;
  const pairs = Object.entries(labels);
  return pairs.length === 0 ? name : `${name}{${pairs.map(([label, value]) => `${label}=${JSON.stringify(value)}`).join(',')}}`;
}

/**
 * Runs one check under a deadline. Whatever the check does (throws, rejects, never settles, returns
 * garbage) the caller gets an outcome: the daemon never waits on, nor dies of, one check.
 */
export async function runCheck(check: Check, options: RunOptions): Promise<CheckOutcome> {
  const timeoutMs = check.timeoutMs ?? options.timeoutMs;
  // Made when the check first asks for it: two thirds of the checks (process table, files, sockets)
  // never do, and an AbortController, its signal and the abort event were a tenth of what a cycle
  // allocated. One asked for after the abort comes already aborted, with the same reason.
  let controller: AbortController | undefined;
  let abortReason: unknown;
  const abort = (reason: unknown): void => {
    abortReason ??= reason;
    controller?.abort(reason);
  };
  const started = options.now();
  const startedMono = performance.now();
  const ctx: CheckContext = {
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (abortReason !== undefined) controller.abort(abortReason);
      }
      return controller.signal;
    },
    snapshot: options.snapshot,
    now: options.now,
    memory: options.memoryFor(checkId(check.name, check.labels)),
    log: options.log,
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      abort(new Error(`timeout after ${formatDuration(timeoutMs)}`));
      resolve({ state: 'unknown', message: `check did not finish within ${formatDuration(timeoutMs)} (timeout)` });
    }, timeoutMs);
  });
  const attempt: Promise<CheckResult> = Promise.resolve()
    .then(() => check.run(ctx))
    .then(validResult, (error: unknown) => {
      options.log.warn({ check: checkId(check.name, check.labels), err: String(error) }, 'check threw');
      return { state: 'unknown', message: `check failed: ${errorText(error)}` } satisfies CheckResult;
    });
  const result = await Promise.race([attempt, deadline]);
  clearTimeout(timer);
  // Whatever the check left running is cancelled. One shared reason: abort() without one builds a
  // DOMException with a stack trace, for each of ~100 checks a cycle.
  abort(CHECK_FINISHED);
  return {
    name: check.name,
    ...(check.labels && Object.keys(check.labels).length > 0 ? { checkLabels: check.labels } : {}),
    state: result.state,
    message: result.message,
    durationMs: Math.round((performance.now() - startedMono) * 1000) / 1000,
    lastRun: started,
    values: result.values ?? {},
    labels: result.labels ?? {},
    ...(result.noEvidence === true ? { noEvidence: true as const } : {}),
  };
}

const CHECK_FINISHED = new Error('check finished');

const CHECK_STATES = new Set(['ok', 'warning', 'critical', 'unknown']);

function validResult(result: CheckResult): CheckResult {
  if (!result || !CHECK_STATES.has(result.state) || typeof result.message !== 'string') {
    return { state: 'unknown', message: 'check returned no valid result' };
  }
  return result;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 300);
}
