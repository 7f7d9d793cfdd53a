import { INSTANCE_PATTERN, MODULE_PATTERN } from '../../util/names.js';
import { consoleLines, consumeCommon, emptyOutput, keepUnexpected } from './output.js';
import type { ParsedOutput, PdumpTask } from './types.js';

export type { PdumpTask };

const MIB = 1024 * 1024;
// Units seen in Campaign's docs: MB, Mb and the French Mo; kB/GB variants accepted alike.
const UNIT_BYTES: Record<string, number> = { kb: 1024, ko: 1024, mb: MIB, mo: MIB, gb: 1024 * MIB, go: 1024 * MIB };
const TASK_LINE = new RegExp(`^(${MODULE_PATTERN})(?:@(${INSTANCE_PATTERN}))?\\s+\\((\\d{1,10})\\)\\s+-\\s+(\\d{1,9}(?:[.,]\\d{1,6})?)\\s*([KMG][BbOo])$`);
// `pdump -who` appends sessions and DB pools after dashed headings: not tasks, not unexpected.
const WHO_SECTION = /^Connections\s*-{3,}$/;

/** Parses `nlserver pdump` output; never throws. */
export function parsePdump(text: string): ParsedOutput<PdumpTask> {
  const result = emptyOutput<PdumpTask>();
  for (const { line, raw } of consoleLines(text)) {
    if (WHO_SECTION.test(line)) break;
    if (consumeCommon(line, result)) continue;
    const task = toTask(TASK_LINE.exec(line));
    if (task) result.entries.push(task);
    else keepUnexpected(result, raw);
  }
  return result;
}

function toTask(match: RegExpExecArray | null): PdumpTask | undefined {
  if (!match) return undefined;
  const pid = Number(match[3]);
  const amount = Number(match[4]!.replace(',', '.'));
  const unit = UNIT_BYTES[match[5]!.toLowerCase()];
  if (pid <= 0 || unit === undefined) return undefined;
  return { module: match[1]!, ...(match[2] ? { instance: match[2] } : {}), pid, memoryBytes: Math.round(amount * unit) };
}
