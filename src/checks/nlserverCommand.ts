import type { CommandView } from '../clients/nlserver/view.js';
import type { Check, CheckContext, CheckResult } from '../core/contracts.js';
import { formatDuration } from '../util/format.js';
import { viewOf } from './nlserverTask.js';

const COMMANDS = {
  pdump: { line: 'nlserver pdump', pick: (view: { pdump: CommandView<unknown> }) => view.pdump, noun: 'task' },
  monitor_missing: { line: 'nlserver monitor -missing', pick: (view: { missing: CommandView<unknown> }) => view.missing, noun: 'missing module' },
} as const;

/**
 * The health of Campaign's own view: did the shared nlserver run work and print what the docs show?
 * A failure here is `unknown` (what Campaign thinks is not known); the module rows fall back to the
 * process table meanwhile.
 */
export function nlserverCommandCheck(command: keyof typeof COMMANDS): Check {
  const { line, pick, noun } = COMMANDS[command];
  const labels = { command };
  return {
    name: command,
    async run(ctx: CheckContext): Promise<CheckResult> {
      const view = await viewOf(ctx);
      if (!view?.enabled) return { state: 'unknown', message: `${line} not run: ${view?.reason ?? 'nlserver integration off'}`, values: { nlserver_up: 0 }, labels };
      const result = pick(view);
      if (!result.ok) {
        return { state: 'unknown', message: `${line} failed: ${result.error}; modules are judged from the process table`, values: { nlserver_up: 0 }, labels };
      }
      const { parsed } = result;
      const count = parsed.noTasks ? 'No tasks' : `${parsed.entries.length} ${noun}${parsed.entries.length === 1 ? '' : 's'}`;
      const took = `in ${formatDuration(result.durationMs)}`;
      const note = result.error ? `; ${result.error}` : '';
      if (parsed.unexpected.length > 0) {
        return {
          state: 'warning',
          message: `${line}: ${count} ${took}; ${parsed.unexpected.length} unexpected line(s), e.g. "${parsed.unexpected[0]}"${note}`,
          values: { nlserver_up: 1 },
          labels,
        };
      }
      return { state: 'ok', message: `${line}: ${count} ${took}${note}`, values: { nlserver_up: 1 }, labels };
    },
  };
}
