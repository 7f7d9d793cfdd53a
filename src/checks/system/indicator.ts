import type { Check, CheckContext, CheckResult } from '../../core/contracts.js';

/** A reading that cannot be taken (file missing, malformed) is `unknown`, with the error naming the file. */
export function indicator(name: string, measure: (ctx: CheckContext) => Promise<CheckResult>): Check {
  return {
    name,
    async run(ctx) {
      try {
        return await measure(ctx);
      } catch (error) {
        return { state: 'unknown', message: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}

export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}
