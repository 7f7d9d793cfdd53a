import type { State } from './contracts.js';

// A confirmed failure outranks not knowing; not knowing outranks a warning.
const SEVERITY: Record<State, number> = { disabled: 0, ok: 1, warning: 2, unknown: 3, critical: 4 };

export function worst(states: Iterable<State>, empty: State = 'ok'): State {
  let result: State | undefined;
  for (const state of states) if (result === undefined || SEVERITY[state] > SEVERITY[result]) result = state;
  return result ?? empty;
}

/** Nagios plugin convention, also used by `campaign-health check`. */
export function exitCodeOf(state: State): number {
  return { ok: 0, disabled: 0, warning: 1, critical: 2, unknown: 3 }[state];
}

/** campaign_module_up: the module does its job (ok or warning), or not (critical, unknown). */
export function isUp(state: State): boolean {
  return state === 'ok' || state === 'warning';
}
