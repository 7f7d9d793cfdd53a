import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { assertCheckName } from '../util/format.js';
import { isModuleProcess } from './process.js';
import { nlserverProcesses } from '../snapshot/cycle.js';

export interface ProcessCountOptions {
  name: string;
  /** argv[1] of the counted processes (`mtachild`). */
  module: string;
  instance?: string;
  /** The CheckResult.values key carrying the count. */
  value: string;
}

/**
 * Counts `nlserver <module>` processes without judging them: for on-demand workers such as mtachild,
 * where none at all is normal while idle.
 */
export function processCountCheck(opts: ProcessCountOptions): Check {
  const name = assertCheckName(opts.name);
  const where = opts.instance === undefined ? '' : ` for ${opts.instance}`;
  return {
    name,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const count = (await nlserverProcesses(ctx.snapshot)).filter((p) => p.stateLetter !== 'Z' && isModuleProcess(p, opts.module, opts.instance)).length;
      // A count, not a verdict: none while idle is normal, so it never says ok or otherwise.
      return { state: 'unknown', noEvidence: true, message: `${count} ${opts.module} process${count === 1 ? '' : 'es'}${where} (counted, not judged)`, values: { [opts.value]: count } };
    },
  };
}
