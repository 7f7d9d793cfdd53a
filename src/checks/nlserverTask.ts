import type { NlserverView } from '../clients/nlserver/view.js';
import type { CheckContext } from '../core/contracts.js';

/** Which pdump / monitor rows belong to one module row: `mta@prod`, or a machine module (`web@default`, bare `watchdog`). */
export interface TaskSelector {
  module: string;
  /** Omit for machine-wide modules. */
  instance?: string;
}

// The docs spell the module both `inMail` and `inmail`.
export function isTask(entry: { module: string; instance?: string }, selector: TaskSelector): boolean {
  if (entry.module.toLowerCase() !== selector.module.toLowerCase()) return false;
  if (selector.instance === undefined) return entry.instance === undefined || entry.instance === 'default';
  return entry.instance === selector.instance;
}

export function taskLabel(selector: TaskSelector): string {
  return selector.instance === undefined ? selector.module : `${selector.module}@${selector.instance}`;
}

/** The cycle's nlserver view, or why there is none (integration off, or the snapshot has none). */
export async function viewOf(ctx: CheckContext): Promise<NlserverView | undefined> {
  return ctx.snapshot.nlserver ? ctx.snapshot.nlserver() : undefined;
}
